"""Staged chapter outputs: a chapter run writes into a stage folder inside the book, and its
figures, results file and notebook replace the published ones together, only after every
cell succeeded.

A run's stage is ``<book>/.stage-<chapter>-XXXX/``, laid out like the book (``figures/<chapter>/``,
``results/<chapter>.json``, ``<chapter>.ipynb``); the kernel sees it as ``NESY_BOOK_DIR``. While
the run lives it holds an exclusive lock on ``<stage>/.lock``. Promotion first writes
``<stage>/PROMOTE`` (the stage is complete), then moves the figures folder, the results file
and the notebook into the book, each step idempotent. :func:`recover` (called before every
run) finishes a promotion that was interrupted (a stage with ``PROMOTE``) and removes the
stages of runs that died before it (no ``PROMOTE``, lock free), so a killed run leaves neither
a mixed book nor a folder behind for long. SIGTERM and SIGINT unwind the run (its stage is
removed, the published outputs are untouched).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from nesy.data.atomic import atomic_write, file_lock, fsync_dir

__all__ = ["STAGE_PREFIX", "stage", "promote", "recover", "signals_unwind"]

STAGE_PREFIX = ".stage-"
MARKER = "PROMOTE"
LOCK = ".lock"


@contextlib.contextmanager
def stage(book: Path, chapter: str):
    """A fresh, locked stage folder for one run of ``chapter``; removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{chapter}-", dir=book))
    try:
        with file_lock(folder / LOCK):
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _outputs(chapter: str) -> list[Path]:
    """What a chapter run publishes, relative to the book (or to its stage), in promotion order."""
    return [Path("figures") / chapter, Path("results") / f"{chapter}.json", Path(f"{chapter}.ipynb")]


def _move_in(stage_dir: Path, book: Path, relative: Path) -> None:
    source, target = stage_dir / relative, book / relative
    if not source.exists():  # already moved by an earlier, interrupted promotion
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        old = stage_dir / ".replaced" / relative
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            old.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, old)
    os.replace(source, target)
    fsync_dir(target.parent)


def promote(stage_dir: Path, book: Path, chapter: str) -> None:
    """Publish a complete stage: mark it, then move each output of ``chapter`` into ``book``."""
    missing = [str(p) for p in _outputs(chapter)[1:] if not (stage_dir / p).exists()]
    if missing:
        raise FileNotFoundError(f"chapter {chapter!r} did not write {', '.join(missing)}; nothing was published")
    (stage_dir / "figures" / chapter).mkdir(parents=True, exist_ok=True)  # a run without figures clears the old ones
    atomic_write(stage_dir / MARKER, chapter.encode())
    for relative in _outputs(chapter):
        _move_in(stage_dir, book, relative)
    (stage_dir / MARKER).unlink()


def recover(book: Path) -> list[str]:
    """Finish interrupted promotions and remove dead runs' stages in ``book``; returns what was done."""
    done = []
    for folder in sorted(book.glob(f"{STAGE_PREFIX}*")):
        if not folder.is_dir():
            continue
        with file_lock(folder / LOCK, wait=False) as free:
            if not free:  # a live run's stage
                continue
            marker = folder / MARKER
            if marker.exists():
                chapter = marker.read_text(encoding="utf-8").strip()
                for relative in _outputs(chapter):
                    _move_in(folder, book, relative)
                done.append(f"finished publishing {chapter} from {folder.name}")
            else:
                done.append(f"removed {folder.name}, left by a run that did not finish")
        shutil.rmtree(folder, ignore_errors=True)
    return done


class Interrupted(KeyboardInterrupt):
    """SIGTERM received: unwinds like Ctrl-C, so the run's ``finally`` blocks clean up."""


@contextlib.contextmanager
def signals_unwind():
    """Turn SIGTERM into :class:`Interrupted` for the block (main thread only; SIGINT already unwinds)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise Interrupted(f"stopped by signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
