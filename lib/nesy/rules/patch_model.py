"""The patch-rules paper's models: the patch MLP, the second models and the image-only baseline.

Boutay et al. (2025), Sect. 3.3 and 4.3.1:

- :class:`PatchMLP`: a patch branch (dense 128, dense 64) and a position branch (dense 8,
  fed the top-left ``(row, col)`` of the patch), merged into dense 64 and a softmax layer;
- :class:`SecondModel` (the first methodology): input = the rule features (patch-probability
  grid, then pixels; see :class:`~nesy.rules.patches.FeatureLayout`) behind a frozen QIL, a
  diagonal layer **with its staircase activation** (Sect. 3.1), so the model reads only which
  step each feature is on and its decisions change only across the hyperplanes Fidex's rules
  use. The probability grid is upsampled x2 and goes through 3x3 convolutions (64, 128, 256
  in the paper; batch norm, LeakyReLU, max-pool 2) and dense 256 with dropout 0.4; the image
  goes through an image branch and dense 256 (batch norm, dropout 0.3); the two are merged
  into dense 256, 128, 64 and a softmax layer. Image branches (``IMAGE_BRANCHES``): the
  paper's ``"vgg16"`` on the image after the QIL resized to 224 (torchvision's ImageNet
  weights: internet needed); ``"features"``, a frozen pretrained backbone whose features of
  the image after the QIL are computed once outside the model (:mod:`nesy.rules.backbone`)
  and passed in; ``"small"``, a two-block CNN trained from scratch;
- :class:`PerClassModel` (the second methodology, used for FER2013): one network per class,
  each reading the class's probability map padded to the image size with the image's red and
  green channels, and giving the probability of its class against all others; the
  prediction is the class with the highest score;
- :class:`ImageCNN`: the image branch alone with a softmax head (the paper's VGG-16 baseline,
  Table 6).

Departure: the paper's L2 penalty (5e-4) on the convolutions is applied here as Adam's
``weight_decay`` on every parameter of the second model.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nesy import device as devices
from nesy.checks import integer, number, one_of
from nesy.training import train_epochs

from .patches import FeatureLayout, extract_patches, patch_positions
from .qil import QIL

__all__ = ["PatchMLP", "SecondModel", "AfterQIL", "PerClassModel", "ImageCNN", "fit", "predict_proba", "patch_probabilities",
           "IMAGE_BRANCHES"]

IMAGE_BRANCHES = ("small", "features", "vgg16")


class PatchMLP(nn.Module):
    """Patch classifier: logits [B, n_classes] from patches [B, patch_dim] and positions [B, 2].

    Positions (top-left row, col in pixels) are divided by ``max_position`` so they lie in [0, 1].
    """

    def __init__(self, patch_dim: int, n_classes: int, max_position: int):
        super().__init__()
        if patch_dim < 1 or n_classes < 2 or max_position < 1:
            raise ValueError(f"need patch_dim >= 1, n_classes >= 2, max_position >= 1; got {patch_dim}, {n_classes}, {max_position}")
        self.patch_branch = nn.Sequential(nn.Linear(patch_dim, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.position_branch = nn.Sequential(nn.Linear(2, 8), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(64 + 8, 64), nn.ReLU(), nn.Linear(64, n_classes))
        self.max_position = float(max_position)

    def forward(self, patches: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        where = positions.float() / self.max_position
        return self.head(torch.cat([self.patch_branch(patches), self.position_branch(where)], dim=1))


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.01), nn.MaxPool2d(2))


class _SmallImageBranch(nn.Module):
    """Two conv blocks (32, 64 channels) and dense 256: float [B, C, H, W] -> [B, 256]."""

    def __init__(self, channels: int, height: int, width: int, widths=(32, 64)):
        super().__init__()
        layers, c = [], channels
        for w in widths:
            layers.append(_conv_block(c, w))
            c = w
        self.features = nn.Sequential(*layers)
        side = (height // 2 ** len(widths)) * (width // 2 ** len(widths))
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(c * side, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3))

    def forward(self, x):
        return self.dense(self.features(x))


class _VGG16Branch(nn.Module):
    """torchvision VGG-16 features on the image resized to ``size`` (the paper: 224; gray repeated
    to 3 channels), dense 256."""

    def __init__(self, pretrained: bool, size: int = 224):
        super().__init__()
        self.size = int(size)
        import torchvision

        from nesy.preflight import random_weights

        # random weights: the profile dry-run tests only (nesy.preflight)
        weights = torchvision.models.VGG16_Weights.IMAGENET1K_V1 if pretrained and not random_weights() else None
        try:
            vgg = torchvision.models.vgg16(weights=weights)
        except Exception as exc:  # noqa: BLE001 - the download is the usual failure
            raise RuntimeError(
                "image_branch='vgg16' needs torchvision's ImageNet VGG-16 weights, which could not be loaded "
                f"({exc}); use a machine with internet or image_branch='small'"
            ) from exc
        self.features, self.pool = vgg.features, vgg.avgpool
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(512 * 7 * 7, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3))

    def forward(self, x):
        """x: pixels in [0, 1], float [B, C, H, W] (C = 1 or 3)."""
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.std
        return self.dense(self.pool(self.features(x)))


class _FeatureBranch(nn.Module):
    """Dense 256 (batch norm, ReLU, dropout 0.3) on a frozen backbone's features [B, F] -> [B, 256]."""

    def __init__(self, n_features: int):
        super().__init__()
        self.dense = nn.Sequential(nn.Linear(n_features, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3))

    def forward(self, features):
        return self.dense(features)


def _image_branch(kind: str, channels: int, height: int, width: int, pretrained: bool, widths=(32, 64),
                  n_image_features: int = 1280, backbone_size: int = 224) -> nn.Module:
    if kind == "small":
        return _SmallImageBranch(channels, height, width, tuple(widths))
    if kind == "vgg16":
        return _VGG16Branch(pretrained, backbone_size)
    if kind == "features":
        return _FeatureBranch(n_image_features)
    raise ValueError(f"image_branch must be one of {IMAGE_BRANCHES}, got {kind!r}")


class _QILInput(nn.Module):
    """The frozen QIL in front of a second model: rule features [B, D] -> float32 [B, D].

    With ``staircase`` (the paper's QIL) each feature becomes its step's value
    (:meth:`QIL.staircase`, standardised units), so what follows is a function of the steps;
    without it, the standardisation ``w x + b`` alone (the ablation).
    """

    def __init__(self, qil: QIL, staircase: bool):
        super().__init__()
        if not isinstance(qil, QIL):
            raise ValueError(f"qil must be a nesy.rules.QIL, got {type(qil).__name__}")
        if not isinstance(staircase, bool):
            raise ValueError(f"staircase must be True or False, got {staircase!r}")
        self.qil, self.staircase = qil, staircase
        self.register_buffer("w", qil.weights.float())
        self.register_buffer("b", qil.biases.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.staircase:
            return self.qil.staircase(x).to(x.device)
        return x * self.w + self.b

    def to_input(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised values z [B, D] back in the rule features' units (the features after the QIL)."""
        return (z - self.b) / self.w


class AfterQIL(nn.Module):
    """``SecondModel.from_steps`` as a module: trains the model on steps ``qil_input(x)`` computed once."""

    def __init__(self, model: "SecondModel"):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, image_features: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.from_steps(z, image_features)


class SecondModel(nn.Module):
    """The first methodology's second model: logits [B, n_classes] from rule features [B, layout.n_features].

    Parameters
    ----------
    layout : FeatureLayout
    qil : QIL
        The frozen QIL fitted on the training features (its hyperplanes are Fidex's).
    staircase : bool
        Apply the QIL's staircase (the paper; default) or only its standardisation (ablation).
    prob_widths : tuple of int
        Channels of the 3x3 convolutions over the upsampled probability grid (paper: 64, 128, 256).
    upsample : int
        Nearest-neighbour upsampling factor of the probability grid (paper: 2).
    image_branch : {"small", "features", "vgg16"}
        ``"features"``: the model's second input is a frozen backbone's features [B, F] of the
        image after the QIL (:func:`nesy.rules.backbone.image_after_qil`); the others read the
        image part of the rule features (standardised for ``"small"``, pixels for ``"vgg16"``).
    image_widths : tuple of int
        Channels of the small image branch's conv blocks (``"small"`` only).
    pretrained : bool
        ImageNet weights for the VGG-16 branch.
    n_image_features : int
        F, the width of the frozen backbone's features (``"features"`` only).
    """

    def __init__(self, layout: FeatureLayout, qil: QIL, *, staircase: bool = True, prob_widths=(64, 128, 256),
                 upsample: int = 2, image_branch: str = "small", image_widths=(32, 64), pretrained: bool = True,
                 n_image_features: int = 1280, backbone_size: int = 224):
        super().__init__()
        if not isinstance(qil, QIL) or qil.n_features != layout.n_features:
            raise ValueError(f"qil must be a QIL over the layout's {layout.n_features} features, got "
                             f"{getattr(qil, 'n_features', type(qil).__name__)}")
        if isinstance(upsample, bool) or not isinstance(upsample, int) or upsample < 1:
            raise ValueError(f"upsample must be an integer >= 1, got {upsample!r}")
        one_of("image_branch", image_branch, IMAGE_BRANCHES)
        self.layout, self.upsample, self.image_branch_kind = layout, upsample, image_branch
        self.qil_input = _QILInput(qil, staircase)
        rows, cols = layout.grid
        layers, c, h, w = [], layout.n_classes, upsample * rows, upsample * cols
        for width in prob_widths:
            layers.append(_conv_block(c, width))
            c, h, w = width, h // 2, w // 2
        self.prob_branch = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, 256), nn.BatchNorm1d(256),
                                         nn.LeakyReLU(0.01), nn.Dropout(0.4))
        self.image_branch = _image_branch(image_branch, layout.channels, layout.height, layout.width, pretrained,
                                          image_widths, n_image_features, backbone_size)
        self.head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 64),
                                  nn.ReLU(), nn.Linear(64, layout.n_classes))

    def forward(self, x: torch.Tensor, image_features: torch.Tensor | None = None) -> torch.Tensor:
        """x: rule features [B, D]; image_features: [B, F], required by (only) the ``"features"`` branch."""
        return self.from_steps(self.qil_input(x), image_features)

    def from_steps(self, z: torch.Tensor, image_features: torch.Tensor | None = None) -> torch.Tensor:
        """The model after its QIL: logits from ``z = self.qil_input(x)`` [B, D] (to train on precomputed steps)."""
        if (image_features is None) != (self.image_branch_kind != "features"):
            raise ValueError("image_features must be given exactly when image_branch='features'")
        grid, image = self.layout.split(z)
        if self.upsample > 1:
            grid = F.interpolate(grid, scale_factor=self.upsample, mode="nearest")
        if self.image_branch_kind == "features":
            seen = image_features
        elif self.image_branch_kind == "vgg16":  # pixels in [0, 1], as ImageNet weights expect
            seen = self.layout.split(self.qil_input.to_input(z))[1].clamp(0, 1)
        else:
            seen = image
        return self.head(torch.cat([self.prob_branch(grid), self.image_branch(seen)], dim=1))


class PerClassModel(nn.Module):
    """The second methodology: one network per class, logits [B, n_classes] (one-vs-rest).

    Network ``c`` reads the image made of the class-``c`` probability map (after the QIL, padded
    to the image size) and the image's red and green channels after the QIL
    (:func:`nesy.rules.backbone.class_map_images`): with ``image_branch="features"`` a frozen
    backbone's features [B, F] of it, otherwise the image itself [B, 3, H, W] through a small CNN
    or VGG-16; then dense 256 (batch norm, dropout 0.3) to one logit, the score of class ``c``
    against the rest. Trained with a one-vs-rest binary cross-entropy
    (``fit(..., loss="one_vs_rest")``); the prediction is the class with the highest score.
    ``output = "sigmoid"`` tells :func:`predict_proba` to return each class's probability.
    """

    output = "sigmoid"

    def __init__(self, n_classes: int, image_branch: str = "features", *, height: int = 0, width: int = 0,
                 image_widths=(32, 64), pretrained: bool = True, n_image_features: int = 1280, backbone_size: int = 224):
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        one_of("image_branch", image_branch, IMAGE_BRANCHES)
        self.nets = nn.ModuleList(
            nn.Sequential(_image_branch(image_branch, 3, height, width, pretrained, image_widths, n_image_features, backbone_size),
                          nn.Linear(256, 1))
            for _ in range(n_classes))

    def forward(self, class_inputs: torch.Tensor) -> torch.Tensor:
        """class_inputs: [B, n_classes, F] features or [B, n_classes, 3, H, W] images; row c is network c's."""
        if class_inputs.dim() not in (3, 5) or class_inputs.shape[1] != len(self.nets):
            raise ValueError(f"class_inputs must be [B, {len(self.nets)}, F] or [B, {len(self.nets)}, 3, H, W], "
                             f"got {tuple(class_inputs.shape)}")
        return torch.cat([net(class_inputs[:, c]) for c, net in enumerate(self.nets)], dim=1)


class ImageCNN(nn.Module):
    """The image-only baseline: logits [B, n_classes] from images float [B, C, H, W] in [0, 1]
    (or, with ``image_branch="features"``, from a frozen backbone's features [B, F])."""

    def __init__(self, channels: int, height: int, width: int, n_classes: int, image_branch: str = "small",
                 image_widths=(32, 64), pretrained: bool = True, n_image_features: int = 1280, backbone_size: int = 224):
        super().__init__()
        one_of("image_branch", image_branch, IMAGE_BRANCHES)
        self.branch = _image_branch(image_branch, channels, height, width, pretrained, image_widths, n_image_features,
                                    backbone_size)
        self.out = nn.Linear(256, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.out(self.branch(images))


def _one_vs_rest(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, F.one_hot(labels, logits.shape[1]).float())


LOSSES = {"cross_entropy": F.cross_entropy, "one_vs_rest": _one_vs_rest}


SCHEDULES = ("constant", "one_cycle")
SMALL_MODEL_THREADS = 1  # one thread trains the small networks fastest (nesy.device.cpu_threads)


def fit(model: nn.Module, inputs: tuple[torch.Tensor, ...], labels: torch.Tensor, *, epochs: int, batch_size: int,
        learning_rate: float, weight_decay: float = 0.0, seed: int = 0, progress: bool = False, desc: str = "train",
        loss: str = "cross_entropy", device: str | torch.device = "cpu", schedule: str = "constant",
        augment=None, label_smoothing: float = 0.0, threads: int | None = None) -> list[float]:
    """Train ``model(*inputs)`` with Adam; returns the mean loss of each epoch.

    loss: ``"cross_entropy"`` (softmax over the classes) or ``"one_vs_rest"`` (a binary
    cross-entropy per class logit against "this class or not", :class:`PerClassModel`).
    inputs: tensors with the same first dimension N as ``labels`` (int64 [N]). Batches are
    drawn in a seeded random order, so the same seed gives the same model.
    device: where the training runs (:func:`nesy.device.resolve`): the model is moved there for
    the call and back to where it was, each batch is moved there; the order is drawn on the CPU.
    schedule: ``"constant"`` (Adam at ``learning_rate``) or ``"one_cycle"`` (AdamW, the rate
    rising to ``learning_rate`` over the first 15% of the steps and annealed to ~0, for
    fine-tuning a pretrained network). augment: ``augment(batch, generator) -> batch`` on the
    CPU batch (a tuple of input tensors) before it moves to ``device``, drawing from the
    seeded generator. label_smoothing: of the cross-entropy (``loss="cross_entropy"`` only).
    threads: torch's CPU threads during the training (:func:`nesy.device.cpu_threads`; ``None``
    keeps torch's setting; :data:`SMALL_MODEL_THREADS` is the fastest for the small networks
    here: the patch MLP, the dense heads on cached features, the small CNNs).
    """
    integer("epochs", epochs, 1)
    integer("batch_size", batch_size, 1)
    number("learning_rate", learning_rate, 0.0, low_open=True)
    one_of("loss", loss, tuple(LOSSES))
    one_of("schedule", schedule, SCHEDULES)
    if not 0.0 <= label_smoothing < 1.0 or (label_smoothing and loss != "cross_entropy"):
        raise ValueError(f"label_smoothing must be in [0, 1) and only with loss='cross_entropy', got {label_smoothing!r}")
    criterion = LOSSES[loss]
    if label_smoothing:
        criterion = lambda logits, y: F.cross_entropy(logits, y, label_smoothing=label_smoothing)  # noqa: E731
    n = labels.shape[0]
    if any(t.shape[0] != n for t in inputs):
        raise ValueError(f"every input must have {n} rows, got {[tuple(t.shape) for t in inputs]}")
    generator = torch.Generator().manual_seed(int(seed))

    def batch_loss(idx):
        batch = tuple(t[idx] for t in inputs)
        if augment is not None:
            batch = augment(batch, generator)
        return criterion(model(*(t.to(device) for t in batch)), labels[idx].to(device))

    with devices.placed(model, device) as device, devices.cpu_threads(threads):
        trainable = [p for p in model.parameters() if p.requires_grad]
        if schedule == "one_cycle":
            optimiser = torch.optim.AdamW(trainable, lr=learning_rate, weight_decay=weight_decay)
            steps = epochs * sum(1 for a in range(0, n, batch_size) if min(batch_size, n - a) >= 2)
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=max(steps, 1),
                                                            pct_start=0.15)
        else:
            optimiser, scheduler = torch.optim.Adam(trainable, lr=learning_rate, weight_decay=weight_decay), None
        history = train_epochs(optimiser, batch_loss, n, epochs=epochs, batch_size=batch_size, generator=generator,
                               scheduler=scheduler, module=model, min_batch=2, mean_over=n, progress=bool(progress),
                               desc=desc)  # batch norm needs two samples
        model.eval()
    return history


@torch.no_grad()
def predict_proba(model: nn.Module, inputs: tuple[torch.Tensor, ...], batch_size: int = 1024,
                  device: str | torch.device = "cpu") -> torch.Tensor:
    """Class scores float32 [N, n_classes] on the CPU of ``model(*inputs)`` in eval mode: the softmax,
    or for a model with ``output = "sigmoid"`` (:class:`PerClassModel`) each class's own probability.
    The batches run on ``device`` (the model is moved there for the call and back)."""
    model.eval()
    n = inputs[0].shape[0]
    squash = torch.sigmoid if getattr(model, "output", "softmax") == "sigmoid" else (lambda t: F.softmax(t, dim=1))
    with devices.placed(model, device) as device:
        return torch.cat([squash(model(*(t[a : a + batch_size].to(device) for t in inputs))).cpu()
                          for a in range(0, n, batch_size)])


@torch.no_grad()
def patch_probabilities(model: PatchMLP, images: torch.Tensor, size: int, stride: int = 1, batch_images: int = 64,
                        device: str | torch.device = "cpu") -> torch.Tensor:
    """Every patch's class probabilities: float32 [N, rows, cols, n_classes] on the CPU for images
    float [N, C, H, W]. The patches are cut on the CPU and run through the model on ``device``
    (the model is moved there for the call and back)."""
    model.eval()
    n, _, h, w = images.shape
    positions = patch_positions(h, w, size, stride)
    rows, cols = (h - size) // stride + 1, (w - size) // stride + 1
    out = []
    with devices.placed(model, device) as device:
        for a in range(0, n, batch_images):
            patches = extract_patches(images[a : a + batch_images], size, stride)      # (B, P, F)
            b, p, f = patches.shape
            probs = F.softmax(model(patches.reshape(b * p, f).to(device), positions.repeat(b, 1).to(device)), dim=1)
            out.append(probs.reshape(b, rows, cols, -1).cpu())
    return torch.cat(out)


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Percentage of ``argmax(probs) == labels``."""
    return 100.0 * float((probs.argmax(1) == labels).float().mean()) if len(labels) else math.nan
