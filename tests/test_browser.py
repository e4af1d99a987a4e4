"""The built book in headless Chromium, served on 127.0.0.1: widgets render and respond
without a kernel, MathJax renders, and no request leaves the machine."""
import functools
import http.server
import json
import re
import shutil
import threading

import pytest
import torch

from nesy.logic import query as fol

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(smoke_book):
    handler = functools.partial(_QuietHandler, directory=str(smoke_book / "_build" / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, site):
    page = browser.new_page()
    page.requests_outside, page.failures = [], []
    page.on("request", lambda r: None if r.url.startswith((site, "data:", "blob:")) else page.requests_outside.append(r.url))
    page.on("response", lambda r: page.failures.append((r.status, r.url)) if r.status >= 400 else None)
    page.on("pageerror", lambda error: page.failures.append(("pageerror", str(error))))
    yield page
    page.close()


def embedded_widget(page, *traits, name="widget"):
    """The state of the first widget on the page whose embedded state (what its JavaScript
    computes from, with no kernel) has every trait in ``traits``."""
    state = json.loads(page.locator('script[type="application/vnd.jupyter.widget-state+json"]').inner_text())
    for model in state["state"].values():
        if all(trait in model["state"] for trait in traits):
            return model["state"]
    raise AssertionError(f"no {name} in the page's widget state")


def test_logic_query_widget_responds_without_a_kernel(page, site):
    page.goto(f"{site}/ltn_crash.html")
    value = page.locator(".nesy-lq-value")
    value.wait_for(timeout=20000)
    widget = embedded_widget(page, "outputs", "prepared", name="logic-query widget")
    outputs = {name: torch.tensor(values, dtype=torch.float64) for name, values in widget["outputs"].items()}
    symbols = dict(predicates=widget["predicates"], functions=widget["functions"])

    def shown():
        return page.locator(".nesy-lq-value").inner_text()

    def typed(query):
        box = page.locator(".nesy-lq-input")
        box.fill(query)
        box.press("Enter")
        page.wait_for_timeout(200)
        return shown()

    # Typed queries: the value shown is the Python evaluation of the same query.
    for query in ("forall Im: sco(Im) -> Crash(Im)", "exists Im: oe(Im) and not Crash(Im)", "forall Im: sce(Im) or te(Im)"):
        semantics = fol.Semantics.from_dict(widget["semantics"])
        expected = fol.evaluate(query, outputs, {"t": widget["t"]}, semantics, **symbols).value
        assert float(re.search(r"-?\d+\.\d+", typed(query)).group()) == pytest.approx(expected, abs=1.5e-3), query
    first, second = typed("forall Im: sce(Im)"), typed("forall Im: not sce(Im)")
    assert first != second

    # A comparison with t responds to the slider (keyboard moves the range input).
    before = typed("forall Im: scd(Im) < t or td(Im) < t or bcd(Im) < t")
    slider = page.locator("input.nesy-lq-t")
    slider.fill("0.05")
    slider.dispatch_event("input")
    page.wait_for_timeout(200)
    after = shown()
    assert before != after

    # A bad query shows an error, not a value.
    typed("forall Im: scd(Im)")
    assert "compare" in page.locator(".nesy-lq-error").inner_text()

    # Choosing a prepared query fills the box and changes the value.
    select = page.locator("select.nesy-lq-prepared")
    before = shown()
    chosen = widget["prepared"][1]
    select.select_option(label=chosen["label"])
    page.wait_for_timeout(200)
    assert page.locator(".nesy-lq-input").input_value() == chosen["query"]
    assert shown() != before
    assert page.locator("svg.nesy-lq-hist").count() == 1

    assert page.requests_outside == [], page.requests_outside
    assert page.failures == [], page.failures


def test_mathjax_renders_offline(page, site):
    page.goto(f"{site}/ltn_crash.html")
    page.wait_for_function("window.MathJax && window.MathJax.startup && window.MathJax.startup.document", timeout=20000)
    page.locator("mjx-container").first.wait_for(timeout=20000)
    assert page.locator("mjx-container").count() > 3
    assert page.requests_outside == [], page.requests_outside
