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
from nesy.book import assets, pages, reuse, runner, scoreboard
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


def built_chapters(book: Path, wanted: list[str] | None = None) -> list[str]:
    """The chapters a build of ``book`` holds, in the table of contents' order: ``wanted``
    (each must have an executed notebook and a results file), or every chapter that has them."""
    known = runner.chapters()
    if wanted is not None:
        wanted = runner.chosen_chapters(wanted)
    ran = [c for c in known if (book / f"{c}.ipynb").exists() and (book / "results" / f"{c}.json").exists()]
    if wanted is not None:
        missing = [c for c in wanted if c not in ran]
        if missing:
            raise FileNotFoundError(f"chapters not run in this book yet: {missing}; run `make chapter C=<name>` for each")
        ran = [c for c in ran if c in wanted]
    if not ran:
        raise FileNotFoundError("no chapter has been run in this book yet: `make book` runs them all")
    order = toc_pages()
    return sorted(ran, key=lambda c: order.index(c) if c in order else len(order))


def write_toc(book: Path, chapters: list[str]) -> Path:
    """``<book>/_toc.yml``: the project's table of contents without the chapters not built."""
    toc = yaml.safe_load(TOC.read_text())
    skipped = set(runner.chapters()) - set(chapters)
    for part in toc.get("parts", []):
        part["chapters"] = [entry for entry in part.get("chapters", []) if entry["file"] not in skipped]
    toc["parts"] = [part for part in toc.get("parts", []) if part["chapters"]]
    target = book / "_toc.yml"
    atomic_write(target, yaml.safe_dump(toc, sort_keys=False).encode())
    return target


def _report_verdicts(book: Path, found: dict[str, list[claims.Verdict]]) -> None:
    """Print every verdict and keep them in ``<book>/claims.json`` (for CI logs and notes)."""
    atomic_write(book / "claims.json", (json.dumps(
        {c: [x.as_dict() for x in v] for c, v in found.items()}, indent=1, ensure_ascii=False
    ) + "\n").encode())
    for chapter, chapter_verdicts in found.items():
        print(f"[claims] {chapter}: {claims.status(chapter_verdicts)}", file=sys.stderr)
        for v in chapter_verdicts:
            print(f"[claims]   {v.verdict:<12} {v.id}: ours {v.ours}", file=sys.stderr)


def assemble(book: Path, chapters: list[str] | None = None) -> list[str]:
    """Copy the hand-written pages (``chapters/*.md``), fill in what the results decide (claims
    tables, claim roles, the intro's status table, the scoreboard), write the table of contents
    of the chapters built (``chapters``, or every one the book has run), vendor assets.
    Returns the chapters of the build."""
    book.mkdir(parents=True, exist_ok=True)
    chapters = built_chapters(book, chapters)
    for page in paths.CHAPTERS.glob("*.md"):
        shutil.copy2(page, book / page.name)
    shutil.copytree(paths.REFERENCES, book / "references", dirs_exist_ok=True)
    results = {chapter: claims.read_results(chapter, book) for chapter in chapters}
    found = {chapter: claims.evaluate(chapter, results[chapter]) for chapter in chapters}
    for chapter in chapters:
        pages.render_notebook(book / f"{chapter}.ipynb", chapter, found[chapter], results[chapter])
    every = [c for c in toc_pages() if c in runner.chapters()]
    pages.render_intro(book / "intro.md", chapters, found, all_chapters=every)
    scoreboard.write(book, found, results, all_chapters=every)
    _report_verdicts(book, found)
    assets.vendor(book)
    write_toc(book, chapters)
    return chapters


def _html_inputs_digest(book: Path) -> str:
    """Digest of everything the HTML is built from: the assembled pages, figures, references,
    front-end files, the configuration, the book's Sphinx code and Jupyter Book's version."""
    from importlib.metadata import version

    pages_and_toc = sorted(book.glob("*.md")) + sorted(book.glob("*.ipynb")) + [book / "_toc.yml"]
    folders = [book / name for name in ("figures", "references", "vendor") if (book / name).is_dir()]
    tree = reuse.tree_digest(pages_and_toc + folders + [CONFIG, Path(__file__).resolve().parent])
    return f"{tree}:jupyter-book=={version('jupyter-book')}"


def build(book: Path | None = None, chapters: list[str] | None = None, force: bool = False) -> Path:
    """Build ``<book>/_build/html`` from the executed notebooks (no execution here): of
    ``chapters``, or of every chapter the book has run.

    Warnings fail the build (``-W --keep-going``), so a broken page never publishes. When the
    pages, figures, front-end files and configuration are those of the last successful build
    (and ``force`` is false), the HTML is left as it is. Returns the path of the book's index.html.
    """
    book = book or paths.book_dir()
    built = assemble(book, chapters)
    html = book / "_build" / "html"
    stamp = book / "_build" / ".nesy-html-inputs"
    digest = _html_inputs_digest(book)
    if not force and (html / "index.html").exists() and stamp.exists() and stamp.read_text() == digest:
        print(f"[book] HTML up to date (pages, figures and configuration unchanged): {paths.shown(html / 'index.html')}",
              file=sys.stderr)
        return html / "index.html"
    if stamp.exists():
        stamp.unlink()
    if html.exists():
        shutil.rmtree(html)  # incremental builds keep stale static files
    start = time.perf_counter()
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(book),
        "--config", str(CONFIG), "--toc", str(book / "_toc.yml"), "--path-output", str(book),
        "-W", "--keep-going", "--all",
    ]
    if subprocess.run(command).returncode != 0:
        raise BuildFailed("the HTML build failed (warnings count as errors); the messages above say where")
    atomic_write(stamp, digest.encode())
    partial = f" ({len(built)} of {len(runner.chapters())} chapters: {', '.join(built)})" if len(built) < len(runner.chapters()) else ""
    print(f"[book] HTML built in {time.perf_counter() - start:.1f} s{partial}: {paths.shown(html / 'index.html')}", file=sys.stderr)
    return html / "index.html"
