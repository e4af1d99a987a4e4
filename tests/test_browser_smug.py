"""The SMUG explorer in the built smoke book, in headless Chromium with no kernel: changing
image, k and gamma shows the embedded precomputed entry, and no request leaves 127.0.0.1."""
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_smug_widget_responds_without_a_kernel(page, site, embedded_widget):
    page.goto(f"{site}/smug.html")
    page.locator(".nesy-smug-info").wait_for(timeout=20000)
    widget = embedded_widget(page, "entries", "gammas", name="SMUG widget")
    assert widget["entries"], "no precomputed entries embedded"
    seen = set()
    for image in range(len(widget["titles"])):
        for k in widget["ks"]:
            for gamma in widget["gammas"]:
                page.locator("select.nesy-smug-image").select_option(str(image))
                page.locator("select.nesy-smug-k").select_option(str(k))
                page.locator("select.nesy-smug-gamma").select_option(str(gamma) if gamma != int(gamma) else str(int(gamma)))
                entry = widget["entries"][f"{image}|{k}|{gamma:g}"]
                panels = page.locator("img.nesy-smug-panels")
                expect(panels).to_have_attribute("src", entry["panels"])
                src = panels.get_attribute("src")
                info = page.locator(".nesy-smug-info").inner_text()
                assert (f"{entry['blocks']} blocks kept" if entry["blocks"] is not None else "no mask") in info
                assert f"{entry['constraints']} constraints" in info
                seen.add(src)
    assert len(seen) > 1, "every combination shows the same picture"
    assert page.requests_outside == [], page.requests_outside
    assert page.failures == [], page.failures
