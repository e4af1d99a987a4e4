"""Feature maps of a frozen backbone for many images, in batches with a progress bar."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def extract_features(extractor: nn.Module, images: torch.Tensor, prepare, batch_size: int = 32,
                     desc: str = "features", progress: bool | None = None) -> torch.Tensor:
    """``extractor(prepare(images[i:i+batch_size]))`` over all images, concatenated.

    images : (N, ...) raw images (e.g. uint8); prepare : raw batch -> the extractor's input.
    Returns the feature maps (N, K, H, W) as float32.
    """
    from tqdm.auto import tqdm

    if images.shape[0] == 0:
        raise ValueError("images must hold at least one image")
    chunks = []
    for start in tqdm(range(0, images.shape[0], batch_size), desc=desc, disable=progress is False):
        chunks.append(extractor(prepare(images[start:start + batch_size])).float())
    return torch.cat(chunks)
