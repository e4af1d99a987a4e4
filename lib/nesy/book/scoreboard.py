"""The scoreboard page: every paper number a chapter reproduces, beside ours, from the
results files the chapter runs wrote (``book/results/*.json``)."""
from __future__ import annotations

import json
from pathlib import Path

from nesy import paths
from nesy.report import paper_values

HEADER = """\
# Scoreboard

Every number of the papers that a chapter reproduces, beside the number this build
measured. Nothing here is typed by hand: the page is generated from the results files
(`book/results/<chapter>.json`) that the chapter runs of this build wrote, and the papers'
numbers come from `lib/nesy/paper_values/`. A note explains each row outside the
tolerance; the chapter itself says more.
"""


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 and value != 0 else f"{value:.2f}"
    return str(value)


def chapter_section(results: dict) -> str:
    paper = paper_values(results["chapter"])["paper"]
    minutes = results["wall_time_s"]["total"] / 60
    lines = [
        f"## {paper['title']}",
        "",
        f"Chapter [`{results['chapter']}`]({results['chapter']}.ipynb), profile `{results['profile']}`,"
        f" seed {results['seed']}, run time {minutes:.1f} min.",
        "",
    ]
    for comparison in results["comparisons"]:
        lines += [f"### {comparison['title']}", "", f"Paper: {comparison['where']}.", ""]
        lines += ["| quantity | paper | ours | difference | note |", "|---|---|---|---|---|"]
        for row in comparison["rows"]:
            cells = [row["quantity"], row["paper"], row["ours"], row["difference"], row["note"]]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write(book: Path | None = None) -> Path:
    """Write ``<book>/scoreboard.md`` from the results present; returns its path."""
    book = book or paths.book_dir()
    sections = [
        chapter_section(json.loads(path.read_text()))
        for path in sorted((book / "results").glob("*.json"))
    ]
    if not sections:
        sections = ["No chapter has been run yet: `make book` runs them all."]
    target = book / "scoreboard.md"
    target.write_text(HEADER + "\n" + "\n".join(sections) + "\n")
    return target
