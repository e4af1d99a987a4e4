"""The built book in headless Chromium, served on 127.0.0.1: widgets render and respond
without a kernel, MathJax renders, and no request leaves the machine."""
import pytest
import torch
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from nesy.logic import query as fol

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Python and the page evaluate the same embedded outputs in float64: only rounding differs.
TOLERANCE = 1e-9


def test_logic_query_widget_responds_without_a_kernel(page, site, embedded_widget):
    page.goto(f"{site}/ltn_crash.html")
    value = page.locator(".nesy-lq-value")
    value.wait_for(timeout=20000)
    widget = embedded_widget(page, "outputs", "prepared", name="logic-query widget")
    outputs = {name: torch.tensor(values, dtype=torch.float64) for name, values in widget["outputs"].items()}
    symbols = dict(predicates=widget["predicates"], functions=widget["functions"])
    semantics = fol.Semantics.from_dict(widget["semantics"])

    def python_value(query, t):
        return fol.evaluate(query, outputs, {"t": t}, semantics, **symbols).value

    def shows(expected, what):
        """Wait until the page shows ``expected`` (within the rounding), or fail naming what it shows."""
        try:
            page.wait_for_function(
                """([want, tol]) => {
                     const shown = document.querySelector(".nesy-lq-value").getAttribute("data-value");
                     return shown !== null && shown !== "" && Math.abs(Number(shown) - want) <= tol;
                   }""", arg=[expected, TOLERANCE], timeout=5000)
        except PlaywrightTimeout:
            pytest.fail(f"{what}: the page shows {value.get_attribute('data-value')!r}, Python evaluates {expected!r}")

    def typed(query):
        box = page.locator(".nesy-lq-input")
        box.fill(query)
        box.press("Enter")

    # Typed queries: the value shown is the Python evaluation of the same query.
    queries = ("forall Im: sco(Im) -> Crash(Im)", "exists Im: oe(Im) and not Crash(Im)", "forall Im: sce(Im) or te(Im)",
               "forall Im: sce(Im)", "forall Im: not sce(Im)")
    for query in queries:
        typed(query)
        shows(python_value(query, widget["t"]), query)
    assert python_value(queries[-2], widget["t"]) != python_value(queries[-1], widget["t"])

    # A comparison with t responds to the slider.
    query = "forall Im: scd(Im) < t or td(Im) < t or bcd(Im) < t"
    typed(query)
    shows(python_value(query, widget["t"]), query)
    assert python_value(query, widget["t"]) != python_value(query, 0.05)
    slider = page.locator("input.nesy-lq-t")
    slider.fill("0.05")
    slider.dispatch_event("input")
    shows(python_value(query, 0.05), f"{query} at t = 0.05")

    # A bad query shows an error, not a value.
    typed("forall Im: scd(Im)")
    expect(page.locator(".nesy-lq-error")).to_contain_text("compare")

    # Choosing a prepared query fills the box and shows its value.
    chosen = widget["prepared"][1]
    page.locator("select.nesy-lq-prepared").select_option(label=chosen["label"])
    expect(page.locator(".nesy-lq-input")).to_have_value(chosen["query"])
    shows(python_value(chosen["query"], 0.05), chosen["label"])
    assert page.locator("svg.nesy-lq-hist").count() == 1

    assert page.requests_outside == [], page.requests_outside
    assert page.failures == [], page.failures


def test_mathjax_renders_offline(page, site):
    page.goto(f"{site}/ltn_crash.html")
    page.wait_for_function("window.MathJax && window.MathJax.startup && window.MathJax.startup.document", timeout=20000)
    page.locator("mjx-container").first.wait_for(timeout=20000)
    assert page.locator("mjx-container").count() > 3
    assert page.requests_outside == [], page.requests_outside
