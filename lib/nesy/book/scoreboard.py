"""The scoreboard page: the claim verdicts per chapter, then every paper number a chapter
reproduces beside ours, from the results files the chapter runs wrote
(``book/results/*.json``)."""
from __future__ import annotations

from pathlib import Path

from nesy import claims, paths
from nesy.data.atomic import atomic_write
from nesy.report import paper_text, paper_values

HEADER = """\
# Scoreboard

How many of each paper's headline claims hold in this build's runs, then every number of
the papers that a chapter reproduces, beside the number this build measured. Nothing here
is typed by hand: the page is generated from the results files
(`book/results/<chapter>.json`) that the chapter runs of this build wrote; the papers'
numbers and claims come from `lib/nesy/paper_values/`. A note explains each row outside
the tolerance; each chapter ends with its claims, one verdict per claim.
"""


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
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
            cells = [row["quantity"], paper_text(row), row["ours"], row["difference"], row["note"]]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def verdict_section(verdicts: dict[str, list]) -> str:
    """The claim counts per chapter, as a table."""
    lines = [
        "## Claims",
        "",
        "| chapter | claims | hold | fail | not measured here |",
        "|---|---|---|---|---|",
    ]
    for chapter, found in verdicts.items():
        n = claims.counts(found)
        link = f"[{paper_values(chapter)['paper']['title']}]({chapter}.ipynb)"
        lines.append(f"| {link} | {len(found)} | {n[claims.HOLDS]} | {n[claims.FAILS]} | {n[claims.UNMEASURED]} |")
    return "\n".join(lines) + "\n"


def write(book: Path | None = None, verdicts: dict[str, list] | None = None, results: dict[str, dict] | None = None,
          all_chapters: list[str] | None = None) -> Path:
    """Write ``<book>/scoreboard.md``; returns its path.

    ``results`` maps each chapter of the build to its results (read from the book's results
    files when not given: every chapter that ran), ``verdicts`` each to its claim verdicts
    (computed when not given); ``all_chapters``, for a partial build, says which are left out.
    """
    from nesy.book.pages import partial_note
    from nesy.book.runner import chapters  # only the chapters' own files: a stray backup JSON is no chapter

    book = book or paths.book_dir()
    if results is None:
        results = {chapter: data for chapter in chapters() if (data := claims.read_results(chapter, book)) is not None}
    if verdicts is None:
        verdicts = {chapter: claims.evaluate(chapter, data) for chapter, data in results.items()}
    sections = [chapter_section(data) for data in results.values()]
    if sections:
        note = partial_note(list(results), all_chapters or list(results))
        sections.insert(0, verdict_section(verdicts) + (f"\n{note}\n" if note else ""))
    else:
        sections = ["No chapter has been run yet: `make book` runs them all."]
    target = book / "scoreboard.md"
    atomic_write(target, (HEADER + "\n" + "\n".join(sections) + "\n").encode())
    return target
