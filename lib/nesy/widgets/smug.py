"""The SMUG explorer: pick an image, k and gamma; see the minimal mask, the saliency map and
the best LSC box.

:class:`SmugExplorer` embeds one precomputed result per (image, k, gamma): a JPEG of three
panels (the image with the masked-out blocks dimmed, the SMUG saliency map, the image with
the best LSC box) and its numbers (kept blocks, LSC, a, c, solver status and time). The
JavaScript view (``smug.mjs``) only looks them up, so the static book responds with no
kernel. With a kernel, a ``compute(image, k, gamma) -> entry`` callback (see
:func:`entry`) fills in any combination that was not precomputed, and the view shows it.
"""
from __future__ import annotations

from importlib import resources
from typing import Callable, Sequence

import anywidget
import numpy as np
import torch
import traitlets

from nesy.jsnumber import js_number
from nesy.widgets.encoding import image_data_url
from nesy.widgets.esm import bundle

__all__ = ["SmugExplorer", "entry", "key", "panels_jpeg"]

ESM_PATH = resources.files("nesy.widgets").joinpath("smug.mjs")


def key(image: int, k: int, gamma: float) -> str:
    """The entry key of one combination, e.g. ``"0|3000|0.5"``: gamma as JavaScript prints it
    (``entryKey`` in smug.mjs builds the same string)."""
    return f"{int(image)}|{int(k)}|{js_number(gamma)}"


def panels_jpeg(image: torch.Tensor, mask: torch.Tensor, saliency: torch.Tensor, box, quality: int = 80) -> str:
    """Three panels side by side as a base64 JPEG data URL.

    image: float ``(3, H, W)`` in [0, 1]; mask: bool ``(H, W)`` pixels kept by the solver;
    saliency: ``(H, W)`` (scaled to [0, 1] for display, magma colour map); box: ``(y0, x0, y1,
    x1)`` or None.
    """
    from matplotlib import colormaps
    from PIL import Image, ImageDraw

    rgb = (image.permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype(np.uint8)
    keep = np.asarray(mask, dtype=bool)[..., None]
    dimmed = np.where(keep, rgb, (rgb * 0.25).astype(np.uint8))
    s = np.asarray(saliency, dtype=np.float64)
    s = s / s.max() if s.max() > 0 else s
    heat = (colormaps["magma"](s)[..., :3] * 255).astype(np.uint8)
    boxed = Image.fromarray(rgb.copy())
    if box is not None:
        y0, x0, y1, x1 = (int(v) for v in box)
        ImageDraw.Draw(boxed).rectangle([x0, y0, x1 - 1, y1 - 1], outline=(0, 255, 0), width=3)
    h, w = rgb.shape[:2]
    sheet = Image.new("RGB", (3 * w + 8, h), "white")
    for i, panel in enumerate((Image.fromarray(dimmed), Image.fromarray(heat), boxed)):
        sheet.paste(panel, (i * (w + 4), 0))
    return image_data_url(sheet, "JPEG", quality)


def entry(image, explanation, lsc_result) -> dict:
    """One widget entry from an image ``(3, H, W)``, a :class:`nesy.smt.SmugExplanation` and
    the :class:`nesy.saliency_metrics.LSCResult` of its SMUG map."""
    from nesy.smt import pixel_mask

    mask = pixel_mask(explanation.solution.block_mask, explanation.problem.block, tuple(image.shape[-2:]))
    solution = explanation.solution

    def num(v):
        return None if v is None or not np.isfinite(v) else round(float(v), 4)

    return {
        "panels": panels_jpeg(image, mask, explanation.smug, lsc_result.box),
        "blocks": solution.n_blocks,
        "status": solution.status,
        "solve_s": round(solution.time_s, 3),
        "constraints": explanation.problem.n_constraints,
        "empty_mask": bool(explanation.empty_mask),
        "sparsity": round(100 * explanation.sparsity_smug, 2),
        "lsc": num(lsc_result.score),
        "area": num(lsc_result.area),
        "confidence": num(lsc_result.confidence),
    }


class SmugExplorer(anywidget.AnyWidget):
    """SMUG masks over images, k and gamma.

    Parameters
    ----------
    titles : one string per image (e.g. the class name).
    ks, gammas : the values offered by the two selectors.
    entries : ``{key(image, k, gamma): entry(...)}`` precomputed results.
    compute : optional ``compute(image, k, gamma) -> entry`` run in a live kernel for a
        combination without an entry.
    """

    _esm = traitlets.Unicode(bundle(ESM_PATH)).tag(sync=True)
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    ks = traitlets.List(traitlets.Int()).tag(sync=True)
    gammas = traitlets.List(traitlets.Float()).tag(sync=True)
    entries = traitlets.Dict().tag(sync=True)
    image = traitlets.Int(0).tag(sync=True)
    k = traitlets.Int(0).tag(sync=True)
    gamma = traitlets.Float(0.0).tag(sync=True)

    def __init__(self, titles: Sequence[str], ks: Sequence[int], gammas: Sequence[float], entries: dict,
                 compute: Callable[[int, int, float], dict] | None = None, **initial):
        if not titles or not ks or not gammas:
            raise ValueError("titles, ks and gammas must be non-empty")
        self._compute = compute
        super().__init__(titles=list(titles), ks=[int(k) for k in ks], gammas=[float(g) for g in gammas], entries=dict(entries),
                         image=initial.get("image", 0), k=initial.get("k", int(ks[0])), gamma=initial.get("gamma", float(gammas[0])))

    @property
    def current(self) -> dict | None:
        """The entry shown (None when the combination is neither precomputed nor computable)."""
        return self.entries.get(key(self.image, self.k, self.gamma))

    @traitlets.observe("image", "k", "gamma")
    def _on_change(self, change):
        name = key(self.image, self.k, self.gamma)
        if name not in self.entries and self._compute is not None:
            self.entries = {**self.entries, name: self._compute(self.image, self.k, self.gamma)}
