"""Where the project's folders are. The book is built from a source checkout (editable
install), so the repository root is found from this file; each folder can be moved with an
environment variable (tests use temporary folders)."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # lib/nesy/paths.py -> repository root
CHAPTERS = REPO / "chapters"
PARAMS = CHAPTERS / "params"
REFERENCES = REPO / "references"  # BibTeX files cited by the pages
PAPER_VALUES = Path(__file__).resolve().parent / "paper_values"


def shown(path) -> str:
    """``path`` as messages and pages print it: relative to the repository when inside it, else
    as given (so the published book names no machine's folders)."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def book_dir() -> Path:
    """The generated book folder: ``$NESY_BOOK_DIR`` or ``<repo>/book``."""
    return Path(os.environ.get("NESY_BOOK_DIR") or REPO / "book")


def results_dir() -> Path:
    return book_dir() / "results"


def figures_dir(chapter: str) -> Path:
    return book_dir() / "figures" / chapter
