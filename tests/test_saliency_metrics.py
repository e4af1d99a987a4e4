"""nesy.saliency_metrics with a hand-made "brightness classifier" whose answers are known."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from nesy import saliency_metrics as sm


class Brightness(nn.Module):
    """Class 0 with confidence sigmoid(20 * mean pixel value): bright crops are confident."""

    def forward(self, x):
        m = x.mean((1, 2, 3))
        return torch.stack([20 * m, torch.zeros_like(m)], 1)


def scene():
    x = torch.zeros(3, 32, 32)
    x[:, 3:13, 3:13] = 1.0  # the object: a 10x10 bright square
    saliency = torch.zeros(32, 32)
    saliency[3:13, 3:13] = 1.0
    saliency[28:30, 28:30] = 0.5  # a weaker, distant spot
    return x, saliency


def test_lsc_score_and_tight_box():
    assert sm.lsc_score(0.01, 0.5) == pytest.approx(math.log(0.05) - math.log(0.5))
    assert sm.lsc_score(0.3, 1.0) == pytest.approx(math.log(0.3))
    mask = torch.zeros(6, 7, dtype=torch.bool)
    mask[1, 2] = mask[3, 5] = True
    assert sm.tight_box(mask) == sm.Box(1, 2, 4, 6) and sm.tight_box(torch.zeros(3, 3)) is None
    x = torch.rand(3, 10, 12)
    torch.testing.assert_close(sm.crop_resize(x, sm.Box(0, 0, 10, 12)), x)


def test_lsc_threshold_sweep_finds_the_object():
    x, saliency = scene()
    model = Brightness()
    r = sm.lsc(model, x, saliency, label=0)
    assert r.box == sm.Box(3, 3, 13, 13) and r.threshold == 0.5 and r.n_boxes == 2
    assert r.area == pytest.approx(100 / 1024) and r.confidence == pytest.approx(torch.sigmoid(torch.tensor(20.0)).item())
    assert r.score == pytest.approx(math.log(100 / 1024) - math.log(r.confidence))
    assert math.isnan(sm.lsc(model, x, torch.zeros(32, 32)).score)  # an empty map has no box
    assert sm.thresholds_of(torch.arange(1000.0), 10)[:3] == [0.0, 111.0, 222.0]


def test_box_baselines():
    x, _ = scene()
    model = Brightness()
    assert len(sm.grid_boxes((32, 32))) == 45 * 45
    best = sm.optbox(model, x, label=0)
    assert best.score == pytest.approx(math.log(0.05), abs=1e-6) and best.n_boxes == 2025  # small, all bright
    assert 3 <= best.box.y0 and best.box.y1 <= 13 and 3 <= best.box.x0 and best.box.x1 <= 13 and best.area < 0.05
    assert sm.centerbox(model, x).area == pytest.approx(0.5, abs=0.02)
    full = sm.maxbox(model, x)
    assert full.area == 1 and full.score == pytest.approx(-math.log(torch.sigmoid(torch.tensor(20 * 100 / 1024)).item()))
    gt = sm.ground_truth(model, x, torch.tensor([[3.0, 3.0, 7.5, 12.2], [6.0, 5.0, 12.9, 8.0]]), label=0)
    assert gt.box == sm.Box(3, 3, 13, 13) and gt.score == pytest.approx(sm.lsc(model, x, scene()[1], 0).score)
    assert sm.boxes_mask([[0.0, 0.0, 1.5, 0.2]], (4, 4)).sum() == 2
    assert sm.box_sparsity(sm.Box(0, 0, 16, 32), (32, 32)) == 0.5


def test_win_rates_and_summaries():
    wins = sm.win_rates({"a": [1.0, 2.0, -1.0, float("nan")], "b": [1.0, 3.0, 0.0, 0.0], "c": [2.0, 1.0, 5.0, 1.0]})
    assert wins["a"][0] == 50 and wins["b"][0] == 50 and wins["c"][0] == 25  # a tie counts for both
    assert wins["a"][1] == pytest.approx(100 * 1.96 * math.sqrt(0.25 / 4))
    assert 100 * sm.proportion_ci(0.409, 3304) == pytest.approx(1.68, abs=0.01)  # the paper's "40.9 ± 1.68"
    assert sm.lsc_summary([1.0, 2.0, 3.0, 4.0, float("nan")]) == (2.5, 3.25, 1.75)
    mean, ci = sm.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and ci == pytest.approx(1.96 / math.sqrt(3))


def test_pixel_ig_is_complete_and_grad_cam_is_an_upsampled_map(tiny_saliency_model):
    model = tiny_saliency_model()
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    attr = sm.pixel_ig(model, x, [0, 2], n_steps=100, internal_batch_size=200, reduce="sum")
    with torch.no_grad():
        p, p0 = torch.softmax(model(x), 1), torch.softmax(model(torch.zeros_like(x)), 1)
    assert attr.shape == (2, 16, 16)
    assert float(attr[0].sum()) == pytest.approx(float(p[0, 0] - p0[0, 0]), abs=2e-3)
    assert float(attr[1].sum()) == pytest.approx(float(p[1, 2] - p0[1, 2]), abs=2e-3)
    assert (sm.pixel_ig(model, x, [0, 2], n_steps=8) >= 0).all()
    cam = sm.grad_cam(model, x, [0, 2])
    assert cam.shape == (2, 16, 16) and (cam >= 0).all()
    assert np.isfinite(sm.lsc(model, x[0], cam[0], n_thresholds=10).score) or not cam[0].any()


def test_box_scorer_is_exact_and_forwards_each_box_once(tiny_saliency_model):
    model = tiny_saliency_model()
    x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(3))
    boxes = sm.grid_boxes((16, 16), cells=4, min_cells=1)
    brute = sm.BoxScorer(model, x, 1).scores(boxes)
    scorer = sm.BoxScorer(model, x, 1)
    best = scorer.best(boxes)
    i = int(np.argmin([r.score for r in brute]))
    assert best.box == brute[i].box and best.score == pytest.approx(brute[i].score) and best.n_boxes == len(boxes)
    assert best.n_scored <= len(boxes) and scorer.n_forward == len(scorer.confidence) <= len(boxes)
    again = scorer.n_forward
    assert sm.optbox(model, x, 1, cells=4, min_cells=1, scorer=scorer).box == best.box and scorer.n_forward == again
    with pytest.raises(ValueError, match="differs from the scorer"):
        sm.optbox(model, x, 0, cells=4, min_cells=1, scorer=scorer)


def test_crops_are_min_max_stretched_as_the_reference():
    x = 0.25 + 0.5 * torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(4))
    box = sm.Box(2, 2, 6, 6)
    stretched, plain = sm.crop_resize(x, box, "minmax"), sm.crop_resize(x, box)
    assert float(stretched.min()) == 0.0 and float(stretched.max()) == pytest.approx(1.0)
    torch.testing.assert_close(stretched, (plain - plain.min()) / (plain.max() - plain.min()))
    with pytest.raises(ValueError, match="normalise must be one of"):
        sm.crop_resize(x, box, "zscore")


def test_wilson_interval_brackets_the_rate_even_at_zero():
    low, high = sm.wilson_interval(0.0, 30)
    assert low == 0.0 and 0.10 < high < 0.12  # 0 of 30 still allows ~11%
    low, high = sm.wilson_interval(0.5, 100)
    assert low < 0.5 < high and high - low == pytest.approx(2 * sm.proportion_ci(0.5, 100), rel=0.02)


def test_contrast_examples_pick_the_widest_wins_and_losses():
    nan = float("nan")
    scores = {"SMUG": [-2.0, -1.0, 0.5, nan, -3.0], "IG": [-1.0, -1.5, -0.5, -1.0, -2.9], "GC": [0.0, -0.5, nan, 0.0, nan]}
    wins, losses = sm.contrast_examples(scores, "SMUG", ["IG", "GC"], 2, 2)
    assert wins == [0, 4] and losses == [3, 2]  # no box for SMUG on image 3 is its worst loss
    assert sm.contrast_examples(scores, "SMUG", ["GC"], 5, 0) == ([0, 1], [])  # GC has no box on 2 and 4: skipped


def test_map_share_and_box_share_measure_a_rectangle():
    saliency = torch.zeros(6, 6)
    saliency[1:3, 2:4] = -1.0  # |.| counts: 4 of the 5 units are in the rectangle
    saliency[5, 5] = 1.0
    assert sm.map_share(saliency, (1, 2), (2, 2)) == pytest.approx(0.8)
    assert math.isnan(sm.map_share(torch.zeros(4, 4), (0, 0), (2, 2)))
    # a 2x4 box (y0, x0, y1, x1) half inside a 2x2 rectangle at (0, 2)
    assert sm.box_share(sm.Box(0, 0, 2, 4), (0, 2), (2, 2)) == pytest.approx(0.5)
    assert sm.box_share((3, 3, 4, 4), (0, 0), (2, 2)) == 0.0
    assert math.isnan(sm.box_share(None, (0, 0), (2, 2)))
