"""`mnist`: the MNIST digits as uint8 image and int64 label tensors."""

from __future__ import annotations

import torch

from ..checks import one_of
from .derived import cached_tensors
from .errors import FormatError
from .idx import read_idx
from .sources import fetch

#: split -> (images file, labels file, number of samples)
MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def mnist(split: str = "train", *, progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All MNIST images and labels of one split, in the canonical order.

    split: "train" (60,000 samples) or "test" (10,000).
    Returns ``(images, labels)``: images uint8 [N, 28, 28] (0 = background, 255 = ink),
    labels int64 [N] in 0..9. The first call decodes the IDX files (from the cache, the
    mirror or the download) and caches the tensors; later calls load them in well under 1 s.
    """
    one_of("split", split, MNIST_SPLITS)
    images_file, labels_file, n = MNIST_SPLITS[split]

    def build() -> dict[str, torch.Tensor]:
        images = read_idx(fetch("mnist", images_file, progress=progress), magic=IMAGES_MAGIC)
        labels = read_idx(fetch("mnist", labels_file, progress=progress), magic=LABELS_MAGIC)
        if images.shape != (n, 28, 28) or labels.shape != (n,):
            raise FormatError(
                f"MNIST {split}: expected images [{n}, 28, 28] and labels [{n}], "
                f"got {list(images.shape)} and {list(labels.shape)}"
            )
        if labels.max() > 9:
            raise FormatError(f"MNIST {split}: label {int(labels.max())} outside 0..9")
        return {"images": torch.from_numpy(images), "labels": torch.from_numpy(labels.astype("int64"))}

    tensors = cached_tensors("mnist", f"mnist-{split}-v1", build)
    return tensors["images"], tensors["labels"]
