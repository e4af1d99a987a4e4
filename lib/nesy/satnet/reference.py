"""The float64 pure-PyTorch twin of the mixing-method kernel (forward and backward).

It works on the same layout as the compiled kernel and is its test oracle: plain Gram form
(``C = S S^T``) in the full ``k``-dimensional space, batched over samples with a per-sample
stopping rule, no subspace reduction. :class:`ReferenceMix` wraps it as an autograd
``Function`` so ``torch.autograd.gradcheck`` can compare its backward with finite
differences of its forward.

Layout (shared with the kernel): ``N`` variables with one row of ``S`` (``N x m``) each;
``V0`` (``B x N x k``) holds the fixed input vectors in input rows and the start vectors in
output rows; ``is_output`` (``B x N``, bool) marks the rows the mixing method updates;
``order`` (``N``, int64) is a permutation of ``0..N-1`` giving the update order.

Forward (Wang et al. 2019, the mixing method): for each output ``o`` in order,
``g_o = sum_{j != o} c_oj v_j``; ``v_o <- -g_o / |g_o|``. After sweep ``t > 0`` a sample stops
when the sweep's decrease ``sum_o |g_o| |v_o^new - v_o^old|^2`` is below ``eps`` times that
of the first sweep, or after ``max_iter`` sweeps (``eps = 0``: exactly ``max_iter``). An output whose
``|g_o|`` is below ``100 * machine-eps * sum_{j != o} |c_oj| |v_j|`` is not updated
(no 0/0) and is flagged degenerate (``gnrm = 0``); the backward gives it ``u_o = 0``.

Backward: the implicit-function gradient at the fixed point. Let ``Q`` span the rows of
``V0`` (inputs and start vectors); every iterate stays in that span. The loss gradient
``G`` splits into ``G_par`` (in the span) and ``G_perp``.

* ``U`` solves, by as many Gauss-Seidel sweeps as the forward made (from ``U = 0``),
  ``u_o = -P_o (sum_{j != o} c_oj u_j + G_par_o) / (|g_o| + prox_lam)``,
  ``P_o = I - v_o v_o^T`` (SATNet's backward, fed with ``G_par``);
* ``dl/dS = (U V^T + V U^T) S`` summed over the batch;
* ``dl/dv_i`` for an input ``i`` = ``G_i`` (pass-through) ``+ sum_o c_io u_o``
  ``+ sum_o alpha_oi G_perp_o``, where ``alpha`` holds the coefficients of the outputs on
  the rows of ``V0`` (``V_O = alpha V0``). The last term is the exact derivative of the
  outputs leaving the span when an input does. SATNet instead runs its Gauss-Seidel on the
  whole ``G`` in all ``k`` dimensions; outside the span its system reads
  ``(diag|g_o| + C_OO) U_perp = -G_perp``, which is singular as soon as the outputs have a
  component outside the inputs' span (rotating them about that span leaves the objective
  unchanged): its answer then grows with the number of sweeps, or depends on ``prox_lam``.
  When the outputs lie in the inputs' span, that system is regular and, with
  ``prox_lam = 0``, its solution is this term. ``dl/dS`` never sees ``G_perp``.
  Output rows of ``V0`` (start vectors) get no gradient: they are constants.
"""
from __future__ import annotations

import torch


def g_tolerance(dtype: torch.dtype) -> float:
    """Relative threshold below which ``|g_o|`` counts as zero (100 machine epsilons)."""
    return 100.0 * torch.finfo(dtype).eps


def mix_forward(S, V0, is_output, order, max_iter=40, eps=1e-4):
    """Mixing-method forward in the full space.

    Parameters
    ----------
    S : Tensor (N, m)
    V0 : Tensor (B, N, k)
        Inputs in input rows, start vectors in output rows.
    is_output : Tensor (B, N), bool
    order : Tensor (N,), int64
        Update order, a permutation of ``0..N-1``.
    max_iter : int
    eps : float

    Returns
    -------
    V : Tensor (B, N, k)
        Completed vectors (input rows copied from ``V0``).
    gnrm : Tensor (B, N)
        ``|g_o|`` at each output's last update, 0 for inputs and degenerate outputs.
    niter : Tensor (B,), int64
        Sweeps made per sample.
    """
    C = S @ S.T
    V = V0.clone()
    B, N, _ = V.shape
    is_output = is_output.bool()
    gnrm = V.new_zeros(B, N)
    niter = torch.zeros(B, dtype=torch.int64)
    active = is_output.any(dim=1)
    eps_abs = V.new_zeros(B)
    norms = torch.where(is_output, torch.ones_like(gnrm), V0.norm(dim=-1))
    c_off = C.abs() * (1 - torch.eye(N, dtype=C.dtype))
    scale = g_tolerance(V.dtype) * (c_off[None] * norms[:, None, :]).sum(-1)  # (B, N)
    for t in range(max_iter):
        if not bool(active.any()):
            break
        delta = V.new_zeros(B)
        for o in order.tolist():
            upd = is_output[:, o] & active
            if not bool(upd.any()):
                continue
            g = torch.einsum("j,bjk->bk", C[o], V) - C[o, o] * V[:, o]
            gn = g.norm(dim=-1)
            ok = upd & (gn > scale[:, o])
            new = -g / torch.where(ok, gn, torch.ones_like(gn))[:, None]
            dv = new - V[:, o]
            delta = delta + torch.where(ok, gn * (dv * dv).sum(-1), torch.zeros_like(gn))
            V[:, o] = torch.where(ok[:, None], new, V[:, o])
            gnrm[:, o] = torch.where(ok, gn, torch.where(upd, torch.zeros_like(gn), gnrm[:, o]))
        niter += active.long()
        if t == 0:
            eps_abs = eps * delta
        else:
            active = active & ~(delta < eps_abs)
    return V, gnrm, niter


def mix_backward(S, V0, V, is_output, order, niter, gnrm, grad, prox_lam=1e-2):
    """Backward of :func:`mix_forward` (see the module docstring for the formulas).

    Parameters
    ----------
    S : Tensor (N, m)
    V0, V : Tensor (B, N, k)
        The forward's input and output.
    is_output : Tensor (B, N), bool
    order : Tensor (N,), int64
    niter : Tensor (B,), int64
    gnrm : Tensor (B, N)
    grad : Tensor (B, N, k)
        ``dl/dV``.
    prox_lam : float

    Returns
    -------
    dS : Tensor (N, m)
    dV0 : Tensor (B, N, k)
        Zero in output rows.
    """
    C = S @ S.T
    is_output = is_output.bool()
    out = is_output[..., None].to(V.dtype)
    pinv = torch.linalg.pinv(V0)  # (B, k, N)
    proj = pinv @ V0  # (B, k, k): projector on the span of the rows of V0
    G_par = grad @ proj
    G_perp = (grad - G_par) * out
    U = torch.zeros_like(V)
    for it in range(int(niter.max()) if niter.numel() else 0):
        for o in order.tolist():
            upd = is_output[:, o] & (it < niter) & (gnrm[:, o] > 0)
            if not bool(upd.any()):
                continue
            s = torch.einsum("j,bjk->bk", C[o], U) - C[o, o] * U[:, o] + G_par[:, o]
            v = V[:, o]
            s = s - (v * s).sum(-1, keepdim=True) * v
            u = -s / (gnrm[:, o] + prox_lam)[:, None]
            U[:, o] = torch.where(upd[:, None], u, U[:, o])
    M = U @ V.transpose(1, 2)  # (B, N, N), rows of outputs only
    dS = (M + M.transpose(1, 2)).sum(0) @ S
    alpha = V @ pinv  # (B, N, N): outputs on the rows of V0
    dV = grad + torch.einsum("ij,bjk->bik", C, U) + alpha.transpose(1, 2) @ G_perp
    return dS, dV * (1 - out)


class ReferenceMix(torch.autograd.Function):
    """Autograd wrapper of the twin: ``V = ReferenceMix.apply(S, V0, is_output, order,
    max_iter, eps, prox_lam)``; gradients for ``S`` and ``V0`` (zero in output rows)."""

    @staticmethod
    def forward(ctx, S, V0, is_output, order, max_iter, eps, prox_lam):
        V, gnrm, niter = mix_forward(S, V0, is_output, order, max_iter, eps)
        ctx.save_for_backward(S, V0, V, is_output, order, niter, gnrm)
        ctx.prox_lam = prox_lam
        return V

    @staticmethod
    def backward(ctx, grad):
        S, V0, V, is_output, order, niter, gnrm = ctx.saved_tensors
        dS, dV0 = mix_backward(S, V0, V, is_output, order, niter, gnrm, grad, ctx.prox_lam)
        return dS, dV0, None, None, None, None, None
