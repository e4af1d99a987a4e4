"""Results of a chapter run: timed stages, numbers, tables, paper-vs-ours comparisons, figures.

A chapter makes one :class:`ChapterResults`, records everything it shows through it, and
calls :meth:`ChapterResults.save`, which writes ``book/results/<chapter>.json`` atomically.
Everything in that file except ``wall_time_s`` is reproducible: same parameters, same seed,
same machine, same JSON.

Paper values live in ``lib/nesy/paper_values/<chapter>.yaml``: per table a title, where in
the paper the numbers are, a tolerance, and rows ``{key, label, paper}``, a row with an
optional ``bound`` (``at_least`` or ``at_most``) or ``spread`` (the paper's "±"; the table's
``spread_kind`` says what it is: a std, a 95% interval, an error bar).
"""
from __future__ import annotations

import json
import math
import numbers
import os
import platform
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd
import yaml

from nesy import checks, paths
from nesy.data.atomic import atomic_write

VERSIONED = ("nesy", "torch", "torchvision", "numpy", "scipy", "ltntorch", "pandas", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python, the platform and the libraries the results depend on."""
    found = {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count())}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        import torch

        found["torch_threads"] = str(torch.get_num_threads())
    except ImportError:
        pass
    try:
        from nesy import kernels

        capability, width = kernels.cpu_capability()
        found["nesy_kernels"] = f"{capability} ({width} doubles a vector)"
    except ImportError:
        pass
    return found


def paper_values(chapter: str) -> dict[str, dict]:
    """The paper's reference (``paper``) and its numbers (``tables``, keyed by table) for ``chapter``."""
    with open(paths.PAPER_VALUES / f"{chapter}.yaml") as handle:
        return yaml.safe_load(handle)


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy/torch scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class ChapterResults:
    """Collects what one chapter run shows and writes it to ``book/results/<chapter>.json``."""

    def __init__(self, chapter: str, parameters: Mapping[str, Any]):
        self.chapter = chapter
        self.parameters = dict(parameters)
        self.wall_time_s: dict[str, float] = {}
        self.numbers: dict[str, Any] = {}
        self.tables: dict[str, list[dict]] = {}
        self.comparisons: list[dict] = []
        self.figures: list[dict] = []
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage of the chapter (printed and recorded in ``wall_time_s``)."""
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.wall_time_s[name] = round(seconds, 2)
        print(f"[{self.chapter}] {name}: {seconds:.1f} s")

    def number(self, name: str, value: Any) -> Any:
        """Record a number shown on the page; returns it unchanged."""
        self.numbers[name] = _plain(value)
        return value

    def table(self, name: str, rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
        """Record a table (as rows) and return it as a DataFrame for display."""
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        self.tables[name] = _plain(frame.to_dict(orient="records"))
        return frame

    def compare(
        self, key: str, ours: Mapping[str, float], reason: str | Mapping[str, str], variant: str | None = None, *,
        spread: Mapping[str, float] | None = None, spread_kind: str = "std", digits: int = 2,
    ) -> pd.DataFrame:
        """Our numbers beside the paper's table ``key``, with a reason on each row that differs.

        ``reason`` is one text for every differing row, or a mapping from row key to its own
        reason (the key ``"*"``, if present, for the rows not named). ``variant`` names which
        of our runs this is when a table is compared more than once (e.g. two training
        objectives); it is appended to the title.

        A paper row is a point value unless it has ``bound: at_least`` or ``bound: at_most``
        (the paper says "above 97 %"): a point row agrees when ``|ours - paper|`` is within the
        table's ``tolerance``; a bound row when ours is on the paper's side of the bound.
        Returns a DataFrame with columns quantity, paper, ours, difference, note (in that
        order; the paper and ours headers name their spread when one is shown).

        Spreads are shown, never recorded (the results JSON is the same with or without them).
        ``spread``: our spread per row key, of the kind ``spread_kind`` (e.g. ``"std"``,
        ``"95% CI"``); like ``ours`` it may hold other keys, and rows not in it show our value
        alone. The rows in it show ours as ``"mean ± spread"`` (:func:`plus_minus`, ``digits``
        decimals) and the column is headed ``"ours (± <spread_kind>)"``. A paper row with a
        ``spread`` is shown as ``"paper ± spread"`` (:func:`paper_text`) and the column is
        headed ``"paper (± <the table's spread_kind>)"``.
        """
        table = paper_values(self.chapter)["tables"][key]
        tolerance = float(table.get("tolerance", 0.0))
        reasons = dict(reason) if isinstance(reason, Mapping) else {"*": reason}
        headers = {"paper": "paper", "ours": "ours"}
        if _has_spread(table):
            if not isinstance(table.get("spread_kind"), str) or not table["spread_kind"]:
                raise ValueError(f"paper table {key!r} has rows with a spread but no spread_kind (what its ± is, e.g. 'std', '95% CI')")
            headers["paper"] = f"paper (± {table['spread_kind']})"
        if spread:
            if not isinstance(spread_kind, str) or not spread_kind:
                raise ValueError(f"spread_kind must be a non-empty text saying what our ± is (e.g. 'std', '95% CI'), got {spread_kind!r}")
            headers["ours"] = f"ours (± {spread_kind})"
        rows = []
        for row in table["rows"]:
            if row["key"] not in ours:
                raise KeyError(f"compare({key!r}): no value of ours for {row['key']!r}")
            value = ours[row["key"]]
            measured = value is not None and math.isfinite(value)
            difference = value - row["paper"] if measured else None
            bound = row.get("bound")
            if bound not in (None, "at_least", "at_most"):
                raise ValueError(f"paper table {key!r}, row {row['key']!r}: bound must be at_least or at_most, got {bound!r}")
            if bound is None:
                agree, agreed = measured and abs(difference) <= tolerance, f"within {tolerance:g}"
            elif bound == "at_least":
                agree, agreed = measured and value >= row["paper"], f"meets the bound (at least {row['paper']:g})"
            else:
                agree, agreed = measured and value <= row["paper"], f"meets the bound (at most {row['paper']:g})"
            if agree:
                note = agreed
            elif not measured:
                note = "not measured in this run"
            elif row["key"] in reasons or "*" in reasons:
                note = reasons.get(row["key"], reasons.get("*"))
            else:
                raise KeyError(f"compare({key!r}): row {row['key']!r} differs and no reason is given for it")
            rows.append(
                {
                    "key": row["key"],
                    "quantity": row["label"],
                    "paper": row["paper"],
                    "bound": bound,
                    "ours": value,
                    "difference": None if agree and bound else difference,
                    "agrees": bool(agree),
                    "note": note,
                }
            )
        frame = pd.DataFrame(rows)
        frame["paper"] = [paper_text(r, digits) for r in table["rows"]]
        if spread:
            frame["ours"] = pd.Series([plus_minus(r["ours"], spread[r["key"]], digits) if r["key"] in spread else r["ours"]
                                       for r in rows], dtype=object)
        self.comparisons.append(
            {
                "table": key, "variant": variant, "title": table["title"] + (f" ({variant})" if variant else ""),
                "where": table["where"], "tolerance": tolerance, "rows": _plain(rows),
            }
        )
        return frame.drop(columns=["key", "bound", "agrees"]).rename(columns=headers)

    def compare_variants(self, key: str, variants: Mapping[str, tuple[Mapping[str, float], str | Mapping[str, str]]],
                         also: Mapping[str, Mapping[str, float]] | None = None, *,
                         spreads: Mapping[str, Mapping[str, float]] | None = None, spread_kind: str = "std",
                         digits: int = 2) -> pd.DataFrame:
        """:meth:`compare` for each of our variants, ``{variant: (ours, reason)}`` (recorded in
        that order), shown as one table: the paper's column, one "ours, <variant>" column per
        variant, one column per ``also`` entry (``{column: {row key: value}}``, shown, not
        compared), and the first variant's difference and note.

        ``spreads``: ``{variant: {row key: spread}}`` of the kind ``spread_kind``, shown as in
        :meth:`compare` (that variant's column headed ``"ours, <variant> (± <spread_kind>)"``);
        shown, not recorded."""
        unknown = sorted(set(spreads or {}) - set(variants))
        if unknown:
            raise KeyError(f"compare_variants({key!r}): spreads names variants that are not compared: {unknown}")
        frames = {name: self.compare(key, ours, reason, variant=name, spread=(spreads or {}).get(name),
                                     spread_kind=spread_kind, digits=digits)
                  for name, (ours, reason) in variants.items()}
        first = next(iter(frames.values()))
        keys = [row["key"] for row in paper_values(self.chapter)["tables"][key]["rows"]]
        table = first.iloc[:, :2].copy()  # quantity and the paper's column (its header may name its spread)
        for name, frame in frames.items():
            header = frame.columns[2]  # "ours" or "ours (± <spread_kind>)"
            table[f"ours, {name}" + header[len("ours"):]] = frame[header].to_numpy()
        for name, values in (also or {}).items():
            table[name] = [values[k] for k in keys]
        return table.assign(difference=first["difference"].to_numpy(), note=first["note"].to_numpy())

    def figure(self, figure, name: str, caption: str) -> Path:
        """Save a matplotlib figure to ``book/figures/<chapter>/<name>.png`` (atomically)."""
        import io

        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
        path = paths.figures_dir(self.chapter) / f"{name}.png"
        atomic_write(path, buffer.getvalue())
        self.figures.append({"name": name, "caption": caption, "path": f"figures/{self.chapter}/{name}.png"})
        return path

    def as_dict(self) -> dict:
        return _plain(
            {
                "chapter": self.chapter,
                "profile": self.parameters.get("profile", "default"),
                "seed": self.parameters.get("seed"),
                "parameters": self.parameters,
                "versions": versions(),
                "wall_time_s": {**self.wall_time_s, "total": round(time.perf_counter() - self._start, 2)},
                "numbers": self.numbers,
                "tables": self.tables,
                "comparisons": self.comparisons,
                "figures": self.figures,
            }
        )

    def save(self) -> Path:
        """Write the results JSON; returns its path and prints where it is in the book (the
        printed line is in the published page, so it names no machine path)."""
        path = paths.results_dir() / f"{self.chapter}.json"
        data = self.as_dict()
        atomic_write(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
        print(f"[{self.chapter}] results: book/results/{self.chapter}.json (total {data['wall_time_s']['total']:.1f} s)")
        return path


MISSING = "–"  # how a table shows a missing number (as :func:`show` does)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not math.isfinite(value))


def plus_minus(mean: float | None, spread: float | None = None, digits: int = 2, spread_digits: int | None = None) -> str:
    """A value with its spread as one table cell: ``"mean ± spread"``.

    ``mean`` is shown with ``digits`` decimals (a missing mean, None or NaN, as "–", as
    :func:`show` shows a missing number); ``spread`` (>= 0: a std, an interval's half-width;
    the column header says which) with ``spread_digits`` decimals (default ``digits``). A
    missing spread (None or NaN) shows the mean alone.

    >>> plus_minus(98.48, 0.01)
    '98.48 ± 0.01'
    >>> plus_minus(40.9, 1.68, digits=1, spread_digits=2)
    '40.9 ± 1.68'
    >>> plus_minus(97.5), plus_minus(97.5, float("nan")), plus_minus(float("nan"), 0.1)
    ('97.50', '97.50', '–')
    >>> plus_minus(97.5, -1.0)
    Traceback (most recent call last):
    ...
    ValueError: spread must be a number >= 0 (or None or NaN for no spread), got -1.0
    """
    digits = checks.integer("digits", digits, low=0)
    spread_digits = digits if spread_digits is None else checks.integer("spread_digits", spread_digits, low=0)
    mean, spread = (x.item() if hasattr(x, "item") else x for x in (mean, spread))
    if not _missing(spread) and not (isinstance(spread, numbers.Real) and spread >= 0):
        raise ValueError(f"spread must be a number >= 0 (or None or NaN for no spread), got {spread!r}")
    if _missing(mean):
        return MISSING
    shown = f"{mean:.{digits}f}"
    return shown if _missing(spread) else f"{shown} ± {spread:.{spread_digits}f}"


def plus_minus_column(means, spreads, digits: int = 2, spread_digits: int | None = None) -> list[str]:
    """:func:`plus_minus` of each (mean, spread) pair of two equally long sequences (e.g. a
    frame's ``x_mean`` and ``x_std`` columns), as a column of cells.

    >>> plus_minus_column([97.2, 9.84], [0.06, None])
    ['97.20 ± 0.06', '9.84']
    """
    means, spreads = list(means), list(spreads)
    if len(means) != len(spreads):
        raise ValueError(f"spreads must have one value per mean ({len(means)}), got {len(spreads)}")
    return [plus_minus(m, s, digits, spread_digits) for m, s in zip(means, spreads)]


def plus_minus_frame(frame: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """``frame`` for display with each pair of columns ``"X (mean)"`` and ``"X (std)"`` shown as
    one column ``"X (mean ± std)"`` (:func:`plus_minus_column`) where the mean was; the other
    columns unchanged.

    >>> plus_minus_frame(pd.DataFrame({"a": [1], "b (mean)": [97.21], "b (std)": [0.5]}))
       a b (mean ± std)
    0  1   97.21 ± 0.50
    """
    shown = {}
    for column in frame.columns:
        base = column[: -len(" (mean)")] if column.endswith(" (mean)") else None
        if base is not None and f"{base} (std)" in frame.columns:
            shown[f"{base} (mean ± std)"] = plus_minus_column(frame[column], frame[f"{base} (std)"], digits)
        elif not (column.endswith(" (std)") and f"{column[: -len(' (std)')]} (mean)" in frame.columns):
            shown[column] = frame[column]
    return pd.DataFrame(shown, index=frame.index)


def _decimals(value: float) -> int:
    """The decimals of ``value`` as written (the shortest repr): 0.004 -> 3, 0.1 -> 1, 2.0 -> 0."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        return max(0, len(mantissa.partition(".")[2].rstrip("0")) - int(exponent))
    return len(text.partition(".")[2].rstrip("0"))


def paper_text(row: Mapping, digits: int = 2, spread_digits: int | None = None) -> Any:
    """The paper's value of a paper-values row as a table cell: "≥ 97" for a bound, the number
    for a point value, and ``"paper ± spread"`` (:func:`plus_minus`) when the row has a
    ``spread``; the spread keeps the decimals the paper gives it if they are more than
    ``spread_digits`` (default ``digits``), so a quoted 0.004 is not shown as 0.00.

    >>> paper_text({"paper": 97.0, "bound": "at_least"}), paper_text({"paper": 9.83})
    ('≥ 97', 9.83)
    >>> paper_text({"paper": 94.23, "spread": 0.1}), paper_text({"paper": 9.84, "spread": 0.004})
    ('94.23 ± 0.10', '9.84 ± 0.004')
    """
    prefix = {"at_least": "≥ ", "at_most": "≤ "}.get(row.get("bound"))
    if prefix:
        return f"{prefix}{row['paper']:g}"
    if _missing(row.get("spread")):
        return row["paper"]
    spread_digits = digits if spread_digits is None else spread_digits
    return plus_minus(row["paper"], row["spread"], digits, max(spread_digits, _decimals(row["spread"])))


def _has_spread(table: Mapping) -> bool:
    """Whether a paper table shows a spread on a row (a point row with a ``spread``)."""
    return any(not _missing(r.get("spread")) and not r.get("bound") for r in table["rows"])


def show(frame: pd.DataFrame, decimals: int = 2):
    """A DataFrame styled for the book: fixed decimals, no index."""
    return frame.style.format(precision=decimals, na_rep=MISSING).hide(axis="index")
