"""Datasets as tensors, from verified local copies.

Public API::

    mnist(split="train") -> (images uint8 [N, 28, 28], labels int64 [N])
    cifar10(split="train") -> (images uint8 [N, 32, 32, 3], labels int64 [N])
    fer2013(split="train") -> (images uint8 [N, 48, 48], labels int64 [N] in 0..6)
    fer2013_usages(split="test") -> {usage: (images, labels)}   # each Kaggle usage, one read
    crash_world(n_images, seed, ...) -> CrashWorld   # generated (nesy.logic.crash_world)
    imagenet_val_boxes(size=227) -> images, labels, files, boxes, ...  # 1,300 ILSVRC2012 val images
    beer_reviews(split, aspect) -> BeerReviews   # Lei et al.'s reviews, if the user has them (not mirrored)
    imagenette(split="val", per_class=None) -> Imagenette  # 224x224, 10 classes
    fetch(dataset, file) -> Path            # a verified raw file in the project cache
    unpack_archive(dataset, archive) -> Path  # a registered tar archive, unpacked once
    cached_tensors(dataset, name, build) -> dict[str, Tensor]  # decode once, cache
    available() -> list[str]                # registered dataset names
    files(dataset) -> list[str]             # registered file names of one dataset

Every file is described in ``<repo>/data/registry.yaml`` (mirror path and sha256, the
canonical URLs and their digests) and is looked for in three places, in order: the
project cache (``<repo>/data/cache``, env ``NESY_DATA_CACHE``), the offline mirror
(``<repo>/../shared/data``, env ``NESY_DATA_MIRROR``), and the canonical download. If
none works, `DataUnavailableError` (a RuntimeError) names all three and why each failed.
Writes are atomic, and verified before they are renamed into place.

Adding a loader (CIFAR-10, Imagenette, FER2013, ImageNet val) takes a few lines in a new
module ``loader_<name>.py``, exported here::

    def cifar10(split="train"):
        root = unpack_archive("cifar10", "cifar10-jpeg.tar.gz") / split   # train/<class>/NNNN.jpg
        def build():
            ...  # decode the JPEGs under root into {"images": uint8 [N, 32, 32, 3], "labels": int64 [N]}
        t = cached_tensors("cifar10", f"cifar10-{split}-v1", build)
        return t["images"], t["labels"]

Files the mirror lacks but canonical hosts serve (e.g. ``cifar-10-python.tar.gz``,
``imagenette2-320.tgz``) are registered too, so a loader can fall back to them by catching
`DataUnavailableError` for the mirror file. Files behind a sign-in (``fer2013.csv``,
``ILSVRC2012_img_val.tar``) have no URL: a user who has them puts them in the cache folder
named in the error, where they are verified against the pinned md5 like any other copy.
"""

from .archives import unpack_archive
from .derived import CacheWriteWarning, cached_tensors
from .errors import ChecksumError, DataError, DataUnavailableError, FormatError, RegistryError, UnsafeArchiveError
from .idx import read_idx
from .loader_cifar10 import cifar10
from .loader_fer2013 import fer2013, fer2013_usages
from .quality import sharpness
from .loader_beer_reviews import beer_reviews, beer_reviews_dir
from .loader_imagenet_val import imagenet_val_boxes
from .loader_imagenette import imagenette
from .loader_mnist import mnist
from .registry import available, cache_dir, files, mirror_dir
from .sources import fetch


def crash_world(n_images: int, seed: int = 0, **options):
    """The Conv-LTN article's generated road images; see :func:`nesy.logic.crash_world.generate`.

    Generated, not stored: the same seed always gives the same images and labels.
    """
    from nesy.logic.crash_world import generate

    return generate(n_images, seed, **options)

__all__ = [
    "ChecksumError",
    "DataError",
    "DataUnavailableError",
    "FormatError",
    "RegistryError",
    "UnsafeArchiveError",
    "available",
    "beer_reviews",
    "beer_reviews_dir",
    "cache_dir",
    "cached_tensors",
    "CacheWriteWarning",
    "cifar10",
    "crash_world",
    "fer2013",
    "fer2013_usages",
    "sharpness",
    "fetch",
    "files",
    "imagenet_val_boxes",
    "imagenette",
    "mirror_dir",
    "mnist",
    "read_idx",
    "unpack_archive",
]
