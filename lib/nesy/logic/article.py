"""The Conv-LTN article's four questions (Q1-Q4), the readings of them the chapter compares,
and the analyses it runs on a model's outputs.

The article writes each question as an implication under a universal quantifier
(:data:`ARTICLE_TEXT`); what it computes is "the likelihood of a crash" where the antecedent
holds, i.e. the guarded query ``forall Im where <antecedent>: Crash(Im)`` aggregated by the
mean (:func:`guarded`, :data:`ARTICLE_PROCEDURE`). :func:`literal` gives the formula as
written. ``outputs`` below is always ``{name: Tensor [N]}`` over the ten head outputs and
``Crash`` (a model's predictions or :func:`nesy.logic.crash_world.truth_outputs`).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nesy.logic import crash_world, curves
from nesy.logic import query as fol

__all__ = [
    "QUESTIONS", "GUARD", "ARTICLE_TEXT", "ARTICLE_PROCEDURE", "SYMBOLS", "READINGS", "ARTICLE_CROSSINGS",
    "guarded", "literal", "questions_table", "answer", "vehicle_crossings", "operator_readings", "widget_queries",
    "accuracy_reasons", "query_reasons",
]

QUESTIONS = ("q1", "q2", "q3", "q4")
GUARD = {
    "q1": "not oe(Im)",
    "q2": "sco(Im) or bco(Im) or to(Im)",
    "q3": "(sco(Im) and scd(Im) < t) or (bco(Im) and bcd(Im) < t) or (to(Im) and td(Im) < t)",
    "q4": "to(Im) and td(Im) < t",
}
#: The article's formulas verbatim; its "∀ t∊ [0,1]" becomes the parameter t of a curve.
ARTICLE_TEXT = {
    "q1": "∀ Im ¬(oe(e(Im))) ⇒ Crash()",
    "q2": "∀ Im sco(e(Im)) ∨ bco(e(Im)) ∨ to(e(Im)) ⇒ Crash()",
    "q3": "∀ t∊ [0,1] ∀ Im (sco(e(Im)) ∧ (scd(e(Im)) < t)) ∨ (bco(e(Im)) ∧ (bcd(e(Im)) < t)) ∨ (to(e(Im)) ∧ (td(e(Im)) < t)) ⇒ Crash()",
    "q4": "∀ t∊ [0,1] ∀ Im to(e(Im)) ∧ (td(e(Im)) < t) ⇒ Crash()",
}
#: Where the article's Q3 and Q4 curves cross 0.5 ("around"), read off its plots.
ARTICLE_CROSSINGS = {"q3": 0.6, "q4": 0.5}
ARTICLE_PROCEDURE = fol.Semantics(forall_op="mean")  # guarded forall, arithmetic mean
SYMBOLS = {"predicates": crash_world.PREDICATES + ("Crash",), "functions": crash_world.FUNCTIONS}


def guarded(key: str) -> str:
    """The article's procedure: Crash aggregated over the images where the antecedent holds."""
    return f"forall Im where {GUARD[key]}: Crash(Im)"


def literal(key: str, connective: str = "⇒") -> str:
    """The article's formula as written (optionally with ⇒ replaced, e.g. by ∧)."""
    return ARTICLE_TEXT[key].replace("∀ t∊ [0,1] ", "").replace("⇒", connective)


#: (label, query builder, semantics): the readings and operators of the operator table.
READINGS = [
    ("guarded ∀, mean (the article's procedure)", guarded, fol.Semantics(forall_op="mean")),
    ("guarded ∀, pMeanError p=2 (LTN's default ∀)", guarded, fol.Semantics()),
    ("guarded ∀, min", guarded, fol.Semantics(forall_op="min")),
    ("as written: ⇒ Reichenbach, ∀ pMeanError p=2 (LTN's defaults)", literal, fol.Semantics()),
    ("→ Reichenbach, ∀ mean", literal, fol.Semantics(forall_op="mean")),
    ("→ Kleene-Dienes, ∀ pMeanError p=2", literal, fol.Semantics(implies_op="kleene_dienes")),
    ("→ Gödel, ∀ pMeanError p=2", literal, fol.Semantics(implies_op="goedel")),
    ("→ Goguen, ∀ pMeanError p=2", literal, fol.Semantics(implies_op="goguen")),
    ("→ Łukasiewicz, ∀ pMeanError p=2", literal, fol.Semantics(implies_op="lukasiewicz")),
    ("⇒ read as ∧ product, ∀ mean (the prose: 't-norm, then average')", lambda k: literal(k, "∧"),
     fol.Semantics(forall_op="mean")),
    ("⇒ read as ∧ min, ∀ mean", lambda k: literal(k, "∧"), fol.Semantics(and_op="min", forall_op="mean")),
]


def questions_table() -> list[dict]:
    """One row per question: as the article writes it and as a guarded query."""
    return [{"question": key.upper(), "as the article writes it": ARTICLE_TEXT[key],
             "the article's procedure, as a guarded query": guarded(key)} for key in QUESTIONS]


def answer(sources: Mapping[str, Mapping], thresholds: np.ndarray) -> tuple[dict[str, dict], list[dict]]:
    """The article's procedure on each source of outputs: Q1 and Q2's values and where the Q3
    and Q4 curves over ``thresholds`` [T] first cross 0.5.

    Returns ``({source: {"q1", "q2", "q3_crossing", "q4_crossing"}}, curve rows)``, one curve
    row ``{source, query, t, truth}`` per source, curve and threshold.
    """
    answers, rows = {}, []
    for source, values in sources.items():
        answers[source] = {key: fol.evaluate(guarded(key), values, semantics=ARTICLE_PROCEDURE, **SYMBOLS).value
                           for key in ("q1", "q2")}
        for key in ("q3", "q4"):
            curve = curves.query_curve(guarded(key), values, thresholds, ARTICLE_PROCEDURE, **SYMBOLS)
            answers[source][f"{key}_crossing"] = curves.first_crossing(thresholds, curve)
            rows += [{"source": source, "query": key.upper(), "t": t, "truth": v} for t, v in zip(thresholds, curve)]
    return answers, rows


def vehicle_crossings(sources: Mapping[str, Mapping], thresholds: np.ndarray) -> list[dict]:
    """Per vehicle type, where "Crash where this vehicle is obstructed and closer than t"
    first crosses 0.5 for each source (a perfect model: twice the critical distance)."""
    rows = []
    for vehicle in crash_world.VEHICLES:
        query = (f"forall Im where {crash_world.OBSTRUCTED[vehicle]}(Im) and {crash_world.DISTANCE[vehicle]}(Im) < t: "
                 "Crash(Im)")
        row = {"vehicle": vehicle, "critical distance": crash_world.CRITICAL_DISTANCE[vehicle]}
        for source, values in sources.items():
            row[source] = curves.first_crossing(
                thresholds, curves.query_curve(query, values, thresholds, ARTICLE_PROCEDURE, **SYMBOLS))
        rows.append(row)
    return rows


def operator_readings(outputs: Mapping, at_t: Mapping[str, float]) -> list[dict]:
    """Each of :data:`READINGS` on ``outputs``: one row with each question's value at its
    ``t`` (``at_t``: ``{question: t}``)."""
    rows = []
    for label, form, semantics in READINGS:
        row = {"reading": label}
        for key, t in at_t.items():
            row[key.upper()] = fol.evaluate(form(key), outputs, {"t": t}, semantics, **SYMBOLS).value
        rows.append(row)
    return rows


def widget_queries() -> list[dict]:
    """The query widget's prepared queries: the article's four questions (both readings of Q1
    and Q2) and some rules of the road."""
    return [
        {"label": "Q1 (article's reading): no obstruction", "query": guarded("q1")},
        {"label": "Q2 (article's reading): a vehicle is obstructed", "query": guarded("q2")},
        {"label": "Q3 (article's reading): obstructed and closer than t", "query": guarded("q3")},
        {"label": "Q4 (article's reading): truck obstructed and closer than t", "query": guarded("q4")},
        {"label": "Q1 as the article writes it", "query": literal("q1")},
        {"label": "Q2 as the article writes it", "query": literal("q2")},
        {"label": "Rule of the road: no obstruction → no crash", "query": "forall Im: not oe(Im) -> not Crash(Im)"},
        {"label": "Obstructed small car → small car and obstruction exist", "query": "forall Im: sco(Im) -> sce(Im) and oe(Im)"},
        {"label": "Some truck is obstructed and closer than t", "query": "exists Im: to(Im) and td(Im) < t"},
        {"label": "Every crash has an obstruction", "query": "forall Im where Crash(Im): oe(Im)"},
        {"label": "Crash iff some vehicle is obstructed and close",
         "query": "forall Im: Crash(Im) <-> (sco(Im) and scd(Im) < 0.3) or (bco(Im) and bcd(Im) < 0.34) or "
                  "(to(Im) and td(Im) < 0.21)"},
    ]


def accuracy_reasons(label: str, epochs: int, n_train: int, patience: int) -> dict[str, str]:
    """Why a row of the accuracy table may differ from the article's (``"*"``: every row but
    the distance error, which has its own)."""
    training = (f"{label}, {epochs} epochs on {n_train} training images"
                + (" (the article trains until the loss plateaus)" if patience == 0 else ""))
    world = "our own world generator (the article's image format and probabilities are unpublished)"
    return {
        "*": f"{world}; {training}",
        "distance_error": ("the article does not define its distance error (ours: mean absolute error over obstructed"
                           f" vehicles, in % of the road length); {world}; {training}"),
    }


def query_reasons(perfect: Mapping[str, float], epochs: int) -> dict[str, str]:
    """Why a query row may differ: what a perfect model (``perfect``: :func:`answer` on the
    labels) answers in our world, per row."""
    training = f"{epochs} epochs of training"
    world = "our generated world (the article's probabilities are unpublished)"
    return {
        "q1": f"the labels give {perfect['q1']:.2f}: the rest is the model's crash predictions without an obstruction ({training})",
        "q2": f"in {world} the labels give {perfect['q2']:.2f}; {training}",
        "q3_crossing": f"the article reads the crossing off a plot ('around'); in {world} the labels cross at {perfect['q3_crossing']:.2f}; {training}",
        "q4_crossing": f"the article reads the crossing off a plot ('around'); in {world} the labels cross at {perfect['q4_crossing']:.2f} (2 x 0.21 = 0.42 for uniform distances); {training}",
    }
