"""Patch datasets and the rule features of the patch-rules paper.

Boutay et al., "Explaining CNN classifications using small patches" (2025), Sect. 3.3: every
``size x size`` patch of an image, taken from the top left with a stride (7x7, stride 1 for
MNIST and CIFAR-10; 8x8 for FER2013), together with the position of its top-left pixel. A
patch MLP gives each patch a class-probability vector; the second model (and the rules) see
the grid of those probabilities, then the raw pixels. Feature order, as in the authors'
code: probabilities in (row, col, class) order, then pixels in (row, col, channel) order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["grid_shape", "extract_patches", "patch_positions", "PatchDataset", "patch_dataset", "FeatureLayout", "rule_features", "as_float_images"]


def _check_size(size, stride, height, width):
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if size > min(height, width):
        raise ValueError(f"size ({size}) must not exceed the image ({height}x{width})")


def grid_shape(height: int, width: int, size: int, stride: int = 1) -> tuple[int, int]:
    """Number of patch rows and columns: ``(floor((H - size) / stride) + 1, floor((W - size) / stride) + 1)``."""
    _check_size(size, stride, height, width)
    return (height - size) // stride + 1, (width - size) // stride + 1


def as_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 images [N, H, W] (gray) or [N, H, W, C] -> float32 [N, C, H, W] in [0, 1]."""
    if images.dim() == 3:
        images = images.unsqueeze(-1)
    if images.dim() != 4:
        raise ValueError(f"images must be [N, H, W] or [N, H, W, C], got shape {tuple(images.shape)}")
    x = images.permute(0, 3, 1, 2).contiguous()
    return x.float() / 255.0 if x.dtype == torch.uint8 else x.float()


def patch_positions(height: int, width: int, size: int, stride: int = 1) -> torch.Tensor:
    """Top-left ``(row, col)`` of every patch, int64 [P, 2], rows first (the order of :func:`extract_patches`)."""
    rows, cols = grid_shape(height, width, size, stride)
    r, c = torch.meshgrid(torch.arange(rows) * stride, torch.arange(cols) * stride, indexing="ij")
    return torch.stack([r.reshape(-1), c.reshape(-1)], dim=1)


def extract_patches(images: torch.Tensor, size: int, stride: int = 1) -> torch.Tensor:
    """Every patch of every image.

    images: float [N, C, H, W]. Returns float [N, P, C * size * size] with P = rows * cols,
    patches in row-major position order; each patch flattened in (channel, row, col) order.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be [N, C, H, W], got shape {tuple(images.shape)}")
    _check_size(size, stride, images.shape[2], images.shape[3])
    return F.unfold(images, kernel_size=size, stride=stride).transpose(1, 2).contiguous()


@dataclass
class PatchDataset:
    """Patches with their positions and the label of their image.

    patches: float32 [M, C * size * size]; positions: int64 [M, 2] (top-left row, col);
    labels: int64 [M]; image_index: int64 [M] (which image each patch comes from).
    """

    patches: torch.Tensor
    positions: torch.Tensor
    labels: torch.Tensor
    image_index: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def patch_dataset(images: torch.Tensor, labels: torch.Tensor, size: int, stride: int = 1,
                  per_image: int | None = None, seed: int = 0) -> PatchDataset:
    """The patch dataset of ``images`` (float [N, C, H, W]) and their ``labels`` [N].

    per_image: keep only this many patches per image, drawn without replacement (seeded);
    None keeps all ``rows * cols`` (the paper's setting).
    """
    n, _, h, w = images.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape [{n}], got {tuple(labels.shape)}")
    positions = patch_positions(h, w, size, stride)
    p = positions.shape[0]
    if per_image is not None and (isinstance(per_image, bool) or not isinstance(per_image, (int, np.integer)) or per_image < 1):
        raise ValueError(f"per_image must be None or an integer >= 1, got {per_image!r}")
    generator = torch.Generator().manual_seed(int(seed))
    parts, pos, lab, idx = [], [], [], []
    for start in range(0, n, 256):
        chunk = extract_patches(images[start : start + 256], size, stride)     # (B, P, F)
        b = chunk.shape[0]
        if per_image is None or per_image >= p:
            choice = torch.arange(p).expand(b, p)
        else:
            choice = torch.argsort(torch.rand(b, p, generator=generator), dim=1)[:, :per_image]
        k = choice.shape[1]
        parts.append(torch.gather(chunk, 1, choice.unsqueeze(-1).expand(b, k, chunk.shape[2])).reshape(b * k, -1))
        pos.append(positions[choice.reshape(-1)])
        image = torch.arange(start, start + b).repeat_interleave(k)
        idx.append(image)
        lab.append(labels[image])
    return PatchDataset(torch.cat(parts), torch.cat(pos), torch.cat(lab), torch.cat(idx))


@dataclass(frozen=True)
class FeatureLayout:
    """Where each rule feature comes from: patch probabilities (row, col, class), then pixels (row, col, channel).

    Feature ``j < n_prob`` is the probability of class ``j % n_classes`` for the patch whose
    top-left pixel is at row ``stride * (j // (n_classes * cols))``, column
    ``stride * ((j // n_classes) % cols)``; feature ``n_prob + k`` is pixel ``k`` of the image
    in (row, col, channel) order, scaled to [0, 1].
    """

    height: int
    width: int
    channels: int
    patch_size: int
    stride: int
    n_classes: int

    @property
    def grid(self) -> tuple[int, int]:
        return grid_shape(self.height, self.width, self.patch_size, self.stride)

    @property
    def n_prob(self) -> int:
        rows, cols = self.grid
        return rows * cols * self.n_classes

    @property
    def n_pixels(self) -> int:
        return self.height * self.width * self.channels

    @property
    def n_features(self) -> int:
        return self.n_prob + self.n_pixels

    def split(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rule features [N, D] -> (probability grid [N, n_classes, rows, cols], image [N, C, H, W]).

        The inverse of :func:`rule_features` (any per-feature transform of them keeps its place).
        """
        rows, cols = self.grid
        grid = features[:, : self.n_prob].reshape(-1, rows, cols, self.n_classes).permute(0, 3, 1, 2)
        image = features[:, self.n_prob :].reshape(-1, self.height, self.width, self.channels).permute(0, 3, 1, 2)
        return grid, image

    def describe(self, j: int) -> dict:
        """``{"kind": "patch", "row", "col", "cls"}`` or ``{"kind": "pixel", "row", "col", "channel"}`` for feature ``j``."""
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < self.n_features:
            raise ValueError(f"feature index must be an integer in [0, {self.n_features}), got {j!r}")
        j = int(j)
        if j < self.n_prob:
            _, cols = self.grid
            cell, cls = divmod(j, self.n_classes)
            r, c = divmod(cell, cols)
            return {"kind": "patch", "row": r * self.stride, "col": c * self.stride, "cls": cls}
        k = j - self.n_prob
        pixel, channel = divmod(k, self.channels)
        r, c = divmod(pixel, self.width)
        return {"kind": "pixel", "row": r, "col": c, "channel": channel}

    def text(self, attribute: int, ge: bool, value: float, class_names=None, channel_names=("R", "G", "B")) -> str:
        """The antecedent in words, exactly (threshold to 4 decimals)."""
        d = self.describe(attribute)
        op = ">=" if ge else "<"
        if d["kind"] == "patch":
            name = class_names[d["cls"]] if class_names is not None else str(d["cls"])
            return f"P({name}) of {self.patch_size}x{self.patch_size} patch at (row {d['row']}, col {d['col']}) {op} {value:.4f}"
        where = f"pixel (row {d['row']}, col {d['col']})"
        if self.channels > 1:
            where += f" {channel_names[d['channel']]}"
        return f"{where} {op} {value:.4f}"


def rule_features(prob_grid: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """The second model's (and the rules') input: probabilities then pixels, float32 [N, D].

    prob_grid: [N, rows, cols, n_classes] patch probabilities; images: float [N, C, H, W] in
    [0, 1]. D = rows * cols * n_classes + H * W * C (see :class:`FeatureLayout`).
    """
    if prob_grid.dim() != 4 or images.dim() != 4 or prob_grid.shape[0] != images.shape[0]:
        raise ValueError(f"prob_grid must be [N, rows, cols, classes] and images [N, C, H, W] with the same N, got "
                         f"{tuple(prob_grid.shape)} and {tuple(images.shape)}")
    n = prob_grid.shape[0]
    return torch.cat([prob_grid.reshape(n, -1), images.permute(0, 2, 3, 1).reshape(n, -1)], dim=1).float()
