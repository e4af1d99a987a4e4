"""The compiled operators (torch.ops.nesy.*) as torch ops: the one loader, nesy.kernels."""
from __future__ import annotations

import sys

import pytest

from nesy.kernels import compiled_ops


def test_the_loader_names_the_rebuild_and_the_callers_fallback(monkeypatch):
    monkeypatch.setitem(sys.modules, "nesy._C", None)  # as if the extension were not built
    with pytest.raises(ImportError, match=r"pip install --no-build-isolation -e \..*backend='python'"):
        compiled_ops("backend='python'")
