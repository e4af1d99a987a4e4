"""Table 1 for one image on a tiny model: every method scored, reuse of precomputed IG."""
import math

import pytest
import torch

from nesy import smt


@pytest.fixture
def tiny_case(tiny_split_model):
    """``tiny_case(seed)``: a tiny model, its first layer in the reference mode, an 8x8 image and
    its predicted label."""
    def build(seed):
        torch.manual_seed(seed)
        model = tiny_split_model(seed)
        x = torch.rand(3, 8, 8)
        return model, smt.linearise(model.first, 8), x, int(model(x[None]).argmax())
    return build


def test_evaluate_image_scores_every_method_and_reuses_ig(tiny_case):
    model, lin, x, label = tiny_case(0)
    boxes = torch.tensor([[1.0, 1.0, 5.0, 6.0]])
    ev = smt.evaluate_image(model, lin, x, label, boxes, k=20, gammas=[0.5, 0.0], block=2, ig_steps=8,
                            n_thresholds=10, optbox_cells=4, optbox_min_cells=1)
    assert set(smt.METHODS) <= set(ev.lsc) and {"SMUG@reference:0.5", "SMUG@reference:0"} <= set(ev.lsc)
    assert ev.lsc["SMUG"] == ev.lsc[smt.variant_key("reference", 0.5)] and ev.n_forward > 0
    assert {"mask solve", "pixel IG", "OPTBOX", "first-layer IG"} <= set(ev.seconds)
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


def test_variants_in_both_constraint_modes_share_one_ig(tiny_split_model):
    torch.manual_seed(1)
    model = tiny_split_model(1)
    lins = {mode: smt.linearise(model.first, 8, mode) for mode in smt.CONSTRAINT_MODES}
    x = torch.rand(3, 8, 8)
    label = int(model(x[None]).argmax())
    variants = [("reference", 0.0), ("folded", 0.0), ("folded", 0.9)]
    ev = smt.evaluate_image(model, lins, x, label, torch.tensor([[0.0, 0.0, 4.0, 4.0]]), k=20, variants=variants, block=2,
                            ig_steps=8, n_thresholds=10, optbox_cells=4, optbox_min_cells=1)
    assert set(ev.explanations) == set(variants)
    for mode, g in variants:  # every solved mask satisfies its own mode's constraints
        e = ev.explanations[(mode, g)]
        assert e.solution.status == "optimal" and e.problem.is_feasible(e.solution.keep)
    # the neurons come from the same IG, so SMUG_base does not depend on the mode
    assert torch.equal(ev.explanations[("reference", 0.0)].neurons, ev.explanations[("folded", 0.0)].neurons)
    with pytest.raises(ValueError, match="constraint modes"):
        smt.evaluate_image(model, lins["folded"], x, label, torch.zeros(1, 4), variants=[("reference", 0.0)], ig_steps=4)


def test_pruned_box_search_gives_the_exhaustive_scores_with_fewer_crops(tiny_case):
    model, lin, x, label = tiny_case(2)
    args = dict(k=20, gammas=[0.0, 0.5], block=2, ig_steps=8, n_thresholds=10, optbox_cells=4, optbox_min_cells=1)
    boxes = torch.tensor([[1.0, 1.0, 5.0, 6.0]])
    fast = smt.evaluate_image(model, lin, x, label, boxes, **args)
    slow = smt.evaluate_image(model, lin, x, label, boxes, box_search="exhaustive", attributions=fast.attributions, **args)
    for name, result in slow.lsc.items():
        same = result.score == fast.lsc[name].score or (math.isnan(result.score) and math.isnan(fast.lsc[name].score))
        assert same and result.box == fast.lsc[name].box, name
    assert fast.n_forward < slow.n_forward
    with pytest.raises(ValueError, match="box_search must be one of"):
        smt.evaluate_image(model, lin, x, label, boxes, box_search="greedy", attributions=fast.attributions, **args)
