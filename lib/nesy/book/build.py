"""Assemble the book folder (pages, scoreboard, front-end files) and build the HTML."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nesy import paths
from nesy.book import assets, scoreboard

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


def assemble(book: Path) -> None:
    """Copy the hand-written pages (``chapters/*.md``), write the scoreboard, vendor assets."""
    book.mkdir(parents=True, exist_ok=True)
    for page in paths.CHAPTERS.glob("*.md"):
        shutil.copy2(page, book / page.name)
    scoreboard.write(book)
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
