"""Table 1 of SMUG for one image: every method's saliency map or box, scored by LSC.

:func:`evaluate_image` runs, for one correctly classified image, SMUG (in one or more
variants: constraint mode x gamma) and SMUG_base from the same first-layer IG, pixel IG,
Grad-CAM, and the box baselines GROUNDTRUTH, CENTERBOX, MAXBOX and OPTBOX, and returns each method's best LSC
(:mod:`nesy.saliency_metrics`) and sparsity. Aggregation over images (median, percentiles,
Win %) is :func:`nesy.saliency_metrics.lsc_summary` / :func:`~nesy.saliency_metrics.win_rates`.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from nesy import device as devices
from nesy import saliency_metrics as sm
from nesy.checks import one_of

from .attribution import first_layer_ig
from .pipeline import SmugExplanation, explain_from_attributions

METHODS = ("SMUG", "SMUG_base", "GROUNDTRUTH", "IG", "GRADCAM", "CENTERBOX", "MAXBOX", "OPTBOX")


BOX_SEARCHES = ("pruned", "exhaustive")


def variant_key(constraint: str, gamma: float) -> str:
    """The ``lsc`` / ``sparsity`` key of SMUG in one constraint mode at one gamma."""
    return f"SMUG@{constraint}:{gamma:g}"


@dataclass
class ImageEvaluation:
    """lsc: method -> :class:`~nesy.saliency_metrics.LSCResult` (SMUG's main variant under
    ``"SMUG"``, every variant under :func:`variant_key`); sparsity: method -> fraction of
    pixels (maps: non-zero pixels; boxes: the box area; GROUNDTRUTH: the annotated pixels);
    explanations: ``(constraint, gamma)`` -> :class:`~nesy.smt.SmugExplanation`; maps: the
    IG and Grad-CAM maps ``(H, W)``; attributions: first-layer IG ``(O, H', W')``;
    seconds: wall time per stage; n_forward: crops the image's :class:`BoxScorer` forwarded."""

    lsc: dict = field(default_factory=dict)
    sparsity: dict = field(default_factory=dict)
    explanations: dict = field(default_factory=dict)
    maps: dict = field(default_factory=dict)
    attributions: torch.Tensor | None = None
    seconds: dict = field(default_factory=dict)
    n_forward: int = 0


class _Clock:
    def __init__(self, seconds: dict):
        self.seconds = seconds

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        yield
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


def evaluate_image(
    model, lin, x: torch.Tensor, label: int, boxes, *, k: int = 3000, gammas=(0.0,), variants=None, block: int = 4,
    ig_steps: int = 200, n_thresholds: int = 100, optbox_cells: int = 10, optbox_min_cells: int = 2,
    backend: str = "highs", timeout_s: float = 600.0, internal_batch_size: int = 16, attributions: torch.Tensor | None = None,
    top_k_rule: str = "reference", crop_normalise: str = "minmax", box_search: str = "pruned", forward=None,
    device: str | torch.device = "cpu",
) -> ImageEvaluation:
    """Every Table 1 method on one image ``(3, H, W)`` (pixels in [0, 1]) of class `label`.

    lin: the first layer as :func:`~nesy.smt.linear.linearise` gives it, or a mapping
    constraint mode -> that (to solve SMUG in several modes on the same IG).
    variants: ``(constraint, gamma)`` pairs SMUG is solved at; the first is the main one
    (``lsc["SMUG"]``). Default: `lin`'s mode at each of `gammas`.
    boxes: the ground-truth boxes ``(n, 4)`` as ``(x0, y0, x1, y1)`` pixels.
    ig_steps: IG path points for both first-layer and pixel IG. n_thresholds: LSC threshold
    sweep length. optbox_cells / optbox_min_cells: OPTBOX's grid (the paper: 10 and 2).
    backend, timeout_s: the mask solver (``"highs"`` or ``"z3"``) and its limit.
    attributions: the image's first-layer IG ``(O, H', W')`` if already computed (it is the
    costly part; the same `ig_steps` are assumed), else computed here. top_k_rule,
    crop_normalise: see :func:`~nesy.smt.attribution.top_k_neurons` and
    :func:`~nesy.saliency_metrics.crop_resize`. box_search: ``"pruned"`` (every method's
    boxes share one :class:`~nesy.saliency_metrics.BoxScorer`, so a box two methods propose is
    forwarded once, and boxes that cannot win are skipped) or ``"exhaustive"`` (one scorer per
    method, every box forwarded: the same scores, slower; for benchmarks and tests).
    forward: what the crops go through (default `model`; e.g. :func:`nesy.inference.fast_forward`
    of it: the same network on ONNX Runtime). IG and Grad-CAM always use `model`.
    device: where first-layer IG, pixel IG and Grad-CAM run (:func:`nesy.device.resolve`; `model`
    is moved there for each and back). The crops go through `forward` (give
    ``fast_forward(model, device=device)`` to run them there too) or else through `model` on its
    own device; the mask solvers run on the CPU.
    """
    one_of("box_search", box_search, BOX_SEARCHES)
    lins = dict(lin) if isinstance(lin, Mapping) else {lin.constraint: lin}
    if variants is None:
        variants = [(next(iter(lins)), float(g)) for g in gammas]
    variants = [(str(mode), float(g)) for mode, g in variants]
    missing = sorted({mode for mode, _ in variants} - set(lins))
    if missing:
        raise ValueError(f"variants use constraint modes {missing} but lin has only {sorted(lins)}")
    out = ImageEvaluation()
    clock = _Clock(out.seconds)
    size = tuple(x.shape[-2:])
    if attributions is None:
        with clock("first-layer IG"):
            _, attr = first_layer_ig(model, x[None], [label], n_steps=ig_steps, internal_batch_size=internal_batch_size,
                                     device=device)
            attributions = attr[0]
    out.attributions = attributions
    crops_through = model if forward is None else forward
    crops_to = devices.of(model) if forward is None and isinstance(model, torch.nn.Module) else devices.CPU
    shared = sm.BoxScorer(crops_through, x, label, crop_normalise=crop_normalise, device=crops_to)
    scorers: list = [shared]

    def scorer_for_method():
        if box_search == "pruned":
            return shared
        scorers.append(sm.BoxScorer(crops_through, x, label, crop_normalise=crop_normalise, prune=False, device=crops_to))
        return scorers[-1]

    limit = {"timeout_s": timeout_s} if backend == "z3" else {"time_limit_s": timeout_s}
    for mode, g in variants:
        with clock("mask solve"):
            e: SmugExplanation = explain_from_attributions(lins[mode], x, attributions, k, g, block=block, backend=backend,
                                                           top_k_rule=top_k_rule, **limit)
        out.explanations[(mode, g)] = e
        with clock("LSC: SMUG"):
            out.lsc[variant_key(mode, g)] = sm.lsc(model, x, e.smug, label, n_thresholds=n_thresholds, scorer=scorer_for_method())
        out.sparsity[variant_key(mode, g)] = e.sparsity_smug
    main = out.explanations[variants[0]]
    out.lsc["SMUG"], out.sparsity["SMUG"] = out.lsc[variant_key(*variants[0])], main.sparsity_smug
    with clock("LSC: SMUG_base"):
        out.lsc["SMUG_base"] = sm.lsc(model, x, main.smug_base, label, n_thresholds=n_thresholds, scorer=scorer_for_method())
    out.sparsity["SMUG_base"] = main.sparsity_base
    with clock("pixel IG"):
        out.maps["IG"] = sm.pixel_ig(model, x[None], [label], n_steps=ig_steps, internal_batch_size=internal_batch_size,
                                     device=device)[0]
    with clock("Grad-CAM"):
        out.maps["GRADCAM"] = sm.grad_cam(model, x[None], [label], device=device)[0]
    for name in ("IG", "GRADCAM"):
        with clock(f"LSC: {name}"):
            out.lsc[name] = sm.lsc(model, x, out.maps[name], label, n_thresholds=n_thresholds, scorer=scorer_for_method())
    with clock("LSC: boxes"):
        out.lsc["GROUNDTRUTH"] = sm.ground_truth(model, x, boxes, label, scorer=scorer_for_method())
        for name, fn in (("CENTERBOX", sm.centerbox), ("MAXBOX", sm.maxbox)):
            out.lsc[name] = fn(model, x, label, scorer=scorer_for_method())
    out.sparsity["GROUNDTRUTH"] = float(sm.boxes_mask(boxes, size).double().mean())
    for name in ("CENTERBOX", "MAXBOX"):
        out.sparsity[name] = sm.box_sparsity(out.lsc[name].box, size)
    with clock("OPTBOX"):
        out.lsc["OPTBOX"] = sm.optbox(model, x, label, cells=optbox_cells, min_cells=optbox_min_cells, scorer=scorer_for_method())
    out.sparsity["OPTBOX"] = sm.box_sparsity(out.lsc["OPTBOX"].box, size)
    out.n_forward = sum(s.n_forward for s in scorers)
    return out
