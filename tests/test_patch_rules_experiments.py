"""The patch-rules chapter's experiment helpers (nesy.rules.experiments) on small stand-ins."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nesy import params
from nesy.data.loader_fer2013 import HAPPY
from nesy.rules import experiments as ex
from nesy.rules.ruleset import Antecedent, Rule


@pytest.fixture(scope="module")
def smoke():
    return params.validate("patch_rules", {"profile": "smoke", **params.load_profile("patch_rules", "smoke")})


def test_pipeline_settings_take_each_datasets_own_values(smoke):
    mnist, cifar, fer = (ex.pipeline_settings(n, smoke) for n in ("mnist", "cifar10", "fer2013"))
    assert mnist.image_branch == smoke["mnist_image_branch"] and mnist.finetune_epochs == 0 and mnist.methodology == 1
    assert cifar.image_branch == "efficientnet-lite0" and cifar.finetune_epochs == smoke["finetune_epochs"]
    assert fer.patch_size == smoke["fer2013_patch_size"] and fer.methodology == smoke["fer2013_methodology"]
    assert fer.dropout == smoke["fer2013_dropout"] and cifar.dropout == smoke["dropout"]
    assert cifar.rule_samples is None  # 0 = a local rule for every training image
    assert "fine-tuned 1 epoch on" in ex.branch_text(cifar) and ex.branch_text(mnist) == "a small CNN trained from scratch"


def test_sentences_follow_the_numbers():
    assert "less sharp" in ex.sharpness_text(2.0, "PublicTest", 1000) and "(blurred" in ex.sharpness_text(2.0, "PublicTest", 1)
    assert "(about as sharp)" in ex.sharpness_text(1.1, "Training", 10)
    run = SimpleNamespace(accuracy={"second_test": 80.0})
    text = ex.versus_text("cifar10", run, gap=-2.0, share=10.0, n_baselines=2)
    assert "image branch alone 82.0%" in text and "2.0 points below it" in text and "70.0 points above that" in text
    assert "level with it" in ex.versus_text("cifar10", run, gap=0.01, share=10.0, n_baselines=1)


def _run():
    rules = [Rule([Antecedent(0, True, 0.5)], 1, np.array([0, 1]), 1.0, 1.0, 1.0, 0),
             Rule([Antecedent(1, False, 0.5)], 1, np.array([2]), 1.0, 1.0, 1.0, 0),
             Rule([Antecedent(2, True, 0.2)], 0, np.array([3]), 1.0, 1.0, 1.0, 0)]
    return SimpleNamespace(test_labels=torch.tensor([1, 1, 0, 1]), test_pred=torch.tensor([1, 1, 0, 0]),
                           ruleset=SimpleNamespace(rules=rules))


def test_figure_choices_pick_right_images_and_agreeing_rules():
    r = _run()
    agreeing = np.array([[False, True, False, True], [True, True, False, False], [False, False, True, False]])
    assert ex.figure_choices(r, agreeing, "rule", 1) == [(1, 0)]  # image 3 is misclassified
    assert ex.figure_choices(r, agreeing, "two rules", 1) == [(1, 0), (1, 1)]
    assert ex.figure_choices(r, agreeing, "two rules", 0) == []
    row = ex.figure_row("mnist", r, ["a", "b"], 1, 0, "Fig. 3", "b")
    assert row["class"] == "b" and row["covers (train)"] == 2 and row["antecedents"] == 1
    assert ex.figure_row("mnist", r, ["a", "b"], None, None, "Fig. 3", "b")["rule"] is None
    assert ex.rule_title("mnist", r, ["a", "b"], 1, 0, "Fig. 3").startswith("MNIST test image 1 (true b, model b): rule 0 -> b")


def test_widget_starts_on_a_sample_with_two_rules():
    entries = {"MNIST": {"samples": [{"activated": [0]}]}, "CIFAR-10": {"samples": [{"activated": []}, {"activated": [1, 2]}]}}
    assert ex.widget_start(entries) == ("CIFAR-10", 1)
    assert ex.widget_start({"MNIST": {"samples": [{"activated": []}]}}) == ("MNIST", 0)


def test_fer2013_happy_share_and_sharpness_come_from_the_usages_given():
    flat, sharp = torch.full((2, 48, 48), 7, dtype=torch.uint8), torch.zeros(3, 48, 48, dtype=torch.uint8)
    sharp[:, :, ::2] = 200
    usages = {"Training": (flat, torch.tensor([HAPPY, 0])), "PublicTest": (sharp, torch.tensor([HAPPY, HAPPY, 1])),
              "PrivateTest": (flat[:1], torch.tensor([2]))}
    assert ex.fer2013_happy(usages) == (3, 6, 50.0)
    rows = ex.fer2013_sharpness_rows(usages)
    assert [r["usage"] for r in rows] == ["Training", "PublicTest", "PrivateTest"] and [r["images"] for r in rows] == [2, 3, 1]
    assert rows[0]["sharpness (median)"] == 0.0 and rows[1]["sharpness (median)"] > 100


def test_load_takes_fer2013_from_the_usages_given():
    x, y = torch.zeros(4, 48, 48, dtype=torch.uint8), torch.tensor([HAPPY, 0, 1, HAPPY])
    usages = {"Training": (x, y), "PublicTest": (x[:3] + 1, y[:3]), "PrivateTest": (x[:1] + 2, y[:1])}
    xs, ys, xts, yts, classes = ex.load("fer2013", "PublicTest", usages)
    assert torch.equal(xs, x[:3] + 1) and ys.tolist() == [1, 0, 0] and torch.equal(xts, x[:1] + 2) and yts.tolist() == [1]
    assert classes == ["not happy", "happy"]
