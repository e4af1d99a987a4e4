"""nesy.rules patches, patch models, pipeline, drawing and the rules widget (tiny inputs, hand-checked answers)."""
import numpy as np
import pytest
import torch

from nesy.rules import Antecedent, Rule
from nesy.rules import patch_model as pm
from nesy.rules import patch_pipeline as pp
from nesy.rules.qil import QIL
from nesy.rules.drawing import GREEN, RED, antecedent_shapes, draw_rule
from nesy.rules.patches import (FeatureLayout, as_float_images, extract_patches, grid_shape, patch_dataset,
                                patch_positions, rule_features)


def test_grid_shape_matches_the_paper_formula():
    assert grid_shape(28, 28, 7) == (22, 22)          # 484 MNIST patches
    assert grid_shape(32, 32, 7) == (26, 26)
    assert grid_shape(48, 48, 8) == (41, 41)
    assert grid_shape(10, 12, 3, stride=2) == (4, 5)
    with pytest.raises(ValueError, match="size"):
        grid_shape(5, 5, 6)
    with pytest.raises(ValueError, match="stride"):
        grid_shape(5, 5, 2, stride=0)


def test_extract_patches_are_the_image_windows_with_their_top_left_positions():
    images = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, 3, 5, 6)
    p = extract_patches(images, 3)
    pos = patch_positions(5, 6, 3)
    assert p.shape == (2, 3 * 4, 3 * 9)
    assert pos.shape == (12, 2)
    for k, (r, c) in enumerate(pos.tolist()):
        window = images[1, :, r : r + 3, c : c + 3].reshape(-1)   # (channel, row, col) order
        assert torch.equal(p[1, k], window)
    assert pos[:3].tolist() == [[0, 0], [0, 1], [0, 2]] and pos[4].tolist() == [1, 0]


def test_patch_dataset_keeps_labels_and_subsamples_reproducibly():
    images = torch.rand(5, 1, 8, 8)
    labels = torch.tensor([0, 1, 2, 1, 0])
    full = patch_dataset(images, labels, 3)
    assert len(full) == 5 * 36
    assert torch.equal(full.labels, labels.repeat_interleave(36))
    k = 7
    a, b = patch_dataset(images, labels, 3, per_image=4, seed=3), patch_dataset(images, labels, 3, per_image=4, seed=3)
    assert len(a) == 20 and torch.equal(a.patches, b.patches)
    i = a.image_index[k]
    r, c = a.positions[k].tolist()
    assert torch.equal(a.patches[k], images[i, :, r : r + 3, c : c + 3].reshape(-1))
    with pytest.raises(ValueError, match="per_image"):
        patch_dataset(images, labels, 3, per_image=0)


def test_feature_layout_follows_row_col_class_then_pixels():
    lay = FeatureLayout(height=5, width=6, channels=3, patch_size=3, stride=1, n_classes=2)
    assert lay.grid == (3, 4) and lay.n_prob == 24 and lay.n_pixels == 90
    grid = torch.rand(1, 3, 4, 2)
    image = torch.rand(1, 3, 5, 6)
    f = rule_features(grid, image)
    assert f.shape == (1, 24 + 90)
    for j in (0, 5, 13, 23):
        d = lay.describe(j)
        assert d["kind"] == "patch" and f[0, j] == grid[0, d["row"], d["col"], d["cls"]]
    for j in (24, 30, 113):
        d = lay.describe(j)
        assert d["kind"] == "pixel" and f[0, j] == image[0, d["channel"], d["row"], d["col"]]
    assert lay.text(13, True, 0.25, ["cat", "dog"]) == "P(dog) of 3x3 patch at (row 1, col 2) >= 0.2500"
    assert lay.text(24 + 3 * 7 + 2, False, 0.1) == "pixel (row 1, col 1) B < 0.1000"
    with pytest.raises(ValueError, match="feature index"):
        lay.describe(114)


def test_as_float_images_scales_and_moves_channels():
    gray = torch.tensor([[[0, 255], [51, 102]]], dtype=torch.uint8)
    out = as_float_images(gray)
    assert out.shape == (1, 1, 2, 2) and out[0, 0, 1, 0] == pytest.approx(0.2)
    rgb = torch.zeros(2, 4, 4, 3, dtype=torch.uint8)
    rgb[..., 2] = 255
    assert as_float_images(rgb)[:, 2].min() == 1.0 and as_float_images(rgb)[:, :2].max() == 0.0


def test_models_shapes_and_bad_arguments():
    torch.manual_seed(0)
    mlp = pm.PatchMLP(49, 10, 21)
    assert mlp(torch.rand(4, 49), torch.randint(0, 22, (4, 2))).shape == (4, 10)
    lay = FeatureLayout(12, 12, 1, 3, 1, 3)
    qil = QIL.fit(torch.rand(20, lay.n_features), 10)
    second = pm.SecondModel(lay, qil, prob_widths=(4, 8), image_widths=(4, 8))
    assert second(torch.rand(5, lay.n_features)).shape == (5, 3)
    assert pm.ImageCNN(3, 12, 12, 4, image_widths=(4, 8))(torch.rand(2, 3, 12, 12)).shape == (2, 4)
    with pytest.raises(ValueError, match="image_branch"):
        pm.ImageCNN(1, 12, 12, 2, image_branch="resnet")
    with pytest.raises(ValueError, match="upsample"):
        pm.SecondModel(lay, qil, upsample=0)
    with pytest.raises(ValueError, match="qil"):
        pm.SecondModel(lay, QIL.fit(torch.rand(4, 3), 10))
    with pytest.raises(ValueError, match="image_features"):
        pm.SecondModel(lay, qil, image_branch="features", n_image_features=6)(torch.rand(2, lay.n_features))
    with pytest.raises(ValueError, match="loss"):
        pm.fit(mlp, (torch.rand(4, 49), torch.zeros(4, 2)), torch.zeros(4, dtype=torch.long), epochs=1, batch_size=2,
               learning_rate=0.1, loss="hinge")
    with pytest.raises(ValueError, match="epochs"):
        pm.fit(mlp, (torch.rand(4, 49), torch.zeros(4, 2)), torch.zeros(4, dtype=torch.long), epochs=0, batch_size=2, learning_rate=0.1)


def test_patch_probabilities_equal_the_mlp_on_each_patch():
    torch.manual_seed(0)
    mlp = pm.PatchMLP(9, 3, 3)
    images = torch.rand(3, 1, 6, 6)
    grid = pm.patch_probabilities(mlp, images, 3, batch_images=2)
    assert grid.shape == (3, 4, 4, 3)
    assert torch.allclose(grid.sum(-1), torch.ones(3, 4, 4))
    patch = images[2, :, 1:4, 2:5].reshape(1, -1)
    expected = torch.softmax(mlp(patch, torch.tensor([[1, 2]])), 1)[0]
    assert torch.allclose(grid[2, 1, 2], expected, atol=1e-6)


def test_fit_learns_a_separable_problem_and_is_reproducible():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 9, generator=g)
    y = (x[:, 0] > 0).long()
    pos = torch.zeros(200, 2, dtype=torch.long)

    def train():
        torch.manual_seed(0)
        m = pm.PatchMLP(9, 2, 3)
        h = pm.fit(m, (x, pos), y, epochs=30, batch_size=32, learning_rate=1e-2, seed=0)
        return m, h

    (m1, h1), (m2, h2) = train(), train()
    assert h1 == h2 and h1[-1] < h1[0]
    assert pm.accuracy(pm.predict_proba(m1, (x, pos)), y) > 95.0


def _tiny_images(n, seed):
    """8x8 images: class 1 has a bright 3x3 square in the top-left corner, class 0 at the bottom right."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = (torch.rand(n, 8, 8, generator=g) * 60).to(torch.uint8)
    for i in range(n):
        if y[i] == 1:
            x[i, :3, :3] = 250
        else:
            x[i, 5:, 5:] = 250
    return x, y


def test_pipeline_end_to_end_on_an_easy_problem():
    x, y = _tiny_images(160, 0)
    xt, yt = _tiny_images(60, 1)
    s = pp.PipelineSettings(patch_size=3, patches_per_image=12, mlp_epochs=8, mlp_batch_size=64, second_epochs=8,
                            second_batch_size=32, second_learning_rate=3e-3, prob_widths=(4,), upsample=1,
                            image_branch="small", image_widths=(4, 8), qil_steps=20, max_iterations=10, dropout=0.5)
    r = pp.run(x, y, xt, yt, 2, s)
    assert r.layout.n_features == 6 * 6 * 2 + 64
    assert r.accuracy["second_test"] > 90.0
    assert len(r.ruleset) >= 1
    assert r.rule_train_stats.fidelity == pytest.approx(1.0)      # full fidelity on the covered samples
    assert r.rule_test_stats.n_samples == 60
    assert set(r.seconds) >= {"train patch MLP", "train second model", "rule extraction (FidexGlo)"}
    again = pp.run(x, y, xt, yt, 2, s)                                # same seed: the same models and rules
    assert again.accuracy == r.accuracy and [str(a) for a in again.ruleset] == [str(a) for a in r.ruleset]
    b = pp.baseline(x, y, xt, yt, 2, runs=2, epochs=2, batch_size=32, learning_rate=1e-3, image_widths=(4, 8))
    assert [row["run"] for row in b] == [1, 2]
    assert pp.mean_std([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2.0)))


def test_rule_drawing_colours_and_titles():
    lay = FeatureLayout(8, 8, 1, 3, 1, 2)
    rule = Rule([Antecedent(5, True, 0.5), Antecedent(lay.n_prob + 9, False, 0.25)], 1, np.arange(4), 1.0)
    shapes = antecedent_shapes(rule, lay, ["a", "b"])
    assert shapes[0]["kind"] == "patch" and shapes[0]["colour"] == GREEN and shapes[0]["size"] == 3
    assert (shapes[0]["row"], shapes[0]["col"]) == (0, 2)
    assert shapes[1] == {"kind": "pixel", "row": 1, "col": 1, "size": 1, "ge": False, "colour": RED,
                         "text": "pixel (row 1, col 1) < 0.2500"}
    fig = draw_rule(np.zeros((8, 8), dtype=np.uint8), rule, lay, ["a", "b"])
    titles = [a.get_title() for a in fig.axes]
    assert "P(b) of 3x3 patch at (row 0, col 2) >=" in titles[2].replace("\n", " ")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_rules_widget_embeds_activations_and_recomputes_them():
    from nesy.widgets.rules import RulesExplorer, dataset_entry

    lay = FeatureLayout(4, 4, 1, 2, 1, 2)
    feats = np.zeros((3, lay.n_features))
    feats[:, 0] = [0.9, 0.1, 0.6]
    feats[:, lay.n_prob] = [0.0, 1.0, 1.0]
    rules = [
        Rule([Antecedent(0, True, 0.5)], 1, np.arange(3), 1.0),
        Rule([Antecedent(lay.n_prob, True, 0.5)], 0, np.arange(2), 1.0),
        Rule([Antecedent(1, True, 2.0)], 0, np.arange(1), 1.0),           # fires on none: not embedded
    ]
    entry = dataset_entry(np.zeros((3, 4, 4), dtype=np.uint8), feats, [1, 0, 1], [1, 0, 1], rules, lay, ["x", "y"])
    assert len(entry["rules"]) == 2
    assert [s["activated"] for s in entry["samples"]] == [[0], [1], [0, 1]]
    assert entry["samples"][0]["image"].startswith("data:image/png;base64,")
    w = RulesExplorer({"toy": entry}, sample=2)
    assert w.activated == [0, 1] and w.rule == 0
    w.sample = 1
    assert w.activated == [1] and w.rule == 1
    assert w.activated_rules("toy", 0) == entry["samples"][0]["activated"]
    with pytest.raises(ValueError, match="dataset"):
        RulesExplorer({"toy": entry}, dataset="other")


def test_vgg16_branch_builds_without_weights_and_takes_gray_images():
    # The paper's second model: VGG-16 on images resized to 224 (weights need internet; none here).
    torch.manual_seed(0)
    lay = FeatureLayout(28, 28, 1, 7, 1, 10)
    qil = QIL.fit(torch.rand(4, lay.n_features), 10)
    second = pm.SecondModel(lay, qil, image_branch="vgg16", pretrained=False).eval()
    with torch.no_grad():
        assert second(torch.rand(1, lay.n_features)).shape == (1, 10)


def test_paper_profile_is_valid_and_uses_vgg16():
    from nesy import params

    paper = params.load_profile("patch_rules", "paper")
    assert paper["image_branch"] == "vgg16" and paper["mlp_epochs"] == 60 and paper["second_epochs"] == 80
    assert paper["prob_widths"] == [64, 128, 256] and paper["upsample"] == 2 and paper["baseline_runs"] == 10
