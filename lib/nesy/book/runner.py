"""Run one chapter: its Jupytext source -> papermill with a profile -> ``book/<chapter>.ipynb``.

The chapter runs in a stage folder inside the book (:mod:`nesy.book.staging`): its figures,
results file and executed notebook replace the published ones together, and only when every
cell succeeded, so a failing, interrupted or killed chapter never leaves a half-run page or a
results file of another run behind; the failing cell and its error are printed.

A chapter whose recorded run still matches everything it depends on is not executed again
(:mod:`nesy.book.reuse`); ``force=True`` executes it anyway.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jupytext
import nbformat
import papermill

from nesy import paths, preflight
from nesy.book import reuse, staging
from nesy.params import ParameterError, load_profile, validate
from nesy.data.atomic import atomic_write

HIDDEN_TAGS = ("remove-cell",)
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


class ChapterFailed(RuntimeError):
    """A chapter's cell raised; the message holds the cell's source and the error."""


@dataclass(frozen=True)
class ChapterRun:
    """What :func:`run_chapter` did: ``action`` is ``reuse.EXECUTE``, ``REUSE`` or ``REFRESH``."""

    chapter: str
    notebook: Path
    action: str
    reason: str
    seconds: float


def chapters() -> list[str]:
    """Names of the chapters (every ``chapters/<name>.py`` that has a params folder)."""
    return sorted(p.stem for p in paths.CHAPTERS.glob("*.py") if (paths.PARAMS / p.stem).is_dir())


def chosen_chapters(names: list[str]) -> list[str]:
    """``names`` (``CHAPTERS="a b"`` may arrive as one word), checked against :func:`chapters`."""
    chosen = [name for item in names for name in item.split()]
    unknown = sorted(set(chosen) - set(chapters()))
    if unknown or not chosen:
        raise ParameterError(f"CHAPTERS must name chapters among {chapters()}, got {chosen!r}")
    return chosen


def _failing_cell(notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = "\n".join(output.get("traceback", []))
                return f"--- failing cell ---\n{cell.source}\n--- error ---\n{trace}"
    return "(no cell error recorded)"


def _hide_injected_parameters(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags:
            tags.extend(tag for tag in HIDDEN_TAGS if tag not in tags)


def run_chapter(chapter: str, profile: str = "default", overrides: Mapping[str, Any] | None = None,
                force: bool = False) -> ChapterRun:
    """Execute ``chapter`` with the ``profile`` parameters (plus ``overrides``), unless the book
    already holds a run of it that nothing has changed since (``force`` executes it anyway).

    Parameters are validated before any cell runs. The executed notebook is
    ``<book>/<chapter>.ipynb``.

    Raises
    ------
    ParameterError
        A parameter value is not allowed, or (:class:`nesy.preflight.MissingResource`) needs
        weights this machine has not and cannot download (before anything runs).
    ChapterFailed
        A cell raised; the message shows that cell and its traceback.
    """
    if chapter not in chapters():
        raise ParameterError(f"chapter must be one of {chapters()}, got {chapter!r}")
    source = paths.CHAPTERS / f"{chapter}.py"
    if overrides and "profile" in overrides:
        raise ParameterError(f"'profile' is chosen with --profile (here {profile!r}), not set as a parameter")
    parameters = load_profile(chapter, profile)
    if overrides:
        parameters = validate(chapter, {**parameters, **overrides}, source=f"profile {profile!r} with overrides")

    book = paths.book_dir()
    book.mkdir(parents=True, exist_ok=True)
    for note in staging.recover(book):
        print(f"[{chapter}] {note}", file=sys.stderr)
    output = book / f"{chapter}.ipynb"
    start = time.perf_counter()
    parts = reuse.fingerprint(chapter, parameters)
    decision = reuse.Decision(reuse.EXECUTE, "forced") if force else reuse.decide(book, chapter, parts)
    if decision.action != reuse.EXECUTE:
        if decision.action == reuse.REFRESH:
            reuse.refresh_prose(book, chapter)
        print(f"[{chapter}] {decision.action}: {decision.reason} (profile {profile}; FORCE=1 executes it)", file=sys.stderr)
        return ChapterRun(chapter, output, decision.action, decision.reason, time.perf_counter() - start)
    preflight.check(chapter, parameters)  # weights or data from outside: missing ones stop it here
    print(f"[{chapter}] running at profile {profile} ({decision.reason}){_expected(chapter, profile, book)}", file=sys.stderr)
    with staging.signals_unwind(), staging.stage(book, chapter) as stage:
        _execute(chapter, profile, parameters, source, stage, parts)
        staging.promote(stage, book, chapter)
    seconds = time.perf_counter() - start
    print(f"[{chapter}] profile {profile}: {seconds:.1f} s -> {paths.shown(output)}", file=sys.stderr)
    return ChapterRun(chapter, output, reuse.EXECUTE, decision.reason, seconds)


def _expected(chapter: str, profile: str, book: Path) -> str:
    """``"; last run at this profile: 8.7 min"`` from the published results, or "" without one."""
    from nesy.claims import ResultsError, read_results

    try:
        last = read_results(chapter, book)
    except ResultsError:
        return ""
    if not last or last.get("profile") != profile or "total" not in last.get("wall_time_s", {}):
        return ""
    return f"; last run at this profile: {last['wall_time_s']['total'] / 60:.1f} min"


def _kernel_manager_class():
    """nbclient's kernel manager over IPC sockets (local files) instead of TCP: the same local
    kernel, without ipykernel's warning that unencrypted TCP is readable on the network."""
    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self):
            return "ipc"

    return IPCKernelManager


def _execute(chapter: str, profile: str, parameters: Mapping[str, Any], source: Path, stage: Path,
             parts: Mapping[str, str]) -> None:
    """Execute the chapter with its outputs going to ``stage`` (the kernel's ``NESY_BOOK_DIR``)."""
    unexecuted, executed = stage / ".in.ipynb", stage / ".out.ipynb"
    notebook = jupytext.read(source)
    notebook.metadata.setdefault("kernelspec", KERNELSPEC)  # a source without the jupytext header
    jupytext.write(notebook, unexecuted, fmt="ipynb")
    previous = os.environ.get("NESY_BOOK_DIR")
    os.environ["NESY_BOOK_DIR"] = str(stage)  # the kernel inherits it: results land in the stage
    try:
        papermill.execute_notebook(
            str(unexecuted),
            str(executed),
            parameters=dict(parameters),
            kernel_name="python3",
            cwd=str(paths.CHAPTERS),
            progress_bar=False,
            kernel_manager_class=_kernel_manager_class(),
        )
    except papermill.PapermillExecutionError as error:
        detail = _failing_cell(nbformat.read(executed, as_version=4)) if executed.exists() else str(error)
        raise ChapterFailed(f"chapter {chapter!r} (profile {profile!r}) failed\n{detail}") from None
    finally:
        if previous is None:
            os.environ.pop("NESY_BOOK_DIR", None)
        else:
            os.environ["NESY_BOOK_DIR"] = previous
    notebook = nbformat.read(executed, as_version=4)
    _hide_injected_parameters(notebook)
    reuse.record(notebook, parts, chapter, stage)
    atomic_write(stage / f"{chapter}.ipynb", nbformat.writes(notebook).encode())
