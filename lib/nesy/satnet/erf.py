"""Effective receptive fields (Luo et al. 2016) of feature-map positions, and their outlines.

Luo et al. define the ERF of an output unit as the gradient of that unit with respect to the
input pixels (back-propagating 1 at the unit and 0 elsewhere). For a feature *vector* at
position (h, w) we back-propagate 1 on every channel at (h, w), i.e. the gradient of
``sum_k f[k, h, w]``, and take its absolute value summed over the colour channels. Luo et al.
average over many images; the MSF figures need the ERF of one image's features, so
:func:`effective_receptive_fields` returns one map per image (average them for Luo's form).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nesy import device as devices


def effective_receptive_fields(extractor: nn.Module, images: torch.Tensor, on_progress=None,
                               device: str | torch.device = "cpu") -> torch.Tensor:
    """ERF maps of every feature position, for each image.

    Parameters
    ----------
    extractor : pixels ``(B, C, S, S)`` -> feature map ``(B, K, H, W)`` (frozen, eval mode).
    images : (B, C, S, S) float, the extractor's input.
    on_progress : optional callable(done, total) after every position.
    device : where the gradients are computed (:func:`nesy.device.resolve`); the extractor is
        moved there for the call and back.

    Returns
    -------
    Tensor (B, H*W, S, S) float32 on the CPU: ``|d sum_k f[b, k, h, w] / d x_b|`` summed over colour
    channels, position ``h * W + w``. (In eval mode the images of a batch are independent,
    so one backward pass per position gives every image's map.)
    """
    with devices.placed(extractor, device) as device, torch.enable_grad():
        x = images.detach().to(device).clone().requires_grad_(True)
        fmap = extractor(x)
        _, _, H, W = fmap.shape
        out = torch.empty(images.shape[0], H * W, images.shape[2], images.shape[3])
        for pos in range(H * W):
            (grad,) = torch.autograd.grad(fmap[:, :, pos // W, pos % W].sum(), x, retain_graph=pos < H * W - 1)
            out[:, pos] = grad.abs().sum(1).cpu()
            if on_progress is not None:
                on_progress(pos + 1, H * W)
    return out


def erf_outlines(maps: torch.Tensor, mass: float = 0.5, smooth: int = 9) -> torch.Tensor:
    """An ellipse per ERF: the region holding `mass` of the (box-smoothed) gradient mass.

    maps : (..., S, S) ERF maps. The map is smoothed with a ``smooth x smooth`` box filter,
    the smallest set of pixels holding `mass` of the total is taken, and the ellipse is that
    region's centroid and 2 x its standard deviation along x and y.

    Returns
    -------
    Tensor (..., 4) float32: ``(cx, cy, rx, ry)`` in pixels (x = column, y = row).
    """
    if not 0.0 < mass <= 1.0:
        raise ValueError(f"mass must be in (0, 1]; got {mass!r}")
    lead, (S1, S2) = maps.shape[:-2], maps.shape[-2:]
    m = maps.reshape(-1, 1, S1, S2).float()
    if smooth > 1:
        m = F.avg_pool2d(m, smooth, stride=1, padding=smooth // 2, count_include_pad=False)
    flat = m.flatten(1)
    values, _ = flat.sort(1, descending=True)
    cum = values.cumsum(1) / values.sum(1, keepdim=True).clamp(min=1e-30)
    cut = (cum < mass).sum(1).clamp(max=flat.shape[1] - 1)
    level = values.gather(1, cut[:, None])
    region = (flat >= level).float().reshape(-1, S1, S2)
    ys = torch.arange(S1, dtype=torch.float32)[None, :, None]
    xs = torch.arange(S2, dtype=torch.float32)[None, None, :]
    w = region / region.sum((1, 2), keepdim=True)
    cx, cy = (w * xs).sum((1, 2)), (w * ys).sum((1, 2))
    rx = 2 * ((w * (xs - cx[:, None, None]) ** 2).sum((1, 2))).sqrt()
    ry = 2 * ((w * (ys - cy[:, None, None]) ** 2).sum((1, 2))).sqrt()
    return torch.stack([cx, cy, rx, ry], -1).reshape(*lead, 4)
