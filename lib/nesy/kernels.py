"""The compiled operators (``torch.ops.nesy.*``, built from csrc/ into ``nesy._C``).

:func:`compiled_ops` is the one way the library reaches them: it imports the extension (which
registers the operators) and returns the ``torch.ops.nesy`` namespace, or raises an
ImportError that says how to rebuild and which pure-Python back end the caller offers instead.
"""
from __future__ import annotations

import torch


def compiled_ops(fallback: str):
    """``torch.ops.nesy`` after loading ``nesy._C``.

    ``fallback`` names the caller's pure-Python alternative (e.g. ``"backend='reference'"``),
    quoted in the ImportError raised when the extension is missing or does not load.
    """
    try:
        import nesy._C  # noqa: F401  (registers torch.ops.nesy.*)
    except ImportError as err:  # pragma: no cover - depends on the build
        raise ImportError(
            "nesy's compiled extension nesy._C is missing or does not load: rebuild it with "
            f"`pip install --no-build-isolation -e .` (or `make env`), or use {fallback}") from err
    return torch.ops.nesy
