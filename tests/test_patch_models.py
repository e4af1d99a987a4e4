"""The second models behind the QIL's staircase, the frozen-backbone branch and the second methodology."""
import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nesy.rules import backbone as bb
from nesy.rules import patch_model as pm
from nesy.rules import patch_pipeline as pp
from nesy.rules.fidexglo import FidexGlo
from nesy.rules.patches import FeatureLayout
from nesy.rules.qil import QIL

LAYOUT = FeatureLayout(8, 8, 1, 3, 1, 2)


def _model(staircase):
    torch.manual_seed(0)
    qil = QIL.fit(torch.rand(50, LAYOUT.n_features, generator=torch.Generator().manual_seed(1)), 8)
    return pm.SecondModel(LAYOUT, qil, staircase=staircase, prob_widths=(4,), upsample=1, image_widths=(4,)).eval(), qil


def _move_within_cells(qil, x, fraction):
    """x moved a `fraction` of the way towards the upper end of each value's cell (cells unchanged)."""
    h = qil.hyperplanes()
    cells = qil.cells(x)
    upper = torch.gather(torch.cat([h, torch.full((h.shape[0], 1), float("inf"), dtype=h.dtype)], 1), 1,
                         cells.T.clamp(max=h.shape[1])).T
    room = torch.where(torch.isfinite(upper), upper - x.double(), torch.ones_like(upper))
    moved = (x.double() + fraction * room * 0.999).float()
    moved = torch.where(qil.cells(moved) == cells, moved, x)  # float32 rounding at a hyperplane: keep x
    return moved


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 0.95))
def test_the_staircase_model_changes_only_across_hyperplanes(seed, fraction):
    model, qil = _model(staircase=True)
    x = torch.rand(6, LAYOUT.n_features, generator=torch.Generator().manual_seed(seed))
    moved = _move_within_cells(qil, x, fraction)
    assert torch.equal(qil.cells(moved), qil.cells(x)) and not torch.equal(moved, x)
    with torch.no_grad():
        assert torch.equal(model(moved), model(x))


def test_without_the_staircase_the_model_moves_between_hyperplanes():
    model, qil = _model(staircase=False)
    x = torch.rand(6, LAYOUT.n_features, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert not torch.equal(model(_move_within_cells(qil, x, 0.5)), model(x))


def test_crossing_a_hyperplane_can_change_the_staircase_model():
    model, qil = _model(staircase=True)
    x = torch.rand(1, LAYOUT.n_features, generator=torch.Generator().manual_seed(4))
    far = x + 0.3  # moves every feature by several steps
    assert not torch.equal(qil.cells(far), qil.cells(x))
    with torch.no_grad():
        assert not torch.equal(model(far), model(x))


def test_cells_agree_with_the_rules_comparison():
    qil = QIL.fit(torch.rand(30, 4), 5)
    h = qil.hyperplanes()
    x = torch.cat([h[:, 2:3].T.float(), h[:, 2:3].T.float() - 1e-6]).float()
    cells = qil.cells(x)
    expected = (x.double().T[:, :, None] >= h[:, None, :]).sum(-1).T
    assert torch.equal(cells, expected)
    assert torch.equal(qil.snap(x)[0], qil.snap(qil.snap(x))[0])  # a step's centre stays in its step


def test_images_after_the_qil_and_the_class_maps():
    x = torch.rand(3, LAYOUT.n_features, generator=torch.Generator().manual_seed(5))
    qil = QIL.fit(x, 10)
    images = bb.image_after_qil(qil, x, LAYOUT)
    assert images.shape == (3, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert (images - x[:, LAYOUT.n_prob :].reshape(3, 1, 8, 8)).abs().max() < 2 * 10 / 10 * x.std()
    maps = bb.class_map_images(qil, x, LAYOUT, 1)
    assert maps.shape == (3, 3, 8, 8)
    assert torch.equal(maps[:, 1], images[:, 0]) and torch.equal(maps[:, 2], images[:, 0])  # grey: twice
    rows, cols = LAYOUT.grid  # 6 x 6 probabilities padded by 1 on every side (3x3 patches: centre offset 1)
    assert maps[:, 0, 0].abs().sum() == 0 and maps[:, 0, -1].abs().sum() == 0
    snapped = qil.snap(x)[:, : LAYOUT.n_prob].reshape(3, rows, cols, 2)[..., 1].clamp(0, 1)
    assert torch.equal(maps[:, 0, 1 : 1 + rows, 1 : 1 + cols], snapped)
    with pytest.raises(ValueError, match="cls"):
        bb.class_map_images(qil, x, LAYOUT, 2)


@pytest.mark.integration
def test_backbone_features_are_cached_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path))
    images = torch.rand(3, 1, 20, 20, generator=torch.Generator().manual_seed(6))
    first = bb.backbone_features(images, size=32)
    assert first.shape == (3, 1280 * bb.POOL_GRID ** 2)
    cached = list((tmp_path / "backbone-features").glob("*.pt"))
    assert len(cached) == 1
    assert torch.equal(bb.backbone_features(images, size=32), first)          # from the cache
    rgb = bb.backbone_features(images.expand(-1, 3, -1, -1).contiguous(), size=32)
    assert torch.allclose(rgb, first, atol=1e-5)                              # grey = the channel three times
    with pytest.raises(ValueError, match="size"):
        bb.backbone_features(images, size=8)
    with pytest.raises(ValueError, match="backbone"):
        bb.backbone_features(images, backbone="resnet")


@pytest.mark.integration
def test_finetuned_backbone_is_cached_and_gives_its_own_features(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(11)
    images, labels = torch.rand(12, 3, 16, 16, generator=g), torch.arange(12) % 2
    kw = dict(size=32, epochs=1, learning_rate=1e-3, batch_size=6, seed=0)
    tuned = bb.finetune(images, labels, 2, **kw)
    assert len(tuned["loss per epoch"]) == 1 and bool(torch.isfinite(tuned["loss per epoch"]).all())
    again = bb.finetune(images, labels, 2, **kw)                               # the cache
    assert all(torch.equal(tuned[k], again[k]) for k in tuned)
    imagenet, features = bb.backbone_features(images, size=32), bb.backbone_features(images, size=32, weights=tuned)
    assert features.shape == imagenet.shape and not torch.allclose(features, imagenet, atol=1e-4)
    assert torch.equal(bb.backbone_features(images, size=32), imagenet)          # ImageNet features keep their entry
    other = bb.finetune(images, labels.flip(0), 2, **kw)                          # other labels, another model
    assert not torch.equal(other["loss per epoch"], tuned["loss per epoch"])
    with pytest.raises(ValueError, match="labels"):
        bb.finetune(images, labels[:5], 2, **kw)
    with pytest.raises(ValueError, match="n_classes"):
        bb.finetune(images, labels, 1, **kw)
    with pytest.raises(ValueError, match="finetune_epochs"):
        pp.PipelineSettings(image_branch="small", finetune_epochs=2)


def test_fit_checks_its_schedule_and_smoothing():
    model = torch.nn.Linear(3, 2)
    x, y = torch.randn(8, 3), torch.arange(8) % 2
    with pytest.raises(ValueError, match="schedule"):
        pm.fit(model, (x,), y, epochs=1, batch_size=4, learning_rate=1e-3, schedule="cosine")
    with pytest.raises(ValueError, match="label_smoothing"):
        pm.fit(model, (x,), y, epochs=1, batch_size=4, learning_rate=1e-3, loss="one_vs_rest", label_smoothing=0.1)
    flipped = []
    pm.fit(model, (x,), y, epochs=2, batch_size=4, learning_rate=1e-3, schedule="one_cycle",
           augment=lambda batch, g: flipped.append(1) or (-batch[0],))
    assert len(flipped) == 4                                                      # every batch, every epoch


def test_per_class_model_learns_one_vs_rest():
    g = torch.Generator().manual_seed(7)
    y = torch.randint(0, 3, (120,), generator=g)
    feats = torch.randn(120, 3, 5, generator=g)
    feats[torch.arange(120), y, 0] += 3.0  # network c sees a large first feature for class c
    torch.manual_seed(0)
    model = pm.PerClassModel(3, n_image_features=5)
    pm.fit(model, (feats,), y, epochs=40, batch_size=32, learning_rate=1e-2, loss="one_vs_rest")
    probs = pm.predict_proba(model, (feats,))
    assert probs.shape == (120, 3) and float(probs.min()) >= 0 and float(probs.max()) <= 1
    assert pm.accuracy(probs, y) > 90.0
    with pytest.raises(ValueError, match="class_inputs"):
        model(torch.randn(2, 4, 5))
    small = pm.PerClassModel(2, "small", height=8, width=8, image_widths=(4,))
    assert small(torch.rand(3, 2, 3, 8, 8)).shape == (3, 2)


def test_heuristics_share_the_local_rules_and_seeds_restrict_them():
    g = torch.Generator().manual_seed(8)
    x = torch.rand(150, 6, generator=g)
    pred = ((x[:, 0] > 0.5) ^ (x[:, 1] > 0.7)).long()
    qil = QIL.fit(x, 20)
    kw = dict(max_iterations=5, dropout_dim=0.0, dropout_hyp=0.0, seed=1)
    both = FidexGlo(1, **kw).fit_heuristics(x, pred, qil, (1, 2), n_classes=2)
    for h in (1, 2):
        alone = FidexGlo(h, **kw).fit(x, pred, qil, n_classes=2)
        assert [str(r) for r in both[h].rules] == [str(r) for r in alone.rules]
    seeds = np.arange(0, 150, 5)
    part = FidexGlo(1, **kw).fit(x, pred, qil, n_classes=2, seeds=seeds)
    assert part.n_fidex_runs == len(seeds) and part.n_train == 150
    covered = np.unique(np.concatenate([r.covered for r in part.rules]))
    assert set(seeds) <= set(covered) | set(part.samples_without_rule)
    with pytest.raises(ValueError, match="seeds"):
        FidexGlo(1, **kw).fit(x, pred, qil, n_classes=2, seeds=[150])


def _tiny_images(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = (torch.rand(n, 8, 8, generator=g) * 60).to(torch.uint8)
    x[y == 1, :3, :3] = 250
    x[y == 0, 5:, 5:] = 250
    return x, y


# the pipeline on 8x8 images with the EfficientNet-Lite0 branch at its smallest size (seconds)
TINY_ON_LITE0 = dict(patch_size=3, patches_per_image=12, mlp_batch_size=64, second_learning_rate=3e-3, prob_widths=(4,),
                     upsample=1, image_branch="efficientnet-lite0", backbone_size=32, qil_steps=20, dropout=0.5)


@pytest.mark.integration
def test_pipeline_on_a_frozen_backbone_with_both_methodologies(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path))
    x, y = _tiny_images(80, 0)
    xt, yt = _tiny_images(30, 1)
    s = pp.PipelineSettings(**TINY_ON_LITE0, mlp_epochs=4, second_epochs=6, second_batch_size=16, methodology=2,
                            max_iterations=5, heuristics=(1, 2), rule_samples=40)
    r = pp.run(x, y, xt, yt, 2, s, extra_methodologies=(1,))
    assert r.main.methodology == 2 and set(r.main.rulesets) == {1, 2} and set(r.extra) == {1}
    assert r.image_features[0].shape == (80, 1280 * bb.POOL_GRID ** 2)
    assert len(r.rule_seeds) == 40 and r.ruleset.n_fidex_runs == 40
    assert r.rule_train_stats.n_samples == 80 and r.rule_test_stats.n_samples == 30
    b = pp.baseline(x, y, xt, yt, 2, runs=1, epochs=2, batch_size=16, learning_rate=1e-3,
                    image_branch="efficientnet-lite0", image_features=r.image_features)
    assert b[0]["run"] == 1
    with pytest.raises(ValueError, match="image_features"):
        pp.baseline(x, y, xt, yt, 2, runs=1, epochs=1, batch_size=16, learning_rate=1e-3, image_branch="efficientnet-lite0")
    with pytest.raises(ValueError, match="methodology"):
        pp.PipelineSettings(methodology=3)


@pytest.mark.integration
def test_pipeline_with_a_finetuned_backbone_and_its_ablation(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path))
    x, y = _tiny_images(40, 0)
    xt, yt = _tiny_images(12, 1)
    s = pp.PipelineSettings(**TINY_ON_LITE0, mlp_epochs=2, second_epochs=2, second_batch_size=8, finetune_epochs=1,
                            max_iterations=3)
    r = pp.run(x, y, xt, yt, 2, s)
    assert len(r.finetune_history) == 1 and "fine-tune backbone" in r.seconds
    assert r.image_features[0].shape == r.imagenet_features[0].shape
    assert not torch.allclose(r.image_features[0], r.imagenet_features[0], atol=1e-4)
    first = pp.baseline(x, y, xt, yt, 2, runs=1, epochs=1, batch_size=8, learning_rate=1e-3,
                        image_branch="efficientnet-lite0", image_features=r.image_features)[0]
    rows = pp.backbone_ablation(r, first, epochs=1, batch_size=8, learning_rate=1e-3)
    assert [(row["backbone"], row["training images"]) for row in rows] == [
        ("ImageNet weights", 10), ("ImageNet weights", 20), ("ImageNet weights", 40), ("fine-tuned 1 epoch", 40)]
    assert rows[-1]["test accuracy"] == first["test_accuracy"]
    frozen = pp.run(x, y, xt, yt, 2, dataclasses.replace(s, finetune_epochs=0))
    assert frozen.image_features is frozen.imagenet_features and frozen.finetune_history is None
    rows = pp.backbone_ablation(frozen, {"test_accuracy": 50.0}, epochs=1, batch_size=8, learning_rate=1e-3)
    assert [row["backbone"] for row in rows] == ["ImageNet weights"] * 3 and rows[-1]["test accuracy"] == 50.0


def test_training_on_precomputed_steps_is_training_the_model():
    model, qil = _model(staircase=True)
    x = torch.rand(4, LAYOUT.n_features, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        assert torch.equal(pm.AfterQIL(model)(model.qil_input(x)), model(x))
