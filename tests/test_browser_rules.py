"""The patch-rules widget in the built smoke book, in headless Chromium on 127.0.0.1: it lists
each sample's activated rules and draws the chosen rule's antecedents from the embedded
precomputed data, with no kernel and no request leaving the machine."""
import pytest

from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_rules_widget_responds_without_a_kernel(page, site, embedded_widget):
    page.goto(f"{site}/patch_rules.html")
    page.locator(".nesy-rw-info").wait_for(timeout=20000)
    widget = embedded_widget(page, "data", "activated", "rule", name="rules widget")
    assert all("samples" in d and "rules" in d for d in widget["data"].values()), widget["data"].keys()
    checked_rules = 0
    for dataset, data in widget["data"].items():
        page.locator("select.nesy-rw-dataset").select_option(dataset)
        for i, sample in enumerate(data["samples"]):
            slider = page.locator("input.nesy-rw-sample")
            slider.fill(str(i))
            slider.dispatch_event("input")
            info = page.locator(".nesy-rw-info")
            expect(info).to_contain_text(f"test sample {sample['id']}:")
            expect(info).to_contain_text(sample["prediction"])
            buttons = page.locator("button.nesy-rw-rule")
            expect(buttons).to_have_count(len(sample["activated"]))
            if not sample["activated"]:
                assert "default rule" in page.locator(".nesy-rw-rules-title").inner_text()
                continue
            k = sample["activated"][-1]
            page.locator(f'button.nesy-rw-rule[data-rule="{k}"]').click()
            expect(page.locator("li.nesy-rw-antecedent")).to_have_text([s["text"] for s in data["rules"][k]["shapes"]])
            checked_rules += 1
    assert checked_rules > 0, "no embedded sample activates a rule"
    assert page.locator("canvas.nesy-rw-canvas").count() == 1
    assert page.requests_outside == [], page.requests_outside
    assert page.failures == [], page.failures
