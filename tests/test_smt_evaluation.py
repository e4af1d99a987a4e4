"""Table 1 for one image on a tiny model: every method scored, reuse of precomputed IG."""
import math

import torch
from test_smt import tiny_model

from nesy import smt


def test_evaluate_image_scores_every_method_and_reuses_ig():
    torch.manual_seed(0)
    model = tiny_model(0)
    lin = smt.linearise(model.first, 8)
    x = torch.rand(3, 8, 8)
    label = int(model(x[None]).argmax())
    boxes = torch.tensor([[1.0, 1.0, 5.0, 6.0]])
    ev = smt.evaluate_image(model, lin, x, label, boxes, k=20, gammas=[0.5, 0.0], block=2, ig_steps=8,
                            n_thresholds=10, optbox_cells=4, optbox_min_cells=1)
    assert set(smt.METHODS) <= set(ev.lsc) and {"SMUG@0.5", "SMUG@0"} <= set(ev.lsc)
    for name in ("GROUNDTRUTH", "CENTERBOX", "MAXBOX", "OPTBOX", "IG", "GRADCAM", "SMUG_base"):
        assert math.isfinite(ev.lsc[name].score), name
    # OPTBOX searches boxes for the best LSC, so it is at least as good as the whole image on that grid
    assert ev.lsc["OPTBOX"].score <= ev.lsc["MAXBOX"].score + 1e-9
    assert ev.sparsity["MAXBOX"] == 1.0 and 0 < ev.sparsity["GROUNDTRUTH"] < 1
    assert ev.sparsity["SMUG"] <= ev.sparsity["SMUG_base"]
    again = smt.evaluate_image(model, lin, x, label, boxes, k=20, gammas=[0.5], block=2, ig_steps=8, n_thresholds=10,
                               optbox_cells=4, optbox_min_cells=1, attributions=ev.attributions)
    assert again.lsc["SMUG"].score == ev.lsc["SMUG"].score or (math.isnan(again.lsc["SMUG"].score) and math.isnan(ev.lsc["SMUG"].score))
    assert torch.equal(again.attributions, ev.attributions)
