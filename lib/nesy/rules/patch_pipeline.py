"""The patch-rules pipeline on one dataset: patch MLP -> second model -> FidexGlo rulesets.

:func:`run` follows the paper (Sect. 3.3): the patch MLP, the probability grid of every
image, the QIL fitted on the rule features, then the second model of the first methodology
(:class:`~nesy.rules.patch_model.SecondModel`, Fig. 1) or of the second
(:class:`~nesy.rules.patch_model.PerClassModel`, Fig. 2), and FidexGlo rulesets of its
classes with one or more covering heuristics. It times each stage (the paper's Table 8).
``extra_methodologies`` trains and explains the other methodology's model on the same
features (an ablation row). With the EfficientNet-Lite0 image branch, the backbone's
features of the images after the QIL are computed once, with its ImageNet weights or, when
``finetune_epochs`` > 0, after fine-tuning it on the training images
(:func:`nesy.rules.backbone.finetune`). :func:`baseline` trains the image-only network
several times (Table 6); :func:`backbone_ablation` measures what the ImageNet and the
fine-tuned features give it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..checks import one_of
from . import backbone as bb
from . import patch_model as pm
from .fidexglo import FidexGlo
from .patches import FeatureLayout, as_float_images, patch_dataset, rule_features
from .qil import QIL
from .ruleset import Ruleset
from .stats import RulesetStats, evaluate

__all__ = ["PipelineSettings", "PatchRulesRun", "ExplainedModel", "run", "baseline", "backbone_ablation", "subset", "mean_std",
           "IMAGE_BRANCHES", "METHODOLOGIES"]

#: the chapter's image branches: trained from scratch, a frozen pretrained backbone, the paper's VGG-16
IMAGE_BRANCHES = ("small", "efficientnet-lite0", "vgg16")
METHODOLOGIES = (1, 2)


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
    image_branch: str = "vgg16"         # one of IMAGE_BRANCHES
    image_widths: tuple = (32, 64)
    backbone_size: int = 224            # images resized to this for a pretrained backbone (224)
    finetune_epochs: int = 0            # > 0: EfficientNet-Lite0 fine-tuned on the images first (the paper trains VGG-16)
    finetune_learning_rate: float = 5e-4
    finetune_frozen_blocks: int = 3     # the stem and these first MBConv blocks keep their ImageNet weights
    pretrained: bool = True
    staircase: bool = True              # the QIL's staircase in front of the second model
    methodology: int = 1                # 1 (2 for FER2013)
    qil_steps: int = 100                # 100
    rule_samples: int | None = None     # None = a local rule for every training sample
    max_iterations: int = 25
    dropout: float = 0.95               # 0.95 (0.9 for FER2013), dims and hyperplanes
    heuristics: tuple = (1,)            # the first is the main ruleset
    seed: int = 0

    def __post_init__(self):
        one_of("image_branch", self.image_branch, IMAGE_BRANCHES)
        one_of("methodology", self.methodology, METHODOLOGIES)
        if isinstance(self.finetune_epochs, bool) or not isinstance(self.finetune_epochs, int) or self.finetune_epochs < 0:
            raise ValueError(f"finetune_epochs must be an integer >= 0, got {self.finetune_epochs!r}")
        if self.finetune_epochs and self.image_branch != "efficientnet-lite0":
            raise ValueError(f"finetune_epochs > 0 needs image_branch='efficientnet-lite0', got {self.image_branch!r}")
        if not self.heuristics or any(h not in (1, 2) for h in self.heuristics):
            raise ValueError(f"heuristics must be a non-empty tuple of 1 and/or 2, got {self.heuristics!r}")


@dataclass
class ExplainedModel:
    """One second model and its rulesets. probs: float32 [N, C] class scores."""

    methodology: int
    accuracy: dict                      # second_train / second_test (%)
    history: list
    train_probs: torch.Tensor
    test_probs: torch.Tensor
    rulesets: dict                      # heuristic -> Ruleset
    train_stats: dict                   # heuristic -> RulesetStats on all training samples
    test_stats: dict                    # heuristic -> RulesetStats on the test samples
    seconds: dict = field(default_factory=dict)

    @property
    def test_pred(self) -> torch.Tensor:
        return self.test_probs.argmax(1)


@dataclass
class PatchRulesRun:
    """What :func:`run` produced. Tensors: features float32 [N, D], labels int64 [N]."""

    layout: FeatureLayout
    settings: PipelineSettings
    mlp_history: list
    accuracy: dict                      # patch_mlp_train/test (per patch), second_train/test (%)
    train_features: torch.Tensor
    test_features: torch.Tensor
    train_labels: torch.Tensor
    test_labels: torch.Tensor
    qil: QIL
    main: ExplainedModel
    extra: dict = field(default_factory=dict)        # methodology -> ExplainedModel (ablations)
    image_features: tuple | None = None              # (train, test) backbone features of the images after the QIL
    imagenet_features: tuple | None = None           # the same with the ImageNet weights (= image_features unless fine-tuned)
    finetune_history: list | None = None             # the fine-tuning's mean loss per epoch
    rule_seeds: np.ndarray | None = None             # training samples whose local rules were computed
    seconds: dict = field(default_factory=dict)
    n_patches: dict = field(default_factory=dict)

    @property
    def ruleset(self) -> Ruleset:
        return self.main.rulesets[self.settings.heuristics[0]]

    @property
    def rule_train_stats(self) -> RulesetStats:
        return self.main.train_stats[self.settings.heuristics[0]]

    @property
    def rule_test_stats(self) -> RulesetStats:
        return self.main.test_stats[self.settings.heuristics[0]]

    @property
    def test_pred(self) -> torch.Tensor:
        return self.main.test_pred


def subset(n_total: int, n: int | None, seed: int) -> torch.Tensor:
    """A seeded random choice of ``n`` of ``n_total`` indices (all, shuffled, when ``n`` is None)."""
    order = torch.randperm(n_total, generator=torch.Generator().manual_seed(int(seed)))
    return order if n is None else order[: min(int(n), n_total)]


def _threads(image_branch: str) -> int | None:
    """CPU threads for training a second model or baseline: one for the small networks (a small
    CNN, dense layers on cached backbone features), torch's setting for one holding VGG-16."""
    return None if image_branch == "vgg16" else pm.SMALL_MODEL_THREADS


def _backbone(images, s: PipelineSettings, progress: bool, desc: str, device, weights=None) -> torch.Tensor:
    return bb.backbone_features(images, size=s.backbone_size, backbone=s.image_branch, progress=progress, desc=desc,
                                device=device, weights=weights)


def _image_features(qil, f_train, f_test, y_train, layout, s: PipelineSettings, progress, device, seconds):
    """(ImageNet features, the second model's features, fine-tuning loss per epoch or None) of the
    images after the QIL; each features pair is (train [N, F], test [M, F])."""
    t = time.perf_counter()
    images = {"train": bb.image_after_qil(qil, f_train, layout), "test": bb.image_after_qil(qil, f_test, layout)}
    imagenet = tuple(_backbone(x, s, progress, f"backbone, {split}", device) for split, x in images.items())
    seconds["backbone features"] = time.perf_counter() - t
    if not s.finetune_epochs:
        return imagenet, imagenet, None
    t = time.perf_counter()
    tuned = bb.finetune(images["train"], y_train, layout.n_classes, size=s.backbone_size, epochs=s.finetune_epochs,
                        learning_rate=s.finetune_learning_rate, frozen_blocks=s.finetune_frozen_blocks,
                        batch_size=s.second_batch_size, seed=s.seed,
                        progress=progress, device=device)
    features = tuple(_backbone(x, s, progress, f"fine-tuned backbone, {split}", device, tuned)
                     for split, x in images.items())
    seconds["fine-tune backbone"] = time.perf_counter() - t
    return imagenet, features, tuned["loss per epoch"].tolist()


def _second_model(methodology: int, layout, qil, f_train, f_test, y_train, s: PipelineSettings, image_features,
                  progress: bool, device):
    """Train one methodology's second model.

    Returns (trained, fit inputs, model, test inputs, history): ``trained(*fit inputs)`` gives the
    training images' logits (for the first methodology, the model on its QIL steps computed once),
    ``model(*test inputs)`` the test images'.
    """
    torch.manual_seed(s.seed)
    frozen = s.image_branch == "efficientnet-lite0"
    if methodology == 2:
        def class_inputs(f, split):
            maps = [bb.class_map_images(qil, f, layout, c) for c in range(layout.n_classes)]
            if frozen:
                maps = [_backbone(m, s, progress, f"class {c} maps, {split}", device) for c, m in enumerate(maps)]
            return (torch.stack(maps, dim=1),)

        train_in, test_in = class_inputs(f_train, "train"), class_inputs(f_test, "test")
        model = pm.PerClassModel(layout.n_classes, "features" if frozen else s.image_branch, height=layout.height,
                                 width=layout.width, image_widths=tuple(s.image_widths), pretrained=s.pretrained,
                                 n_image_features=train_in[0].shape[-1] if frozen else 1280, backbone_size=s.backbone_size)
        loss = "one_vs_rest"
    else:
        branch = "features" if frozen else s.image_branch
        model = pm.SecondModel(layout, qil, staircase=s.staircase, prob_widths=tuple(s.prob_widths), upsample=s.upsample,
                               image_branch=branch, image_widths=tuple(s.image_widths), pretrained=s.pretrained,
                               n_image_features=image_features[0].shape[1] if frozen else 1280,
                               backbone_size=s.backbone_size)
        train_in = (f_train, image_features[0]) if frozen else (f_train,)
        test_in = (f_test, image_features[1]) if frozen else (f_test,)
        loss = "cross_entropy"
    trained, fit_in = model, train_in
    if methodology == 1:  # the QIL is frozen: its steps are computed once, not in every epoch
        steps = torch.cat([model.qil_input(chunk) for chunk in f_train.split(4096)])
        trained, fit_in = pm.AfterQIL(model), (steps, *train_in[1:])
    history = pm.fit(trained, fit_in, y_train, epochs=s.second_epochs, batch_size=s.second_batch_size,
                     learning_rate=s.second_learning_rate, weight_decay=s.weight_decay, seed=s.seed,
                     progress=progress, desc=f"second model (methodology {methodology})", loss=loss, device=device,
                     threads=_threads(s.image_branch))
    return trained, fit_in, model, test_in, history


def _explain(methodology, layout, qil, f_train, f_test, y_train, y_test, s, image_features, seeds, heuristics,
             progress, device) -> ExplainedModel:
    seconds = {}
    t = time.perf_counter()
    trained, fit_in, model, test_in, history = _second_model(methodology, layout, qil, f_train, f_test, y_train, s,
                                                      image_features, progress, device)
    p_train, p_test = pm.predict_proba(trained, fit_in, 256, device), pm.predict_proba(model, test_in, 256, device)
    accuracy = {"second_train": pm.accuracy(p_train, y_train), "second_test": pm.accuracy(p_test, y_test)}
    seconds["train second model"] = time.perf_counter() - t

    t = time.perf_counter()
    glo = FidexGlo(heuristics[0], progress=progress, max_iterations=s.max_iterations, dropout_dim=s.dropout,
                   dropout_hyp=s.dropout, seed=s.seed)
    rulesets = glo.fit_heuristics(f_train, p_train.argmax(1), qil, heuristics, train_y=y_train, train_scores=p_train,
                                  n_classes=layout.n_classes, seeds=seeds)
    seconds["rule extraction (FidexGlo)"] = time.perf_counter() - t

    t = time.perf_counter()
    train_stats = {h: evaluate(rs.rules, f_train, p_train.argmax(1), y_train) for h, rs in rulesets.items()}
    test_stats = {h: evaluate(rs.rules, f_test, p_test.argmax(1), y_test) for h, rs in rulesets.items()}
    seconds["ruleset statistics"] = time.perf_counter() - t
    return ExplainedModel(methodology, accuracy, history, p_train, p_test, rulesets, train_stats, test_stats, seconds)


def run(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor, test_labels: torch.Tensor,
        n_classes: int, settings: PipelineSettings, progress: bool = False, extra_methodologies=(),
        device: str | torch.device = "cpu") -> PatchRulesRun:
    """The whole pipeline on uint8 images [N, H, W] or [N, H, W, C] and labels int64 [N].

    extra_methodologies: other methodologies whose second model is trained and explained on the
    same patch probabilities (heuristic ``settings.heuristics[0]`` only), in ``PatchRulesRun.extra``.
    device: where the patch MLP, the backbone and the second models train and run
    (:func:`nesy.device.resolve`); every tensor of the result is on the CPU, where the QIL and
    FidexGlo (the compiled kernel ``nesy._C``) run.
    """
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
                         learning_rate=s.mlp_learning_rate, seed=s.seed, progress=progress, desc="patch MLP",
                         device=device, threads=pm.SMALL_MODEL_THREADS)
    seconds["train patch MLP"] = time.perf_counter() - t

    t = time.perf_counter()
    grid_train = pm.patch_probabilities(mlp, x_train, s.patch_size, s.stride, device=device)
    grid_test = pm.patch_probabilities(mlp, x_test, s.patch_size, s.stride, device=device)
    accuracy = {
        "patch_mlp_train": 100.0 * float((grid_train.argmax(-1) == train_labels[:, None, None]).float().mean()),
        "patch_mlp_test": 100.0 * float((grid_test.argmax(-1) == test_labels[:, None, None]).float().mean()),
    }
    f_train, f_test = rule_features(grid_train, x_train), rule_features(grid_test, x_test)
    del grid_train, grid_test
    seconds["patch probabilities"] = time.perf_counter() - t

    qil = QIL.fit(f_train, s.qil_steps)
    imagenet_features = image_features = finetune_history = None
    if s.image_branch == "efficientnet-lite0":  # the first methodology's image branch and the baseline read these
        imagenet_features, image_features, finetune_history = _image_features(qil, f_train, f_test, train_labels, layout,
                                                                              s, progress, device, seconds)
    n = len(train_labels)
    seeds = None
    if s.rule_samples is not None and int(s.rule_samples) < n:
        seeds = np.sort(subset(n, int(s.rule_samples), s.seed + 2).numpy())

    main = _explain(s.methodology, layout, qil, f_train, f_test, train_labels, test_labels, s, image_features, seeds,
                    tuple(s.heuristics), progress, device)
    seconds.update(main.seconds)
    extra = {}
    for m in extra_methodologies:
        if m == s.methodology:
            raise ValueError(f"extra_methodologies must differ from settings.methodology ({m})")
        extra[m] = _explain(m, layout, qil, f_train, f_test, train_labels, test_labels, s, image_features, seeds,
                            tuple(s.heuristics[:1]), progress, device)
        for key, value in extra[m].seconds.items():
            seconds[f"{key}, methodology {m}"] = value
    accuracy.update(main.accuracy)
    rows, cols = layout.grid
    return PatchRulesRun(
        layout=layout, settings=s, mlp_history=mlp_history, accuracy=accuracy, train_features=f_train,
        test_features=f_test, train_labels=train_labels, test_labels=test_labels, qil=qil, main=main, extra=extra,
        image_features=image_features, imagenet_features=imagenet_features, finetune_history=finetune_history,
        rule_seeds=seeds, seconds=seconds,
        n_patches={"per_image": rows * cols, "mlp_training": len(ds), "train_total": rows * cols * len(train_labels),
                   "test_total": rows * cols * len(test_labels)},
    )


def baseline(train_images, train_labels, test_images, test_labels, n_classes: int, *, runs: int, epochs: int,
             batch_size: int, learning_rate: float, image_branch: str = "small", image_widths=(32, 64),
             pretrained: bool = True, seed: int = 0, image_features=None, backbone_size: int = 224,
             device: str | torch.device = "cpu") -> list[dict]:
    """Train the image-only network ``runs`` times (seeds ``seed .. seed + runs - 1``); train/test accuracy (%) of each.

    image_features: ``(train, test)`` frozen backbone features [N, F] (:attr:`PatchRulesRun.image_features`);
    required with ``image_branch="efficientnet-lite0"``, whose baseline is the dense head on them.
    backbone_size: the side VGG-16 sees the images at (``image_branch="vgg16"``; the paper: 224).
    device: where the networks train and run (:func:`nesy.device.resolve`).
    """
    one_of("image_branch", image_branch, IMAGE_BRANCHES)
    frozen = image_branch == "efficientnet-lite0"
    if frozen and image_features is None:
        raise ValueError("image_branch='efficientnet-lite0' needs image_features=(train, test) backbone features")
    if frozen:
        x_train, x_test = image_features
        c = h = w = 0
    else:
        x_train, x_test = as_float_images(train_images), as_float_images(test_images)
        _, c, h, w = x_train.shape
    out = []
    for r in range(runs):
        torch.manual_seed(seed + r)
        model = pm.ImageCNN(c, h, w, n_classes, "features" if frozen else image_branch, tuple(image_widths), pretrained,
                            n_image_features=x_train.shape[1] if frozen else 1280, backbone_size=backbone_size)
        t = time.perf_counter()
        pm.fit(model, (x_train,), train_labels, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed + r,
               device=device, threads=_threads(image_branch))
        out.append({
            "run": r + 1,
            "train_accuracy": pm.accuracy(pm.predict_proba(model, (x_train,), 256, device), train_labels),
            "test_accuracy": pm.accuracy(pm.predict_proba(model, (x_test,), 256, device), test_labels),
            "seconds": time.perf_counter() - t,
        })
    return out


def backbone_ablation(r: PatchRulesRun, first_baseline: dict, *, epochs: int, batch_size: int, learning_rate: float,
                      seed: int = 0, device: str | torch.device = "cpu") -> list[dict]:
    """What the backbone's features give the image branch alone (one :func:`baseline` run each).

    Rows ``{"backbone", "training images", "test accuracy"}``: the ImageNet features of a
    quarter, a half and all of ``r``'s training images (a learning curve: a small last doubling
    says more images at this scale would not close a gap), then, when the backbone was
    fine-tuned, the fine-tuned features of all of them. ``first_baseline``: the chapter's first
    baseline run on ``r.image_features`` (seed ``seed``), reused for the row it equals.
    Empty for a run without a pretrained backbone.
    """
    if r.imagenet_features is None:
        return []
    n, tuned = len(r.train_labels), r.settings.finetune_epochs > 0
    kw = dict(runs=1, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
              image_branch=r.settings.image_branch, device=device)
    rows = []
    for share in (4, 2, 1):
        k = n // share
        if share == 1 and not tuned:
            accuracy = first_baseline["test_accuracy"]   # the baseline's first run: these features, this seed
        else:
            accuracy = baseline(None, r.train_labels[:k], None, r.test_labels, r.layout.n_classes,
                                image_features=(r.imagenet_features[0][:k], r.imagenet_features[1]), **kw)[0]["test_accuracy"]
        rows.append({"backbone": "ImageNet weights", "training images": k, "test accuracy": accuracy})
    if tuned:
        epochs = r.settings.finetune_epochs
        rows.append({"backbone": f"fine-tuned {epochs} epoch{'s' if epochs != 1 else ''}", "training images": n,
                     "test accuracy": first_baseline["test_accuracy"]})
    return rows


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(list(values), dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0
