"""Table 1 of SMUG for one image: every method's saliency map or box, scored by LSC.

:func:`evaluate_image` runs, for one correctly classified image, SMUG (at one or more
gammas) and SMUG_base from the same first-layer IG, pixel IG, Grad-CAM, and the box
baselines GROUNDTRUTH, CENTERBOX, MAXBOX and OPTBOX, and returns each method's best LSC
(:mod:`nesy.saliency_metrics`) and sparsity. Aggregation over images (median, percentiles,
Win %) is :func:`nesy.saliency_metrics.lsc_summary` / :func:`~nesy.saliency_metrics.win_rates`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nesy import saliency_metrics as sm

from .attribution import first_layer_ig
from .linear import AffineConv
from .pipeline import SmugExplanation, explain_from_attributions

METHODS = ("SMUG", "SMUG_base", "GROUNDTRUTH", "IG", "GRADCAM", "CENTERBOX", "MAXBOX", "OPTBOX")


@dataclass
class ImageEvaluation:
    """lsc: method -> :class:`~nesy.saliency_metrics.LSCResult` (SMUG at the main gamma under
    ``"SMUG"``, at every gamma under ``"SMUG@<gamma>"``); sparsity: method -> fraction of
    pixels (maps: non-zero pixels; boxes: the box area; GROUNDTRUTH: the annotated pixels);
    explanations: gamma -> :class:`~nesy.smt.SmugExplanation`; maps: the IG and Grad-CAM
    maps ``(H, W)``; attributions: first-layer IG ``(O, H', W')``."""

    lsc: dict = field(default_factory=dict)
    sparsity: dict = field(default_factory=dict)
    explanations: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)
    attributions: torch.Tensor | None = None


def evaluate_image(
    model, lin: AffineConv, x: torch.Tensor, label: int, boxes, *, k: int = 3000, gammas=(0.0,), block: int = 4,
    ig_steps: int = 200, n_thresholds: int = 100, optbox_cells: int = 10, optbox_min_cells: int = 2,
    backend: str = "highs", timeout_s: float = 600.0, internal_batch_size: int = 8, attributions: torch.Tensor | None = None,
) -> ImageEvaluation:
    """Every Table 1 method on one image ``(3, H, W)`` (pixels in [0, 1]) of class `label`.

    gammas: SMUG is solved at each; the first is the main one (``lsc["SMUG"]``).
    boxes: the ground-truth boxes ``(n, 4)`` as ``(x0, y0, x1, y1)`` pixels.
    ig_steps: IG path points for both first-layer and pixel IG. n_thresholds: LSC threshold
    sweep length. optbox_cells / optbox_min_cells: OPTBOX's grid (the paper: 10 and 2).
    backend, timeout_s: the mask solver (``"highs"`` or ``"z3"``) and its limit.
    attributions: the image's first-layer IG ``(O, H', W')`` if already computed (it is the
    costly part; the same `ig_steps` are assumed), else computed here.
    """
    out = ImageEvaluation()
    size = tuple(x.shape[-2:])
    if attributions is None:
        _, attr = first_layer_ig(model, x[None], [label], n_steps=ig_steps, internal_batch_size=internal_batch_size)
        attributions = attr[0]
    out.attributions, attr = attributions, attributions[None]
    limit = {"timeout_s": timeout_s} if backend == "z3" else {"time_limit_s": timeout_s}
    for g in gammas:
        e: SmugExplanation = explain_from_attributions(lin, x, attr[0], k, g, block=block, backend=backend, **limit)
        out.explanations[g] = e
        out.lsc[f"SMUG@{g:g}"] = sm.lsc(model, x, e.smug, label, n_thresholds=n_thresholds)
        out.sparsity[f"SMUG@{g:g}"] = e.sparsity_smug
    main = out.explanations[gammas[0]]
    out.lsc["SMUG"], out.sparsity["SMUG"] = out.lsc[f"SMUG@{gammas[0]:g}"], main.sparsity_smug
    out.lsc["SMUG_base"] = sm.lsc(model, x, main.smug_base, label, n_thresholds=n_thresholds)
    out.sparsity["SMUG_base"] = main.sparsity_base
    out.maps["IG"] = sm.pixel_ig(model, x[None], [label], n_steps=ig_steps, internal_batch_size=internal_batch_size)[0]
    out.maps["GRADCAM"] = sm.grad_cam(model, x[None], [label])[0]
    for name in ("IG", "GRADCAM"):
        out.lsc[name] = sm.lsc(model, x, out.maps[name], label, n_thresholds=n_thresholds)
    out.lsc["GROUNDTRUTH"] = sm.ground_truth(model, x, boxes, label)
    out.sparsity["GROUNDTRUTH"] = float(sm.boxes_mask(boxes, size).double().mean())
    for name, fn in (("CENTERBOX", sm.centerbox), ("MAXBOX", sm.maxbox)):
        out.lsc[name] = fn(model, x, label)
        out.sparsity[name] = sm.box_sparsity(out.lsc[name].box, size)
    out.lsc["OPTBOX"] = sm.optbox(model, x, label, cells=optbox_cells, min_cells=optbox_min_cells)
    out.sparsity["OPTBOX"] = sm.box_sparsity(out.lsc["OPTBOX"].box, size)
    return out
