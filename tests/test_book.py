"""The book pipeline end to end: chapters run (smoke profile), results are reproducible, a
failing chapter stops with its cell shown, and the HTML builds with the widget state."""
import json
import os
import re
import shutil
from unittest import mock

import nbformat
import pytest

from nesy import paths
from nesy.book import runner

pytestmark = pytest.mark.slow


def _results(book, chapter):
    return json.loads((book / "results" / f"{chapter}.json").read_text())


@pytest.mark.parametrize("chapter", runner.chapters())
def test_chapter_writes_results_with_the_contract_fields(smoke_book, chapter):
    data = _results(smoke_book, chapter)
    assert data["profile"] == "smoke" and data["seed"] == data["parameters"]["seed"]
    assert {"torch", "python", "nesy"} <= set(data["versions"])
    assert data["wall_time_s"]["total"] > 0 and len(data["wall_time_s"]) > 2
    assert data["comparisons"], "every chapter compares with its paper"
    for figure in data["figures"]:
        assert (smoke_book / figure["path"]).exists()


@pytest.mark.parametrize("chapter", runner.chapters())
def test_injected_parameters_are_hidden(smoke_book, chapter):
    notebook = nbformat.read(smoke_book / f"{chapter}.ipynb", as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and all("remove-cell" in c.metadata["tags"] for c in injected)


def test_same_seed_same_results(smoke_book, tmp_path):
    """A second run of the same profile gives the same JSON, wall times aside."""
    with mock.patch.dict(os.environ, {"NESY_BOOK_DIR": str(tmp_path)}):
        runner.run_chapter("ltn_crash", "smoke")
    first, second = _results(smoke_book, "ltn_crash"), _results(tmp_path, "ltn_crash")
    first.pop("wall_time_s"), second.pop("wall_time_s")
    assert first == second


def test_failing_chapter_stops_and_shows_the_cell(tmp_path, monkeypatch):
    chapters = tmp_path / "chapters"
    (chapters / "params" / "broken").mkdir(parents=True)
    (chapters / "broken.py").write_text(
        '# %% tags=["parameters"]\nprofile = "default"\nx = 1\n\n# %%\ny = x + 1\nraise RuntimeError("boom at cell two")\n'
    )
    (chapters / "params" / "broken" / "schema.yaml").write_text("x: {type: int, min: 0, max: 10}\n")
    (chapters / "params" / "broken" / "default.yaml").write_text("x: 1\n")
    monkeypatch.setattr(paths, "CHAPTERS", chapters)
    monkeypatch.setattr(paths, "PARAMS", chapters / "params")
    monkeypatch.setattr("nesy.book.runner.paths", paths)
    monkeypatch.setattr("nesy.params.PARAMS", chapters / "params")
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path / "book"))
    with pytest.raises(runner.ChapterFailed, match=r"(?s)failing cell.*y = x \+ 1.*boom at cell two"):
        runner.run_chapter("broken", "default")
    assert not (tmp_path / "book" / "broken.ipynb").exists()


def test_html_has_pages_widget_state_and_local_scripts(smoke_book):
    html = smoke_book / "_build" / "html"
    for page in ("intro.html", "ltn_crash.html", "scoreboard.html"):
        assert (html / page).exists()
    chapter = (html / "ltn_crash.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in chapter
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', chapter)
    assert scripts and not [s for s in scripts if s.startswith(("http:", "https:", "//"))]
    for name in ("require.js", "require-paths.js", "embed-amd.js", "mathjax/tex-mml-chtml.js", "anywidget/index.js"):
        assert (html / "_static" / name).exists(), name
    assert "Traceback" not in chapter


def test_scoreboard_page_shows_the_chapter(smoke_book):
    page = (smoke_book / "scoreboard.md").read_text()
    assert "Small car detection (sce) | 98.83 |" in page


def test_published_pages_name_no_machine_paths(smoke_book):
    """Pages print paths relative to the repository or the book, never this machine's."""
    from nesy import paths

    html = smoke_book / "_build" / "html"
    for page in html.glob("*.html"):
        text = page.read_text()
        for machine_path in (str(paths.REPO), str(smoke_book), os.path.expanduser("~") + "/"):
            assert machine_path not in text, f"{page.name} shows {machine_path}"
