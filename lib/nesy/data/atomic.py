"""Atomic writes and checksums.

`atomic_write` writes into a temporary file in the destination's folder, flushes and
fsyncs it, runs an optional `check` on the complete temporary file (e.g. a checksum),
and only then renames it over the final name with `os.replace`. Whatever fails on the
way (an exception from the content, the check, or a KeyboardInterrupt) the temporary
file is removed, and the final name is never left holding a partial file. A temporary
left by a writer that was killed (SIGKILL, power loss) is removed by the next write of the
same file once it is an hour old (`remove_stale_parts`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, Union

from .errors import ChecksumError

CHUNK = 1 << 20

Content = Union[bytes, Iterable[bytes], Callable[[BinaryIO], None]]


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def file_lock(lock_path, *, wait: bool = True):
    """Hold an exclusive advisory lock (``flock``) on `lock_path` (created if missing) for the block.

    Yields True; with ``wait=False`` yields False at once when another process holds it. Off
    POSIX there is no lock and it always yields True.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


#: A temporary ``.part`` file untouched for this long belongs to a writer that was killed.
STALE_PART_S = 3600.0


def remove_stale_parts(path: Path, older_than: float = STALE_PART_S) -> list[Path]:
    """Remove the ``.<name>.*.part`` temporaries of `path` (files or folders) that were not
    modified for `older_than` seconds: what a killed writer left. A live writer keeps its
    temporary's modification time fresh, so it is not touched. Returns what was removed."""
    import shutil
    import time

    removed, now = [], time.time()
    for leftover in Path(path).parent.glob(f".{Path(path).name}.*.part"):
        try:
            if now - leftover.stat().st_mtime < older_than:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
            removed.append(leftover)
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed


def atomic_write(path, content: Content, *, check: Callable[[Path], None] | None = None) -> Path:
    """Write `content` to `path` atomically and return `path`.

    content: bytes, an iterable of byte chunks, or a function writing to a binary file.
    check: called with the temporary file's path once it is complete; raise to abort.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(content, (bytes, bytearray, memoryview)):
                f.write(content)
            elif callable(content):
                content(f)
            else:
                for chunk in content:
                    f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def file_chunks(path, size: int = CHUNK, bar=None) -> Iterable[bytes]:
    """The bytes of `path` in chunks; `bar` (a tqdm bar or None) is advanced by bytes read."""
    with open(path, "rb") as f:
        while chunk := f.read(size):
            if bar is not None:
                bar.update(len(chunk))
            yield chunk


def digests(path, kinds=("sha256", "md5")) -> dict[str, str]:
    """Hex digests of the file at `path` in one pass, e.g. ``{"sha256": ..., "md5": ...}``."""
    hashers = {k: hashlib.new(k) for k in kinds}
    for chunk in file_chunks(path):
        for h in hashers.values():
            h.update(chunk)
    return {k: h.hexdigest() for k, h in hashers.items()}


def gunzip_sha256(path) -> str | None:
    """sha256 of the decompressed bytes of a gzip file, or None if `path` is not valid gzip."""
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return h.hexdigest()


def verify(path, accepted: dict[str, set[str]], what: str = "") -> str:
    """Check that `path` has one of the `accepted` digests; return which matched.

    accepted: ``{"sha256": {...}, "md5": {...}, "content_sha256": {...}}`` (any may be empty);
    content_sha256 is the sha256 of the gunzipped bytes. Raises ChecksumError naming the
    expected and actual digests otherwise.
    """
    kinds = [k for k in ("sha256", "md5") if accepted.get(k)] or ["sha256"]
    got = digests(path, kinds)
    for kind in kinds:
        if got[kind] in accepted.get(kind, ()):
            return kind
    if accepted.get("content_sha256"):
        got["content_sha256"] = gunzip_sha256(path) or "(not gzip)"
        if got["content_sha256"] in accepted["content_sha256"]:
            return "content_sha256"
    expected = " or ".join(
        f"{kind} {value}" for kind in ("sha256", "md5", "content_sha256") for value in sorted(accepted.get(kind, ()))
    )
    actual = ", ".join(f"{kind} {value}" for kind, value in got.items())
    raise ChecksumError(f"checksum mismatch{' for ' + what if what else ''}: expected {expected}; got {actual}")
