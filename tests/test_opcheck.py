"""The compiled operators (torch.ops.nesy.*) as torch ops: the one loader (nesy.kernels) and
torch.library.opcheck on each of the 7 ops (schema, fake kernel against the real one, autograd
registration, AOT dispatch with dynamic shapes, forward and backward), on small valid inputs."""
from __future__ import annotations

import sys

import pytest
import torch
from torch.library import opcheck

from nesy.kernels import compiled_ops


def test_the_loader_names_the_rebuild_and_the_callers_fallback(monkeypatch):
    monkeypatch.setitem(sys.modules, "nesy._C", None)  # as if the extension were not built
    with pytest.raises(ImportError, match=r"pip install --no-build-isolation -e \..*backend='python'"):
        compiled_ops("backend='python'")


# --------------------------------------------------------------------------- torch.library.opcheck

ALL_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")


@pytest.fixture(scope="module")
def ops():
    return compiled_ops("backend='reference'")


def _satnet_problem(requires_grad=True, dtype=torch.float64, B=2, N=6, m=4, k=3):
    g = torch.Generator().manual_seed(0)
    S = torch.randn(N, m, dtype=dtype, generator=g).requires_grad_(requires_grad)
    V0 = torch.nn.functional.normalize(torch.randn(B, N, k, dtype=dtype, generator=g), dim=2)
    is_output = torch.zeros(B, N, dtype=torch.bool)
    is_output[:, 3:] = True
    order = torch.randperm(N, generator=g)
    return S, V0.requires_grad_(requires_grad), is_output, order


def _rules_problem():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20, 3, dtype=torch.float64, generator=g)
    h = torch.tensor([[0.25, 0.5, 0.75]] * 3, dtype=torch.float64)
    return x, h, (x[:, 0] > 0.5).long()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("forward", ["satnet_mix_forward", "satnet_stock_layout_forward"])
def test_opcheck_mix_forwards(ops, forward, dtype):
    """Differentiable in S and V0 (autograd registered): every utility applies."""
    opcheck(getattr(ops, forward), (*_satnet_problem(dtype=dtype), 10, 1e-4, 0.01), test_utils=ALL_UTILS)


@pytest.mark.parametrize("forward, backward", [("satnet_mix_forward", "satnet_mix_backward"),
                                               ("satnet_stock_layout_forward", "satnet_stock_layout_backward")])
def test_opcheck_mix_backwards(ops, forward, backward):
    """The backwards are not differentiable themselves (no double backward): their inputs do not
    require grad, so test_autograd_registration and the AOT check's backward have nothing to test."""
    S, V0, is_output, order = _satnet_problem(requires_grad=False)
    V, info, *state = getattr(ops, forward)(S, V0, is_output, order, 10, 1e-4)
    grad = torch.randn(V.shape, dtype=V.dtype, generator=torch.Generator().manual_seed(1))
    opcheck(getattr(ops, backward), (S, V, is_output, order, info, *state, grad, 0.01), test_utils=ALL_UTILS)


def test_opcheck_rules_ops(ops):
    """Integer outputs from float64 or integer inputs: nothing is differentiable (x does not
    require grad), so opcheck itself skips test_autograd_registration. Fidex's covered_idx has a
    data-dependent length (an unbacked size in the fake kernel)."""
    x, h, preds = _rules_problem()
    opcheck(ops.rules_bins, (x, h), test_utils=ALL_UTILS)
    opcheck(ops.rules_bins, (x, torch.linspace(0, 1, 300, dtype=torch.float64).expand(3, 300).contiguous()),
            test_utils=ALL_UTILS)  # 255 hyperplanes or more: int16 bins
    bins = ops.rules_bins(x, h)
    opcheck(ops.rules_cumcounts, (bins, preds, 2, 3), test_utils=ALL_UTILS)
    cum = ops.rules_cumcounts(bins, preds, 2, 3)
    sb = bins.t().contiguous()[:4]
    args = (bins, preds, cum, sb, preds[:4].clone(), torch.arange(4), 0, 5, 2, True, 3, 1.0, 0.75, 0.0, 0.0, 1)
    opcheck(ops.fidex, args, test_utils=ALL_UTILS)
