"""`fetch`: the verified local path of one registered raw file, from the first source that works.

1. the project cache, ``cache_dir()/<dataset>/<file>`` (re-hashed at every call; a
   corrupted copy is reported and replaced);
2. the offline mirror, ``mirror_dir()/<mirror path>``, checked against the sha256 pinned
   in data/registry.yaml and the mirror's own SHA256SUMS, then copied into the cache;
3. the canonical download (each registered URL in turn), verified against the pinned
   sha256/md5 (or the sha256 of its gunzipped bytes), then moved into the cache.

Every write into the cache is atomic and verified before the rename. When nothing works
the error (`DataUnavailableError`) names the three places and why each failed.
Tests (and offline CI) can replace `download_chunks`, or set ``NESY_DATA_OFFLINE=1``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from tqdm.auto import tqdm

from . import registry
from .atomic import atomic_write, file_chunks, verify
from .errors import ChecksumError, DataUnavailableError, RegistryError
from .registry import FileSpec

USER_AGENT = "nesy-data (pytorch/vision compatible)"
TIMEOUT_S = 30
BAR_MIN_BYTES = 4 << 20  # no progress bar for files smaller than this


T = TypeVar("T")


def first_available(unavailable: str, *copies: tuple[str, Callable[[], T]]) -> T:
    """What the first of ``copies`` (label, load) that has its files returns.

    A load that raises :class:`DataUnavailableError` passes to the next; when none works, one
    DataUnavailableError: ``unavailable``, then each copy's label and why it failed.
    """
    failures = []
    for label, load in copies:
        try:
            return load()
        except DataUnavailableError as exc:
            failures.append((label, exc))
    details = "\n".join(f"{label}: {exc}" for label, exc in failures)
    raise DataUnavailableError(f"{unavailable}\n{details}", [a for _, exc in failures for a in exc.attempts])


class _SourceFailed(Exception):
    """Internal: one source could not supply the file (the message says why)."""


def progress_enabled(progress: bool | None) -> bool:
    """`progress` if given, else env ``NESY_PROGRESS`` ("0" turns bars off; default on)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get("NESY_PROGRESS", "1") not in ("0", "false", "no", "off")


def bar(total: int | None, desc: str, progress: bool | None, unit: str = "B"):
    """A `tqdm.auto` bar (a widget in notebooks); disabled for small totals or when off."""
    on = progress_enabled(progress) and (total is None or unit != "B" or total >= BAR_MIN_BYTES)
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", disable=not on, leave=False)


def download_chunks(url: str, progress: bool | None = None) -> Iterator[bytes]:
    """The bytes at `url` in chunks, with a progress bar. Replaced by fakes in tests."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        total = response.headers.get("Content-Length")
        with bar(int(total) if total else None, f"download {url.rsplit('/', 1)[-1]}", progress) as b:
            while chunk := response.read(1 << 16):
                b.update(len(chunk))
                yield chunk


@lru_cache(maxsize=8)
def _read_sums(path: str, mtime_ns: int) -> dict[str, str]:
    sums = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except UnicodeDecodeError as error:
        raise RegistryError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}); "
                            "it should hold lines '<sha256>  <relative path>'") from None
    for line in lines:
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            name = parts[1].lstrip("*")
            sums[name[2:] if name.startswith("./") else name] = parts[0].lower()
    return sums


def mirror_sums(mirror: Path) -> dict[str, str]:
    """The mirror's SHA256SUMS as ``{relative path: sha256}`` ({} if the file is absent)."""
    path = mirror / "SHA256SUMS"
    try:
        return _read_sums(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}


def _from_mirror(spec: FileSpec, dest: Path, progress: bool | None) -> Path:
    mirror = registry.mirror_dir()
    if not spec.mirror_path:
        raise _SourceFailed("the offline mirror has no copy of this file (none is registered)")
    src = mirror / spec.mirror_path
    if not mirror.is_dir():
        raise _SourceFailed(f"{src}: path missing (the folder {mirror} does not exist)")
    if not src.is_file():
        raise _SourceFailed(f"{src}: path missing")
    listed = mirror_sums(mirror).get(spec.mirror_path)
    if listed is not None and listed != spec.mirror_sha256:
        raise _SourceFailed(
            f"{src}: the mirror's SHA256SUMS lists sha256 {listed} but data/registry.yaml pins "
            f"{spec.mirror_sha256} (checksum mismatch; a different mirror version?)"
        )
    accepted = {"sha256": {spec.mirror_sha256}}
    try:
        with bar(src.stat().st_size, f"copy {spec.name}", progress) as b:
            atomic_write(dest, file_chunks(src, bar=b), check=lambda p: verify(p, accepted, str(src)))
    except ChecksumError as exc:
        raise _SourceFailed(str(exc)) from None
    except OSError as exc:
        raise _SourceFailed(f"{src}: could not copy it to {dest}: {type(exc).__name__}: {exc}") from None
    return dest


def _download_to(url: str, spec: FileSpec, dest: Path, progress: bool | None) -> None:
    accepted = {k: {v} for k, v in spec.download_digests.items()}
    if spec.compress == "gzip":  # verify the raw download, then gzip it into the cache
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".download-", dir=dest.parent) as tmp:
            raw = Path(tmp) / "raw"
            atomic_write(raw, download_chunks(url, progress), check=lambda p: verify(p, accepted, url))

            def compress(f):
                with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
                    with open(raw, "rb") as r:
                        shutil.copyfileobj(r, gz, 1 << 20)

            atomic_write(dest, compress, check=lambda p: verify(p, spec.accepted(), str(dest)))
        return
    if spec.content_sha256:
        accepted["content_sha256"] = {spec.content_sha256}
    atomic_write(dest, download_chunks(url, progress), check=lambda p: verify(p, accepted, url))


def _from_download(spec: FileSpec, dest: Path, progress: bool | None) -> Path:
    if not spec.urls:
        why = "no canonical URL serves this exact file"
        raise _SourceFailed(f"{why}: {spec.note}" if spec.note else why)
    if os.environ.get("NESY_DATA_OFFLINE", "0") not in ("", "0"):
        raise _SourceFailed(f"skipped {', '.join(spec.urls)}: NESY_DATA_OFFLINE is set")
    errors = []
    for url in spec.urls:
        try:
            _download_to(url, spec, dest, progress)
            return dest
        except ChecksumError as exc:
            errors.append(f"{url}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any network/HTTP error: try the next URL
            errors.append(f"{url}: download error: {type(exc).__name__}: {exc}")
    raise _SourceFailed("; ".join(errors))


def fetch(dataset: str, file: str, *, progress: bool | None = None) -> Path:
    """Return the verified local path (in the project cache) of a registered raw file.

    dataset, file: names from data/registry.yaml (see `available()`, `registry.files()`).
    progress: show tqdm bars for large copies/downloads (None: env ``NESY_PROGRESS``).
    Raises ValueError for unknown names, DataUnavailableError when no source works.
    """
    spec = registry.file_spec(dataset, file)
    dest = registry.cache_dir() / dataset / file
    attempts: list[tuple[str, str]] = []
    if dest.is_file():
        try:
            verify(dest, spec.accepted(), str(dest))
            return dest
        except ChecksumError as exc:
            attempts.append(("project cache", f"{dest}: corrupted, {exc}"))
    else:
        attempts.append(("project cache", f"{dest}: path missing"))
    for source, step in (("offline mirror", _from_mirror), ("download", _from_download)):
        try:
            return step(spec, dest, progress)
        except _SourceFailed as exc:
            attempts.append((source, str(exc)))
    raise DataUnavailableError(_explain(spec, dest, attempts), attempts)


def _explain(spec: FileSpec, dest: Path, attempts: list[tuple[str, str]]) -> str:
    mirror = registry.mirror_dir()
    origin = "NESY_DATA_MIRROR" if os.environ.get("NESY_DATA_MIRROR") else "the default <repo>/../shared/data"
    lines = [f"nesy.data cannot obtain {spec.dataset}/{spec.name}; tried, in order:"]
    lines += [f"  {i}. {source}: {reason}" for i, (source, reason) in enumerate(attempts, 1)]
    lines.append(
        "To fix: set NESY_DATA_MIRROR to a folder holding the offline mirror "
        f"(now {mirror}, from {origin}), or connect to the internet and retry "
        "(downloads are verified and kept in the cache; NESY_DATA_CACHE moves the cache)."
    )
    if spec.note and not spec.urls:
        lines.append(f"A copy obtained by hand and placed at {dest} is verified and used like any other.")
    return "\n".join(lines)
