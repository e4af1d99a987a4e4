"""Saliency maps from chosen first-layer neurons: SMUG (Eq. 4) and SMUG_base; sparsity.

A pixel's score gathers the IG attributions of the chosen neurons whose receptive field
holds it: summed, as the paper's Eq. 4 writes it (``reduce="sum"``), or their maximum, as
the reference code computes it (``reduce="max"``). SMUG_base keeps every pixel of the
receptive fields; SMUG keeps only the pixels of the blocks the minimal mask keeps.
``rescale`` maps the non-zero scores to [0.5, 1] as the reference does for display
(minimum -> 0.5, 99th percentile and above -> 1).
"""

from __future__ import annotations

import numpy as np
import torch

from nesy.checks import one_of
from .linear import AffineConv

REDUCTIONS = ("sum", "max")


def receptive_field_map(lin: AffineConv, neurons, values, reduce: str = "sum") -> torch.Tensor:
    """float64 ``(H, W)``: per pixel, the sum (or max) of `values` over the neurons whose
    receptive field holds it; 0 where none does. neurons: flat channel-major indices
    ``(K,)``; values: ``(K,)`` (e.g. their attributions, positive)."""
    one_of("reduce", reduce, REDUCTIONS)
    neurons = np.asarray(torch.as_tensor(neurons).cpu(), dtype=np.int64).reshape(-1)
    values = torch.as_tensor(values, dtype=torch.float64).reshape(-1).cpu()
    if values.numel() != neurons.size:
        raise ValueError(f"{neurons.size} neurons but {values.numel()} values")
    height, width = lin.image_size
    rows, cols, valid = lin.taps(neurons)  # (K, kh, kw)
    # a neuron's pixel appears once per tap, so each (neuron, pixel) pair is counted once
    pix = torch.from_numpy((rows * width + cols)[valid])
    vals = values[:, None, None].expand(valid.shape)[torch.from_numpy(valid)]
    out = torch.zeros(height * width, dtype=torch.float64)
    if reduce == "sum":
        out.index_add_(0, pix, vals)
    else:
        out.scatter_reduce_(0, pix, vals, reduce="amax", include_self=False)
    return out.reshape(height, width)


def pixel_mask(block_mask, block: int, image_size: tuple[int, int]) -> torch.Tensor:
    """bool ``(H, W)`` from a block grid ``(rows, cols)`` of ``block x block`` squares."""
    grid = torch.as_tensor(np.asarray(block_mask), dtype=torch.bool)
    full = grid.repeat_interleave(block, 0).repeat_interleave(block, 1)
    return full[: image_size[0], : image_size[1]]


def rescale(saliency: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """The reference's display scaling: non-zero scores s -> ``0.5 + 0.5 * v`` with
    ``v = clip((s - min) / (p - min), 0, 1)``, min and the `percentile` p over the non-zero
    scores; zeros stay 0. Order-preserving except that scores above p tie at 1."""
    out = torch.zeros_like(saliency, dtype=torch.float64)
    nz = saliency != 0
    if not bool(nz.any()):
        return out
    vals = saliency[nz].double()
    low, high = vals.min(), torch.quantile(vals, percentile / 100.0)
    v = torch.ones_like(vals) if high <= low else ((vals - low) / (high - low)).clamp(0, 1)
    out[nz] = 0.5 + 0.5 * v
    return out


def smug_base_saliency(lin: AffineConv, neurons, attributions, *, reduce: str = "sum", scale: bool = True) -> torch.Tensor:
    """SMUG_base: every pixel in the receptive fields of the chosen neurons, scored from
    their attributions (``(K,)``, in the order of `neurons`). float64 ``(H, W)``."""
    score = receptive_field_map(lin, neurons, attributions, reduce)
    return rescale(score) if scale else score


def smug_saliency(
    lin: AffineConv, neurons, attributions, block_mask, block: int, *, reduce: str = "sum", scale: bool = True
) -> torch.Tensor:
    """SMUG (Eq. 4): the SMUG_base scores kept only inside the minimal mask's blocks
    (scaled over the whole SMUG_base map first, then masked, as the reference).
    block_mask: bool block grid from the solver (all False -> an all-zero map)."""
    score = receptive_field_map(lin, neurons, attributions, reduce)
    if scale:
        score = rescale(score)
    return score * pixel_mask(block_mask, block, lin.image_size)


def sparsity(saliency: torch.Tensor) -> float:
    """Fraction of pixels with a non-zero score (SMUG's "sparsity", lower is sparser)."""
    return float((saliency != 0).double().mean())
