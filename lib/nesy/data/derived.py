"""`cached_tensors`: decode a dataset once, keep the tensors in the project cache.

The tensors are saved with `torch.save` into ``cache_dir()/<dataset>/<name>.pt``
atomically, next to a stamp ``<name>.pt.sha256`` written afterwards. A later call loads
the file only if its sha256 matches the stamp; otherwise (missing stamp, corrupted or
truncated file) it decodes again. Put a format version in `name` (e.g. ``"train-v1"``)
and bump it when the decoding changes. ``build`` runs with torch's CPU random state saved and
restored, so whether the cache hits or misses, the caller's random numbers afterwards are the same
(a backbone's random initialisation before its weights load would otherwise change them).

The cache only saves time: when the copy cannot be written (a full disk shows up as torch's
``unexpected pos`` or ``file write failed``), the tensors are returned all the same, a
`CacheWriteWarning` says what was not cached and how much space is free, and nothing partial
is left behind.
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from . import registry
from .atomic import atomic_write, digests


def cached_tensors(dataset: str, name: str, build: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Return ``build()``'s dict of tensors, from the cache when a verified copy exists."""
    path = registry.cache_dir() / dataset / f"{name}.pt"
    stamp = path.with_name(path.name + ".sha256")
    try:
        expected = stamp.read_text(encoding="ascii").split()[0]
        if digests(path, ("sha256",))["sha256"] == expected:
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - missing stamp, corrupted or unreadable file
        pass  # decode again
    with torch.random.fork_rng(devices=[]):  # a miss must leave the caller's random stream as a hit does
        tensors = build()
    written: list[str] = []
    try:
        atomic_write(path, lambda f: torch.save(tensors, f), check=lambda p: written.append(_sha256(p)))
        atomic_write(stamp, f"{written[0]}  {path.name}\n".encode("ascii"))
    except (OSError, RuntimeError) as exc:  # torch reports a failed write as a RuntimeError
        for leftover in (path, stamp):  # a copy without its stamp would only take space
            with contextlib.suppress(OSError):
                leftover.unlink()
        warnings.warn(CacheWriteWarning(
            f"not cached: {path} could not be written ({exc}); {_free(path.parent)} free there. "
            "The run goes on with the tensors in memory; free space or move the cache with NESY_DATA_CACHE."),
            stacklevel=2)
    return tensors


class CacheWriteWarning(UserWarning):
    """A derived tensor file could not be cached; the tensors were returned from memory."""


def _free(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:,.0f} MiB"
    except OSError:
        return "unknown space"


def _sha256(path: Path) -> str:
    return digests(path, ("sha256",))["sha256"]

