"""When a chapter must be executed again, and when the run the book holds can be reused.

A chapter's run depends on six things, each summarised by a SHA256 digest (together, the
run's *fingerprint*):

- ``code``: the code cells of ``chapters/<chapter>.py`` (source and tags);
- ``parameters``: the validated parameters, profile name included;
- ``library``: every file of ``lib/nesy`` except the book pipeline itself (``nesy.book``,
  which only runs and renders chapters) and build products (``*.so``, ``__pycache__``);
- ``kernels``: ``csrc/``, ``setup.py`` and ``pyproject.toml`` (what the compiled ops are built from);
- ``data``: ``data/registry.yaml`` (the datasets' pins);
- ``environment``: the Python version and the installed version of every distribution the
  chapters can import: ``nesy``'s requirements with its ``book`` extra, and theirs, recursively
  (test tools such as pytest do not count).

The runner records the fingerprint in the executed notebook's metadata (``nesy_run``), with the
SHA256 of every file the run published (``results/<chapter>.json``, ``figures/<chapter>/*``).
Before a run, :func:`decide` compares it with the current one:

- all parts equal and every output intact: the run is **reused** (nothing executes);
- only the Markdown cells differ: the page's text is **refreshed** from the source without
  executing (:func:`refresh_prose`). Markdown cells never reach the kernel, so no output can
  depend on them; the outputs are the recorded ones, still verified;
- anything else (a part changed, a notebook that does not parse, a missing or altered output
  file, no record): the chapter is **executed**, and the reason is printed.

Why not jupyter-cache: it keys a notebook on its code cells alone, so it would reuse a run
after a change to the library, the kernels, the parameters injected by papermill or the data
pins, and it does not hold the files a chapter writes beside its notebook. Make's own
tracking compares modification times, which a fresh clone or a checkout resets.
"""
from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import jupytext
import nbformat

from nesy import paths
from nesy.data.atomic import atomic_write

METADATA_KEY = "nesy_run"
EXECUTE, REUSE, REFRESH = "execute", "reuse", "refresh prose"
PART_NAMES = ("code", "parameters", "library", "kernels", "data", "environment")
_SKIPPED_SUFFIXES = (".so", ".pyc", ".pyd")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_digest(value: Any) -> str:
    return _sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode())


def tree_digest(roots: list[Path], skip: tuple[Path, ...] = ()) -> str:
    """One digest of every file under ``roots`` (a file or a folder each): relative names and
    bytes, in sorted order, without ``__pycache__``, compiled modules and anything under ``skip``."""
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix in _SKIPPED_SUFFIXES:
                continue
            if any(path.is_relative_to(s) for s in skip):
                continue
            digest.update(paths.shown(path).encode() + b"\0")
            digest.update(_sha256(path.read_bytes()).encode())
    return digest.hexdigest()


def _cells(source: Path, kind: str) -> list:
    notebook = jupytext.read(source)
    return [[cell.source, sorted(cell.metadata.get("tags", []))] for cell in notebook.cells if cell.cell_type == kind]


def runtime_distributions(root: str = "nesy", extras: tuple[str, ...] = ("book",)) -> dict[str, str]:
    """Name -> installed version of ``root`` and of every distribution it requires (with
    ``extras``), recursively; requirements that are not installed are left out."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found, queue = {}, [(root, extras)]
    while queue:
        name, wanted = queue.pop()
        key = canonicalize_name(name)
        if key in found:
            continue
        try:
            found[key] = metadata.version(name)
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            markers = [{"extra": extra} for extra in ("", *wanted)]
            if requirement.marker is None or any(requirement.marker.evaluate(m) for m in markers):
                queue.append((requirement.name, tuple(requirement.extras)))
    return dict(sorted(found.items()))


def _environment() -> str:
    return _json_digest([platform.python_version(), runtime_distributions()])


def fingerprint(chapter: str, parameters: Mapping[str, Any]) -> dict[str, str]:
    """The digests of everything a run of ``chapter`` with ``parameters`` depends on
    (keys: :data:`PART_NAMES`)."""
    library = Path(__file__).resolve().parents[1]  # lib/nesy
    return {
        "code": _json_digest(_cells(paths.CHAPTERS / f"{chapter}.py", "code")),
        "parameters": _json_digest(dict(parameters)),
        "library": tree_digest([library], skip=(library / "book",)),
        "kernels": tree_digest([p for p in (paths.REPO / "csrc", paths.REPO / "setup.py", paths.REPO / "pyproject.toml") if p.exists()]),
        "data": tree_digest([p for p in (paths.REPO / "data" / "registry.yaml",) if p.exists()]),
        "environment": _environment(),
    }


def prose_digest(chapter: str) -> str:
    """Digest of the Markdown cells of the chapter's source."""
    return _json_digest(_cells(paths.CHAPTERS / f"{chapter}.py", "markdown"))


def output_digests(folder: Path, chapter: str) -> dict[str, str]:
    """SHA256 of each file a run of ``chapter`` published in ``folder`` (a book or a stage),
    by path relative to it: the results file and every figure."""
    files = [folder / "results" / f"{chapter}.json"]
    figures = folder / "figures" / chapter
    if figures.is_dir():
        files += sorted(p for p in figures.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): _sha256(p.read_bytes()) for p in files if p.exists()}


def record(notebook: nbformat.NotebookNode, parts: Mapping[str, str], chapter: str, stage: Path) -> None:
    """Store the run's fingerprint, the source's prose digest and its outputs' digests in
    ``notebook``'s metadata (before the stage is published)."""
    notebook.metadata[METADATA_KEY] = {
        "fingerprint": dict(parts),
        "prose": prose_digest(chapter),
        "outputs": output_digests(stage, chapter),
    }


@dataclass(frozen=True)
class Decision:
    """What the runner does with a chapter (:data:`EXECUTE`, :data:`REUSE` or :data:`REFRESH`) and why."""

    action: str
    reason: str


def recorded(book: Path, chapter: str) -> dict | None:
    """The ``nesy_run`` record of the book's executed notebook of ``chapter`` (None: no readable one)."""
    path = book / f"{chapter}.ipynb"
    if not path.exists():
        return None
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - any damage means the entry cannot be trusted
        return None
    entry = notebook.metadata.get(METADATA_KEY)
    return entry if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), dict) else None


def decide(book: Path, chapter: str, parts: Mapping[str, str]) -> Decision:
    """Whether the run of ``chapter`` held in ``book`` can be reused for the current ``parts``."""
    if not (book / f"{chapter}.ipynb").exists():
        return Decision(EXECUTE, "no executed notebook in the book yet")
    entry = recorded(book, chapter)
    if entry is None:
        return Decision(EXECUTE, "the book's notebook does not parse or records no fingerprint")
    changed = [name for name in PART_NAMES if entry["fingerprint"].get(name) != parts.get(name)]
    if changed:
        return Decision(EXECUTE, "changed since its run: " + ", ".join(changed))
    outputs = entry.get("outputs") or {}
    found = output_digests(book, chapter)
    damaged = sorted(set(outputs) ^ set(found) | {f for f in outputs if found.get(f) != outputs[f]})
    if damaged or f"results/{chapter}.json" not in outputs:
        return Decision(EXECUTE, "the published outputs differ from the ones the run recorded: " + ", ".join(damaged[:3]))
    if entry.get("prose") != prose_digest(chapter):
        return Decision(REFRESH, "only Markdown cells changed since its run")
    return Decision(REUSE, "nothing it depends on changed since its run")


def refresh_prose(book: Path, chapter: str) -> None:
    """Replace the Markdown cells of the book's executed notebook with the source's, keeping
    every code cell and its outputs (the code cells are identical: :func:`decide` checked)."""
    path = book / f"{chapter}.ipynb"
    executed = nbformat.read(path, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    source = jupytext.read(paths.CHAPTERS / f"{chapter}.py")
    cells, remaining = [], iter(code)
    for position, cell in enumerate(source.cells):
        if cell.cell_type != "code":
            cells.append(nbformat.v4.new_markdown_cell(cell.source, metadata=dict(cell.metadata), id=f"prose-{position}"))
            continue
        cells.append(next(remaining))
        if "parameters" in cell.metadata.get("tags", []):
            cells += injected
    executed.cells = cells
    executed.metadata[METADATA_KEY]["prose"] = prose_digest(chapter)
    atomic_write(path, nbformat.writes(executed).encode())
