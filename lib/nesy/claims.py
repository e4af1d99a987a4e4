"""The claim ledger: each paper's headline claims, checked against a chapter's results.

A chapter's ledger is the ``claims`` list of ``lib/nesy/paper_values/<chapter>.yaml``. Each
claim names where the paper makes it and what the paper reports, and carries one
declarative ``check`` that reads the chapter's results (``book/results/<chapter>.json``),
never a constant of its own. :func:`evaluate` turns a ledger and a results dict into
verdicts: ``holds``, ``fails`` or ``not measured`` (with the reason).

A claim::

    - id: win_rate                       # unique within the chapter
      claim: "SMUG wins on more images than any other saliency method"
      where: "Table 1"
      paper: "SMUG 40.9 %, Grad-CAM 37.8 %"
      check: {best: {value: compared.imagenet.SMUG_win, among: [...], labels: [...]}}
      why: "shown when the check fails; may quote the run: {numbers[images_used]} images"
      requires: {value: numbers.beer_reviews_available, reason: "needs the BeerAdvocate data"}

A value reference (``REF``) is one of

- ``"numbers.NAME"``: a number the chapter recorded with ``results.number``;
- ``"compared.TABLE.KEY"``: our value in the paper-vs-ours comparison of paper table
  ``TABLE``, row ``KEY`` (``compared.TABLE(VARIANT).KEY`` for one variant of it);
- ``"parameters.NAME"``: a parameter of the run;
- ``{table: NAME, column: COL, row: {COL: VALUE, ...}}``: one cell of a recorded table, the
  row picked by its values (exactly one row must match);
- ``{table: NAME, column: COL, rows: {COL: VALUE, ...}}``: a column over the matching rows
  (every row when ``rows`` is left out), in the table's order: a series.

Check kinds (one per claim):

- ``within: {value: REF, target: X, tolerance: T}``: ``|value - X| <= T``;
- ``bound: {value: REF, at_least: L, at_most: U}`` (either or both; ``above``/``below`` for
  strict bounds);
- ``order: {values: [REF, ...], direction: decreasing|increasing, margin: M}``: each value
  exceeds the next (``decreasing``) by more than ``margin`` (default 0);
- ``best: {value: REF, among: [REF, ...], direction: highest|lowest}``: ``value`` is at least as
  good as every other one;
- ``trend: {series: REF, direction: increasing|decreasing, tolerance: T}``: monotone over a
  sweep, each step allowed to go against the direction by at most ``T`` (default 0), and the
  last value beyond the first in the direction;
- ``every: {values: REF, at_least|at_most|above|below: X}``: a bound at every point of a
  series (e.g. every mask ratio);
- ``dominates: {values: REF, over: REF, margin: M}``: pointwise, ``values[i] > over[i] + M``;
- ``unmeasured: "reason"``: the claim cannot be measured here (e.g. data that is not
  redistributable); the verdict says so.

Any check takes ``labels`` (one per value, for the "ours" column) and ``format`` (a Python
format spec, default ``.2f``). A value that the run did not record (missing, ``null``) makes
the verdict ``not measured``, naming the reference.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from nesy import paths
from nesy.report import paper_values

HOLDS, FAILS, UNMEASURED = "holds", "fails", "not measured"
VERDICTS = (HOLDS, FAILS, UNMEASURED)
CLAIM_FIELDS = {"id", "claim", "where", "paper", "check", "why", "requires"}
OPTION_FIELDS = {"labels", "format"}


class LedgerError(ValueError):
    """A ledger entry is malformed: the message names the chapter, the claim and the field."""


class Unmeasured(Exception):
    """A value the check needs was not recorded by the run."""


@dataclass(frozen=True)
class Verdict:
    """One claim checked against one run."""

    id: str
    claim: str
    where: str
    paper: str
    ours: str
    verdict: str
    why: str  # empty when the claim holds

    def as_dict(self) -> dict:
        return asdict(self)


# --- value references ------------------------------------------------------------------

_COMPARED = re.compile(r"^compared\.(?P<table>[^.()]+)(\((?P<variant>[^)]*)\))?\.(?P<key>.+)$")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _matches(row: Mapping, wanted: Mapping) -> bool:
    for column, value in wanted.items():
        cell = row.get(column)
        if _finite(cell) and _finite(value):
            if not math.isclose(float(cell), float(value), rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif str(cell) != str(value):
            return False
    return True


def _name(ref: Any) -> str:
    if isinstance(ref, str):
        return ref
    picked = ref.get("row") or ref.get("rows") or {}
    where = ", ".join(f"{k}={v}" for k, v in picked.items())
    return f"{ref['table']}[{where}].{ref['column']}"


def resolve(results: Mapping, ref: Any) -> Any:
    """The value (or, for ``rows``, the list of values) that ``ref`` names in ``results``.

    Raises :class:`Unmeasured` when the run did not record it, :class:`LedgerError` when
    ``ref`` is not a reference.
    """
    if isinstance(ref, str):
        head, _, rest = ref.partition(".")
        if head in ("numbers", "parameters") and rest:
            store = results.get(head, {})
            if rest not in store:
                raise Unmeasured(f"the run recorded no {ref}")
            if store[rest] is None:
                raise Unmeasured(f"{ref} is empty (not a number) in this run")
            return store[rest]
        match = _COMPARED.match(ref)
        if match:
            for comparison in results.get("comparisons", []):
                if comparison["table"] != match["table"]:
                    continue
                if match["variant"] is not None and comparison.get("variant") != match["variant"]:
                    continue
                for row in comparison["rows"]:
                    if row.get("key") == match["key"]:
                        if row["ours"] is None:
                            raise Unmeasured(f"{ref} is empty (not a number) in this run")
                        return row["ours"]
            raise Unmeasured(f"the run recorded no comparison row {ref}")
        raise LedgerError(f"a value reference must start with numbers., parameters. or compared., got {ref!r}")
    if isinstance(ref, Mapping) and {"table", "column"} <= set(ref) and set(ref) <= {"table", "column", "row", "rows"}:
        if "row" in ref and "rows" in ref:
            raise LedgerError(f"a table reference takes row or rows, not both: {ref!r}")
        table = results.get("tables", {}).get(ref["table"])
        if table is None:
            raise Unmeasured(f"the run recorded no table {ref['table']!r}")
        picked = [row for row in table if _matches(row, ref.get("row") or ref.get("rows") or {})]
        if "row" in ref:
            if len(picked) != 1:
                raise Unmeasured(f"{len(picked)} rows of table {ref['table']!r} match {ref['row']} (one is needed)")
            if ref["column"] not in picked[0]:
                raise Unmeasured(f"the run recorded no column {ref['column']!r} in table {ref['table']!r}")
            value = picked[0][ref["column"]]
            if value is None:
                raise Unmeasured(f"{_name(ref)} is empty (not a number) in this run")
            return value
        if not picked:
            raise Unmeasured(f"no row of table {ref['table']!r} matches {ref.get('rows')}")
        if any(ref["column"] not in row for row in picked):
            raise Unmeasured(f"the run recorded no column {ref['column']!r} in table {ref['table']!r}")
        values = [row[ref["column"]] for row in picked]
        if any(value is None for value in values):
            raise Unmeasured(f"{_name(ref)} has empty (not a number) cells in this run")
        return values
    raise LedgerError(f"not a value reference: {ref!r} (a string numbers./parameters./compared. or a table mapping)")


def _number(results, ref) -> float:
    value = resolve(results, ref)
    if isinstance(value, bool):
        return float(value)
    if not _finite(value):
        raise Unmeasured(f"{_name(ref)} is {value!r}, not a finite number")
    return float(value)


def _series(results, ref) -> list[float]:
    """A list of numbers: a ``rows`` table reference, or a list of scalar references."""
    if isinstance(ref, list):
        return [_number(results, item) for item in ref]
    values = resolve(results, ref)
    if not isinstance(values, list):
        raise LedgerError(f"{_name(ref)} is one value; a series needs a rows reference or a list")
    if not all(_finite(v) for v in values):
        raise Unmeasured(f"{_name(ref)} has values that are not finite numbers")
    return [float(v) for v in values]


# --- checks ----------------------------------------------------------------------------


def _fmt(value: float, spec: str) -> str:
    return format(value, spec)


def _labels(options: Mapping, count: int, refs: Sequence) -> list[str]:
    labels = options.get("labels")
    if labels is None:
        return [_name(ref) for ref in refs] if len(refs) == count else [str(i) for i in range(count)]
    if len(labels) != count:
        raise LedgerError(f"labels has {len(labels)} entries for {count} values")
    return [str(label) for label in labels]


def _bound_ok(value: float, options: Mapping) -> bool:
    tests = {
        "at_least": lambda b: value >= b,
        "at_most": lambda b: value <= b,
        "above": lambda b: value > b,
        "below": lambda b: value < b,
    }
    given = [name for name in tests if name in options]
    if not given:
        raise LedgerError("a bound needs at_least, at_most, above or below")
    return all(tests[name](float(options[name])) for name in given)


def _check_within(results, o):
    value = _number(results, o["value"])
    return abs(value - float(o["target"])) <= float(o["tolerance"]), _fmt(value, o.get("format", ".2f"))


def _check_bound(results, o):
    value = _number(results, o["value"])
    return _bound_ok(value, o), _fmt(value, o.get("format", ".2f"))


def _check_order(results, o):
    refs = o["values"]
    values = [_number(results, ref) for ref in refs]
    labels = _labels(o, len(values), refs)
    sign = {"decreasing": 1.0, "increasing": -1.0}[o.get("direction", "decreasing")]
    margin = float(o.get("margin", 0.0))
    ok = all(sign * (a - b) > margin for a, b in zip(values, values[1:]))
    spec = o.get("format", ".2f")
    return ok, ", ".join(f"{label} {_fmt(v, spec)}" for label, v in zip(labels, values))


def _check_best(results, o):
    refs = [o["value"], *o["among"]]
    values = [_number(results, ref) for ref in refs]
    labels = _labels(o, len(values), refs)
    highest = {"highest": True, "lowest": False}[o.get("direction", "highest")]
    best = max(values) if highest else min(values)
    winner = labels[values.index(best)]
    spec = o.get("format", ".2f")
    ours = f"{labels[0]} {_fmt(values[0], spec)}; best {winner} {_fmt(best, spec)}"
    return values[0] == best, ours


def _check_trend(results, o):
    values = _series(results, o["series"])
    if len(values) < 2:
        raise Unmeasured("a trend needs at least two points")
    sign = {"increasing": 1.0, "decreasing": -1.0}[o.get("direction", "increasing")]
    tolerance = float(o.get("tolerance", 0.0))
    steps_ok = all(sign * (b - a) >= -tolerance for a, b in zip(values, values[1:]))
    spec = o.get("format", ".2f")
    return steps_ok and sign * (values[-1] - values[0]) > 0, " → ".join(_fmt(v, spec) for v in values)


def _check_every(results, o):
    values = _series(results, o["values"])
    labels = o.get("labels") or [str(i + 1) for i in range(len(values))]
    if len(labels) != len(values):
        raise LedgerError(f"labels has {len(labels)} entries for {len(values)} values")
    failing = [(label, v) for label, v in zip(labels, values) if not _bound_ok(v, o)]
    spec = o.get("format", ".2f")
    if failing:
        shown = ", ".join(f"{label}: {_fmt(v, spec)}" for label, v in failing[:4])
        return False, f"{len(failing)} of {len(values)} points outside ({shown}{', …' if len(failing) > 4 else ''})"
    return True, f"all {len(values)} points, from {_fmt(min(values), spec)} to {_fmt(max(values), spec)}"


def _check_dominates(results, o):
    values, over = _series(results, o["values"]), _series(results, o["over"])
    if len(values) != len(over):
        raise LedgerError(f"dominates compares series of {len(values)} and {len(over)} points")
    labels = o.get("labels") or [str(i + 1) for i in range(len(values))]
    margin = float(o.get("margin", 0.0))
    gaps = [a - b for a, b in zip(values, over)]
    failing = [label for label, gap in zip(labels, gaps) if not gap > margin]
    spec = o.get("format", ".2f")
    ours = f"gap from {_fmt(min(gaps), spec)} to {_fmt(max(gaps), spec)}"
    if failing:
        ours += f"; not above {margin:g} at {', '.join(map(str, failing[:5]))}{', …' if len(failing) > 5 else ''}"
    return not failing, ours


CHECKS: dict[str, tuple[Callable, set[str], set[str]]] = {
    # kind: (function, required options, optional options)
    "within": (_check_within, {"value", "target", "tolerance"}, set()),
    "bound": (_check_bound, {"value"}, {"at_least", "at_most", "above", "below"}),
    "order": (_check_order, {"values"}, {"direction", "margin"}),
    "best": (_check_best, {"value", "among"}, {"direction"}),
    "trend": (_check_trend, {"series"}, {"direction", "tolerance"}),
    "every": (_check_every, {"values"}, {"at_least", "at_most", "above", "below"}),
    "dominates": (_check_dominates, {"values", "over"}, {"margin"}),
}


def _validate_claim(chapter: str, claim: Any, seen: set[str]) -> None:
    def fail(message: str):
        label = claim.get("id", "?") if isinstance(claim, Mapping) else "?"
        raise LedgerError(f"claim ledger of {chapter!r}, claim {label!r}: {message}")

    if not isinstance(claim, Mapping):
        fail("each claim must be a mapping")
    unknown = set(claim) - CLAIM_FIELDS
    if unknown:
        fail(f"unknown fields {sorted(unknown)}; allowed: {sorted(CLAIM_FIELDS)}")
    for field in ("id", "claim", "where", "paper", "check"):
        if field not in claim:
            fail(f"{field!r} is required")
    if claim["id"] in seen:
        fail("the id is used twice")
    seen.add(claim["id"])
    check = claim["check"]
    if not isinstance(check, Mapping) or len(check) != 1:
        fail(f"check must have exactly one kind of {sorted([*CHECKS, 'unmeasured'])}")
    (kind, options), = check.items()
    if kind == "unmeasured":
        if not isinstance(options, str) or not options:
            fail("unmeasured takes the reason as a string")
        return
    if kind not in CHECKS:
        fail(f"check kind must be one of {sorted([*CHECKS, 'unmeasured'])}, got {kind!r}")
    _, required, optional = CHECKS[kind]
    if not isinstance(options, Mapping):
        fail(f"{kind} takes a mapping of {sorted(required | optional | OPTION_FIELDS)}")
    missing, extra = required - set(options), set(options) - required - optional - OPTION_FIELDS
    if missing or extra:
        fail(f"{kind} needs {sorted(required)} and allows {sorted(optional | OPTION_FIELDS)}; missing {sorted(missing)}, unknown {sorted(extra)}")
    if "format" in options:
        try:
            format(1.5, str(options["format"]))
        except ValueError:
            fail(f"format must be a format spec for a float (e.g. '.1f', '.0f', '.3g'), got {options['format']!r}")
    requires = claim.get("requires")
    if requires is not None and not (isinstance(requires, Mapping) and set(requires) == {"value", "reason"}):
        fail("requires takes {value: REF, reason: text}")


def ledger(chapter: str) -> list[dict]:
    """The validated claims of ``chapter`` (``claims`` in its paper_values file)."""
    claims = paper_values(chapter).get("claims") or []
    seen: set[str] = set()
    for claim in claims:
        _validate_claim(chapter, claim, seen)
    return claims


class _NotRecorded:
    """Stands in a why text for a value the run did not record (an older results file)."""

    def __init__(self, name: str):
        self.name = name

    def __format__(self, spec: str) -> str:
        return f"[{self.name}: not recorded by this run]"


class _Store(dict):
    def __init__(self, name: str, values: Mapping):
        super().__init__({k: (_NotRecorded(f"{name}.{k}") if v is None else v) for k, v in values.items()})
        self.name = name

    def __missing__(self, key):
        return _NotRecorded(f"{self.name}.{key}")


def _why(claim: Mapping, results: Mapping) -> str:
    """The claim's ``why``, its ``{numbers[...]}``/``{parameters[...]}`` fields filled from the run."""
    text = " ".join(str(claim.get("why", "")).split())
    if not text:
        return "no reason recorded in the ledger"
    stores = {key: _Store(key, results.get(key, {})) for key in ("numbers", "parameters")}
    try:
        return text.format(**stores)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as error:
        raise LedgerError(f"claim {claim['id']!r}: its why text is not a valid format string ({error!r})") from None


def check_claim(claim: Mapping, results: Mapping) -> Verdict:
    """Check one (validated) claim against one results dict."""
    base = {key: str(claim[key]).strip() for key in ("id", "claim", "where", "paper")}
    (kind, options), = claim["check"].items()
    if kind == "unmeasured":
        return Verdict(**base, ours="–", verdict=UNMEASURED, why=options)
    try:
        requires = claim.get("requires")
        if requires is not None and not resolve(results, requires["value"]):
            return Verdict(**base, ours="–", verdict=UNMEASURED, why=requires["reason"])
        ok, ours = CHECKS[kind][0](results, options)
    except Unmeasured as missing:
        return Verdict(**base, ours="–", verdict=UNMEASURED, why=str(missing))
    except LedgerError as error:
        raise LedgerError(f"claim {claim['id']!r}: {error}") from None
    return Verdict(**base, ours=ours, verdict=HOLDS if ok else FAILS, why="" if ok else _why(claim, results))


def evaluate(chapter: str, results: Mapping) -> list[Verdict]:
    """Every claim of ``chapter``'s ledger checked against ``results`` (a results dict)."""
    return [check_claim(claim, results) for claim in ledger(chapter)]


class ResultsError(ValueError):
    """A results file that cannot be read (not JSON, not a chapter's results)."""


def read_results(chapter: str, book: Path | None = None) -> dict | None:
    """``<book>/results/<chapter>.json`` as a dict, or None when the chapter has not run.

    Raises ResultsError naming the file when it is not a chapter's results JSON.
    """
    path = (book or paths.book_dir()) / "results" / f"{chapter}.json"
    if not path.exists():
        return None
    shown = f"results/{chapter}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ResultsError(f"{shown} in the book is not valid JSON ({error}); re-run `make chapter C={chapter}`") from None
    if not isinstance(data, dict) or data.get("chapter") != chapter:
        raise ResultsError(f"{shown} in the book is not the results of chapter {chapter!r}; re-run `make chapter C={chapter}`")
    return data


def evaluate_file(chapter: str, book: Path | None = None) -> list[Verdict] | None:
    """Verdicts from ``<book>/results/<chapter>.json``, or None when the chapter has not run."""
    data = read_results(chapter, book)
    return None if data is None else evaluate(chapter, data)


def counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """How many claims hold, fail and were not measured."""
    return {verdict: sum(v.verdict == verdict for v in verdicts) for verdict in VERDICTS}


def status(verdicts: Sequence[Verdict] | None) -> str:
    """One line for the intro's table, e.g. ``"9 of 12 claims hold; 2 fail; 1 not measured here"``."""
    if verdicts is None:
        return "not run in this build"
    n = counts(verdicts)
    text = f"{n[HOLDS]} of {len(verdicts)} claims hold"
    if n[FAILS]:
        text += f"; {n[FAILS]} fail"
    if n[UNMEASURED]:
        text += f"; {n[UNMEASURED]} not measured here"
    return text


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(verdicts: Sequence[Verdict]) -> str:
    """The claims as a Markdown table: claim (where the paper makes it), paper, ours, verdict, why."""
    lines = ["| claim (where in the paper) | paper | ours | verdict | why it differs |", "|---|---|---|---|---|"]
    for v in verdicts:
        cells = [f"{_cell(v.claim)} *({_cell(v.where)})*", _cell(v.paper), _cell(v.ours), f"**{v.verdict}**", _cell(v.why)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
