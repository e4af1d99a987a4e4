"""`imagenette`: the 10-class Imagenette subset of ImageNet as 224x224 uint8 tensors.

Sources, in order: the offline mirror's 224x224 copies (``imagenette2-224-val.tar.gz``, all
3,925 val images; ``imagenette2-224-train-first400.tar.gz``, the first 400 train images of
each class by file name), then fastai's canonical ``imagenette2-320.tgz`` on machines with
internet (stretched to 224x224 like the mirror; for train the same first 400 per class).
Decoded tensors are cached per (split, per_class), so a run that uses a subset decodes only
that subset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..checks import one_of
from .archives import unpack_archive
from .derived import cached_tensors
from .errors import FormatError
from .sources import first_available

SIZE = 224
#: Imagenette's classes in sorted-wnid order (= torchvision.datasets.Imagenette's order).
WNIDS = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
         "n03394916", "n03417042", "n03425413", "n03445777", "n03888257")
CLASS_NAMES = ("tench", "English springer", "cassette player", "chain saw", "church",
               "French horn", "garbage truck", "gas pump", "golf ball", "parachute")
#: Each class's index among ImageNet's 1,000 classes (sorted-wnid order, as torchvision's).
IMAGENET_INDEX = (0, 217, 482, 491, 497, 566, 569, 571, 574, 701)
MIRROR = {"val": "imagenette2-224-val.tar.gz", "train": "imagenette2-224-train-first400.tar.gz"}
CANONICAL = "imagenette2-320.tgz"
TRAIN_PER_CLASS = 400  # the mirror's train archive holds this many images per class


@dataclass(frozen=True)
class Imagenette:
    """images uint8 [N, 224, 224, 3] (RGB, channels last); labels int64 [N] in 0..9 (index
    into :data:`WNIDS`); files: N paths ``<wnid>/<name>.JPEG``."""

    images: torch.Tensor
    labels: torch.Tensor
    files: list[str]

    def __len__(self) -> int:
        return len(self.files)


def _root(split: str, progress: bool | None) -> Path:
    """The folder holding ``<wnid>/*.JPEG`` of `split`, from the mirror or the canonical tarball."""
    return first_available(
        f"imagenette {split}:",
        ("mirror copy", lambda: unpack_archive("imagenette", MIRROR[split], progress=progress) / split),
        ("canonical copy", lambda: unpack_archive("imagenette", CANONICAL, progress=progress) / "imagenette2-320" / split))


def _select(root: Path, split: str, per_class: int | None) -> list[str]:
    files = []
    for wnid in WNIDS:
        names = sorted(p.name for p in (root / wnid).glob("*.JPEG"))
        if not names:
            raise FormatError(f"imagenette {split}: no images in {root / wnid}")
        if split == "train":
            names = names[:TRAIN_PER_CLASS]
        files += [f"{wnid}/{name}" for name in names[:per_class]]
    return files


def _decode(root: Path, files: list[str], progress: bool | None) -> dict[str, torch.Tensor]:
    import numpy as np
    from PIL import Image

    from .sources import bar

    images = torch.empty((len(files), SIZE, SIZE, 3), dtype=torch.uint8)
    with bar(len(files), "decode imagenette", progress, unit="img") as b:
        for i, name in enumerate(files):
            with Image.open(root / name) as jpeg:
                rgb = jpeg.convert("RGB")
                if rgb.size != (SIZE, SIZE):
                    rgb = rgb.resize((SIZE, SIZE), Image.BILINEAR)
                images[i] = torch.from_numpy(np.array(rgb))
            b.update(1)
    labels = torch.tensor([WNIDS.index(name.split("/")[0]) for name in files], dtype=torch.int64)
    return {"images": images, "labels": labels}


def imagenette(split: str = "val", per_class: int | None = None, *, progress: bool | None = None) -> Imagenette:
    """Imagenette images of one split, class by class, files in name order.

    split: "val" (3,925 images) or "train" (the first 400 per class, 4,000 images: what the
        offline mirror holds).
    per_class: keep only the first `per_class` images of each class (None: all).
    Returns an :class:`Imagenette`. The first call for a (split, per_class) decodes the JPEGs
    and caches the tensors; later calls load them from the cache.
    """
    one_of("split", split, MIRROR)
    if per_class is not None and (not isinstance(per_class, int) or per_class < 1):
        raise ValueError(f"per_class must be None or an int >= 1; got {per_class!r}")
    root = _root(split, progress)
    files = _select(root, split, per_class)
    key = f"imagenette-{split}-{per_class or 'all'}-{SIZE}-v1"
    t = cached_tensors("imagenette", key, lambda: _decode(root, files, progress))
    if t["images"].shape[0] != len(files):
        raise FormatError(f"imagenette: cached {key} has {t['images'].shape[0]} images, expected {len(files)}")
    return Imagenette(images=t["images"], labels=t["labels"], files=files)
