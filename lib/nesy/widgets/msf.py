"""The minimal-significant-feature-set explorer: pick an image, click a target cell, move alpha.

:class:`MSFExplorer` embeds, for a few images, every target's MSF (Algorithm 2,
:func:`nesy.satnet.minimal_significant_sets`) at a few alphas, the ERF outline of every
feature position (:func:`nesy.satnet.erf_outlines`) and the image itself, and draws them in
JavaScript (``msf.mjs``): the static book responds with no kernel. With a kernel,
:meth:`MSFExplorer.add_alpha` runs Algorithm 2 live for a new alpha and the slider gains it.
"""
from __future__ import annotations

from importlib import resources
from typing import Sequence

import anywidget
import torch
import traitlets

from nesy.satnet.msf import MSF, minimal_significant_sets
from nesy.widgets.encoding import image_data_url
from nesy.widgets.esm import bundle

__all__ = ["MSFExplorer", "ESM_PATH"]

ESM_PATH = resources.files("nesy.widgets").joinpath("msf.mjs")


def _encode(found: Sequence[MSF], n_targets: int) -> list[dict]:
    by_target = {f.target: f for f in found}
    return [{"indices": list(by_target[t].indices), "similarity": round(by_target[t].similarity, 4),
             "s_ref": round(by_target[t].s_ref, 4)} if t in by_target else None for t in range(n_targets)]


class MSFExplorer(anywidget.AnyWidget):
    """Minimal significant feature sets over images, targets and alphas.

    Parameters
    ----------
    images : uint8 Tensor (I, S, S, 3), the images shown.
    titles : I strings (e.g. class name and file).
    grid : (H, W) of the feature map (n = H * W positions, row-major).
    outlines : Tensor (I, n, 4), ``(cx, cy, rx, ry)`` of each position's ERF in pixels.
    alphas : the confidences precomputed.
    msf : ``msf[i][a]`` is the list of :class:`~nesy.satnet.MSF` of image i at ``alphas[a]``
        (any subset of targets; missing targets show "not computed").
    layers, vectors : optional, the Vi-SATNet of each image's class and its feature vectors
        ``(n, k)``: needed only by :meth:`add_alpha` (a live kernel).
    target : the target shown first.
    """

    _esm = traitlets.Unicode(bundle(ESM_PATH)).tag(sync=True)
    images = traitlets.List(traitlets.Unicode()).tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    size = traitlets.Int(224).tag(sync=True)
    grid = traitlets.List(traitlets.Int()).tag(sync=True)
    outlines = traitlets.List().tag(sync=True)
    alphas = traitlets.List(traitlets.Float()).tag(sync=True)
    msf = traitlets.List().tag(sync=True)
    image = traitlets.Int(0).tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    alpha_index = traitlets.Int(0).tag(sync=True)

    def __init__(self, images: torch.Tensor, titles: Sequence[str], grid: tuple[int, int], outlines: torch.Tensor,
                 alphas: Sequence[float], msf: Sequence[Sequence[Sequence[MSF]]], *, layers=None, vectors=None,
                 target: int = 0, **kwargs):
        n_images, n = images.shape[0], grid[0] * grid[1]
        if len(titles) != n_images or outlines.shape[:2] != (n_images, n) or len(msf) != n_images:
            raise ValueError(f"images ({n_images}), titles ({len(titles)}), outlines {tuple(outlines.shape)} and "
                             f"msf ({len(msf)}) must describe the same images with n = {n} positions")
        if any(len(per_image) != len(alphas) for per_image in msf):
            raise ValueError(f"msf must hold one list per alpha ({len(alphas)}) for every image")
        if not 0 <= target < n:
            raise ValueError(f"target must be in 0..{n - 1}; got {target}")
        super().__init__(
            images=[image_data_url(img) for img in images], titles=list(titles), size=int(images.shape[1]),
            grid=[int(grid[0]), int(grid[1])], outlines=[[[round(float(v), 1) for v in o] for o in per] for per in outlines],
            alphas=[float(a) for a in alphas], msf=[[_encode(found, n) for found in per] for per in msf],
            target=int(target), **kwargs)
        self._layers, self._vectors = layers, vectors

    def shown(self) -> dict | None:
        """The MSF entry currently displayed (``indices``, ``similarity``, ``s_ref``) or None."""
        return self.msf[self.image][self.alpha_index][self.target]

    def add_alpha(self, alpha: float) -> None:
        """Run Algorithm 2 for every image and target at a new `alpha` (needs `layers` and
        `vectors`, i.e. a live kernel) and select it."""
        if self._layers is None or self._vectors is None:
            raise ValueError("add_alpha needs the layers and vectors the explorer was built with (layers=, vectors=)")
        n = self.grid[0] * self.grid[1]
        new = []
        for layer, v in zip(self._layers, self._vectors):
            targets = [t for t in range(n) if not bool((v[t] == 0).all())]  # zero vectors have no MSF
            new.append(_encode(minimal_significant_sets(layer, v, targets, [alpha]), n))
        self.msf = [per + [entry] for per, entry in zip(self.msf, new)]
        self.alphas = [*self.alphas, float(alpha)]
        self.alpha_index = len(self.alphas) - 1
