"""nesy.smt.analysis (the SMUG chapter's tables) and nesy.plots.smug on tiny inputs."""
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from nesy import smt
from nesy.plots import smug as smug_plots
from nesy.smt import analysis

matplotlib.use("Agg")


@pytest.fixture
def evaluated(tiny_split_model):
    model = tiny_split_model(0)
    lins = {mode: smt.linearise(model.first, 8, mode) for mode in smt.CONSTRAINT_MODES}
    variants = [("reference", 0.0), ("folded", 0.0)]
    torch.manual_seed(1)
    images = {i: torch.rand(3, 8, 8) for i in (3, 5)}
    evaluations = {}
    for i, x in images.items():
        label = int(model(x[None]).argmax())
        evaluations[i] = smt.evaluate_image(model, lins, x, label, torch.tensor([[1, 1, 6, 6]]), k=12, variants=variants,
                                            block=2, ig_steps=4, n_thresholds=4, optbox_cells=2, optbox_min_cells=1)
    return model, lins, images, evaluations, variants


def test_correctly_classified_keeps_the_first_right_answers_in_order():
    images = torch.zeros(5, 3, 4, 4, dtype=torch.uint8)
    labels = torch.tensor([0, 1, 1, 0, 1])

    def forward(batch):  # predicts class 1 for every image
        return torch.tensor([[0.0, 1.0]]).repeat(len(batch), 1)

    assert analysis.correctly_classified(forward, images, labels, 4, 2, batch=2) == ([1, 2], 3)
    assert analysis.correctly_classified(forward, images, labels, 4, 9, batch=2) == ([1, 2, 4], 5)


def test_gamma0_rows_and_topk_overlap(tiny_split_model):
    model = tiny_split_model(0)
    lins = {mode: smt.linearise(model.first, 8, mode) for mode in smt.CONSTRAINT_MODES}
    images_x, attributions = analysis.first_layer_attributions(
        model, torch.randint(0, 255, (2, 3, 8, 8), dtype=torch.uint8), torch.tensor([0, 1]), [1, 0], 8, 4, "cpu")
    assert list(images_x) == [1, 0] and attributions[1].shape == lins["reference"].output_shape
    rows = analysis.gamma0_rows(lins, images_x, attributions, ["b.jpg", "a.jpg"], 10, "reference", 2)
    assert [r["image"] for r in rows] == ["b.jpg", "a.jpg"]
    assert {f"{m}: empty mask optimal at gamma=0" for m in lins} <= set(rows[0])
    assert 0 <= rows[0]["top-k with attribution <= 0"] <= 10
    a = torch.arange(1.0, 9.0).reshape(2, 2, 2)
    assert analysis.topk_overlap(a, a, 3, "reference") == 1.0
    assert analysis.topk_overlap(a, -a, 4, "reference") == 0.0
    assert analysis.topk_overlap(a, a.flip(0), 4, "reference") == 0.0


def test_table1_aggregates_and_compares(evaluated):
    _, _, _, evaluations, variants = evaluated
    t1 = analysis.table1(list(evaluations.values()))
    assert t1.methods == list(smt.METHODS) and "OPTBOX" not in t1.win_methods
    assert all(len(v) == 2 for v in t1.scores.values())
    assert "OPTBOX_win" not in t1.ours and "IG_sparsity" not in t1.ours and "SMUG_sparsity" in t1.ours
    assert sum(t1.row(m)["Win %"] for m in t1.win_methods) >= 100 - 1e-9  # ties count for each
    assert math.isnan(t1.row("IG")["sparsity %"]) and t1.row("OPTBOX")["Wilson 95%"] == "-"
    paper = [{"key": "SMUG_median", "paper": 1.5}, {"key": "SMUG_win", "paper": 40.9, "spread": 1.68},
             {"key": "SMUG_sparsity", "paper": 17.7, "spread": 0.1}]
    side = analysis.table1_side_by_side(t1, paper)
    assert list(side["method"]) == t1.methods and side.loc[0, "Win %, paper"] == "40.9 ± 1.68"
    assert side.loc[0, "LSC median (75th, 25th), paper"].startswith("1.50 (nan")
    smug = t1.row("SMUG")
    assert side.loc[0, "Win %, ours"] == f"{smug['Win %']:.1f} ± {smug['± (95%)']:.2f}"
    assert side.loc[0, "sparsity %, paper"] == "17.7 ± 0.10" and side.loc[0, "sparsity %, ours"] == (
        f"{smug['sparsity %']:.1f} ± {smug['sparsity ±']:.2f}")
    assert side.loc[1, "Win %, paper"] == "–"  # SMUG_base has no paper row here
    assert t1.spreads["SMUG_win"] == smug["± (95%)"] and set(t1.spreads) <= set(t1.ours)
    why = analysis.table1_reasons(t1.methods, net_name="tiny", kernel="3x3", paper_backbone=False, n_images=2,
                                  n_thresholds=4, ig_steps=4, optbox_cells=5, optbox_min_cells=1,
                                  setting=analysis.smug_setting("reference", 0.0), k=12)
    assert "225 boxes" in why["OPTBOX_median"] and why["OPTBOX_sparsity"] == why["OPTBOX_median"]
    assert "as the paper" in why["SMUG_win"] and "tiny stands in" in why["*"]
    assert "the paper: the reference's" in analysis.smug_setting("folded", 0.5)
    assert analysis.win_ci50(100) == pytest.approx(9.8)


def test_lsc_parts_and_ablation(evaluated):
    _, _, _, evaluations, variants = evaluated
    evs = list(evaluations.values())
    parts = analysis.lsc_parts_rows(evs, ["MAXBOX", "GROUNDTRUTH"])
    assert parts[0]["median area a"] == 1.0 and parts[0]["images with a box"] == 2
    assert parts[0]["median log max(0.05, a)"] == 0.0
    rows = analysis.ablation_rows(evs, variants, variants[0], [m for m in smt.METHODS if m != "OPTBOX"])
    assert [(r["constraint"], r["main row"]) for r in rows] == [("reference", True), ("folded", False)]
    assert all(r["images"] == 2 and 0 <= r["empty mask (%)"] <= 100 for r in rows)
    text = analysis.ablation_summary(rows, evs)
    assert text.startswith("At γ = 0") and "SMUG's best Win %" in text


def test_sweep_and_its_summary(evaluated):
    model, lins, images, evaluations, _ = evaluated
    xs = list(images.values())
    attrs = [evaluations[i].attributions for i in images]
    rows, cache = analysis.sweep(lins["reference"], xs[:1], attrs[:1], ["a.jpg"], [4, 8], [0.0, 0.5], block=2,
                                 timeout_s=10.0, top_k_rule="reference")
    assert [(r["k"], r["gamma"]) for r in rows] == [(4, 0.0), (4, 0.5), (8, 0.0), (8, 0.5)]
    assert set(cache) == {(0, 4, 0.0), (0, 4, 0.5), (0, 8, 0.0), (0, 8, 0.5)}
    assert all(r["blocks kept (z3)"] == r["blocks kept (HiGHS)"] for r in rows if r["z3 status"] == "optimal")
    frame = pd.DataFrame(rows)
    assert "of the 4 sweep instances within 10 s" in analysis.sweep_summary(frame, 10.0)
    figures = [smug_plots.sweep(frame), smug_plots.mask_grid(xs[0], cache, [4, 8], [0.0, 0.5], 2)]
    assert [len(f.axes) for f in figures] == [2, 4]


def _mnist_frame():
    return pd.DataFrame([
        {"test index": 0, "digit": 1, "non-zero pixels": 90, "z3 status": "optimal", "z3 pixels": 4, "z3 time (s)": 6.0,
         "MILP status": "optimal", "MILP pixels": 4, "MILP time (s)": 0.5},
        {"test index": 1, "digit": 1, "non-zero pixels": 110, "z3 status": "unknown", "z3 pixels": None, "z3 time (s)": 1.0,
         "MILP status": "optimal", "MILP pixels": 6, "MILP time (s)": 1.5},
    ])


def test_table2_and_mnist_numbers():
    paper = [{"key": f"sat_rate_{d}", "paper": 50.0, "sat": 5, "n": 10} for d in analysis.DIGITS]
    paper.append({"key": "runtime_1", "paper": 12.0})
    rows, ours = analysis.table2(_mnist_frame(), paper)
    assert len(rows) == 11 and ours["sat_rate_1"] == 50.0 and ours["runtime_1"] == pytest.approx(0.1)
    assert math.isnan(ours["sat_rate_3"]) and ours["sat_rate_all"] == 50.0
    one = rows[1]
    assert one["SAT, ours (z3)"] == "1/2" and one["MILP optimal, ours"] == "2/2" and one["runtime min, paper"] == 12.0
    assert one["MILP pixels kept (mean)"] == 5.0 and one["z3 pixels kept (median)"] == 4.0
    assert set(analysis.table2_reasons(2, 1.0)) == set(ours)
    numbers = analysis.mnist_numbers(_mnist_frame())
    assert numbers["mnist_z3_sat"] == 1 and numbers["mnist_milp_optimal"] == 2 and numbers["mnist_milp_mean_s"] == 1.0
    assert numbers["mnist_milp_median_pixels"] == 5.0
    text = analysis.mnist_summary(_mnist_frame(), 2.0)
    assert "for 2 of the 2 images (all of them)" in text and "same size on every one." in text


def test_mnist_masks_figure():
    images = [torch.randint(0, 255, (28, 28), dtype=torch.uint8) for _ in range(2)]
    keep = np.zeros(784, dtype=bool)
    keep[:5] = True
    masks = [(smt.FullMaskResult(None, None, "unknown", "z3", 1.0), smt.FullMaskResult(keep, 5, "optimal", "milp", 0.1))] * 2
    figure = smug_plots.mnist_masks(images, [3, 7], masks)
    assert len(figure.axes) == 4 and figure.axes[2].get_title() == "5 px (milp)"


def test_two_cats_layout_and_shares():
    cats = analysis.TwoCats(big_hw=(4, 6), small_hw=(2, 3), big_at=(1, 1), small_at=(8, 8))
    scenes = cats.scenes(torch.zeros(1, 3, 10, 15), 12)
    assert list(scenes) == ["cat_big", "cat_small", "both"] and scenes["both"].shape == (3, 12, 12)
    assert float(scenes["cat_big"][:, 1:5, 1:7].max()) == 0.0 and float(scenes["cat_big"][:, 8:, 8:].min()) == 1.0
    assert cats.big_box().tolist() == [[1, 1, 7, 5]]
    saliency = torch.zeros(12, 12)
    saliency[1:5, 1:7] = 1.0
    rows = cats.attribution_rows({"SMUG": saliency}, (8, 8, 10, 11))
    assert rows[0] == {"method": "SMUG", "share on cat_big": 1.0, "share on cat_small": 0.0}
    assert rows[1]["share on cat_small"] == 1.0 and rows[1]["share on cat_big"] == 0.0


def test_example_rows_and_two_cats_figures(evaluated):
    _, _, images, evaluations, variants = evaluated
    titles = {i: f"class {i}" for i in images}
    figure = smug_plots.example_rows(evaluations, images, titles, [5, 3], ["image", "SMUG mask", "SMUG", "OPTBOX"], variants[0], 2)
    assert len(figure.axes) == 8 and figure.axes[0].get_title() == "class 5"
    assert smug_plots.example_rows(evaluations, images, titles, [], ["image"], variants[0], 2) is None
    ev = evaluations[3]
    scenes = {"cat_big": images[3], "cat_small": images[5], "both": images[3]}
    figure = smug_plots.two_cats(scenes, torch.tensor([0.5, 0.25, 0.75]), ev.explanations[variants[0]].smug, ev.maps["IG"],
                                 ev.lsc["OPTBOX"])
    assert len(figure.axes) == 6 and figure.axes[1].get_title() == "cat_small: c = 0.25"
