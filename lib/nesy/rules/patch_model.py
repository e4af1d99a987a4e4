"""The patch-rules paper's models: the patch MLP, the second model and the image-only CNN.

Boutay et al. (2025), Sect. 4.3.1:

- :class:`PatchMLP`: a patch branch (dense 128, dense 64) and a position branch (dense 8,
  fed the top-left ``(row, col)`` of the patch), merged into dense 64 and a softmax layer;
- :class:`SecondModel`: input = the rule features (patch-probability grid, then pixels; see
  :class:`~nesy.rules.patches.FeatureLayout`) after a frozen QIL-style standardisation. The
  probability grid is upsampled x2 and goes through 3x3 convolutions (64, 128, 256 in the
  paper; batch norm, LeakyReLU, max-pool 2) and dense 256 with dropout 0.4; the image goes
  through an image branch and dense 256 (batch norm, dropout 0.3); the two are merged into
  dense 256, 128, 64 and a softmax layer. The paper's image branch is VGG-16 on images
  resized to 224 (``image_branch="vgg16"``, torchvision's ImageNet weights: internet
  needed); ``"small"`` is a two-block CNN for CPUs;
- :class:`ImageCNN`: the image branch alone with a softmax head (the paper's VGG-16 baseline,
  Table 6).

Departure: the paper's L2 penalty (5e-4) on the convolutions is applied here as Adam's
``weight_decay`` on every parameter of the second model.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .patches import FeatureLayout, extract_patches, patch_positions

__all__ = ["PatchMLP", "SecondModel", "ImageCNN", "fit", "predict_proba", "patch_probabilities", "IMAGE_BRANCHES"]

IMAGE_BRANCHES = ("small", "vgg16")


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
    """torchvision VGG-16 features on the image resized to 224 (gray repeated to 3 channels), dense 256."""

    def __init__(self, pretrained: bool):
        super().__init__()
        import torchvision

        weights = torchvision.models.VGG16_Weights.IMAGENET1K_V1 if pretrained else None
        try:
            vgg = torchvision.models.vgg16(weights=weights)
        except Exception as exc:  # noqa: BLE001 - the download is the usual failure
            raise RuntimeError(
                "image_branch='vgg16' needs torchvision's ImageNet VGG-16 weights, which could not be loaded "
                f"({exc}); use a machine with internet or image_branch='small'"
            ) from exc
        self.features, self.pool = vgg.features, vgg.avgpool
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(512 * 7 * 7, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3))

    def forward(self, x):
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
        return self.dense(self.pool(self.features(x)))


def _image_branch(kind: str, channels: int, height: int, width: int, pretrained: bool, widths=(32, 64)) -> nn.Module:
    if kind == "small":
        return _SmallImageBranch(channels, height, width, tuple(widths))
    if kind == "vgg16":
        return _VGG16Branch(pretrained)
    raise ValueError(f"image_branch must be one of {IMAGE_BRANCHES}, got {kind!r}")


class SecondModel(nn.Module):
    """The second model: logits [B, n_classes] from rule features [B, layout.n_features].

    Parameters
    ----------
    layout : FeatureLayout
    weights, biases : Tensor[D]
        The frozen standardisation ``x * weights + biases`` (a :class:`~nesy.rules.QIL`'s
        ``weights`` and ``biases``, fitted on the training features).
    prob_widths : tuple of int
        Channels of the 3x3 convolutions over the upsampled probability grid (paper: 64, 128, 256).
    upsample : int
        Nearest-neighbour upsampling factor of the probability grid (paper: 2).
    image_branch : {"small", "vgg16"}
    image_widths : tuple of int
        Channels of the small image branch's conv blocks (ignored for VGG-16).
    pretrained : bool
        ImageNet weights for the VGG-16 branch.
    """

    def __init__(self, layout: FeatureLayout, weights: torch.Tensor, biases: torch.Tensor,
                 prob_widths=(64, 128, 256), upsample: int = 2, image_branch: str = "small",
                 image_widths=(32, 64), pretrained: bool = True):
        super().__init__()
        if weights.shape != (layout.n_features,) or biases.shape != (layout.n_features,):
            raise ValueError(f"weights and biases must have shape [{layout.n_features}], got {tuple(weights.shape)}, {tuple(biases.shape)}")
        self.layout = layout
        self.register_buffer("w", weights.detach().float().clone())
        self.register_buffer("b", biases.detach().float().clone())
        if isinstance(upsample, bool) or not isinstance(upsample, int) or upsample < 1:
            raise ValueError(f"upsample must be an integer >= 1, got {upsample!r}")
        self.upsample = upsample
        rows, cols = layout.grid
        layers, c, h, w = [], layout.n_classes, upsample * rows, upsample * cols
        for width in prob_widths:
            layers.append(_conv_block(c, width))
            c, h, w = width, h // 2, w // 2
        self.prob_branch = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, 256), nn.BatchNorm1d(256),
                                         nn.LeakyReLU(0.01), nn.Dropout(0.4))
        self.image_branch = _image_branch(image_branch, layout.channels, layout.height, layout.width, pretrained, image_widths)
        self.head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 64),
                                  nn.ReLU(), nn.Linear(64, layout.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x * self.w + self.b
        lay = self.layout
        rows, cols = lay.grid
        grid = z[:, : lay.n_prob].reshape(-1, rows, cols, lay.n_classes).permute(0, 3, 1, 2)
        if self.upsample > 1:
            grid = F.interpolate(grid, scale_factor=self.upsample, mode="nearest")
        image = z[:, lay.n_prob :].reshape(-1, lay.height, lay.width, lay.channels).permute(0, 3, 1, 2)
        return self.head(torch.cat([self.prob_branch(grid), self.image_branch(image)], dim=1))


class ImageCNN(nn.Module):
    """The image-only baseline: logits [B, n_classes] from images float [B, C, H, W] in [0, 1]."""

    def __init__(self, channels: int, height: int, width: int, n_classes: int, image_branch: str = "small",
                 image_widths=(32, 64), pretrained: bool = True):
        super().__init__()
        self.branch = _image_branch(image_branch, channels, height, width, pretrained, image_widths)
        self.out = nn.Linear(256, n_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.out(self.branch(images))


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def fit(model: nn.Module, inputs: tuple[torch.Tensor, ...], labels: torch.Tensor, *, epochs: int, batch_size: int,
        learning_rate: float, weight_decay: float = 0.0, seed: int = 0, progress: bool = False, desc: str = "train") -> list[float]:
    """Train ``model(*inputs)`` with cross-entropy and Adam; returns the mean loss of each epoch.

    inputs: tensors with the same first dimension N as ``labels`` (int64 [N]). Batches are
    drawn in a seeded random order, so the same seed gives the same model.
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    n = labels.shape[0]
    if any(t.shape[0] != n for t in inputs):
        raise ValueError(f"every input must have {n} rows, got {[tuple(t.shape) for t in inputs]}")
    generator = torch.Generator().manual_seed(int(seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc=desc, unit="epoch", leave=False)
    history = []
    model.train()
    for _ in epochs_iter:
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            loss = F.cross_entropy(model(*(t[idx] for t in inputs)), labels[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / n)
    model.eval()
    return history


@torch.no_grad()
def predict_proba(model: nn.Module, inputs: tuple[torch.Tensor, ...], batch_size: int = 1024) -> torch.Tensor:
    """Softmax outputs float32 [N, n_classes] of ``model(*inputs)`` in eval mode."""
    model.eval()
    n = inputs[0].shape[0]
    return torch.cat([F.softmax(model(*(t[a : a + batch_size] for t in inputs)), dim=1) for a in range(0, n, batch_size)])


@torch.no_grad()
def patch_probabilities(model: PatchMLP, images: torch.Tensor, size: int, stride: int = 1, batch_images: int = 64) -> torch.Tensor:
    """Every patch's class probabilities: float32 [N, rows, cols, n_classes] for images float [N, C, H, W]."""
    model.eval()
    n, _, h, w = images.shape
    positions = patch_positions(h, w, size, stride)
    rows, cols = (h - size) // stride + 1, (w - size) // stride + 1
    out = []
    for a in range(0, n, batch_images):
        patches = extract_patches(images[a : a + batch_images], size, stride)      # (B, P, F)
        b, p, f = patches.shape
        probs = F.softmax(model(patches.reshape(b * p, f), positions.repeat(b, 1)), dim=1)
        out.append(probs.reshape(b, rows, cols, -1))
    return torch.cat(out)


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Percentage of ``argmax(probs) == labels``."""
    return 100.0 * float((probs.argmax(1) == labels).float().mean()) if len(labels) else math.nan
