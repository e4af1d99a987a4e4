"""Feature maps of a frozen backbone for many images, in batches with a progress bar."""
from __future__ import annotations

import torch
from torch import nn

from nesy import device as devices


@torch.no_grad()
def extract_features(extractor: nn.Module, images: torch.Tensor, prepare, batch_size: int = 32,
                     desc: str = "features", progress: bool | None = None,
                     device: str | torch.device = "cpu") -> torch.Tensor:
    """``extractor(prepare(images[i:i+batch_size]))`` over all images, concatenated.

    images : (N, ...) raw images (e.g. uint8); prepare : raw batch -> the extractor's input
    (run on the CPU). device : where each prepared batch goes (:func:`nesy.device.resolve`); an
    ``nn.Module`` extractor is moved there for the call and back, any other callable (e.g.
    :func:`nesy.inference.fast_forward`'s) must accept it.
    Returns the feature maps (N, K, H, W) as float32, on the CPU.
    """
    from tqdm.auto import tqdm

    if images.shape[0] == 0:
        raise ValueError("images must hold at least one image")
    chunks = []
    module = extractor if isinstance(extractor, nn.Module) else nn.Module()  # nothing to move for a callable
    with devices.placed(module, device) as device:
        for start in tqdm(range(0, images.shape[0], batch_size), desc=desc, disable=progress is False):
            chunks.append(extractor(prepare(images[start:start + batch_size]).to(device)).float().cpu())
    return torch.cat(chunks)
