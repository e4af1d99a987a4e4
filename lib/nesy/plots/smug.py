"""SMUG's figures (chapters/smug.py): qualitative rows (Figs. 1, 2, 10, 11), the k x gamma sweep
(Fig. 6) and its mask grid (Fig. 7), the MNIST masks (Fig. 5) and the two cats (Fig. 3).

Each function takes the run's data and returns a matplotlib Figure (not shown, not saved).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from nesy.smt import pixel_mask

__all__ = ["overlay_box", "example_rows", "sweep", "mask_grid", "mnist_masks", "two_cats"]

_PHOTO_PANELS = ("image", "SMUG mask", "OPTBOX")


def overlay_box(axis, result, colour: str = "lime") -> None:
    """Draw `result`'s box (an :class:`~nesy.saliency_metrics.LSCResult`; nothing if it has none)."""
    if result is not None and result.box is not None:
        y0, x0, y1, x1 = result.box
        axis.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color=colour, lw=2))


def _panels(ev, x, variant, block: int) -> dict:
    e = ev.explanations[variant]
    kept = pixel_mask(e.solution.block_mask, block, tuple(x.shape[-2:]))
    return {
        "image": (x.permute(1, 2, 0), ev.lsc["GROUNDTRUTH"]), "SMUG mask": (x.permute(1, 2, 0) * kept[..., None], None),
        "SMUG": (e.smug, ev.lsc["SMUG"]), "SMUG_base": (e.smug_base, ev.lsc["SMUG_base"]),
        "IG": (ev.maps["IG"], ev.lsc["IG"]), "GRADCAM": (ev.maps["GRADCAM"], ev.lsc["GRADCAM"]),
        "OPTBOX": (x.permute(1, 2, 0), ev.lsc["OPTBOX"]),
    }


def example_rows(evaluations, images, titles, indices, columns, variant, block: int = 4):
    """One row per image of `indices`: the panels `columns` (of image, SMUG mask, SMUG,
    SMUG_base, IG, GRADCAM, OPTBOX), each map with its best LSC box and the box's LSC, area and
    confidence.

    evaluations, images, titles: index -> the image's :class:`~nesy.smt.evaluation.ImageEvaluation`,
    the image ``(3, H, W)`` and its panel's title (the class); variant: SMUG's
    ``(constraint, gamma)`` whose mask is shown. Returns None when `indices` is empty."""
    if not indices:
        return None
    figure, axes = plt.subplots(len(indices), len(columns), figsize=(2.3 * len(columns), 2.6 * len(indices)), squeeze=False)
    for row_axes, index in zip(axes, indices):
        panels = _panels(evaluations[index], images[index], variant, block)
        name = titles[index]
        for axis, column in zip(row_axes, columns):
            picture, result = panels[column]
            axis.imshow(picture, cmap=None if column in _PHOTO_PANELS else "jet")
            title = column if column != "image" else name
            if result is not None and result.box is not None:
                overlay_box(axis, result)
                if column != "image":
                    title += f"\nLSC {result.score:.2f} a={result.area:.2f} c={result.confidence:.2f}"
            axis.set_title(title, fontsize=7)
            axis.axis("off")
    figure.tight_layout()
    return figure


def sweep(sweep_frame):
    """Fig. 6: mean z3 time and mask size (% of the image) over k, one line per gamma
    (`sweep_frame`: the sweep's rows with k, gamma, ``z3 time (s)``, ``mask % of image``)."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for g, part in sweep_frame.groupby("gamma"):
        mean = part.groupby("k").mean(numeric_only=True)
        axes[0].plot(mean.index, mean["z3 time (s)"], marker="o", label=f"γ = {g:g}")
        axes[1].plot(mean.index, mean["mask % of image"], marker="o", label=f"γ = {g:g}")
    axes[0].set(xlabel="top-k", ylabel="z3 time (s)", title="solver time")
    axes[1].set(xlabel="top-k", ylabel="kept pixels (% of image)", title="mask size")
    axes[0].legend()
    figure.tight_layout()
    return figure


def mask_grid(image, cache: dict, ks, gammas, block: int = 4, n_img: int = 0):
    """Fig. 7: the kept blocks of z3's mask (the rest greyed) on `image` ``(3, H, W)``, rows gamma,
    columns k (`cache`: ``(image number, k, gamma)`` -> explanation, as :func:`nesy.smt.analysis.sweep`)."""
    figure, axes = plt.subplots(len(gammas), len(ks), figsize=(2.2 * len(ks), 2.3 * len(gammas)), squeeze=False)
    for r, g in enumerate(gammas):
        for c, k_ in enumerate(ks):
            e = cache[(n_img, int(k_), float(g))]
            kept = pixel_mask(e.solution.block_mask, block, tuple(image.shape[-2:])).double()[..., None]
            axes[r, c].imshow(image.permute(1, 2, 0) * kept + 0.85 * (1 - kept))
            status = f"{e.solution.n_blocks} blocks" if e.solution.status == "optimal" else f"z3 {e.solution.status}"
            axes[r, c].set_title(f"k={int(k_)}, γ={float(g):g}: {status}", fontsize=7)
            axes[r, c].axis("off")
    figure.tight_layout()
    return figure


def mnist_masks(images, labels, masks):
    """Fig. 5: MNIST digits (uint8 ``(28, 28)`` each, with their labels) above their minimal
    masks (`masks`: (z3, MILP) :class:`~nesy.smt.FullMaskResult` pairs; the MILP's when it has
    one, else z3's)."""
    figure, axes = plt.subplots(2, len(images), figsize=(1.7 * len(images), 3.6), squeeze=False)
    for j, (image, label, (z, h)) in enumerate(zip(images, labels, masks)):
        axes[0, j].imshow(image, cmap="gray")
        axes[0, j].set_title(f"digit {int(label)}", fontsize=8)
        best = h if h.keep is not None else z
        kept = np.zeros(784) if best.keep is None else best.keep.astype(float) * image.reshape(-1).numpy() / 255
        axes[1, j].imshow(kept.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[1, j].set_title(f"{best.n_pixels} px ({best.backend})", fontsize=8)
        for axis in axes[:, j]:
            axis.axis("off")
    figure.tight_layout()
    return figure


def two_cats(scenes: dict, confidences, smug_map, ig_map, optbox):
    """Fig. 3: the three scenes ``(3, H, W)`` with their confidences (one per scene), SMUG's and
    IG's maps ``(H, W)`` of the two-cat scene and OPTBOX's box (an LSCResult) on it."""
    figure, axes = plt.subplots(1, 6, figsize=(15, 2.9))
    for axis, (name, scene), c in zip(axes[:3], scenes.items(), confidences):
        axis.imshow(scene.permute(1, 2, 0))
        axis.set_title(f"{name}: c = {float(c):.2f}", fontsize=9)
    for axis, picture, title in ((axes[3], smug_map, "SMUG"), (axes[4], ig_map, "IG")):
        axis.imshow(picture, cmap="magma")
        axis.set_title(title, fontsize=9)
    axes[5].imshow(scenes["both"].permute(1, 2, 0))
    overlay_box(axes[5], optbox)
    axes[5].set_title(f"OPTBOX (LSC {optbox.score:.2f})", fontsize=9)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    return figure
