"""Results of a chapter run: timed stages, numbers, tables, paper-vs-ours comparisons, figures.

A chapter makes one :class:`ChapterResults`, records everything it shows through it, and
calls :meth:`ChapterResults.save`, which writes ``book/results/<chapter>.json`` atomically.
Everything in that file except ``wall_time_s`` is reproducible: same parameters, same seed,
same machine, same JSON.

Paper values live in ``lib/nesy/paper_values/<chapter>.yaml``: per table a title, where in
the paper the numbers are, a tolerance, and rows ``{key, label, paper}``.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd
import yaml

from nesy import paths
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
        self, key: str, ours: Mapping[str, float], reason: str | Mapping[str, str], variant: str | None = None
    ) -> pd.DataFrame:
        """Our numbers beside the paper's table ``key``, with a reason on each row that differs.

        ``reason`` is one text for every differing row, or a mapping from row key to its own
        reason (the key ``"*"``, if present, for the rows not named). ``variant`` names which
        of our runs this is when a table is compared more than once (e.g. two training
        objectives); it is appended to the title.

        A paper row is a point value unless it has ``bound: at_least`` or ``bound: at_most``
        (the paper says "above 97 %"): a point row agrees when ``|ours - paper|`` is within the
        table's ``tolerance``; a bound row when ours is on the paper's side of the bound.
        Returns a DataFrame with columns quantity, paper, ours, difference, note.
        """
        table = paper_values(self.chapter)["tables"][key]
        tolerance = float(table.get("tolerance", 0.0))
        reasons = dict(reason) if isinstance(reason, Mapping) else {"*": reason}
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
        self.comparisons.append(
            {
                "table": key, "variant": variant, "title": table["title"] + (f" ({variant})" if variant else ""),
                "where": table["where"], "tolerance": tolerance, "rows": _plain(rows),
            }
        )
        frame = pd.DataFrame(rows)
        frame["paper"] = [_paper_text(r) for r in rows]
        return frame.drop(columns=["key", "bound", "agrees"])

    def compare_variants(self, key: str, variants: Mapping[str, tuple[Mapping[str, float], str | Mapping[str, str]]],
                         also: Mapping[str, Mapping[str, float]] | None = None) -> pd.DataFrame:
        """:meth:`compare` for each of our variants, ``{variant: (ours, reason)}`` (recorded in
        that order), shown as one table: the paper's column, one "ours, <variant>" column per
        variant, one column per ``also`` entry (``{column: {row key: value}}``, shown, not
        compared), and the first variant's difference and note."""
        frames = {name: self.compare(key, ours, reason, variant=name) for name, (ours, reason) in variants.items()}
        first = next(iter(frames.values()))
        keys = [row["key"] for row in paper_values(self.chapter)["tables"][key]["rows"]]
        table = first[["quantity", "paper"]].copy()
        for name, frame in frames.items():
            table[f"ours, {name}"] = frame["ours"].to_numpy()
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


def _paper_text(row: Mapping) -> Any:
    """The paper's value as a table cell: the number, or "≥ 97" for a bound."""
    prefix = {"at_least": "≥ ", "at_most": "≤ "}.get(row.get("bound"))
    return f"{prefix}{row['paper']:g}" if prefix else row["paper"]


def show(frame: pd.DataFrame, decimals: int = 2):
    """A DataFrame styled for the book: fixed decimals, no index."""
    return frame.style.format(precision=decimals, na_rep="–").hide(axis="index")
