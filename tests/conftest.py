"""Shared fixtures: a book built from a smoke run of the chapters, in a temporary folder; a toy
chapter (seconds to run) in a temporary chapters folder."""
import os
from unittest import mock

import pytest

from nesy import paths



@pytest.fixture
def real_data():
    """``real_data(data.mnist, "test")``: a dataset from the project cache or the offline mirror
    (:mod:`nesy.data`); the test is skipped, naming what is missing, when neither has it."""
    from nesy.data import DataUnavailableError

    def load(loader, *args, **kwargs):
        try:
            return loader(*args, **kwargs)
        except DataUnavailableError as exc:
            pytest.skip(f"{loader.__name__}: the dataset is unavailable here ({exc})")

    return load


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """Run every chapter at its ``smoke`` profile into a temporary book and build the HTML.

    Returns the book folder (``<book>/_build/html`` holds the site).
    """
    from nesy.book import build, runner

    book = tmp_path_factory.mktemp("book")
    with mock.patch.dict(os.environ, {"NESY_BOOK_DIR": str(book)}):
        for chapter in runner.chapters():
            runner.run_chapter(chapter, "smoke")
        build.build(book)
    return book


# A chapter that writes a figure and its results, then (when told) fails or waits.
TOY_CHAPTER = '''# %% [markdown]
# The toy chapter's prose.

# %% tags=["parameters"]
profile = "default"
mode = "ok"
tag = "new"

# %%
import os, pathlib, time
book = pathlib.Path(os.environ["NESY_BOOK_DIR"])
(book / "figures" / "toy").mkdir(parents=True, exist_ok=True)
(book / "figures" / "toy" / "fig.png").write_text(tag)
(book / "results").mkdir(exist_ok=True)
(book / "results" / "toy.json").write_text('{"tag": "%s"}' % tag)

# %%
if mode == "fail":
    raise RuntimeError("boom after the results were written")
if mode == "wait":
    (book.parent.parent / "started").write_text("yes")  # the stage is <tmp>/book/.stage-toy-*
    time.sleep(120)
'''


@pytest.fixture
def toy_chapter(tmp_path, monkeypatch):
    chapters = tmp_path / "chapters"
    (chapters / "params" / "toy").mkdir(parents=True)
    (chapters / "toy.py").write_text(TOY_CHAPTER)
    (chapters / "params" / "toy" / "schema.yaml").write_text(
        "mode: {type: str, choices: [ok, fail, wait]}\ntag: {type: str}\n")
    (chapters / "params" / "toy" / "default.yaml").write_text("mode: ok\ntag: new\n")
    monkeypatch.setattr(paths, "CHAPTERS", chapters)
    monkeypatch.setattr(paths, "PARAMS", chapters / "params")
    monkeypatch.setattr("nesy.params.PARAMS", chapters / "params")
    book = tmp_path / "book"
    monkeypatch.setenv("NESY_BOOK_DIR", str(book))
    return book
