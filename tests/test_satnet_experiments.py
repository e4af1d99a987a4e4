"""The Vi-SATNet chapter's experiments (nesy.satnet.experiments) and figures (nesy.plots.vi_satnet)
on tiny inputs."""
import contextlib

import matplotlib
import pandas as pd
import pytest
import torch
from torch import nn

from nesy import report
from nesy.plots import vi_satnet as figures
from nesy.satnet import MSF
from nesy.satnet import experiments as vi

matplotlib.use("Agg")
SETTINGS = dict(batch_size=4, mask_ratio=0.5, learning_rate=0.01, aux=0, truth=False)


def _msf(target, indices, alpha=0.9, s_ref=0.8):
    return MSF(target=target, alpha=alpha, s_ref=s_ref, threshold=alpha * s_ref, indices=tuple(indices),
               similarity=0.75, evaluations=3)


def _curves(classes=2, epochs=3):
    return pd.DataFrame(vi.history_rows([0.5, 0.4, 0.3], [0.6, 0.5, 0.45], **{"class": 0})
                        + vi.history_rows([0.7, 0.6, 0.5], [0.8, 0.7, 0.65], **{"class": 1}))


def _table(offset=0.0):
    ratios = list(range(10, 110, 10))
    return pd.DataFrame({"mask_ratio": ratios, **{f"{c}_{s}": [r / 10 + offset for r in ratios]
                                                  for c in ("without", "without_raw", "with") for s in ("mean", "std")},
                         "none_agree": [0] * 10, "several_agree": [1] * 10})


PAPER = {key: {"rows": [{"paper": 90.0, "spread": 0.1}] * 10} for key in ("table1_without", "table1_with")}


@pytest.fixture(scope="module")
def tiny():
    """Two classes of 6 items with n = 4 vectors of K = 3, and their trained layers."""
    g = torch.Generator().manual_seed(0)
    v = torch.randn(12, 4, 3, generator=g)
    y = torch.tensor([0, 1] * 6)
    layers, curves = vi.train_all(v, y, v, y, m=4, epochs=2, name="tiny", seed=0, classes=2, **SETTINGS)
    return v, y, layers, curves


def test_per_class_takes_the_first_items_class_by_class():
    labels = torch.tensor([1, 0, 1, 0, 2, 0])
    assert vi.per_class(labels, 2, classes=3).tolist() == [1, 3, 0, 2, 4]


def test_history_rows_and_final_losses():
    rows = vi.history_rows([0.5, 0.4], [0.6, 0.3], setting="s")
    assert rows[0] == {"setting": "s", "epoch": 1, "split": "train", "loss": 0.5} and rows[-1]["split"] == "validation"
    final = vi.final_losses(_curves(), ["a", "b"])
    assert final.name.tolist() == ["a", "b"] and final.train.tolist() == [0.3, 0.5]
    assert final.validation.tolist() == [0.45, 0.65]


def test_train_all_trains_one_layer_per_class_with_loss_rows(tiny):
    v, y, layers, curves = tiny
    assert len(layers) == 2 and list(curves.columns) == ["class", "epoch", "split", "loss"]
    assert len(curves) == 2 * 2 * 2 and set(curves["class"]) == {0, 1}


def test_convergence_reads_the_fall_after_the_epoch():
    assert vi.convergence(_curves(), "x", epoch=3) == {"x_trained_past_epoch_3": False}
    numbers = vi.convergence(_curves(), "x", epoch=2)
    assert numbers["x_trained_past_epoch_2"] is True
    assert numbers["x_val_loss_relative_fall_after_epoch_2"] == pytest.approx((0.6 - 0.55) / 0.6)


def test_layer_row_and_sentence(tiny):
    v, _, _, curves = tiny
    row = vi.layer_row("blocks", curves, v, ["a", "b"], 0.5, 0)
    assert row["K"] == 3 and row["validation / known-mean"] == pytest.approx(row["validation loss"] / row["known-mean loss"])
    other = row | {"feature_layer": "head", "validation / known-mean": 0.0}
    text = vi.layer_ablation_sentence([row, other], "blocks", 60, 8)
    assert text.startswith("With 60 training images per class and 8 epochs: `blocks` (K = 3)")
    assert text.endswith("that of `head`, not the layer this chapter reads (`feature_layer: blocks`).")


def test_table1_and_classifier_rows(tiny):
    v, y, layers, _ = tiny
    head = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    table = vi.table1(layers, {"flatten": head}, v, y, 2, 2, masks=2, seed=0, name="tiny", ratios=[0.5, 1.0])
    assert table["mask_ratio"].tolist() == [50, 100] and "with_mean" in table
    rows = vi.classifier_rows({"flatten": head}, {"own": head}, head, lambda h: (50.0, 40.0), backbone="b",
                              classifier_input="raw", other_input="unit")
    assert [(r["role"], r["weights"]) for r in rows] == [("main", "b's own"), ("evidence only", "b's own")]
    assert rows[0]["accuracy, unit vectors (%)"] == 40.0


def test_loss_gap_reads_the_main_run_and_trains_the_others(tiny):
    v, y, _, curves = tiny
    maps = v.transpose(1, 2).reshape(12, 3, 2, 2)  # [N, K, H, W] whose vectors are v
    stages = []
    variants = [("book", 6, 2, False, 0), ("other", 3, 1, True, 2)]
    rows, gap = vi.loss_gap(variants, [1], ["a", "b"], curves, maps, y, torch.arange(12), v, y, book="book", m=4,
                            mask_ratio=0.5, seed=0, stage=lambda name: stages.append(name) or contextlib.nullcontext(),
                            batch_size=4, learning_rate=0.01)
    assert stages == ["loss gap: other, b"] and [r["setting"] for r in rows] == ["book", "other"]
    main = curves[(curves["class"] == 1) & (curves.split == "train")].loss.tolist()
    assert rows[0]["train loss"] == main[-1] and rows[1]["epochs"] == 1
    assert len(gap) == 2 * 2 + 2 and gap[0]["setting"] == "book"
    mean = pd.DataFrame(rows).groupby("setting", sort=False)[["train loss", "validation loss"]].mean()
    numbers = vi.loss_gap_numbers(mean, {"book": "book", "other": "x"})
    assert list(numbers) == ["imagenette_loss_gap_book_validation", "imagenette_loss_gap_book_train",
                             "imagenette_loss_gap_x_validation", "imagenette_loss_gap_x_train"]
    text = vi.loss_gap_sentence(pd.Series({"b": 0.5, "p": 0.4, "w": 0.45}), [{"setting": "b", "class": "a"},
                                {"setting": "p", "class": "a", "s": 3.0}], ["a"], lambda r: r["s"], "b", "p", "w")
    assert text.startswith("Over 1 class (a) the final validation loss is 0.500") and text.endswith("3 s (p, a) on this machine.")


def test_table1_frames_and_reasons():
    main, pooled = _table(), _table(offset=1.0)
    numbers = vi.table1_numbers({"": main, "pooled_": pooled}, (60,), ("with",))
    assert numbers == {"imagenette_with_60": 6.0, "imagenette_pooled_with_60": 7.0}
    ours = vi.table1_ours(main)
    assert list(ours)[:2] == ["without_10", "without_20"] and ours["with_100"] == 10.0
    reasons = vi.table1_reasons(ours, vi.table1_ours(pooled), why_head="H", sample="S", scale="T", unit_accuracy=90.0,
                                images=20)
    assert reasons["without"]["without_20"] == "H; pooled head here: 3.0 %; S"
    assert reasons["with"]["with_20"] == "H; T; pooled head here: 3.0 %" and "10 % on our 20" in reasons["with"]["with_100"]
    assert set(reasons["abstract"]) == {"with_10", "with_80", "without_10", "without_80"}
    results = report.ChapterResults("vi_satnet", {})  # the real paper values; nothing is saved
    spread = vi.table1_ours(main, statistic="std")
    assert spread["with_10"] == 1.0 and spread["without_100"] == 10.0
    with pytest.raises(ValueError, match="statistic must be one of 'mean', 'std'"):
        vi.table1_ours(main, statistic="median")
    without, with_regen = (results.compare(k, ours, "r", spread=spread) for k in ("table1_without", "table1_with"))
    side = vi.paper_side(main, without, with_regen)
    assert side["paper w/o"][0] == "97.20 ± 0.06" and side["paper w/o"][7] == "9.83 ± 0.001"  # the paper's decimals
    assert side["paper with"][7] == "94.23 ± 0.10" and side["ours with"][0] == "1.00 ± 1.00"
    assert side["ours w/o, raw"][9] == "10.00 ± 10.00" and side["Δ w/o"][0] == round(1.0 - 97.2, 2)
    assert (vi.head_ablation(main, pooled)["flatten − pooled, with"] == -1.0).all()
    other = pooled.assign(K=[5] * 10)
    layers = vi.layer_side(main, other, PAPER, "blocks", "head")
    assert list(layers.columns)[2:4] == ["w/o, blocks (main)", "w/o, head"]
    assert layers["paper w/o"][0] == "90.00 ± 0.10" and layers["with, blocks (main)"][0] == "1.00 ± 1.00"
    text = vi.layer_table_sentence(main, other, "blocks", "head", 30)
    assert text.startswith("on the `head` map (K = 5; 30 val images") and text.endswith("on the main `blocks` map")


def test_training_loss_reasons_name_the_backbone_unless_vgg19():
    kw = dict(mnist_epochs=2, mnist_per_class=10, imagenette_epochs=3, imagenette_per_class=20, channels=320)
    assert "(efficientnet-lite0, K=320)" in vi.training_loss_reasons(backbone="efficientnet-lite0", **kw)["imagenette_final_train_loss"]
    assert vi.training_loss_reasons(backbone="vgg19", **kw)["imagenette_final_train_loss"].endswith("training split)")


def test_feature_maps_cached_and_projected(monkeypatch):
    monkeypatch.setattr(vi, "cached_tensors", lambda dataset, key, build: build() | {"key": key})
    monkeypatch.setattr(vi, "extract_features", lambda extractor, images, prepare, desc: extractor(prepare(images)))
    sets = {"train": type("D", (), {"images": torch.ones(3, 2), "__len__": lambda self: 3})()}
    maps = vi.cached_feature_maps(lambda x: x * 2, sets, lambda x: x + 1, "net", "blocks")
    assert torch.equal(maps["train"], torch.full((3, 2), 4.0))
    first = {"val": torch.ones(300, 2, 1, 1)}
    assert vi.maps_at(first, "blocks", "blocks", None) is first
    assert vi.maps_at(first, "head", "blocks", lambda f: 3 * f)["val"].shape == (300, 2, 1, 1)


def test_choose_images_and_msf_rows(tiny):
    v, y, layers, _ = tiny
    assert vi.choose_images(torch.tensor([1, 1, 0, 1]), torch.tensor([0, 1, 0, 1]), 2, classes=2) == [2, 1]
    msf = vi.msf_search(layers, v, y, [0, 1], [0.5])
    assert len(msf) == 2 and len(msf[0]) == 1 and [f.target for f in msf[0][0]] == [0, 1, 2, 3]
    rows = vi.msf_rows(msf, ["a", "b"], [0.5])
    assert len(rows) == 8 and rows[0]["image"] == "a" and "meets_eq4" in rows[0]
    summary = vi.msf_summary(pd.DataFrame(rows))
    assert summary.alpha.tolist() == [0.5] and "targets_with_s_ref_at_most_0" in summary


def test_member_distances_foreground_and_picking():
    # one image on a 3x3 grid: target 0 with a neighbour, target 8 with a far member, target 4 empty
    msf = [[[_msf(0, [1]), _msf(8, [0]), _msf(4, [])], [_msf(0, [1, 2], alpha=0.95)]]]
    evidence = torch.tensor([[9.0, 8, 7, 6, 5, 4, 3, 2, 1]])
    found = vi.member_distance_analysis(msf, evidence, ["a"], 3, 3)
    assert len(found["counted"]) == 2 and found["share_far"] == 0.5 and found["max_distance"] == 2
    assert found["members"] == 2 and found["members_far"] == 0.5
    assert vi.pick(found["counted"], 1)["target"].tolist() == [0]
    assert vi.found_for(msf, [0.9, 0.95], 0, 0, 0.95).indices == (1, 2)
    table = vi.foreground_background(msf, evidence)
    assert table["target evidence"].tolist() == ["bottom third", "top third"]
    assert table["mean evidence of its MSF"].tolist() == [9.0, 8.0]
    assert vi.foreground_background([[[_msf(4, [])]]], evidence).empty


def test_figures_return_figures():
    curves = _curves()
    assert isinstance(figures.loss_curves(pd.concat([curves.assign(**{"class": c}) for c in range(10)]),
                                          [str(c) for c in range(10)], "t"), matplotlib.figure.Figure)
    gap = curves.assign(setting=["a"] * 6 + ["b"] * 6)
    assert figures.loss_gap(gap, {"a": "red", "b": "blue"}, "t").axes[0].get_yscale() == "log"
    assert len(figures.table1_curves({"x": _table(), "y": _table()}, PAPER).axes) == 2
    table = pd.DataFrame({"distance": [1, 2], "share of members": [0.5, 0.5], "share of members by chance": [0.3, 0.7],
                          "MSFs with their farthest member here": [1, 1], "members": [1, 1]})
    assert len(figures.member_distances_figure(table, 2, 2, 0.9).axes) == 2
    msf = [[[_msf(0, [1]), _msf(8, [0])]]]
    images, outlines = torch.zeros(1, 224, 224, 3).numpy(), torch.full((1, 9, 4), 20.0)
    counted = vi.member_distance_analysis(msf, torch.arange(9.0)[None], ["a"], 3, 3)["counted"]
    figure, notes = figures.location(counted, msf, [0.9], images, outlines, ["cat"], 3)
    assert len(figure.axes) == 4 and len(notes) == 2 and "(a) cat: target (0, 0)" in figure.axes[0].get_title()
    panels = figures.panels(images[0], outlines[0], 3, [(0, msf[0][0][0], "one"), (8, msf[0][0][1], "two")])
    assert [axis.get_title() for axis in panels.axes] == ["one", "two"]
