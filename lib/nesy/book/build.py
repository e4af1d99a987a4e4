"""Assemble the book folder (pages, scoreboard, front-end files) and build the HTML."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nesy import claims, paths
from nesy.book import assets, pages, runner, scoreboard
from nesy.data.atomic import atomic_write

CONFIG = paths.REPO / "_config.yml"
TOC = paths.REPO / "_toc.yml"


class BuildFailed(RuntimeError):
    """Jupyter Book reported errors or warnings."""


def toc_pages() -> list[str]:
    """Page names in ``_toc.yml`` order (root first)."""
    toc = yaml.safe_load(TOC.read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages += [entry["file"] for entry in part.get("chapters", [])]
    return pages


def verdicts(book: Path) -> dict[str, list[claims.Verdict] | None]:
    """Each chapter's claim verdicts from its results file (None: not run in this book), in
    the table of contents' order."""
    known = set(runner.chapters())
    return {chapter: claims.evaluate_file(chapter, book) for chapter in toc_pages() if chapter in known}


def _report_verdicts(book: Path, found: dict[str, list[claims.Verdict] | None]) -> None:
    """Print every verdict and keep them in ``<book>/claims.json`` (for CI logs and notes)."""
    atomic_write(book / "claims.json", (json.dumps(
        {c: None if v is None else [x.as_dict() for x in v] for c, v in found.items()}, indent=1, ensure_ascii=False
    ) + "\n").encode())
    for chapter, chapter_verdicts in found.items():
        print(f"[claims] {chapter}: {claims.status(chapter_verdicts)}", file=sys.stderr)
        for v in chapter_verdicts or []:
            print(f"[claims]   {v.verdict:<12} {v.id}: ours {v.ours}", file=sys.stderr)


def assemble(book: Path) -> None:
    """Copy the hand-written pages (``chapters/*.md``), fill in what the results decide (claims
    tables, claim roles, the intro's status table, the scoreboard), vendor assets."""
    book.mkdir(parents=True, exist_ok=True)
    for page in paths.CHAPTERS.glob("*.md"):
        shutil.copy2(page, book / page.name)
    shutil.copytree(paths.REFERENCES, book / "references", dirs_exist_ok=True)
    found = verdicts(book)
    for chapter, chapter_verdicts in found.items():
        if chapter_verdicts is not None and (book / f"{chapter}.ipynb").exists():
            pages.render_notebook(book / f"{chapter}.ipynb", chapter, chapter_verdicts, claims.read_results(chapter, book))
    pages.render_intro(book / "intro.md", list(found), found)
    scoreboard.write(book, {c: v for c, v in found.items() if v is not None})
    _report_verdicts(book, found)
    assets.vendor(book)
    missing = [page for page in toc_pages() if not any((book / f"{page}{ext}").exists() for ext in (".md", ".ipynb"))]
    if missing:
        raise FileNotFoundError(
            f"pages in _toc.yml that have not been produced: {missing}; run `make chapter C=<name>` for each"
        )


def build(book: Path | None = None) -> Path:
    """Build ``<book>/_build/html`` from the executed notebooks (no execution here).

    Warnings fail the build (``-W --keep-going``), so a broken page never publishes.
    Returns the path of the book's index.html.
    """
    book = book or paths.book_dir()
    assemble(book)
    html = book / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)  # incremental builds keep stale static files
    start = time.perf_counter()
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(book),
        "--config", str(CONFIG), "--toc", str(TOC), "--path-output", str(book),
        "-W", "--keep-going", "--all",
    ]
    if subprocess.run(command).returncode != 0:
        raise BuildFailed("the HTML build failed (warnings count as errors); the messages above say where")
    print(f"[book] HTML built in {time.perf_counter() - start:.1f} s: {html / 'index.html'}", file=sys.stderr)
    return html / "index.html"
