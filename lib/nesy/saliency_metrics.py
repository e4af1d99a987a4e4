"""Scoring saliency maps and boxes: LSC (Dabkowski & Gal 2017, SMUG's Eq. 5), Win%, sparsity,
the box baselines (CENTERBOX, MAXBOX, OPTBOX, GROUNDTRUTH) and the pixel-IG / Grad-CAM maps.

Public API::

    lsc_score(area, confidence) -> log(max(0.05, a)) - log(c)
    tight_box(mask) -> Box | None;  crop_resize(x, box) -> Tensor
    BoxScorer(model, x, label)                                   # one image's crops, each forwarded once
    score_boxes(model, x, boxes, label) -> list[LSCResult]        # batched forward passes
    lsc(model, x, saliency, label=None, n_thresholds=100) -> LSCResult   # threshold sweep
    optbox(model, x, label=None, cells=10, min_cells=2) -> LSCResult     # grid brute force
    centerbox(model, x, label=None), maxbox(model, x, label=None), ground_truth(model, x, boxes, label=None)
    boxes_mask(boxes, size) -> bool map;  box_sparsity(box, size)
    win_rates(scores) -> {method: (percent, ci)};  lsc_summary(scores) -> (median, p75, p25)
    contrast_examples(scores, method, against, n_wins, n_losses) -> (wins, losses)   # Fig. 1 / 10 / 11 picks
    proportion_ci(p, n), wilson_interval(p, n), mean_ci(values)
    pixel_ig(model, x, target, n_steps=200) -> (N, H, W);  grad_cam(model, x, target) -> (N, H, W)

Conventions: ``model`` maps pixels ``(N, 3, H, W)`` in [0, 1] to logits (a
:class:`nesy.models.SplitModel`); ``x`` is one image ``(3, H, W)``; a :class:`Box` is
``(y0, x0, y1, x1)`` in pixels with exclusive ends; ``label`` is the class whose softmax
confidence c is read on the crop, by default the model's prediction on the whole image
(the images are the correctly classified ones, so this is also the true label).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from nesy import device as devices
from nesy.checks import one_of

MIN_AREA = 0.05


class Box(NamedTuple):
    """Pixel box ``[y0, y1) x [x0, x1)``."""

    y0: int
    x0: int
    y1: int
    x1: int

    def area(self, size: tuple[int, int]) -> float:
        """Fraction of an image of ``(H, W)`` pixels."""
        return (self.y1 - self.y0) * (self.x1 - self.x0) / (size[0] * size[1])


@dataclass(frozen=True)
class LSCResult:
    """score: the LSC (lower is better; NaN when the map is all zero, so no box exists).
    box, area (fraction a), confidence (c on the resized crop), threshold (map threshold
    that gave the best box; None for box baselines), n_boxes (distinct candidate boxes),
    n_scored (boxes whose confidence the search needed; the rest could not win)."""

    score: float
    box: Box | None
    area: float
    confidence: float
    threshold: float | None = None
    n_boxes: int = 0
    n_scored: int = 0


def lsc_score(area: float, confidence: float) -> float:
    """``log(max(0.05, a)) - log(c)`` (Eq. 5)."""
    return math.log(max(MIN_AREA, area)) - math.log(max(confidence, 1e-30))


def tight_box(mask) -> Box | None:
    """The smallest box holding every True pixel of a bool ``(H, W)`` map (None if none)."""
    mask = torch.as_tensor(mask, dtype=torch.bool)
    rows, cols = torch.nonzero(mask.any(1)).reshape(-1), torch.nonzero(mask.any(0)).reshape(-1)
    if rows.numel() == 0:
        return None
    return Box(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


CROP_NORMALISATIONS = ("minmax", "none")


def crop_resize(x: torch.Tensor, box: Box, normalise: str = "none") -> torch.Tensor:
    """The box of image ``(3, H, W)`` resized back to ``(3, H, W)`` (bilinear).

    normalise: ``"minmax"`` stretches the resized crop to [0, 1] over all its values, as the
    reference does before every forward pass (``process_model_input``); ``"none"`` keeps
    the pixels as they are."""
    one_of("normalise", normalise, CROP_NORMALISATIONS)
    crop = x[:, box.y0 : box.y1, box.x0 : box.x1][None]
    out = F.interpolate(crop, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[0]
    if normalise == "minmax":
        low, high = out.min(), out.max()
        if high > low:
            out = (out - low) / (high - low)
    return out


@torch.no_grad()
def _predicted(model, x: torch.Tensor, device: torch.device = devices.CPU) -> int:
    return int(model(x[None].to(device)).argmax(1))


class BoxScorer:
    """LSC of boxes of one image ``(3, H, W)``, each distinct box forwarded once.

    Every method of Table 1 asks for the best LSC over its own boxes (a map's threshold
    sweep, OPTBOX's grid); one scorer per image shares the forward passes between them
    (:attr:`confidence` caches them, :attr:`n_forward` counts them). :meth:`best` is exact
    but skips boxes that cannot win: the confidence is at most 1, so a box of area a scores
    at least ``log(max(0.05, a))``; boxes are visited by increasing bound, in batches, and the
    search stops when the next bound exceeds the best score found.

    model: pixels ``(N, 3, H, W)`` -> logits; a module or any callable, e.g.
    :func:`nesy.inference.fast_forward` (no gradients are needed here).
    label: the class whose softmax confidence is read (default: the model's prediction on
    the whole image). crop_normalise: see :func:`crop_resize`. batch_size: crops per pass.
    prune: False scores every box (the exhaustive search; same result, for comparison).
    device: where the crops are sent (cut on the CPU): the device of a module `model` (this
    class does not move it); a :func:`nesy.inference.fast_forward` callable takes CPU crops.
    """

    def __init__(self, model, x: torch.Tensor, label: int | None = None, *, crop_normalise: str = "minmax", batch_size: int = 32,
                 prune: bool = True, device: str | torch.device = "cpu"):
        one_of("crop_normalise", crop_normalise, CROP_NORMALISATIONS)
        if x.dim() != 3:
            raise ValueError(f"x must be one image (3, H, W); got shape {list(x.shape)}")
        self.model, self.x, self.batch_size, self.crop_normalise = model, x, int(batch_size), crop_normalise
        self.device = devices.resolve(device)
        self.label = _predicted(model, x, self.device) if label is None else int(label)
        self.size = tuple(x.shape[-2:])
        self.confidence: dict[Box, float] = {}
        self.n_forward = 0
        self.prune = bool(prune)

    @torch.no_grad()
    def _forward(self, boxes: list[Box]) -> None:
        for start in range(0, len(boxes), self.batch_size):
            chunk = boxes[start : start + self.batch_size]
            crops = torch.stack([crop_resize(self.x, b, self.crop_normalise) for b in chunk]).to(self.device)
            if isinstance(self.model, torch.nn.Module):
                crops = crops.contiguous(memory_format=torch.channels_last)  # faster convolutions on CPU
            conf = F.softmax(self.model(crops), dim=1)[:, self.label].tolist()
            self.confidence.update(zip(chunk, conf))
            self.n_forward += len(chunk)

    def scores(self, boxes) -> list[LSCResult]:
        """Every box scored (no pruning), in the given order."""
        boxes = list(boxes)
        self._forward(list(dict.fromkeys(b for b in boxes if b not in self.confidence)))
        return [self._result(b) for b in boxes]

    def _result(self, box: Box, threshold=None, n_boxes: int = 1, n_scored: int = 1) -> LSCResult:
        c = self.confidence[box]
        return LSCResult(lsc_score(box.area(self.size), c), box, box.area(self.size), c, threshold, n_boxes, n_scored)

    def best(self, boxes, thresholds=None) -> LSCResult:
        """The box with the lowest LSC (the first one in `boxes` on ties), found exactly with
        the area bound. thresholds: one tag per box, returned with the winner."""
        boxes = list(boxes)
        if not boxes:
            return LSCResult(float("nan"), None, float("nan"), float("nan"), None, 0, 0)
        bounds = [math.log(max(MIN_AREA, b.area(self.size))) if self.prune else -math.inf for b in boxes]
        order = sorted(range(len(boxes)), key=bounds.__getitem__)
        best_score, best_i, visited = math.inf, -1, 0
        while visited < len(order) and bounds[order[visited]] <= best_score:
            chunk = [i for i in order[visited : visited + self.batch_size] if bounds[i] <= best_score]
            self._forward(list(dict.fromkeys(boxes[i] for i in chunk if boxes[i] not in self.confidence)))
            for i in chunk:
                s = lsc_score(boxes[i].area(self.size), self.confidence[boxes[i]])
                if s < best_score or (s == best_score and i < best_i):
                    best_score, best_i = s, i
            visited += len(chunk)
        tag = None if thresholds is None else thresholds[best_i]
        return self._result(boxes[best_i], tag, len(boxes), visited)


def score_boxes(model, x: torch.Tensor, boxes, label: int | None = None, *, batch_size: int = 32,
                crop_normalise: str = "minmax") -> list[LSCResult]:
    """LSC of each box for one image: crop, resize, softmax confidence of `label`; the
    crops go through the model in batches of `batch_size` (see :class:`BoxScorer`)."""
    return BoxScorer(model, x, label, crop_normalise=crop_normalise, batch_size=batch_size).scores(boxes)


def thresholds_of(saliency: torch.Tensor, n_thresholds: int = 100) -> list[float]:
    """0 and the map's distinct values, evenly subsampled to about `n_thresholds`."""
    values = torch.unique(saliency.reshape(-1).double()).numpy()
    if values.size > n_thresholds:
        values = values[np.unique(np.linspace(0, values.size - 1, n_thresholds).round().astype(int))]
    return sorted({0.0, *values.tolist()})


def _scorer(model, x, label, scorer: BoxScorer | None, crop_normalise: str, batch_size: int) -> BoxScorer:
    if scorer is None:
        return BoxScorer(model, x, label, crop_normalise=crop_normalise, batch_size=batch_size)
    if label is not None and int(label) != scorer.label:
        raise ValueError(f"label {label} differs from the scorer's label {scorer.label}")
    return scorer


def lsc(model, x: torch.Tensor, saliency: torch.Tensor, label: int | None = None, *, n_thresholds: int = 100, batch_size: int = 32,
        scorer: BoxScorer | None = None, crop_normalise: str = "minmax") -> LSCResult:
    """Best LSC over a threshold sweep of a saliency map ``(H, W)``: for each threshold
    (:func:`thresholds_of`), the tight box of ``map > threshold`` is cropped, resized and
    scored; the minimum is kept (found exactly by :meth:`BoxScorer.best`). Pass the image's
    `scorer` to share forward passes with other methods. An all-zero map gives
    ``score = NaN`` and ``box = None``."""
    saliency = torch.as_tensor(saliency)
    if tuple(saliency.shape) != tuple(x.shape[-2:]):
        raise ValueError(f"saliency is {list(saliency.shape)}, the image is {list(x.shape)}")
    by_box: dict[Box, float] = {}
    for t in thresholds_of(saliency, n_thresholds):
        box = tight_box(saliency > t)
        if box is not None and box not in by_box:
            by_box[box] = t
    if not by_box:
        return LSCResult(float("nan"), None, float("nan"), float("nan"), None, 0, 0)
    return _scorer(model, x, label, scorer, crop_normalise, batch_size).best(by_box.keys(), list(by_box.values()))


def grid_boxes(size: tuple[int, int], cells: int = 10, min_cells: int = 2) -> list[Box]:
    """Every box whose corners lie on a ``cells x cells`` grid over the image and whose
    height and width span at least `min_cells` cells (2,025 boxes for 10 and 2)."""
    ys = [round(i * size[0] / cells) for i in range(cells + 1)]
    xs = [round(i * size[1] / cells) for i in range(cells + 1)]
    spans = [(a, b) for a in range(cells + 1) for b in range(a + min_cells, cells + 1)]
    return [Box(ys[a], xs[c], ys[b], xs[d]) for a, b in spans for c, d in spans]


def optbox(model, x: torch.Tensor, label: int | None = None, *, cells: int = 10, min_cells: int = 2, batch_size: int = 32,
           scorer: BoxScorer | None = None, crop_normalise: str = "minmax") -> LSCResult:
    """OPTBOX: the grid box with the best LSC (:func:`grid_boxes`; 2,025 boxes for the paper's
    10 and 2). Exact: :meth:`BoxScorer.best` forwards only the boxes that could still win."""
    scorer = _scorer(model, x, label, scorer, crop_normalise, batch_size)
    return scorer.best(grid_boxes(tuple(x.shape[-2:]), cells, min_cells))


def _one_box(model, x, box: Box, label, scorer: BoxScorer | None, crop_normalise: str) -> LSCResult:
    return _scorer(model, x, label, scorer, crop_normalise, 32).scores([box])[0]


def centerbox(model, x: torch.Tensor, label: int | None = None, *, scorer: BoxScorer | None = None, crop_normalise: str = "minmax") -> LSCResult:
    """CENTERBOX: the centred box covering half the image (sides scaled by 1/sqrt(2))."""
    h, w = x.shape[-2:]
    bh, bw = round(h / math.sqrt(2)), round(w / math.sqrt(2))
    y0, x0 = (h - bh) // 2, (w - bw) // 2
    return _one_box(model, x, Box(y0, x0, y0 + bh, x0 + bw), label, scorer, crop_normalise)


def maxbox(model, x: torch.Tensor, label: int | None = None, *, scorer: BoxScorer | None = None, crop_normalise: str = "minmax") -> LSCResult:
    """MAXBOX: the whole image."""
    h, w = x.shape[-2:]
    return _one_box(model, x, Box(0, 0, h, w), label, scorer, crop_normalise)


def boxes_mask(boxes, size: tuple[int, int]) -> torch.Tensor:
    """bool ``(H, W)``: the union of float boxes ``(n, 4)`` given as ``(x0, y0, x1, y1)``
    pixel coordinates (the loader's ground truth): every pixel a box overlaps, rows
    ``floor(y0) .. ceil(y1) - 1`` and likewise columns."""
    mask = torch.zeros(size, dtype=torch.bool)
    for x0, y0, x1, y1 in torch.as_tensor(boxes, dtype=torch.float64).reshape(-1, 4).tolist():
        r0, c0 = max(0, math.floor(y0)), max(0, math.floor(x0))
        r1, c1 = min(size[0], max(math.ceil(y1), r0 + 1)), min(size[1], max(math.ceil(x1), c0 + 1))
        mask[r0:r1, c0:c1] = True
    return mask


def ground_truth(model, x: torch.Tensor, boxes, label: int | None = None, *, scorer: BoxScorer | None = None,
                 crop_normalise: str = "minmax") -> LSCResult:
    """GROUNDTRUTH: the tight box around the annotated boxes (their union), scored."""
    box = tight_box(boxes_mask(boxes, tuple(x.shape[-2:])))
    if box is None:
        return LSCResult(float("nan"), None, float("nan"), float("nan"))
    return _one_box(model, x, box, label, scorer, crop_normalise)


def box_sparsity(box: Box | None, size: tuple[int, int]) -> float:
    """Sparsity of a box method: the box's area fraction (NaN without a box)."""
    return float("nan") if box is None else box.area(size)


def map_share(saliency: torch.Tensor, corner: tuple[int, int], hw: tuple[int, int]) -> float:
    """The fraction of a map's total |saliency| ``(H, W)`` inside the rectangle of top-left
    `corner` (y, x) and size `hw` (height, width) pixels; NaN for an all-zero map."""
    s = saliency.abs().double()
    total = s.sum()
    return float(s[corner[0] : corner[0] + hw[0], corner[1] : corner[1] + hw[1]].sum() / total) if total > 0 else float("nan")


def box_share(box: Box | tuple[int, int, int, int] | None, corner: tuple[int, int], hw: tuple[int, int]) -> float:
    """The fraction of `box` ``(y0, x0, y1, x1)``'s area inside the rectangle of top-left `corner`
    (y, x) and size `hw` (height, width); NaN without a box."""
    if box is None:
        return float("nan")
    y0, x0, y1, x1 = box
    inter = max(0, min(y1, corner[0] + hw[0]) - max(y0, corner[0])) * max(0, min(x1, corner[1] + hw[1]) - max(x0, corner[1]))
    return inter / ((y1 - y0) * (x1 - x0))


# --------------------------------------------------------------------------- aggregates


def proportion_ci(p: float, n: int, z: float = 1.96) -> float:
    """Half-width of the normal-approximation binomial interval (the paper's "±")."""
    return z * math.sqrt(p * (1 - p) / n) if n else float("nan")


def wilson_interval(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` of a proportion p observed on n trials; unlike the
    normal approximation it does not collapse to a point at p = 0 or 1."""
    if not n or math.isnan(p):
        return float("nan"), float("nan")
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(values, z: float = 1.96) -> tuple[float, float]:
    """Mean and the half-width of its normal confidence interval (NaNs dropped)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(z * v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0


def win_rates(scores: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    """Win%: per method, the percentage of images where its LSC is lower than or equal to
    every other method's (ties count for all tied methods, so rates can sum past 100),
    with the 95% normal-approximation half-width, both in percent. A NaN score (no box)
    never wins. scores: method -> per-image LSC, all the same length."""
    names = list(scores)
    table = np.array([np.asarray(scores[m], dtype=np.float64) for m in names])
    if table.ndim != 2:
        raise ValueError("every method needs one score per image")
    table = np.where(np.isnan(table), np.inf, table)
    best = table.min(axis=0)
    wins = (table <= best) & np.isfinite(table)
    n = table.shape[1]
    return {m: (100 * float(w.mean()), 100 * proportion_ci(float(w.mean()), n)) for m, w in zip(names, wins)}


def contrast_examples(scores: dict[str, list[float]], method: str, against, n_wins: int, n_losses: int) -> tuple[list[int], list[int]]:
    """Positions of the images where `method` beats every method in `against` by the widest
    LSC margin (best first), and where it trails the best of them by the most: the paper's
    choice of qualitative examples (Fig. 1: "where SMUG outperforms the other methods, and
    where it performs less favorably"; Figs. 10-11). An image where `method` has no box (NaN)
    can only be a loss; images where every other method has no box are skipped.
    scores: method -> per-image LSC, all the same length."""
    own = np.asarray(scores[method], dtype=np.float64)
    others = np.array([np.asarray(scores[m], dtype=np.float64) for m in against])
    best_other = np.where(np.isnan(others), np.inf, others).min(axis=0)
    gap = np.where(np.isnan(own), np.inf, own) - best_other  # < 0: method wins by -gap
    valid = np.isfinite(best_other)
    wins = [int(i) for i in np.argsort(gap, kind="stable") if valid[i] and gap[i] < 0][:n_wins]
    losses = [int(i) for i in np.argsort(-gap, kind="stable") if valid[i] and gap[i] > 0][:n_losses]
    return wins, losses


def lsc_summary(scores) -> tuple[float, float, float]:
    """Median, 75th and 25th percentile of the LSC scores (NaNs dropped), as Table 1."""
    v = np.asarray(scores, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    return float(np.median(v)), float(np.percentile(v, 75)), float(np.percentile(v, 25))


# --------------------------------------------------------------------------- baseline maps


def pixel_ig(model, x: torch.Tensor, target, *, n_steps: int = 200, internal_batch_size: int = 16, reduce: str = "abs_sum",
             device: str | torch.device = "cpu") -> torch.Tensor:
    """IG on the pixels from the black image (captum ``IntegratedGradients`` on the softmax,
    ``riemann_trapezoid``), per pixel the channels' ``"abs_sum"`` (default) or signed
    ``"sum"``. x: ``(N, 3, H, W)``; target: class per image. Returns ``(N, H, W)`` on the CPU.
    device: where the passes run (:func:`nesy.device.resolve`; the model is moved there and back)."""
    from captum.attr import IntegratedGradients

    if reduce not in ("abs_sum", "sum"):
        raise ValueError(f"reduce must be 'abs_sum' or 'sum'; got {reduce!r}")
    target = torch.as_tensor(target, dtype=torch.int64).reshape(-1)
    ig = IntegratedGradients(lambda images: F.softmax(model(images), dim=1))
    with devices.placed(model, device) as device:
        x = x.to(device)
        attr = ig.attribute(x, baselines=torch.zeros_like(x), target=target.to(device), n_steps=n_steps,
                            method="riemann_trapezoid", internal_batch_size=internal_batch_size)
        return (attr.abs() if reduce == "abs_sum" else attr).sum(1).detach().cpu()


def grad_cam(model, x: torch.Tensor, target, layer=None, *, device: str | torch.device = "cpu") -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017; captum ``LayerGradCam`` on the logits) at
    ``model.gradcam_layer`` (or `layer`), ReLU'd and upsampled bilinearly to the image.
    x: ``(N, 3, H, W)``; target: class per image. Returns ``(N, H, W)`` on the CPU.
    device: where the passes run (:func:`nesy.device.resolve`; the model is moved there and back)."""
    from captum.attr import LayerAttribution, LayerGradCam

    target = torch.as_tensor(target, dtype=torch.int64).reshape(-1)
    with devices.placed(model, device) as device:
        cam = LayerGradCam(model, layer if layer is not None else model.gradcam_layer)
        attr = cam.attribute(x.to(device), target=target.to(device), relu_attributions=True)
        return LayerAttribution.interpolate(attr, tuple(x.shape[-2:]), interpolate_mode="bilinear")[:, 0].detach().cpu()
