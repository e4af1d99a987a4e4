"""The MSF explorer in the built smoke book (headless Chromium, 127.0.0.1 only): clicking a
cell, moving alpha and switching the image show the embedded precomputed MSF."""
import json

import pytest

from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_msf_widget_responds_without_a_kernel(page, site, embedded_widget):
    page.goto(f"{site}/vi_satnet.html")
    info = page.locator(".nesy-msf-info")
    info.wait_for(timeout=20000)
    widget = embedded_widget(page, "msf", "outlines", name="MSF widget")
    H, W = widget["grid"]
    canvas = page.locator("canvas.nesy-msf-canvas")
    box = canvas.bounding_box()

    def click(r, c):
        canvas.click(position={"x": (c + 0.5) * box["width"] / W, "y": (r + 0.5) * box["height"] / H})
        expect(info).to_have_attribute("data-target", str(r * W + c))

    def shown():
        return (int(info.get_attribute("data-image")), int(info.get_attribute("data-target")),
                info.get_attribute("data-indices"))

    def expected(image, alpha_index, target):
        e = widget["msf"][image][alpha_index][target]
        return json.dumps(e["indices"], separators=(",", ":")) if e else ""

    seen = set()
    for r, c in ((0, 0), (H // 2, W // 2), (H - 1, W - 2)):
        click(r, c)
        image, target, indices = shown()
        assert target == r * W + c
        assert indices == expected(image, 0, target)
        seen.add(indices)

    slider = page.locator("input.nesy-msf-alpha")
    last = len(widget["alphas"]) - 1
    slider.fill(str(last))
    slider.dispatch_event("input")
    expect(info).to_have_attribute("data-alpha", str(widget["alphas"][last]))
    image, target, indices = shown()
    assert indices == expected(image, last, target)

    if len(widget["titles"]) > 1:
        page.locator("select.nesy-msf-image").select_option(index=1)
        expect(info).to_have_attribute("data-image", "1")
        image, target, indices = shown()
        assert indices == expected(1, last, target)
    assert page.requests_outside == [], page.requests_outside
    assert page.failures == [], page.failures
