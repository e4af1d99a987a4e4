"""The SMUG explorer's Python side: keys match the JavaScript's, a live kernel computes
missing combinations, and panels are a JPEG data URL."""
import pytest
import torch

from nesy.widgets import smug as smug_widget


def test_keys_and_live_compute():
    calls = []

    def compute(image, k, gamma):
        calls.append((image, k, gamma))
        return {"blocks": k // 100}

    explorer = smug_widget.SmugExplorer(["a", "b"], [100, 300], [0.0, 0.5], {smug_widget.key(0, 100, 0.0): {"blocks": 1}}, compute=compute, k=100, gamma=0.0)
    assert explorer.current == {"blocks": 1} and calls == []
    explorer.k = 300
    assert calls == [(0, 300, 0.0)] and explorer.current == {"blocks": 3}
    assert smug_widget.key(1, 500, 0.5) == "1|500|0.5" and smug_widget.key(0, 3000, 0.0) == "0|3000|0"


def test_panels_are_a_jpeg_data_url():
    image = torch.rand(3, 16, 16)
    mask = torch.zeros(16, 16, dtype=torch.bool)
    mask[:8] = True
    url = smug_widget.panels_jpeg(image, mask, torch.rand(16, 16), (2, 2, 10, 10))
    assert url.startswith("data:image/jpeg;base64,") and len(url) > 200


def test_empty_lists_are_rejected():
    with pytest.raises(ValueError, match="titles"):
        smug_widget.SmugExplorer([], [1], [0.0], {})
