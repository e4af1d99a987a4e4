"""`cached_tensors`: decode a dataset once, keep the tensors in the project cache.

The tensors are saved with `torch.save` into ``cache_dir()/<dataset>/<name>.pt``
atomically, next to a stamp ``<name>.pt.sha256`` written afterwards. A later call loads
the file only if its sha256 matches the stamp; otherwise (missing stamp, corrupted or
truncated file) it decodes again. Put a format version in `name` (e.g. ``"train-v1"``)
and bump it when the decoding changes.
"""

from __future__ import annotations

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
    tensors = build()
    written: list[str] = []
    atomic_write(path, lambda f: torch.save(tensors, f), check=lambda p: written.append(_sha256(p)))
    atomic_write(stamp, f"{written[0]}  {path.name}\n".encode("ascii"))
    return tensors


def _sha256(path: Path) -> str:
    return digests(path, ("sha256",))["sha256"]

