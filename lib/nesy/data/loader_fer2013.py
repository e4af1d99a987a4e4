"""`fer2013`: FER2013 facial-expression images and labels as uint8 / int64 tensors.

Sources, in order: the offline mirror's ``fer2013-jpeg.tar.gz`` (``train/<emotion>/*.jpg``,
``test/<emotion>/*.jpg``, 48x48 gray; test = PublicTest + PrivateTest), read in a fixed
order (emotions in :data:`EMOTIONS` order, then file name); else Kaggle's ``fer2013.csv``,
which has no public URL: a user who has it puts it in ``<cache>/fer2013/fer2013.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ..checks import one_of
from .archives import archive_tensors
from .derived import cached_tensors
from .errors import FormatError
from .registry import cache_dir
from .sources import fetch, first_available

#: Emotion names, indexed by label (Kaggle's order: 0 angry ... 6 neutral).
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
HAPPY = EMOTIONS.index("happy")
SPLIT_SIZES = {"train": 28_709, "test": 7_178}
#: Kaggle's "Usage" column: the test split is PublicTest (3,589) + PrivateTest (3,589).
USAGES = ("Training", "PublicTest", "PrivateTest")
KAGGLE_PAGE = "https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge/data"


def _decode_jpeg_folders(root: Path, split: str, progress: bool | None) -> dict[str, torch.Tensor]:
    from PIL import Image

    from .sources import bar

    files = [(label, path) for label, name in enumerate(EMOTIONS) for path in sorted((root / split / name).glob("*.jpg"))]
    if len(files) != SPLIT_SIZES[split]:
        raise FormatError(f"fer2013 {split}: found {len(files)} JPEG files under {root / split}, expected {SPLIT_SIZES[split]}")
    images = np.empty((len(files), 48, 48), dtype=np.uint8)
    with bar(len(files), f"decode fer2013 {split}", progress, unit="img") as b:
        for i, (_, path) in enumerate(files):
            with Image.open(path) as jpeg:
                array = np.asarray(jpeg.convert("L"))
            if array.shape != (48, 48):
                raise FormatError(f"fer2013: {path.name} is {list(array.shape)}, expected [48, 48]")
            images[i] = array
            b.update(1)
    labels = torch.tensor([label for label, _ in files], dtype=torch.int64)
    usage = torch.tensor([_usage_of(path.name) for _, path in files], dtype=torch.int64)
    return {"images": torch.from_numpy(images), "labels": labels, "usage": usage}


def _usage_of(file_name: str) -> int:
    """Index in USAGES of a mirror file named ``<Usage>_<id>.jpg``."""
    prefix = file_name.split("_", 1)[0]
    if prefix not in USAGES:
        raise FormatError(f"fer2013: {file_name} does not start with one of {USAGES}")
    return USAGES.index(prefix)


def _decode_csv(path: Path, split: str) -> dict[str, torch.Tensor]:
    usages = {"train": ("Training",), "test": ("PublicTest", "PrivateTest")}[split]
    images, labels, usage = [], [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Usage"] in usages:
                images.append(np.array(row["pixels"].split(), dtype=np.uint8).reshape(48, 48))
                labels.append(int(row["emotion"]))
                usage.append(USAGES.index(row["Usage"]))
    if len(images) != SPLIT_SIZES[split]:
        raise FormatError(f"fer2013 {split}: {path.name} holds {len(images)} rows, expected {SPLIT_SIZES[split]}")
    return {"images": torch.from_numpy(np.stack(images)), "labels": torch.tensor(labels, dtype=torch.int64),
            "usage": torch.tensor(usage, dtype=torch.int64)}


def fer2013(split: str = "train", *, usage: str | None = None, progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All FER2013 images and 7-class labels of one split (or of one Kaggle usage within it).

    split: "train" (28,709) or "test" (7,178, PublicTest + PrivateTest). usage: ``None`` (the
    whole split) or one of :data:`USAGES` in that split ("Training" in train; "PublicTest" or
    "PrivateTest", 3,589 each, in test).
    Returns ``(images, labels)``: images uint8 [N, 48, 48] (gray), labels int64 [N] in 0..6
    (names in :data:`EMOTIONS`; ``labels == HAPPY`` gives the paper's happy / not happy task).
    """
    one_of("split", split, sorted(SPLIT_SIZES))
    allowed = _usages_in(split)
    one_of("usage", usage, (None, *allowed), where=f" for split {split!r}")
    tensors = _split_tensors(split, progress)
    if usage is None:
        return tensors["images"], tensors["labels"]
    return _keep_usage(tensors, usage)


def fer2013_usages(split: str = "test", *, progress: bool | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{usage: (images, labels)}`` for each Kaggle usage in ``split``, the split read once
    (shapes as :func:`fer2013`'s; "test" gives PublicTest and PrivateTest, "train" Training)."""
    one_of("split", split, sorted(SPLIT_SIZES))
    tensors = _split_tensors(split, progress)
    return {usage: _keep_usage(tensors, usage) for usage in _usages_in(split)}


def _usages_in(split: str) -> tuple[str, ...]:
    return ("Training",) if split == "train" else ("PublicTest", "PrivateTest")


def _keep_usage(tensors: dict[str, torch.Tensor], usage: str) -> tuple[torch.Tensor, torch.Tensor]:
    keep = tensors["usage"] == USAGES.index(usage)
    return tensors["images"][keep], tensors["labels"][keep]


def _split_tensors(split: str, progress: bool | None) -> dict[str, torch.Tensor]:
    """The split's cached ``images``, ``labels`` and ``usage`` tensors (mirror copy, else Kaggle's CSV)."""
    def kaggle_copy():
        path = fetch("fer2013", "fer2013.csv", progress=progress)
        return cached_tensors("fer2013", f"fer2013-csv-{split}-v2", lambda: _decode_csv(path, split))

    return first_available(
        "FER2013 is unavailable. It has no public download: sign in at "
        f"{KAGGLE_PAGE}, download fer2013.tar.gz, and place fer2013/fer2013.csv from it at "
        f"{cache_dir() / 'fer2013' / 'fer2013.csv'} (it is verified against the md5 pinned in "
        f"data/registry.yaml), or point NESY_DATA_MIRROR at a mirror holding fer2013/fer2013-jpeg.tar.gz.",
        ("mirror copy", lambda: archive_tensors("fer2013", "fer2013-jpeg.tar.gz", f"fer2013-jpeg-{split}-v2",
                                                lambda root: _decode_jpeg_folders(root, split, progress), progress=progress)),
        ("Kaggle copy", kaggle_copy))
