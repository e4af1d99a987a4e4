"""`imagenet_val_boxes`: ILSVRC2012 validation images with labels and ground-truth boxes.

The offline mirror holds 1,300 validation images (725 classes), each stretched to 227x227
(``ilsvrc2012-val-1300-227px.tar.gz``), and the boxes, original sizes and labels of all
50,000 validation images (``localization/image_sizes/class_labels.txt.gz``, from
clovaai/wsolevaluation). Boxes are given in original pixel coordinates; for the stretched
images x is scaled by ``size / W`` and y by ``size / H`` with (W, H) the original size.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import torch

from .archives import unpack_archive
from .derived import cached_tensors
from .errors import FormatError
from .sources import fetch

ARCHIVE = "ilsvrc2012-val-1300-227px.tar.gz"
NATIVE_SIZE = 227
N_IMAGES = 1300


@dataclass(frozen=True)
class ImageNetVal:
    """Images, labels and ground-truth boxes of the ImageNet validation subset.

    images: uint8 [N, size, size, 3] (RGB, channels last).
    labels: int64 [N], ImageNet class indices 0..999 (sorted-wnid order, as torchvision's).
    files: N file names (``ILSVRC2012_val_00000347.JPEG``).
    boxes: N float32 tensors [n_i, 4] of ``(x0, y0, x1, y1)`` in pixel coordinates of the
        ``size`` x ``size`` image (every box annotated for the image, n_i >= 1).
    class_names: 1000 human-readable names (``"tench, Tinca tinca"``), indexed by label.
    wnids: 1000 WordNet ids (``"n01440764"``), indexed by label.
    """

    images: torch.Tensor
    labels: torch.Tensor
    files: list[str]
    boxes: list[torch.Tensor]
    class_names: list[str]
    wnids: list[str]

    def __len__(self) -> int:
        return len(self.files)

    @property
    def size(self) -> int:
        return int(self.images.shape[1])


def _csv_rows(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [line.strip().split(",") for line in handle if line.strip()]


def _key(name: str) -> str:
    """``val/ILSVRC2012_val_00000001.JPEG`` or ``./data/...`` -> ``ILSVRC2012_val_00000001.JPEG``."""
    return name.strip().rsplit("/", 1)[-1]


def _decode(root: Path, progress: bool | None) -> dict[str, torch.Tensor]:
    import numpy as np
    from PIL import Image

    from .sources import bar

    folder = root / "ILSVRC2012_VAL_SET"
    entries = [line.split(",") for line in (folder / "dataset.txt").read_text().splitlines() if line.strip()]
    if len(entries) != N_IMAGES:
        raise FormatError(f"imagenet-val: dataset.txt lists {len(entries)} images, expected {N_IMAGES}")
    files = [_key(name) for name, _ in entries]
    labels = torch.tensor([int(label) for _, label in entries], dtype=torch.int64)

    sizes = {_key(row[0]): (int(row[1]), int(row[2])) for row in _csv_rows(fetch("imagenet-val", "image_sizes.txt.gz", progress=progress))}
    truth = {_key(row[0]): int(row[1]) for row in _csv_rows(fetch("imagenet-val", "class_labels.txt.gz", progress=progress))}
    boxes: dict[str, list[list[float]]] = {}
    for row in _csv_rows(fetch("imagenet-val", "localization.txt.gz", progress=progress)):
        boxes.setdefault(_key(row[0]), []).append([float(v) for v in row[1:5]])

    images = torch.empty((N_IMAGES, NATIVE_SIZE, NATIVE_SIZE, 3), dtype=torch.uint8)
    flat, owner = [], []
    with bar(N_IMAGES, "decode imagenet-val", progress, unit="img") as b:
        for i, name in enumerate(files):
            with Image.open(folder / "data" / name) as jpeg:
                image = torch.from_numpy(np.array(jpeg.convert("RGB")))  # (H, W, 3) uint8, a writable copy
            if tuple(image.shape) != (NATIVE_SIZE, NATIVE_SIZE, 3):
                raise FormatError(f"imagenet-val: {name} is {list(image.shape)}, expected [227, 227, 3]")
            images[i] = image
            if name not in sizes or name not in boxes:
                raise FormatError(f"imagenet-val: no size or box for {name} in the wsolevaluation metadata")
            if truth.get(name) != int(labels[i]):
                raise FormatError(f"imagenet-val: {name} has label {int(labels[i])} in dataset.txt, {truth.get(name)} in class_labels")
            width, height = sizes[name]
            for x0, y0, x1, y1 in boxes[name]:
                flat.append([x0 * NATIVE_SIZE / width, y0 * NATIVE_SIZE / height, x1 * NATIVE_SIZE / width, y1 * NATIVE_SIZE / height])
                owner.append(i)
            b.update(1)
    return {
        "images": images,
        "labels": labels,
        "boxes": torch.tensor(flat, dtype=torch.float32),
        "box_owner": torch.tensor(owner, dtype=torch.int64),
    }


def _resized(t: dict[str, torch.Tensor], size: int) -> dict[str, torch.Tensor]:
    """The native tensors with images resized to ``size`` (bilinear, antialiased) and boxes scaled."""
    images = t["images"]
    out = torch.empty((images.shape[0], size, size, 3), dtype=torch.uint8)
    for start in range(0, images.shape[0], 100):
        chunk = images[start : start + 100].permute(0, 3, 1, 2).float()
        chunk = torch.nn.functional.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start : start + 100] = chunk.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    return {**t, "images": out, "boxes": t["boxes"] * (size / NATIVE_SIZE)}


def imagenet_val_boxes(size: int = NATIVE_SIZE, *, progress: bool | None = None) -> ImageNetVal:
    """The 1,300 mirrored ILSVRC2012 validation images, their labels and ground-truth boxes.

    size: side of the returned square images. 227 (the mirror's own size) returns the
        images as stored; any other size resizes them (bilinear, antialiased) and scales the
        boxes by ``size / 227`` (e.g. 224 for EfficientNet-Lite0 or Inception-v1).
    Returns an :class:`ImageNetVal`. The first call decodes the JPEGs (a few seconds) and
    caches the tensors; later calls load them from the cache.
    """
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size must be an integer >= 8; got {size!r}")
    root = unpack_archive("imagenet-val", ARCHIVE, progress=progress)

    def native() -> dict[str, torch.Tensor]:
        return cached_tensors("imagenet-val", f"imagenet-val-1300-{NATIVE_SIZE}-v2", lambda: _decode(root, progress))

    t = native() if size == NATIVE_SIZE else cached_tensors("imagenet-val", f"imagenet-val-1300-{size}-v2", lambda: _resized(native(), size))
    images, boxes = t["images"], t["boxes"]
    owner = t["box_owner"]
    counts = torch.bincount(owner, minlength=images.shape[0]).tolist()
    per_image = list(torch.split(boxes, counts))

    folder = root / "ILSVRC2012_VAL_SET"
    files = [_key(line.split(",")[0]) for line in (folder / "dataset.txt").read_text().splitlines() if line.strip()]
    synsets = [line.split(" ", 1) for line in (folder / "synset_words.txt").read_text().splitlines() if line.strip()]
    if len(synsets) != 1000:
        raise FormatError(f"imagenet-val: synset_words.txt has {len(synsets)} classes, expected 1000")
    return ImageNetVal(
        images=images,
        labels=t["labels"],
        files=files,
        boxes=per_image,
        class_names=[name for _, name in synsets],
        wnids=[wnid for wnid, _ in synsets],
    )
