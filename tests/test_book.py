"""The book pipeline end to end: chapters run (smoke profile), results are reproducible, a
failing chapter stops with its cell shown, and the HTML builds with the widget state."""
import json
import os
import re
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


@pytest.mark.parametrize("chapter", runner.chapters())
def test_scoreboard_page_shows_each_number_the_run_measured(smoke_book, chapter):
    """The chapter's section lists every compared row of its results, in order, with the run's
    own number in the "ours" column."""
    from nesy.report import paper_values

    results = _results(smoke_book, chapter)
    rows = [row for comparison in results["comparisons"] for row in comparison["rows"]]
    assert rows, f"{chapter} compares nothing with the paper"
    section = (smoke_book / "scoreboard.md").read_text().split(f"## {paper_values(chapter)['paper']['title']}\n")[1]
    section = section.split("\n## ")[0]
    lines = [line for line in section.splitlines()
             if line.startswith("| ") and not line.startswith(("| quantity |", "|---"))]
    assert len(lines) == len(rows), (chapter, len(lines), len(rows))
    for row, line in zip(rows, lines):
        quantity, _paper, shown = (cell.strip() for cell in line.strip("|").split("|")[:3])
        assert quantity == row["quantity"]
        ours = row["ours"]
        if ours is None:
            assert shown == "–", line
        elif isinstance(ours, bool):
            assert shown == ("yes" if ours else "no"), line
        elif isinstance(ours, (int, float)):
            assert float(shown) == pytest.approx(ours, rel=0.005, abs=0.005), line
        else:
            assert shown == str(ours), line


def test_scoreboard_puts_the_papers_number_beside_ours(smoke_book):
    page = (smoke_book / "scoreboard.md").read_text()
    assert "| Small car detection (sce) | 98.83 |" in page


def test_published_pages_name_no_machine_paths(smoke_book):
    """Pages print paths relative to the repository or the book, never this machine's."""
    from nesy import paths

    html = smoke_book / "_build" / "html"
    for page in html.glob("*.html"):
        text = page.read_text()
        for machine_path in (str(paths.REPO), str(smoke_book), os.path.expanduser("~") + "/"):
            assert machine_path not in text, f"{page.name} shows {machine_path}"
