"""A typed first-order-logic query language over per-image predicate outputs.

The article's LTN answers questions such as ``∀ Im ¬oe(e(Im)) ⇒ Crash()`` by evaluating
the trained predicates on every image and aggregating with fuzzy connectives and
quantifiers. This package parses such a query (one quantified image variable) and
evaluates it over *precomputed* per-image outputs with LTNtorch's fuzzy operators, so the
same question can be asked of any trained model, and of the outputs embedded in the static
book (the ``*.mjs`` modules in this package's folder are its JavaScript twin; both give the
same values to 1e-6 and the same error messages).

The package is split by concern, each Python module with its JavaScript twin:
``spec`` (``spec.json``: tokens, keywords, precedence, operator choices and defaults,
epsilon, limits, message templates, read by both languages), ``errors``, ``tokens``,
``syntax`` (the tree and its canonical printing), ``parser``, ``semantics`` (the fuzzy
operators) and ``evaluation``.

Language
--------
``QUANT VAR [where GUARD] : BODY``

* quantifiers ``forall`` / ``∀`` and ``exists`` / ``∃``; exactly one image variable (any
  identifier, e.g. ``Im``). The ``:`` may be left out when there is no guard (so the
  article's ``∀ Im ¬oe(e(Im)) ⇒ Crash()`` parses as written).
* applications ``p(Im)``, ``p(e(Im))`` (the article's encoder ``e``) or ``p()`` (the article
  writes ``Crash()`` for the crash predicate applied to the image's outputs).
* connectives, highest precedence first: ``not`` ``¬`` ``!``; ``and`` ``∧`` ``&``;
  ``or`` ``∨`` ``|``; ``->`` ``=>`` ``⇒`` ``→`` (right-associative); ``<->`` ``<=>`` ``⇔``
  ``↔`` (left-associative); parentheses.
* typed symbols: *predicates* give truth values in [0, 1] and are formulas; *functions*
  give magnitudes and may only appear in a comparison ``f(Im) < c`` (also ``<=``, ``>``,
  ``>=``, ``≤``, ``≥``; either side), where ``c`` is a number literal or a named parameter
  (e.g. ``t``) given at evaluation. Predicates may be compared too. Comparisons bind
  tighter than ``not`` and are crisp (1.0 or 0.0).
* a guard ``where G`` is LTN's guarded quantifier: the domain is the images with
  ``G > 0.5`` (a crisp mask, as LTNtorch's ``cond_vars``/``cond_fn``) and BODY is aggregated
  over that domain only. An empty domain gives ``value = nan`` and ``domain_size = 0``
  (LTNtorch's ``Quantifier`` would instead replace the NaN by 1 for ∀ and 0 for ∃).

Limits: a query is at most ``MAX_QUERY_LENGTH`` code points long and nests at most
``MAX_DEPTH`` levels (each connective, ``not`` and pair of parentheses is a level), so
parsing, printing and evaluation never exhaust the stack.

Errors (syntax, unknown names, a function used as a formula, a wrong variable, an unbound
parameter, a limit) raise :class:`QueryError`, a ``ValueError`` whose message repeats the query with
a caret under the position and says what was expected.

Semantics
---------
Operators are LTNtorch 1.0.2's ``ltn.fuzzy_ops`` (``eps = 1e-4``,
``pi_0(x) = (1 - eps) x + eps``, ``pi_1(x) = (1 - eps) x``); with ``stable=True`` (the
default, as LTNtorch's own defaults) the operators that have a ``stable`` flag use it:

=================  ==========================  =====================================
choice             LTNtorch operator           formula (stable=True)
=================  ==========================  =====================================
and product        ``AndProd(stable)``         ``pi_0(x) * pi_0(y)``
and min            ``AndMin()``                ``min(x, y)``
and lukasiewicz    ``AndLuk()``                ``max(x + y - 1, 0)``
or probsum         ``OrProbSum(stable)``       ``a + b - a b``, a=pi_1(x), b=pi_1(y)
or max             ``OrMax()``                 ``max(x, y)``
or lukasiewicz     ``OrLuk()``                 ``min(x + y, 1)``
implies reichenb.  ``ImpliesReichenbach``      ``1 - a + a b``, a=pi_0(x), b=pi_1(y)
implies kleene_d.  ``ImpliesKleeneDienes()``   ``max(1 - x, y)``
implies goedel     ``ImpliesGodel()``          ``1 if x <= y else y``
implies goguen     ``ImpliesGoguen(stable)``   ``1 if a <= y else y / a``, a=pi_0(x)
implies lukas.     ``ImpliesLuk()``            ``min(1 - x + y, 1)``
not                ``NotStandard()``           ``1 - x``
iff                ``Equiv(and, implies)``     ``and(implies(x, y), implies(y, x))``
forall pmean_error ``AggregPMeanError(p)``     ``1 - mean((1 - pi_1(x))^p)^(1/p)``
forall pmean       ``AggregPMean(p)``          ``mean(pi_0(x)^p)^(1/p)``
forall min         ``AggregMin()``             ``min(x)``
forall mean        ``AggregMean()``            ``mean(x)``
exists pmean       ``AggregPMean(p)``          ``mean(pi_0(x)^p)^(1/p)``
exists max         :class:`AggregMax` (here)   ``max(x)``
=================  ==========================  =====================================

With ``stable=False`` the ``pi_0``/``pi_1`` are dropped. ltntorch 1.0.2 has no max
aggregator, so :class:`AggregMax` (an ``ltn.fuzzy_ops.AggregationOperator`` with the same
mask convention as ``AggregMin``) is defined here. The means run over the quantifier's
domain (the guard's mask). All computation is in float64 (the JavaScript twin computes in
doubles too).
"""

from nesy.logic.query.errors import QueryError, format_error, show_value
from nesy.logic.query.evaluation import QueryResult, evaluate
from nesy.logic.query.parser import parse
from nesy.logic.query.semantics import (
    AND_CHOICES,
    EXISTS_CHOICES,
    FORALL_CHOICES,
    IMPLIES_CHOICES,
    OR_CHOICES,
    AggregMax,
    Semantics,
    operators,
)
from nesy.logic.query.spec import ENCODER, EPSILON, KEYWORDS, MAX_DEPTH, MAX_QUERY_LENGTH, SPEC, SPEC_PATH
from nesy.logic.query.syntax import (
    And,
    Apply,
    Atom,
    BinOp,
    Compare,
    Formula,
    Iff,
    Implies,
    Not,
    Number,
    Or,
    Param,
    Query,
    Term,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "AggregMax",
    "And",
    "Apply",
    "Atom",
    "BinOp",
    "Compare",
    "Iff",
    "Implies",
    "Not",
    "Number",
    "Or",
    "Param",
    "Query",
    "QueryError",
    "QueryResult",
    "Semantics",
    "evaluate",
    "operators",
    "parse",
]
