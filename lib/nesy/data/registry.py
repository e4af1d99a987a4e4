"""Where data lives, and what it must hash to: the dataset registry and the three locations.

- `repo_root()`: the folder holding ``lib/`` (found from ``nesy.__file__``).
- `registry_path()`: ``<repo>/data/registry.yaml``, or env ``NESY_DATA_REGISTRY``.
- `cache_dir()`: ``<repo>/data/cache``, or env ``NESY_DATA_CACHE``.
- `mirror_dir()`: ``<repo>/../shared/data``, or env ``NESY_DATA_MIRROR``.

Environment variables are read at every call, so changing them takes effect at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nesy import paths, yamlio

from ..checks import one_of
from .errors import RegistryError

_DIGEST_KEYS = ("sha256", "md5")


def repo_root() -> Path:
    """The project folder: the parent of the ``lib/`` folder that holds the `nesy` package."""
    return paths.REPO


def registry_path() -> Path:
    """The registry file: env ``NESY_DATA_REGISTRY`` or ``<repo>/data/registry.yaml``."""
    env = os.environ.get("NESY_DATA_REGISTRY")
    return Path(env).expanduser() if env else repo_root() / "data" / "registry.yaml"


def cache_dir() -> Path:
    """The project cache: env ``NESY_DATA_CACHE`` or ``<repo>/data/cache`` (git-ignored)."""
    env = os.environ.get("NESY_DATA_CACHE")
    return Path(env).expanduser() if env else repo_root() / "data" / "cache"


def mirror_dir() -> Path:
    """The offline mirror: env ``NESY_DATA_MIRROR`` or ``<repo>/../shared/data``."""
    env = os.environ.get("NESY_DATA_MIRROR")
    return Path(env).expanduser() if env else repo_root().parent / "shared" / "data"


@dataclass(frozen=True)
class FileSpec:
    """One registered file of one dataset (see the comment at the top of registry.yaml)."""

    dataset: str
    name: str
    mirror_path: str | None = None  # relative to the mirror folder
    mirror_sha256: str | None = None  # of the mirror's bytes
    size: int | None = None  # of the mirror's bytes
    content_sha256: str | None = None  # of the gunzipped bytes (for .gz files)
    urls: tuple[str, ...] = ()
    download_digests: dict = field(default_factory=dict)  # sha256 and/or md5 of the download
    compress: str | None = None  # "gzip": the download is gzipped into the cache
    note: str | None = None  # how to obtain the file when no URL serves it, etc.

    def accepted(self) -> dict[str, set[str]]:
        """Every digest a genuine cached copy may have: ``{"sha256": {...}, "md5": {...}, "content_sha256": {...}}``."""
        out: dict[str, set[str]] = {"sha256": set(), "md5": set(), "content_sha256": set()}
        if self.mirror_sha256:
            out["sha256"].add(self.mirror_sha256)
        for key in _DIGEST_KEYS:
            digest = self.download_digests.get(key)
            if not digest or (self.compress and key == "md5"):
                continue
            # a download gzipped into the cache keeps its raw sha256 as the content digest
            out["content_sha256" if self.compress and key == "sha256" else key].add(digest)
        if self.content_sha256:
            out["content_sha256"].add(self.content_sha256)
        return out


def _lower(value, where: str):
    if value is None:
        return None
    if not isinstance(value, str):
        raise RegistryError(f"{where} must be a hex string, got {value!r}")
    return value.lower()


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict:
    doc = yamlio.read(Path(path), error=RegistryError)
    if not isinstance(doc, dict) or not isinstance(doc.get("datasets"), dict):
        raise RegistryError(f"{path}: expected a mapping with a 'datasets' key")
    specs: dict[str, dict[str, FileSpec]] = {}
    for dataset, entry in doc["datasets"].items():
        files = (entry or {}).get("files")
        if not isinstance(files, dict) or not files:
            raise RegistryError(f"{path}: dataset {dataset!r} has no 'files' mapping")
        specs[dataset] = {}
        for name, f in files.items():
            where = f"{path}: {dataset}/{name}"
            f = f or {}
            mirror = f.get("mirror") or {}
            download = f.get("download") or {}
            urls = download.get("urls") or []
            if isinstance(urls, str):
                urls = [urls]
            digests = {k: _lower(download.get(k), f"{where} download.{k}") for k in _DIGEST_KEYS}
            digests = {k: v for k, v in digests.items() if v}
            spec = FileSpec(
                dataset=dataset,
                name=name,
                mirror_path=mirror.get("path"),
                mirror_sha256=_lower(mirror.get("sha256"), f"{where} mirror.sha256"),
                size=mirror.get("size"),
                content_sha256=_lower(f.get("content_sha256"), f"{where} content_sha256"),
                urls=tuple(urls),
                download_digests=digests,
                compress=download.get("compress"),
                note=f.get("note"),
            )
            if spec.mirror_path and not spec.mirror_sha256:
                raise RegistryError(f"{where}: a mirror path needs a pinned mirror.sha256")
            if spec.urls and not (digests or spec.content_sha256):
                raise RegistryError(f"{where}: download URLs need a pinned sha256, md5 or content_sha256")
            if spec.compress not in (None, "gzip"):
                raise RegistryError(f"{where}: download.compress must be 'gzip' or absent")
            if spec.compress and not digests.get("sha256"):
                raise RegistryError(f"{where}: compress: gzip needs download.sha256 (of the raw download)")
            specs[dataset][name] = spec
    return {"specs": specs, "doc": doc}


def load() -> dict:
    """The parsed registry: ``{"specs": {dataset: {file: FileSpec}}, "doc": <raw YAML>}``."""
    path = registry_path()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise RegistryError(
            f"the dataset registry {path} cannot be read ({exc}); "
            "set NESY_DATA_REGISTRY to its path if the project is not installed editable"
        ) from None
    return _load(str(path), mtime)


def available() -> list[str]:
    """Names of every registered dataset, sorted (e.g. ``['cifar10', 'fer2013', ..., 'mnist']``)."""
    return sorted(load()["specs"])


def files(dataset: str) -> list[str]:
    """Names of the registered files of `dataset`."""
    return sorted(_dataset(dataset))


def _dataset(dataset: str) -> dict[str, FileSpec]:
    specs = load()["specs"]
    one_of("dataset", dataset, specs)
    return specs[dataset]


def file_spec(dataset: str, file: str) -> FileSpec:
    """The registry entry of `file` in `dataset`; ValueError naming the allowed values otherwise."""
    entries = _dataset(dataset)
    one_of("file", file, entries, where=f" for dataset {dataset!r}")
    return entries[file]
