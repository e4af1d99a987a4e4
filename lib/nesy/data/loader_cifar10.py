"""`cifar10`: CIFAR-10 images and labels as uint8 / int64 tensors.

Sources, in order: the offline mirror's ``cifar10-jpeg.tar.gz`` (lossy JPEG re-encodes of
the canonical images, ``train/<class>/NNNN.jpg``; the order differs from the canonical
one), else the canonical python pickles ``cifar-10-python.tar.gz`` (torchvision's URL).
The mirror copy is read in a fixed order: classes in :data:`CLASSES` order, then file name.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..checks import one_of
from .archives import archive_tensors
from .errors import FormatError
from .sources import first_available

#: Class names, indexed by label (the canonical CIFAR-10 order).
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLIT_SIZES = {"train": 50_000, "test": 10_000}


def _decode_jpeg_folders(root: Path, split: str, progress: bool | None) -> dict[str, torch.Tensor]:
    from PIL import Image

    from .sources import bar

    files = [(label, path) for label, name in enumerate(CLASSES) for path in sorted((root / split / name).glob("*.jpg"))]
    if len(files) != SPLIT_SIZES[split]:
        raise FormatError(f"cifar10 {split}: found {len(files)} JPEG files under {root / split}, expected {SPLIT_SIZES[split]}")
    images = np.empty((len(files), 32, 32, 3), dtype=np.uint8)
    with bar(len(files), f"decode cifar10 {split}", progress, unit="img") as b:
        for i, (_, path) in enumerate(files):
            with Image.open(path) as jpeg:
                array = np.asarray(jpeg.convert("RGB"))
            if array.shape != (32, 32, 3):
                raise FormatError(f"cifar10: {path.name} is {list(array.shape)}, expected [32, 32, 3]")
            images[i] = array
            b.update(1)
    labels = torch.tensor([label for label, _ in files], dtype=torch.int64)
    return {"images": torch.from_numpy(images), "labels": labels, "source": torch.tensor(0)}


def _decode_pickles(root: Path, split: str) -> dict[str, torch.Tensor]:
    folder = root / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    data, labels = [], []
    for name in names:
        with open(folder / name, "rb") as handle:
            batch = pickle.load(handle, encoding="latin1")
        data.append(np.asarray(batch["data"], dtype=np.uint8))
        labels += list(batch["labels"])
    images = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    if len(images) != SPLIT_SIZES[split]:
        raise FormatError(f"cifar10 {split}: the pickles hold {len(images)} images, expected {SPLIT_SIZES[split]}")
    return {"images": torch.from_numpy(images), "labels": torch.tensor(labels, dtype=torch.int64), "source": torch.tensor(1)}


def cifar10(split: str = "train", *, progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All CIFAR-10 images and labels of one split.

    split: "train" (50,000) or "test" (10,000).
    Returns ``(images, labels)``: images uint8 [N, 32, 32, 3] (RGB, channels last), labels
    int64 [N] in 0..9 (names in :data:`CLASSES`). From the mirror the images are JPEG
    re-encodes ordered by class, then file name; from the canonical pickles, the canonical
    images in the canonical order. The first call decodes and caches the tensors.
    """
    one_of("split", split, sorted(SPLIT_SIZES))
    tensors = first_available(
        "CIFAR-10 is unavailable: neither the mirror's JPEG copy nor the canonical pickles could be found.",
        ("mirror copy", lambda: archive_tensors("cifar10", "cifar10-jpeg.tar.gz", f"cifar10-jpeg-{split}-v1",
                                                lambda root: _decode_jpeg_folders(root, split, progress), progress=progress)),
        ("canonical copy", lambda: archive_tensors("cifar10", "cifar-10-python.tar.gz", f"cifar10-python-{split}-v1",
                                                   lambda root: _decode_pickles(root, split), progress=progress)))
    return tensors["images"], tensors["labels"]
