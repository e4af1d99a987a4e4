"""The compiled operators (``torch.ops.nesy.*``, built from csrc/ into ``nesy._C``) as torch ops.

:func:`compiled_ops` is the one way the library reaches them: it imports the extension (which
defines the operators and their CPU kernels), registers here, once, what makes them proper
torch ops, and returns the ``torch.ops.nesy`` namespace; or it raises an ImportError that says
how to rebuild and which pure-Python back end the caller offers instead.

Registered here for every op: a fake (meta) kernel giving the outputs' shapes and dtypes from
the inputs (for FakeTensor, ``torch.compile`` and export; Fidex's covered indices have a
data-dependent length). For the two mixing-method forwards: autograd, whose backward calls the
matching backward op, so ``V`` is differentiable in ``S`` and ``V0`` (``info`` and the state
the backward reuses are not differentiable). tests/test_opcheck.py runs
``torch.library.opcheck`` on each op.
"""
from __future__ import annotations

import functools

import torch

INFO_COLS = 5  # the mixing method's info columns (kInfoCols, csrc/satnet/cpu/mix_common.h)


def compiled_ops(fallback: str):
    """``torch.ops.nesy`` after loading ``nesy._C`` (and registering the ops' fake kernels and autograd).

    ``fallback`` names the caller's pure-Python alternative (e.g. ``"backend='reference'"``),
    quoted in the ImportError raised when the extension is missing or does not load.
    """
    try:
        import nesy._C  # noqa: F401  (defines torch.ops.nesy.*)
    except ImportError as err:  # pragma: no cover - depends on the build
        raise ImportError(
            "nesy's compiled extension nesy._C is missing or does not load: rebuild it with "
            f"`pip install --no-build-isolation -e .` (or `make env`), or use {fallback}") from err
    _register()
    return torch.ops.nesy


def cpu_capability() -> tuple[str, int]:
    """The CPU capability ``nesy._C`` was compiled for and its vector width in doubles.

    setup.py builds the kernels for the capability torch's own kernels use on the build machine,
    AVX512 machines included as ``("AVX2", 4)``, else ``("DEFAULT", 4)`` (``("DEFAULT", 2)`` on
    ARM); the last bits of the mixing method's sums follow the width. Raises ImportError as
    :func:`compiled_ops` does.
    """
    compiled_ops("backend='reference'")
    import nesy._C as extension

    return extension.cpu_capability, extension.doubles_per_vector


# --------------------------------------------------------------------------- fake kernels


def _mix_outputs(S, V0):
    """V (B, N, k) like V0 and info (B, 5) int64: what both mixing-method forwards return first."""
    return V0.new_empty(V0.shape), V0.new_empty((V0.shape[0], INFO_COLS), dtype=torch.long)


def _fake_mix_forward(S, V0, is_output, order, max_iter, eps, prox_lam=0.01):
    B, N, k = V0.shape
    r = torch.sym_min(N, k)
    state = V0.new_empty((B, r * k + N * r + r * r + N))  # [Q | X | R | gnrm] (mix_kernel.cpp)
    kept = V0.new_empty((B, r), dtype=torch.long)  # variables whose rows made the basis
    return (*_mix_outputs(S, V0), state, kept, S.new_empty((N, N)))


def _fake_stock_layout_forward(S, V0, is_output, order, max_iter, eps, prox_lam=0.01):
    return (*_mix_outputs(S, V0), V0.new_empty(V0.shape[:2]))


def _fake_mix_backward(S, V, is_output, order, info, *state_grad_lam):
    grad = state_grad_lam[-2]
    return S.new_empty(S.shape), grad.new_empty(grad.shape)


def _fake_rules_bins(x, hyperplanes):
    n, d, k = x.shape[0], x.shape[1], hyperplanes.shape[1]
    return x.new_empty((d, n), dtype=torch.uint8 if k < 255 else torch.int16)


def _fake_rules_cumcounts(bins, preds, n_classes, n_hyperplanes):
    return bins.new_empty((n_classes + 1, bins.shape[0], n_hyperplanes), dtype=torch.int32)


def _fake_fidex(bins, preds, cum, sample_bins, sample_preds, sample_ids, seed, max_iterations, *settings):
    s = sample_bins.shape[0]
    per_sample = [(s,), (s,), (s, max_iterations), (s, max_iterations), (s,), (s,), (s,), (s + 1,)]
    dtypes = [torch.long] * 4 + [torch.float64] * 2 + [torch.long] * 2
    nnz = torch.library.get_ctx().new_dynamic_size()  # covered training samples, all rules together
    return (*(preds.new_empty(shape, dtype=dt) for shape, dt in zip(per_sample, dtypes)),
            preds.new_empty((nnz,), dtype=torch.int32))


# --------------------------------------------------------------------------- autograd


def _mix_setup_context(ctx, inputs, output):
    S, _V0, is_output, order, _max_iter, _eps, prox_lam = inputs
    V, info, *state = output
    ctx.mark_non_differentiable(info, *state)
    ctx.save_for_backward(S, V, is_output, order, info, *state)
    ctx.prox_lam = prox_lam


def _mix_backward_with(backward_op):
    """Autograd backward of a mixing-method forward: (dS, dV0) from ``backward_op``, None for the rest."""
    def backward(ctx, grad, *_grads_of_non_differentiable):
        S, V, is_output, order, info, *state = ctx.saved_tensors
        dS, dV0 = backward_op(S, V, is_output, order, info, *state, grad.contiguous(), ctx.prox_lam)
        return dS, dV0, None, None, None, None, None
    return backward


@functools.cache
def _register():
    ops = torch.ops.nesy
    fakes = {
        "satnet_mix_forward": _fake_mix_forward,
        "satnet_mix_backward": _fake_mix_backward,
        "satnet_stock_layout_forward": _fake_stock_layout_forward,
        "satnet_stock_layout_backward": _fake_mix_backward,
        "rules_bins": _fake_rules_bins,
        "rules_cumcounts": _fake_rules_cumcounts,
        "fidex": _fake_fidex,
    }
    for name, fake in fakes.items():
        torch.library.register_fake(f"nesy::{name}", fake)
    for forward, backward_op in (("satnet_mix_forward", ops.satnet_mix_backward),
                                 ("satnet_stock_layout_forward", ops.satnet_stock_layout_backward)):
        torch.library.register_autograd(f"nesy::{forward}", _mix_backward_with(backward_op),
                                        setup_context=_mix_setup_context)
