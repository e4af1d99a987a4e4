"""Shared fixtures: real datasets (skipped where missing); a book built from a smoke run of the
chapters, in a temporary folder, served on 127.0.0.1 to headless Chromium; a toy chapter (seconds
to run) in a temporary chapters folder; tiny split models for the saliency and SMT tests."""
import functools
import http.server
import json
import os
import shutil
import threading
from unittest import mock

import pytest
import torch
from torch import nn

from nesy import paths
from nesy.models import FirstConv, SplitModel


@pytest.fixture(scope="session")
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
    monkeypatch.setattr(paths, "CHAPTERS", chapters)
    monkeypatch.setattr(paths, "PARAMS", chapters / "params")
    monkeypatch.setattr("nesy.params.PARAMS", chapters / "params")
    book = tmp_path / "book"
    monkeypatch.setenv("NESY_BOOK_DIR", str(book))
    return book


# ------------------------------------------------------------------ the built book in Chromium


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site(smoke_book):
    """The smoke book's HTML served on 127.0.0.1 (an ephemeral port): its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(smoke_book / "_build" / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by playwright, with its background networking off."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, site):
    """A new page that records requests leaving 127.0.0.1 (``page.requests_outside``) and
    failed responses or page errors (``page.failures``)."""
    page = browser.new_page()
    page.requests_outside, page.failures = [], []
    page.on("request", lambda r: None if r.url.startswith((site, "data:", "blob:")) else page.requests_outside.append(r.url))
    page.on("response", lambda r: page.failures.append((r.status, r.url)) if r.status >= 400 else None)
    page.on("pageerror", lambda error: page.failures.append(("pageerror", str(error))))
    yield page
    page.close()


@pytest.fixture()
def embedded_widget():
    """``embedded_widget(page, *traits, name=...)``: the state of the first widget on the page whose
    embedded state (what its JavaScript computes from, with no kernel) has every trait."""
    def find(page, *traits, name="widget"):
        state = json.loads(page.locator('script[type="application/vnd.jupyter.widget-state+json"]').inner_text())
        for model in state["state"].values():
            if all(trait in model["state"] for trait in traits):
                return model["state"]
        raise AssertionError(f"no {name} in the page's widget state")
    return find


# ------------------------------------------------------------------ tiny models (saliency, SMT)


@pytest.fixture
def tiny_first_layer():
    """``tiny_first_layer(seed=0, channels=3, out=4, bias_shift=0.0)``: a random 3x3 stride-2
    first layer (relu6, asymmetric padding) for 8x8 images."""
    def build(seed=0, channels=3, out=4, bias_shift=0.0):
        g = torch.Generator().manual_seed(seed)
        weight = torch.randn(out, channels, 3, 3, generator=g)
        bias = torch.randn(out, generator=g) + bias_shift
        return FirstConv(weight, bias, mean=(0.5,) * channels, std=(0.25, 0.5, 0.4)[:channels], stride=(2, 2),
                         padding=(0, 1, 0, 1), activation="relu6")
    return build


@pytest.fixture
def tiny_split_model(tiny_first_layer):
    """``tiny_split_model(seed=0)``: :func:`tiny_first_layer` and a conv-pool-linear head, 3 classes,
    8x8 images."""
    def build(seed=0):
        torch.manual_seed(seed)
        head = nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(5, 3))
        return SplitModel(tiny_first_layer(seed), head, head[0], 8, "tiny")
    return build


@pytest.fixture
def tiny_saliency_model():
    """``tiny_saliency_model()``: a seeded 16x16 split model (relu first layer), 3 classes."""
    def build():
        torch.manual_seed(0)
        first = FirstConv(torch.randn(4, 3, 3, 3), torch.zeros(4), (0.5,) * 3, (0.5,) * 3, (2, 2), (0, 1, 0, 1), "relu")
        head = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(6, 3))
        return SplitModel(first, head, head[0], 16, "tiny")
    return build
