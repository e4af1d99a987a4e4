"""Stock SATNet (Wang et al. 2019): scalar probabilities in and out, on the same kernel.

Variables are ``[truth] + n + aux``. The truth variable is the input ``e_0``; an input
probability ``z`` becomes ``v = -cos(pi z) e_0 + s sin(pi z) e_1`` (``s = +-1`` at random,
as locuslab/SATNet takes the sign of a random start); outputs start as random unit vectors
and are read back as ``z = 1 - arccos(v . e_0) / pi``. Unlike the public SATNet code, the
gradient with respect to input probabilities is the plain chain rule through these maps
(locuslab's has an extra factor pi on the ``e_1`` term and scales the pass-through term by
``pi sin(pi z)``), so it matches finite differences.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nesy.satnet.function import BACKENDS, _check, info_dict, mix
from nesy.satnet.vectors import init_clauses


def probabilities_to_vectors(z: torch.Tensor, signs: torch.Tensor, k: int) -> torch.Tensor:
    """``v = -cos(pi z) e_0 + signs * sin(pi z) e_1``.

    Parameters
    ----------
    z : Tensor (B, n) in [0, 1]
    signs : Tensor (B, n) of +-1
    k : int >= 2

    Returns
    -------
    Tensor (B, n, k)
    """
    rest = torch.zeros(*z.shape, k - 2, dtype=z.dtype)
    angle = math.pi * z
    return torch.cat([(-torch.cos(angle))[..., None], (signs * torch.sin(angle))[..., None], rest], dim=-1)


def vectors_to_probabilities(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``z = 1 - arccos(v_0) / pi``, with ``v_0`` clipped just inside (-1, 1).

    Returns
    -------
    z : Tensor (...)
    saturated : Tensor (...), bool
        Where ``v_0`` was clipped (there the gradient is zero: count them).
    """
    delta = 1e-6 if v.dtype == torch.float32 else 1e-12
    v0 = v[..., 0]
    saturated = v0.abs() > 1 - delta
    return 1 - torch.arccos(v0.clamp(-1 + delta, 1 - delta)) / math.pi, saturated


def stock_mix(S: torch.Tensor, z: torch.Tensor, is_input: torch.Tensor, start: torch.Tensor,
              order: torch.Tensor | None = None, *, aux: int = 0, max_iter: int = 40, eps: float = 1e-4,
              prox_lam: float = 1e-2, backend: str = "kernel") -> tuple[torch.Tensor, dict]:
    """Stock SATNet forward, differentiable in ``S`` and ``z`` at input positions.

    Parameters
    ----------
    S : Tensor (1 + n + aux, m)
    z : Tensor (B, n)
        Probabilities; read only where ``is_input``.
    is_input : Tensor (B, n), bool
    start : Tensor (B, 1 + n + aux, k)
        Random unit start vectors; the sign of coordinate 1 also gives the inputs' ``s``.
    order : Tensor (1 + n + aux,), optional
    aux, max_iter, eps, prox_lam, backend : see :func:`nesy.satnet.mix`.

    Returns
    -------
    z : Tensor (B, n)
        Inputs passed through, outputs read from the solution.
    stats : dict of (B,) tensors
        :func:`nesy.satnet.info_dict` fields plus ``saturated_outputs``. All inputs lie in
        ``span(e_0, e_1)``, so ``dependent_inputs`` counts most of them; harmless here, as
        ``dl/dv`` of every output is along ``e_0``, inside the span.
    """
    B, n = z.shape
    k = start.shape[-1]
    _check("start", start.dim() == 3 and tuple(start.shape[:2]) == (B, S.shape[0]) and k >= 2,
           f"(B, 1 + n + aux, k >= 2) = ({B}, {S.shape[0]}, k), got shape {tuple(start.shape)}")
    _check("S", S.shape[0] == 1 + n + aux, f"(1 + n + aux, m) with n={n}, aux={aux}, got shape {tuple(S.shape)}")
    z = z.to(S.dtype)
    is_input = is_input.bool()
    signs = torch.where(start[:, 1:1 + n, 1] < 0, -1.0, 1.0).to(z.dtype)
    inputs = probabilities_to_vectors(z, signs, k)
    truth = torch.zeros(B, 1, k, dtype=z.dtype).index_fill_(2, torch.tensor([0]), 1.0)
    V0 = torch.cat([truth, torch.where(is_input[..., None], inputs, start[:, 1:1 + n]), start[:, 1 + n:]], dim=1)
    is_output = torch.cat([torch.zeros(B, 1, dtype=torch.bool), ~is_input,
                           torch.ones(B, aux, dtype=torch.bool)], dim=1)
    V, info = mix(S, V0, is_output, order, max_iter=max_iter, eps=eps, prox_lam=prox_lam, backend=backend)
    z_out, saturated = vectors_to_probabilities(V[:, 1:1 + n])
    stats = info_dict(info)
    stats["saturated_outputs"] = (saturated & ~is_input).sum(1)
    return torch.where(is_input, z, z_out), stats


class StockSATNet(nn.Module):
    """SATNet as in Wang et al. (2019): complete probabilities ``z`` given ``is_input``.

    Parameters
    ----------
    n, m : int
    aux : int
    k : int
        Rank of the relaxation (stock: 32).
    max_iter, eps, prox_lam, backend : see :func:`nesy.satnet.mix`.
    seed : int or None
        Seeds ``S``, the random start vectors and the update order of every call.

    Examples
    --------
    >>> sat = StockSATNet(3, 4, aux=2, seed=0, backend="reference")
    >>> z = sat(torch.tensor([[1.0, 0.0, 0.5]]), torch.tensor([[True, True, False]]))
    >>> z.shape, z[0, :2].tolist()
    (torch.Size([1, 3]), [1.0, 0.0])
    """

    def __init__(self, n: int, m: int, *, aux: int = 0, k: int = 32, max_iter: int = 40, eps: float = 1e-4,
                 prox_lam: float = 1e-2, seed: int | None = 0, backend: str = "kernel",
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        for name, value, low in (("n", n, 1), ("m", m, 1), ("aux", aux, 0), ("k", k, 2)):
            _check(name, isinstance(value, int) and value >= low, f"an int >= {low}, got {value!r}")
        _check("backend", backend in BACKENDS, f"one of {BACKENDS}, got {backend!r}")
        self.n, self.m, self.aux, self.k = n, m, aux, k
        self.max_iter, self.eps, self.prox_lam, self.backend = max_iter, eps, prox_lam, backend
        gen = None if seed is None else torch.Generator().manual_seed(seed)
        self.S = nn.Parameter(init_clauses(1 + n + aux, m, gen, dtype))
        self._random = None if seed is None else torch.Generator().manual_seed(seed + 1)
        self.last_stats: dict[str, torch.Tensor] = {}

    def forward(self, z: torch.Tensor, is_input: torch.Tensor) -> torch.Tensor:
        """Parameters: z (B, n) in [0, 1], is_input (B, n) bool. Returns: z (B, n)."""
        _check("z", z.dim() == 2 and z.shape[1] == self.n, f"(B, {self.n}), got shape {tuple(z.shape)}")
        _check("is_input", tuple(is_input.shape) == tuple(z.shape), f"{tuple(z.shape)}, got {tuple(is_input.shape)}")
        N = self.S.shape[0]
        start = torch.randn(z.shape[0], N, self.k, generator=self._random, dtype=self.S.dtype)
        start = start / start.norm(dim=-1, keepdim=True)
        order = torch.randperm(N, generator=self._random)
        out, self.last_stats = stock_mix(self.S, z, is_input, start, order, aux=self.aux, max_iter=self.max_iter,
                                         eps=self.eps, prox_lam=self.prox_lam, backend=self.backend)
        return out
