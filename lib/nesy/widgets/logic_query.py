"""The logic-query explorer: type a first-order query, see its truth over the images.

:class:`LogicQueryExplorer` embeds the per-image predicate/function outputs of a trained
model in the widget state and evaluates queries in JavaScript (``logic_query.mjs`` and the
language modules it imports from ``lib/nesy/logic/query/*.mjs``, the twin of
:mod:`nesy.logic.query`), so it still responds in the static book without a kernel: the
widget's ``_esm`` is one ES module, :func:`esm_source`, that inlines those modules and the
language's ``spec.json``. With a kernel, :meth:`LogicQueryExplorer.evaluate` computes the same value in
Python with LTNtorch's operators, and the ``value`` trait is kept up to date from both sides.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Iterable, Mapping, Sequence

import anywidget
import numpy as np
import torch
import traitlets

from nesy.widgets.esm import bundle
from nesy.logic.crash_world import ARTICLE_QUERIES
from nesy.logic.query import (
    QueryError,
    QueryResult,
    Semantics,
    evaluate,
)

__all__ = ["LogicQueryExplorer", "ESM_PATH", "bundle", "esm_source"]

ESM_NAME = "logic_query.mjs"
#: The widget's entry module (the view); it imports the language modules.
ESM_PATH = resources.files("nesy.widgets").joinpath(ESM_NAME)

def esm_source() -> str:
    """The widget's ES module: the language modules (``lib/nesy/logic/query/*.mjs``, with the
    spec inlined) and the anywidget view (``ESM_PATH``), as one module without imports."""
    return bundle(ESM_PATH)


def _to_list(name: str, values, decimals: int) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.detach().to("cpu", torch.float64).numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"outputs[{name!r}] must be 1-D (one value per image); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"outputs[{name!r}] has non-finite values")
    return [float(v) for v in np.round(arr, decimals)]


class LogicQueryExplorer(anywidget.AnyWidget):
    """Explore first-order queries over per-image predicate outputs.

    Parameters
    ----------
    outputs : mapping of str to tensor or array of shape (N,)
        Per-image outputs of every predicate and function (e.g. ``sce`` ... ``to``,
        ``Crash`` in [0, 1]; ``scd``, ``bcd``, ``td`` distances), over the same N images.
        Only the named symbols are kept, rounded to ``decimals`` places to keep the
        embedded widget state small.
    predicates : iterable of str
        Predicate names (truth values).
    functions : iterable of str, optional
        Function names (magnitudes, usable in comparisons).
    prepared : sequence of {"label": str, "query": str}, optional
        Queries offered in the dropdown; default :data:`nesy.logic.crash_world.ARTICLE_QUERIES` (the article's).
    query : str, optional
        Initial query; default the first prepared one.
    t : float, optional
        Initial value of the parameter ``t`` (slider in [0, 1]); default 0.5.
    semantics : Semantics or dict, optional
        Initial operator choices; default ``Semantics()``.
    decimals : int, optional
        Rounding of the embedded outputs (default 3).

    Notes
    -----
    Synced traits: outputs (dict of lists), predicates, functions, prepared, query, t, semantics (dict with
    :class:`~nesy.logic.query.Semantics` field names), and, written by the view (and by
    Python when a trait changes): value (float or None when the query is bad or the domain
    is empty), domain_size, error (the error message, or "").

    Examples
    --------
    >>> import torch
    >>> w = LogicQueryExplorer({"oe": torch.tensor([1.0, 0.0]), "Crash": torch.tensor([0.9, 0.1])},
    ...                        predicates=["oe", "Crash"], query="forall Im: Crash(Im) -> oe(Im)",
    ...                        semantics={"forall_op": "mean", "stable": False})
    >>> round(w.evaluate().value, 3), round(w.value, 3)
    (0.95, 0.95)
    """

    _esm = traitlets.Unicode(esm_source()).tag(sync=True)

    outputs = traitlets.Dict().tag(sync=True)
    predicates = traitlets.List(traitlets.Unicode()).tag(sync=True)
    functions = traitlets.List(traitlets.Unicode()).tag(sync=True)
    prepared = traitlets.List(traitlets.Dict()).tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    t = traitlets.Float(0.5).tag(sync=True)
    semantics = traitlets.Dict().tag(sync=True)
    value = traitlets.Float(None, allow_none=True).tag(sync=True)
    domain_size = traitlets.Int(0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, outputs: Mapping[str, object], predicates: Iterable[str],
                 functions: Iterable[str] = (),
                 prepared: Sequence[Mapping[str, str]] | None = None,
                 query: str | None = None, t: float = 0.5,
                 semantics: Semantics | Mapping | None = None, decimals: int = 3, **kwargs):
        predicates, functions = list(predicates), list(functions)
        missing = [s for s in predicates + functions if s not in outputs]
        if missing:
            raise ValueError(f"outputs has no entry for {', '.join(missing)}")
        if not isinstance(decimals, int) or decimals < 0:
            raise ValueError(f"decimals must be an int >= 0; got {decimals!r}")
        embedded = {s: _to_list(s, outputs[s], decimals) for s in predicates + functions}
        lengths = {len(v) for v in embedded.values()}
        if len(lengths) > 1:
            raise ValueError(f"outputs have different lengths: "
                             f"{ {k: len(v) for k, v in embedded.items()} }")
        prepared = [dict(label=str(p.get("label", p["query"])), query=str(p["query"]))
                    for p in (ARTICLE_QUERIES if prepared is None else prepared)]
        if query is None:
            query = prepared[0]["query"] if prepared else ""
        if not 0.0 <= float(t) <= 1.0:
            raise ValueError(f"t must be in [0, 1]; got {t!r}")
        if semantics is None:
            semantics = Semantics()
        elif not isinstance(semantics, Semantics):
            semantics = Semantics.from_dict(semantics)
        super().__init__(outputs=embedded, predicates=predicates, functions=functions,
                         prepared=prepared, query=query, t=float(t),
                         semantics=semantics.to_dict(), **kwargs)
        self._update_value()

    @traitlets.validate("t")
    def _valid_t(self, proposal):
        t = float(proposal["value"])
        if not 0.0 <= t <= 1.0:
            raise traitlets.TraitError(f"t must be in [0, 1]; got {t!r}")
        return t

    def tensors(self) -> dict[str, torch.Tensor]:
        """The embedded outputs as float64 tensors of shape (N,)."""
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in self.outputs.items()}

    def evaluate(self) -> QueryResult:
        """Evaluate the current query in Python (LTNtorch operators) on the embedded outputs.

        Returns
        -------
        QueryResult
            Same value as the JavaScript view shows (to 1e-6). Raises ``QueryError`` for a
            bad query.
        """
        return evaluate(self.query, self.tensors(), params={"t": self.t},
                        semantics=Semantics.from_dict(self.semantics),
                        predicates=self.predicates, functions=self.functions)

    @traitlets.observe("query", "t", "semantics", "outputs", "predicates", "functions")
    def _on_change(self, change):
        self._update_value()

    def _update_value(self):
        try:
            result = self.evaluate()
        except (QueryError, ValueError) as exc:
            self.value, self.domain_size, self.error = None, 0, str(exc)
            return
        self.value = None if math.isnan(result.value) else result.value
        self.domain_size = result.domain_size
        self.error = ""
