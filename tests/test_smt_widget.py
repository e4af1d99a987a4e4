"""The SMUG explorer's Python side: keys match the JavaScript's, a live kernel computes
missing combinations, and panels are a JPEG data URL."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
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


GAMMAS = [0.0, 0.5, 1.0, 2.0, 1e-5, 1e-7, 1.5e-7, 0.1234567, 1234567.0, 1e16, 1e21, 1.5e21, 123456789012345680000.0,
          -0.25, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_keys_are_the_strings_the_javascript_builds():
    rng = np.random.default_rng(0)
    values = GAMMAS + (rng.standard_normal(300) * 10.0 ** rng.integers(-12, 25, 300)).tolist()
    module = Path(smug_widget.ESM_PATH)
    script = (f"import {{ entryKey }} from {json.dumps(module.as_uri())};\n"
              f"for (const g of {json.dumps(values)}) console.log(entryKey(2, 300, g));\n")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [smug_widget.key(2, 300, g) for g in values]
