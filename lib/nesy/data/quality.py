"""Image-quality checks on a dataset copy: how sharp its images are."""
from __future__ import annotations

import torch

__all__ = ["sharpness"]


def sharpness(images: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    """Mean absolute difference between horizontal neighbours, per image: float32 [N] (grey levels).

    images: uint8 [N, H, W] or [N, H, W, C]. A blurred or heavily compressed copy of the same
    kind of images scores lower (for FER2013's faces, a few grey levels against ten or more).
    """
    if images.dim() not in (3, 4) or images.shape[0] == 0 or images.shape[2] < 2:
        raise ValueError(f"images must be [N, H, W] or [N, H, W, C] with N >= 1 and W >= 2, got {tuple(images.shape)}")
    out = []
    for start in range(0, images.shape[0], batch):
        x = images[start : start + batch].float()
        out.append((x[:, :, 1:] - x[:, :, :-1]).abs().flatten(1).mean(1))
    return torch.cat(out)
