"""Staged chapter outputs: a failing, interrupted or killed run never leaves a mixed book."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nesy import paths
from nesy.book import runner, staging
from nesy.data.atomic import file_lock

pytestmark = pytest.mark.integration


def published(book: Path) -> dict:
    def read(p):
        return p.read_text() if p.exists() else None
    return {"figure": read(book / "figures" / "toy" / "fig.png"), "results": read(book / "results" / "toy.json"),
            "notebook": (book / "toy.ipynb").exists(),
            "stages": sorted(p.name for p in book.glob(f"{staging.STAGE_PREFIX}*")) if book.exists() else []}


def test_a_successful_run_publishes_every_output(toy_chapter, capfd):
    runner.run_chapter("toy", "default", {"tag": "first"})
    err = capfd.readouterr().err
    assert "without encryption" not in err  # the kernel talks over IPC, not TCP
    assert "[toy] running at profile default (no executed notebook in the book yet)\n" in err  # no expected duration
    (toy_chapter / "results" / "toy.json").write_text(
        json.dumps({"chapter": "toy", "profile": "default", "wall_time_s": {"total": 90.0}}))
    runner.run_chapter("toy", "default", {"tag": "first"})
    assert "; last run at this profile: 1.5 min\n" in capfd.readouterr().err
    state = published(toy_chapter)
    assert state == {"figure": "first", "results": '{"tag": "first"}', "notebook": True, "stages": []}
    assert os.environ["NESY_BOOK_DIR"] == str(toy_chapter)  # restored after the run


def test_a_failing_run_leaves_the_published_outputs_alone(toy_chapter):
    runner.run_chapter("toy", "default", {"tag": "first"})
    notebook = (toy_chapter / "toy.ipynb").read_bytes()
    with pytest.raises(runner.ChapterFailed, match="boom after the results were written"):
        runner.run_chapter("toy", "default", {"tag": "second", "mode": "fail"})
    state = published(toy_chapter)
    assert state == {"figure": "first", "results": '{"tag": "first"}', "notebook": True, "stages": []}
    assert (toy_chapter / "toy.ipynb").read_bytes() == notebook


_RUN_IN_CHILD = """
import signal
import sys
# a shell without job control starts background jobs (`make test &`) with SIGINT ignored, and
# the child would inherit that: take SIGINT as a terminal delivers it
signal.signal(signal.SIGINT, signal.default_int_handler)
from pathlib import Path
from nesy import paths
from nesy.book import runner
chapters = Path(sys.argv[1])
paths.CHAPTERS, paths.PARAMS = chapters, chapters / "params"
import nesy.params
nesy.params.PARAMS = chapters / "params"
runner.run_chapter("toy", "default", {"tag": "second", "mode": "wait"})
"""


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_cleans_its_stage(toy_chapter, tmp_path, how):
    runner.run_chapter("toy", "default", {"tag": "first"})
    child = subprocess.Popen([sys.executable, "-c", _RUN_IN_CHILD, str(tmp_path / "chapters")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = tmp_path / "started"
    deadline = time.monotonic() + 90
    while not started.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.2)
    assert started.exists(), child.communicate()[1][-2000:]
    assert len(published(toy_chapter)["stages"]) == 1  # the live run's
    child.send_signal(how)
    child.communicate(timeout=60)
    assert child.returncode != 0
    assert published(toy_chapter) == {"figure": "first", "results": '{"tag": "first"}', "notebook": True, "stages": []}


def test_recover_removes_dead_stages_and_finishes_interrupted_promotions(toy_chapter):
    runner.run_chapter("toy", "default", {"tag": "first"})
    dead = toy_chapter / f"{staging.STAGE_PREFIX}toy-dead"          # killed before it finished
    (dead / "results").mkdir(parents=True)
    (dead / "results" / "toy.json").write_text('{"tag": "dead"}')
    half = toy_chapter / f"{staging.STAGE_PREFIX}toy-half"          # killed while publishing
    (half / "results").mkdir(parents=True)
    (half / "results" / "toy.json").write_text('{"tag": "half"}')
    (half / "toy.ipynb").write_text("{}")
    (half / staging.MARKER).write_text("toy")                       # its figures were already moved in
    live = toy_chapter / f"{staging.STAGE_PREFIX}toy-live"          # another run, still going
    live.mkdir()
    with file_lock(live / staging.LOCK) as held:
        assert held
        done = staging.recover(toy_chapter)
    assert len(done) == 2
    state = published(toy_chapter)
    assert state["results"] == '{"tag": "half"}' and state["stages"] == [live.name]
    assert (toy_chapter / "toy.ipynb").read_text() == "{}"


def test_promote_replaces_the_figures_folder_and_needs_results(tmp_path):
    book, stage = tmp_path / "book", tmp_path / "stage"
    (book / "figures" / "toy").mkdir(parents=True)
    (book / "figures" / "toy" / "old.png").write_text("old")
    (stage / "results").mkdir(parents=True)
    (stage / "toy.ipynb").write_text("{}")
    with pytest.raises(FileNotFoundError, match="did not write results/toy.json"):
        staging.promote(stage, book, "toy")
    assert (book / "figures" / "toy" / "old.png").exists()
    (stage / "results" / "toy.json").write_text(json.dumps({"tag": "x"}))
    staging.promote(stage, book, "toy")
    assert list((book / "figures" / "toy").iterdir()) == []  # the new run drew no figures
    assert json.loads((book / "results" / "toy.json").read_text()) == {"tag": "x"}


def test_chapter_source_is_dedented_python(toy_chapter):
    source = (paths.CHAPTERS / "toy.py").read_text()
    assert textwrap.dedent(source) == source  # the toy chapter is valid as written
