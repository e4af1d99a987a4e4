"""Incremental execution: a chapter runs again only when something its run depends on changed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from unittest import mock

import nbformat
import pytest

from nesy import paths
from nesy.book import build, reuse, runner

pytestmark = pytest.mark.integration


def _run(**overrides) -> runner.ChapterRun:
    return runner.run_chapter("toy", "default", {"tag": "first", **overrides})


def test_an_unchanged_chapter_is_reused_and_force_executes_it(toy_chapter):
    assert _run().action == reuse.EXECUTE
    notebook = (toy_chapter / "toy.ipynb").read_bytes()
    again = _run()
    assert (again.action, again.reason) == (reuse.REUSE, "nothing it depends on changed since its run")
    assert (toy_chapter / "toy.ipynb").read_bytes() == notebook
    assert runner.run_chapter("toy", "default", {"tag": "first"}, force=True).action == reuse.EXECUTE


def test_a_changed_parameter_or_code_cell_executes_again(toy_chapter):
    _run()
    changed = _run(tag="second")
    assert changed.action == reuse.EXECUTE and changed.reason == "changed since its run: parameters"
    assert json.loads((toy_chapter / "results" / "toy.json").read_text()) == {"tag": "second"}
    source = paths.CHAPTERS / "toy.py"
    source.write_text(source.read_text().replace("time.sleep(120)", "time.sleep(121)"))
    assert _run(tag="second").reason == "changed since its run: code"


def test_a_prose_edit_refreshes_the_page_without_executing(toy_chapter):
    _run()
    results = (toy_chapter / "results" / "toy.json").stat().st_mtime_ns
    source = paths.CHAPTERS / "toy.py"
    source.write_text(source.read_text().replace("# The toy chapter's prose.", "# Better prose.\n\n# %% [markdown]\n# A new paragraph."))
    refreshed = _run()
    assert refreshed.action == reuse.REFRESH
    notebook = nbformat.read(toy_chapter / "toy.ipynb", as_version=4)
    prose = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert prose == ["Better prose.", "A new paragraph."]
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert "injected-parameters" in code[1].metadata["tags"] and all(c.execution_count for c in code)
    assert (toy_chapter / "results" / "toy.json").stat().st_mtime_ns == results  # nothing executed
    assert _run().action == reuse.REUSE


@pytest.mark.parametrize("damage", ["results", "figure", "extra figure", "notebook", "no record"])
def test_a_damaged_entry_is_executed_again(toy_chapter, damage):
    _run()
    if damage == "results":
        (toy_chapter / "results" / "toy.json").write_text('{"tag": "forged"}')
    elif damage == "figure":
        (toy_chapter / "figures" / "toy" / "fig.png").unlink()
    elif damage == "extra figure":
        (toy_chapter / "figures" / "toy" / "stray.png").write_text("?")
    elif damage == "notebook":
        path = toy_chapter / "toy.ipynb"
        path.write_bytes(path.read_bytes()[:200])
    else:
        notebook = nbformat.read(toy_chapter / "toy.ipynb", as_version=4)
        del notebook.metadata[reuse.METADATA_KEY]
        nbformat.write(notebook, toy_chapter / "toy.ipynb")
    decision = _run()
    assert decision.action == reuse.EXECUTE, decision
    assert json.loads((toy_chapter / "results" / "toy.json").read_text()) == {"tag": "first"}
    assert _run().action == reuse.REUSE


def test_fingerprint_parts_follow_library_kernels_and_environment(toy_chapter, tmp_path):
    parts = reuse.fingerprint("toy", {"tag": "first"})
    assert set(parts) == set(reuse.PART_NAMES)
    folder = tmp_path / "lib"
    (folder / "__pycache__").mkdir(parents=True)
    (folder / "a.py").write_text("x = 1\n")
    before = reuse.tree_digest([folder])
    (folder / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (folder / "_C.so").write_bytes(b"\0")
    assert reuse.tree_digest([folder]) == before  # build products do not count
    (folder / "a.py").write_text("x = 2\n")
    assert reuse.tree_digest([folder]) != before
    with mock.patch.object(reuse, "_environment", return_value="other"):
        assert reuse.fingerprint("toy", {"tag": "first"})["environment"] != parts["environment"]


@pytest.mark.slow
def test_a_second_build_of_the_smoke_book_reuses_everything(smoke_book, capfd):
    """The smoke book's recorded runs match a fresh fingerprint (`status` exits 0) and an
    unchanged book does not rebuild its HTML."""
    env = {**os.environ, "NESY_BOOK_DIR": str(smoke_book)}
    status = subprocess.run([sys.executable, "-m", "nesy.book", "status", "--profile", "smoke"],
                            capture_output=True, text=True, env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("reuse") == len(runner.chapters())
    build.build(smoke_book)
    assert "HTML up to date" in capfd.readouterr().err


@pytest.mark.slow
def test_a_partial_book_lists_only_its_chapters(smoke_book, tmp_path):
    import shutil

    book = tmp_path / "partial"
    shutil.copytree(smoke_book, book, ignore=shutil.ignore_patterns("_build"))
    build.build(book, chapters=["ltn_crash"])
    html = book / "_build" / "html"
    assert (html / "ltn_crash.html").exists() and not (html / "smug.html").exists()
    for page in ("intro.html", "scoreboard.html"):
        text = (html / page).read_text()
        assert "This build holds 1 of the 4 chapters" in text and "smug.html" not in text
    with pytest.raises(runner.ParameterError, match="CHAPTERS must name"):
        build.build(book, chapters=["no_such"])


def test_the_environment_part_counts_what_chapters_import_not_test_tools():
    installed = reuse.runtime_distributions()
    assert {"torch", "numpy", "papermill", "nesy"} <= set(installed)
    assert "pytest" not in installed and "hypothesis" not in installed
