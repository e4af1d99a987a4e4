"""The differentiable mixing method, :func:`mix`, over three interchangeable back ends.

All share one layout (see :mod:`nesy.satnet.reference` for the algorithm and its gradient):
``"kernel"`` (compiled Gram form in the span of the inputs), ``"stock_layout"`` (compiled,
locuslab/SATNet's ``k x m`` layout, the benchmark baseline), ``"reference"`` (the PyTorch twin).
"""
from __future__ import annotations

import torch

from nesy.kernels import compiled_ops
from nesy.satnet import reference

BACKENDS = ("kernel", "stock_layout", "reference")
INFO_FIELDS = ("sweeps", "rank", "sweep_dim", "degenerate_outputs", "dependent_inputs")
MAX_SWEEPS = 1_000_000  # the kernels' kMaxSweeps (csrc/satnet/cpu/mix_common.h)


def _reference_forward(S, V0, is_output, order, max_iter, eps):
    V, gnrm, niter = reference.mix_forward(S, V0, is_output, order, max_iter, eps)
    k = V0.shape[-1]
    has_out = is_output.any(1)
    rank = torch.where(has_out, torch.linalg.matrix_rank(V0), 0)
    inputs = V0 * (~is_output)[..., None]
    nonzero = ((inputs != 0).any(-1) & ~is_output).sum(1)
    dependent = torch.where(has_out & (rank < k), nonzero - torch.linalg.matrix_rank(inputs), 0)
    degenerate = (is_output & (gnrm == 0)).sum(1)
    sweep_dim = torch.where(has_out, k, 0)
    info = torch.stack([niter, rank, sweep_dim, degenerate, dependent], dim=1).long()
    return V, info, gnrm


def _reference_backward(S, V0, V, is_output, order, info, state, grad, prox_lam):
    return reference.mix_backward(S, V0, V, is_output, order, info[:, 0], state[0], grad, prox_lam)


def _backend(name: str):
    """(forward, backward) of a back end, to call one after the other (bench/satnet.py times them):
    forward(S, V0, is_output, order, max_iter, eps) -> (V, info, *state); backward(S, V0, V, is_output,
    order, info, state, grad, prox_lam) -> (dS, dV0)."""
    if name == "reference":
        return _reference_forward, _reference_backward
    ops = compiled_ops("backend='reference'")
    if name == "kernel":
        return ops.satnet_mix_forward, lambda S, V0, V, o, order, info, state, grad, lam: ops.satnet_mix_backward(
            S, V, o, order, info, *state, grad, lam)
    return ops.satnet_stock_layout_forward, lambda S, V0, V, o, order, info, state, grad, lam: (
        ops.satnet_stock_layout_backward(S, V, o, order, info, *state, grad, lam))


class MixFunction(torch.autograd.Function):
    """``V, info = MixFunction.apply(S, V0, is_output, order, max_iter, eps, prox_lam)``: the
    ``"reference"`` back end's autograd (the compiled forwards are differentiable torch ops
    themselves: their autograd is registered in :mod:`nesy.kernels`)."""

    @staticmethod
    def forward(ctx, S, V0, is_output, order, max_iter, eps, prox_lam):
        V, info, *state = _reference_forward(S, V0, is_output, order, max_iter, eps)
        ctx.save_for_backward(S, V0, V, is_output, order, info, *state)
        ctx.prox_lam = prox_lam
        ctx.mark_non_differentiable(info)
        return V, info

    @staticmethod
    def backward(ctx, grad, _grad_info):
        S, V0, V, is_output, order, info, *state = ctx.saved_tensors
        dS, dV0 = _reference_backward(S, V0, V, is_output, order, info, state, grad.contiguous(), ctx.prox_lam)
        return dS, dV0, None, None, None, None, None


def _check(name, ok, allowed):
    if not ok:
        raise ValueError(f"{name} must be {allowed}")


def mix(S: torch.Tensor, V0: torch.Tensor, is_output: torch.Tensor, order: torch.Tensor | None = None, *,
        max_iter: int = 40, eps: float = 1e-4, prox_lam: float = 1e-2,
        backend: str = "kernel") -> tuple[torch.Tensor, torch.Tensor]:
    """Complete ``V0`` by the mixing method (differentiable in ``S`` and the input rows of ``V0``).

    Parameters
    ----------
    S : Tensor (N, m)
        Clause matrix, one row per variable.
    V0 : Tensor (B, N, k)
        Input vectors in input rows, start vectors in output rows (constants: no gradient).
    is_output : Tensor (B, N), bool
        Rows to update.
    order : Tensor (N,), int64, optional
        Update order (a permutation of ``0..N-1``); default ``0..N-1``.
    max_iter : int
        Sweeps at most (SATNet: 40).
    eps : float
        Stop after sweep ``t > 0`` once its decrease is below ``eps`` times the first one's.
    prox_lam : float
        Diagonal added in the backward solve (SATNet: 1e-2; 0 gives the exact gradient).
    backend : {"kernel", "stock_layout", "reference"}
        Compiled Gram/subspace kernel, compiled stock ``k x m`` layout, or the PyTorch twin.

    Returns
    -------
    V : Tensor (B, N, k)
        Input rows unchanged, output rows unit vectors.
    info : Tensor (B, 5), int64
        Per sample (:data:`INFO_FIELDS`): sweeps made; rank of the span of ``V0``'s rows;
        dimension the sweeps ran in (kernel: at most the rank, as the outputs stay in the span
        of the start vectors and the inputs' pulls ``sum_i c_oi v_i``; other back ends: ``k``);
        degenerate outputs (``|g_o| = 0``: not updated, zero gradient through them); linearly
        dependent nonzero inputs (counted when the span is smaller than ``k``: the part of
        their gradient that leaves the span is not defined there and is left out).
    """
    _check("backend", backend in BACKENDS, f"one of {BACKENDS}, got {backend!r}")
    _check("max_iter", isinstance(max_iter, int) and not isinstance(max_iter, bool) and 0 <= max_iter <= MAX_SWEEPS,
           f"an int in [0, {MAX_SWEEPS}], got {max_iter!r}")
    _check("eps", eps >= 0, f">= 0, got {eps!r}")
    _check("prox_lam", prox_lam >= 0, f">= 0, got {prox_lam!r}")
    _check("S", S.dim() == 2, f"(N, m), got shape {tuple(S.shape)}")
    N = S.shape[0]
    _check("V0", V0.dim() == 3 and V0.shape[1] == N, f"(B, {N}, k), got shape {tuple(V0.shape)}")
    _check("is_output", tuple(is_output.shape) == tuple(V0.shape[:2]),
           f"(B, N) = {tuple(V0.shape[:2])}, got shape {tuple(is_output.shape)}")
    if order is None:
        order = torch.arange(N)
    _check("order", tuple(order.shape) == (N,) and bool((order.sort().values == torch.arange(N)).all()),
           f"a permutation of 0..{N - 1}")
    _check("S", bool(torch.isfinite(S).all()), "finite (it holds NaN or infinity)")
    _check("V0", bool(torch.isfinite(V0).all()), "finite (it holds NaN or infinity)")
    args = (S, V0.to(S.dtype), is_output.bool(), order.long(), int(max_iter), float(eps), float(prox_lam))
    if backend == "reference":
        return MixFunction.apply(*args)
    ops = compiled_ops("backend='reference'")
    forward = ops.satnet_mix_forward if backend == "kernel" else ops.satnet_stock_layout_forward
    V, info, *_state = forward(*args)
    return V, info


def info_dict(info: torch.Tensor) -> dict[str, torch.Tensor]:
    """``mix``'s ``info`` (B, 4) as a dict of (B,) tensors named by :data:`INFO_FIELDS`."""
    return {name: info[:, i] for i, name in enumerate(INFO_FIELDS)}
