"""`unpack_archive`: a registered tar archive, unpacked once into the project cache.

The archive is obtained with `fetch` (cache, mirror, download; verified), unpacked into
a temporary folder next to the target with a progress bar, and renamed into place only
when complete, so ``cache_dir()/<dataset>/<archive stem>/`` either holds the whole
archive or does not exist. Processes sharing a cache take turns (an exclusive lock on
``.<archive stem>.lock`` beside the folder): the first unpacks, the others wait and then
find the folder complete, so no process deletes a folder another may be reading. A stale
folder is renamed aside before the new one takes its name, never emptied in place. Members with absolute paths, ``..`` components, links or
device files are refused (`UnsafeArchiveError`) before anything is renamed. A stamp file
records the archive's pinned digests and the number and total size of its files; a
folder whose stamp or contents disagree is unpacked again.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from . import registry
from .atomic import atomic_write, file_lock, fsync_dir
from .errors import UnsafeArchiveError
from .sources import bar, fetch

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
STAMP = ".nesy-unpacked.json"
_EXTRACT_KW = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def archive_stem(name: str) -> str | None:
    """``"cifar10-jpeg.tar.gz"`` -> ``"cifar10-jpeg"``; None if `name` is not a tar archive."""
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


class _CountingReader:
    """A read-only file wrapper advancing a progress bar by the bytes read."""

    def __init__(self, raw, bar):
        self.raw, self.bar = raw, bar

    def read(self, size=-1):
        data = self.raw.read(size)
        self.bar.update(len(data))
        return data


def _check_member(member: tarfile.TarInfo, archive: str, dest: Path) -> None:
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(
            f"refusing to unpack {archive}: member {name!r} would be written outside {dest}"
        )
    if not (member.isfile() or member.isdir()):
        kind = "link" if (member.issym() or member.islnk()) else "special file"
        raise UnsafeArchiveError(f"refusing to unpack {archive}: member {name!r} is a {kind}")
    if not (dest / name).resolve().is_relative_to(dest.resolve()):
        raise UnsafeArchiveError(
            f"refusing to unpack {archive}: member {name!r} would be written outside {dest}"
        )


def _extract(archive: Path, dest: Path, progress: bool | None) -> dict:
    files = nbytes = 0
    with open(archive, "rb") as raw, bar(archive.stat().st_size, f"unpack {archive.name}", progress) as b:
        with tarfile.open(fileobj=_CountingReader(raw, b), mode="r|*") as tar:
            for member in tar:
                _check_member(member, archive.name, dest)
                tar.extract(member, dest, **_EXTRACT_KW)
                if member.isfile():
                    files, nbytes = files + 1, nbytes + member.size
    return {"files": files, "bytes": nbytes}


def _scan(folder: Path) -> dict:
    files = nbytes = 0
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name != STAMP or os.path.dirname(entry.path) != str(folder):
                    files, nbytes = files + 1, nbytes + entry.stat(follow_symlinks=False).st_size
    return {"files": files, "bytes": nbytes}


def _complete(target: Path, fingerprint: dict) -> bool:
    try:
        stamp = json.loads((target / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if {k: stamp.get(k) for k in fingerprint} != fingerprint:
        return False
    return _scan(target) == {"files": stamp.get("files"), "bytes": stamp.get("bytes")}


def _unpack_into(target: Path, path: Path, stem: str, fingerprint: dict, progress) -> None:
    """Unpack `path` beside `target`, then swap it in (the caller holds the lock)."""
    for leftover in target.parent.glob(f".{stem}.*"):  # of a killed unpack: under the lock nobody else owns one
        if leftover.is_dir() and leftover.suffix in (".part", ".stale"):
            shutil.rmtree(leftover, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".part", dir=target.parent))
    os.chmod(tmp, 0o755)
    stale = None
    try:
        stamp = {**fingerprint, **_extract(path, tmp, progress)}
        atomic_write(tmp / STAMP, json.dumps(stamp, indent=1).encode())
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():  # an incomplete or stale earlier unpack: moved aside, removed after the swap
            stale = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".stale", dir=target.parent))
            os.replace(target, stale / stem)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)
    fsync_dir(target.parent)


def unpack_archive(dataset: str, archive: str, *, progress: bool | None = None) -> Path:
    """Return the folder holding the unpacked registered tar archive `archive` of `dataset`.

    The folder is ``cache_dir()/<dataset>/<archive without .tar.gz/.tgz/.tar>/`` and mirrors
    the archive's own layout, e.g. for CIFAR-10 ``.../cifar10-jpeg/train/<class>/NNNN.jpg``.
    Unpacked once; later calls only check the stamp and the file count/sizes.
    Raises ValueError if `archive` is not a registered tar archive, UnsafeArchiveError for a
    malicious member, DataUnavailableError when no source supplies the archive.
    """
    spec = registry.file_spec(dataset, archive)
    stem = archive_stem(archive)
    if stem is None:
        raise ValueError(f"archive must name a tar archive ({', '.join(ARCHIVE_SUFFIXES)}); got {archive!r}")
    target = registry.cache_dir() / dataset / stem
    fingerprint = {"archive": archive, "digests": {k: sorted(v) for k, v in spec.accepted().items()}}
    if _complete(target, fingerprint):
        return target
    path = fetch(dataset, archive, progress=progress)
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / f".{stem}.lock"):
        if not _complete(target, fingerprint):  # another process may have finished while we waited
            _unpack_into(target, path, stem, fingerprint, progress)
    return target


def archive_tensors(dataset: str, archive: str, name: str, decode, *, progress: bool | None = None) -> dict:
    """The tensors ``decode(root)`` builds from the unpacked ``archive`` (root: its folder),
    cached as ``name`` (:func:`nesy.data.cached_tensors`): unpacked and decoded once."""
    from .derived import cached_tensors

    root = unpack_archive(dataset, archive, progress=progress)
    return cached_tensors(dataset, name, lambda: decode(root))
