"""The patch-rules pipeline on one dataset: patch MLP -> second model -> FidexGlo ruleset.

:func:`run` follows the paper's first methodology (Sect. 3.3, Fig. 1) and times each stage
(the paper's Table 8); :func:`baseline` trains the image-only CNN several times (Table 6).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import patch_model as pm
from .fidexglo import FidexGlo
from .patches import FeatureLayout, as_float_images, patch_dataset, rule_features
from .qil import QIL
from .ruleset import Ruleset
from .stats import RulesetStats, evaluate

__all__ = ["PipelineSettings", "PatchRulesRun", "run", "baseline", "subset", "mean_std"]


@dataclass(frozen=True)
class PipelineSettings:
    """Everything :func:`run` needs besides the data (paper values in parentheses)."""

    patch_size: int = 7                 # 7 (8 for FER2013)
    stride: int = 1                     # 1
    patches_per_image: int | None = None  # None = all of them
    mlp_epochs: int = 60                # 60
    mlp_batch_size: int = 256
    mlp_learning_rate: float = 1e-3     # 1e-3
    second_epochs: int = 80             # 80
    second_batch_size: int = 32
    second_learning_rate: float = 1e-5  # 1e-5
    weight_decay: float = 5e-4          # L2 5e-4 on the convolutions
    prob_widths: tuple = (64, 128, 256)
    upsample: int = 2
    image_branch: str = "vgg16"
    image_widths: tuple = (32, 64)
    pretrained: bool = True
    qil_steps: int = 100                # 100
    rule_samples: int | None = None     # None = every training sample
    max_iterations: int = 25
    dropout: float = 0.95               # 0.95 (0.9 for FER2013), dims and hyperplanes
    heuristic: int = 1
    seed: int = 0


@dataclass
class PatchRulesRun:
    """What :func:`run` produced. Tensors: features float32 [N, D], probs [N, C], labels int64 [N]."""

    layout: FeatureLayout
    settings: PipelineSettings
    mlp_history: list
    second_history: list
    accuracy: dict                      # patch_mlp_train/test (per patch), second_train/test (%)
    train_features: torch.Tensor
    test_features: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    train_probs: torch.Tensor
    test_probs: torch.Tensor
    qil: QIL
    ruleset: Ruleset
    rule_train_stats: RulesetStats
    rule_test_stats: RulesetStats
    seconds: dict = field(default_factory=dict)
    n_patches: dict = field(default_factory=dict)

    @property
    def train_pred(self) -> torch.Tensor:
        return self.train_probs.argmax(1)

    @property
    def test_pred(self) -> torch.Tensor:
        return self.test_probs.argmax(1)


def subset(n_total: int, n: int | None, seed: int) -> torch.Tensor:
    """A seeded random choice of ``n`` of ``n_total`` indices (all, shuffled, when ``n`` is None)."""
    order = torch.randperm(n_total, generator=torch.Generator().manual_seed(int(seed)))
    return order if n is None else order[: min(int(n), n_total)]


def run(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor,
        n_classes: int, settings: PipelineSettings, progress: bool = False) -> PatchRulesRun:
    """The whole pipeline on uint8 images [N, H, W] or [N, H, W, C] and labels int64 [N]."""
    s = settings
    seconds = {}
    x_train, x_test = as_float_images(train_images), as_float_images(test_images)
    _, c, h, w = x_train.shape
    layout = FeatureLayout(h, w, c, s.patch_size, s.stride, n_classes)

    t = time.perf_counter()
    torch.manual_seed(s.seed)
    ds = patch_dataset(x_train, train_labels, s.patch_size, s.stride, s.patches_per_image, seed=s.seed)
    mlp = pm.PatchMLP(ds.patches.shape[1], n_classes, max(h, w) - s.patch_size)
    mlp_history = pm.fit(mlp, (ds.patches, ds.positions), ds.labels, epochs=s.mlp_epochs, batch_size=s.mlp_batch_size,
                         learning_rate=s.mlp_learning_rate, seed=s.seed, progress=progress, desc="patch MLP")
    seconds["train patch MLP"] = time.perf_counter() - t

    t = time.perf_counter()
    grid_train = pm.patch_probabilities(mlp, x_train, s.patch_size, s.stride)
    grid_test = pm.patch_probabilities(mlp, x_test, s.patch_size, s.stride)
    accuracy = {
        "patch_mlp_train": 100.0 * float((grid_train.argmax(-1) == train_labels[:, None, None]).float().mean()),
        "patch_mlp_test": 100.0 * float((grid_test.argmax(-1) == test_labels[:, None, None]).float().mean()),
    }
    f_train, f_test = rule_features(grid_train, x_train), rule_features(grid_test, x_test)
    seconds["patch probabilities"] = time.perf_counter() - t

    t = time.perf_counter()
    qil = QIL.fit(f_train, s.qil_steps)
    torch.manual_seed(s.seed)
    second = pm.SecondModel(layout, qil.weights, qil.biases, prob_widths=tuple(s.prob_widths), upsample=s.upsample,
                            image_branch=s.image_branch, image_widths=tuple(s.image_widths), pretrained=s.pretrained)
    second_history = pm.fit(second, (f_train,), train_labels, epochs=s.second_epochs, batch_size=s.second_batch_size,
                            learning_rate=s.second_learning_rate, weight_decay=s.weight_decay, seed=s.seed,
                            progress=progress, desc="second model")
    p_train, p_test = pm.predict_proba(second, (f_train,), 256), pm.predict_proba(second, (f_test,), 256)
    accuracy["second_train"] = pm.accuracy(p_train, train_labels)
    accuracy["second_test"] = pm.accuracy(p_test, test_labels)
    seconds["train second model"] = time.perf_counter() - t

    t = time.perf_counter()
    n_rule = len(train_labels) if s.rule_samples is None else min(int(s.rule_samples), len(train_labels))
    glo = FidexGlo(s.heuristic, progress=progress, max_iterations=s.max_iterations, dropout_dim=s.dropout,
                   dropout_hyp=s.dropout, seed=s.seed)
    ruleset = glo.fit(f_train[:n_rule], p_train[:n_rule].argmax(1), qil, train_y=train_labels[:n_rule],
                      train_scores=p_train[:n_rule], n_classes=n_classes)
    seconds["rule extraction (FidexGlo)"] = time.perf_counter() - t

    t = time.perf_counter()
    train_stats = evaluate(ruleset.rules, f_train[:n_rule], p_train[:n_rule].argmax(1), train_labels[:n_rule])
    test_stats = evaluate(ruleset.rules, f_test, p_test.argmax(1), test_labels)
    seconds["ruleset statistics"] = time.perf_counter() - t
    rows, cols = layout.grid
    return PatchRulesRun(
        layout=layout, settings=s, mlp_history=mlp_history, second_history=second_history, accuracy=accuracy,
        train_features=f_train, test_features=f_test, train_labels=train_labels, test_labels=test_labels,
        train_probs=p_train, test_probs=p_test, qil=qil, ruleset=ruleset, rule_train_stats=train_stats,
        rule_test_stats=test_stats, seconds=seconds,
        n_patches={"per_image": rows * cols, "mlp_training": len(ds), "train_total": rows * cols * len(train_labels),
                   "test_total": rows * cols * len(test_labels)},
    )


def baseline(train_images, train_labels, test_images, test_labels, n_classes: int, *, runs: int, epochs: int,
             batch_size: int, learning_rate: float, image_branch: str = "small", image_widths=(32, 64),
             pretrained: bool = True, seed: int = 0) -> list[dict]:
    """Train the image-only CNN ``runs`` times (seeds ``seed .. seed + runs - 1``); train/test accuracy (%) of each."""
    x_train, x_test = as_float_images(train_images), as_float_images(test_images)
    _, c, h, w = x_train.shape
    out = []
    for r in range(runs):
        torch.manual_seed(seed + r)
        model = pm.ImageCNN(c, h, w, n_classes, image_branch, tuple(image_widths), pretrained)
        t = time.perf_counter()
        pm.fit(model, (x_train,), train_labels, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed + r)
        out.append({
            "run": r + 1,
            "train_accuracy": pm.accuracy(pm.predict_proba(model, (x_train,), 256), train_labels),
            "test_accuracy": pm.accuracy(pm.predict_proba(model, (x_test,), 256), test_labels),
            "seconds": time.perf_counter() - t,
        })
    return out


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(list(values), dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0
