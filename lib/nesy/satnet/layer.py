"""The Vi-SATNet layer (the paper's Sec. 3.2 and Appendix A) on :func:`nesy.satnet.mix`."""
from __future__ import annotations

import warnings

import torch
from torch import nn

from nesy.satnet.function import BACKENDS, MAX_SWEEPS, _check, info_dict, mix
from nesy.satnet.vectors import init_clauses, uniform_vector, unit_vectors


class ViSATNet(nn.Module):
    """Vi-SATNet: re-generate masked feature vectors with a SATNet layer over vectors.

    Variables are ``[truth] + n feature positions + aux``; ``S`` has one row per variable.
    Masked positions and auxiliary variables start as the uniform unit vector and are the
    outputs of the mixing method; unmasked positions are inputs (normalised first; all-zero
    vectors, e.g. post-ReLU, stay zero, get a zero gradient and are counted). Forward and
    backward follow SATNet (Wang et al. 2019) with the whole ``dl/dV`` of the outputs; see
    :mod:`nesy.satnet.reference` for where the gradient departs from SATNet's (the part of
    ``dl/dV`` outside the span of the inputs and the start vector, which SATNet's full-space
    solve cannot handle: exact here).

    The truth variable, when on, is the fixed input ``e_0`` as in SATNet. The paper does not
    say whether Vi-SATNet keeps it, so it is a parameter, off by default: the paper's
    Algorithms 3-5 list only ``n``, ``n_aux``, ``S`` and the known vectors, and for feature
    vectors ``e_0`` would single out channel 0 (stock SATNet needs it to read ``z`` from
    ``v . e_0``; Vi-SATNet returns the vectors themselves).

    Parameters
    ----------
    n, m, k : int
        Feature positions (``H * W``), clauses (rank of ``S``), channels.
    aux : int
        Auxiliary variables (always outputs).
    truth : bool
        Prepend SATNet's truth variable ``e_0``.
    max_iter, eps, prox_lam : see :func:`mix`.
    seed : int or None
        Seeds ``S``'s initialisation and the generator that draws a fresh update order for
        every call; ``None`` keeps the natural order (and an unseeded initialisation).
    normalize : bool
        Normalise the input features (otherwise they must already be unit or zero vectors).
    backend : see :func:`mix`.

    Attributes
    ----------
    S : Parameter (N, m), N = truth + n + aux
    last_stats : dict
        Of the last call, (B,) tensors: the :data:`nesy.satnet.INFO_FIELDS` (``sweeps``,
        ``rank``, ``sweep_dim``, ``degenerate_outputs``, ``dependent_inputs``) and
        ``zero_inputs`` (unmasked all-zero feature vectors).
    totals : dict
        The same counts summed over all calls, plus ``calls``.

    Examples
    --------
    >>> layer = ViSATNet(n=4, m=8, k=3, seed=0, backend="reference")
    >>> x = torch.rand(2, 4, 3)
    >>> mask = torch.tensor([[True, False, False, False], [False, True, True, False]])
    >>> out = layer(x, mask)
    >>> out.shape, bool(torch.allclose(out.norm(dim=-1), torch.ones(2, 4)))
    (torch.Size([2, 4, 3]), True)
    """

    def __init__(self, n: int, m: int, k: int, *, aux: int = 0, truth: bool = False, max_iter: int = 40,
                 eps: float = 1e-4, prox_lam: float = 1e-2, seed: int | None = 0, normalize: bool = True,
                 backend: str = "kernel", dtype: torch.dtype = torch.float32):
        super().__init__()
        for name, value, low in (("n", n, 1), ("m", m, 1), ("k", k, 1), ("aux", aux, 0)):
            _check(name, isinstance(value, int) and value >= low, f"an int >= {low}, got {value!r}")
        _check("backend", backend in BACKENDS, f"one of {BACKENDS}, got {backend!r}")
        _check("max_iter", isinstance(max_iter, int) and not isinstance(max_iter, bool) and 0 <= max_iter <= MAX_SWEEPS,
           f"an int in [0, {MAX_SWEEPS}], got {max_iter!r}")
        _check("eps", eps >= 0, f">= 0, got {eps!r}")
        _check("prox_lam", prox_lam >= 0, f">= 0, got {prox_lam!r}")
        self.n, self.m, self.k, self.aux, self.truth = n, m, k, aux, bool(truth)
        self.max_iter, self.eps, self.prox_lam = max_iter, eps, prox_lam
        self.normalize, self.backend, self.seed = normalize, backend, seed
        N = int(self.truth) + n + aux
        init = None if seed is None else torch.Generator().manual_seed(seed)
        self.S = nn.Parameter(init_clauses(N, m, init, dtype))
        self._orders = None if seed is None else torch.Generator().manual_seed(seed + 1)
        self.last_stats: dict[str, torch.Tensor] = {}
        self.totals = {"calls": 0, "zero_inputs": 0, "degenerate_outputs": 0, "dependent_inputs": 0}

    def extra_repr(self) -> str:
        return (f"n={self.n}, m={self.m}, k={self.k}, aux={self.aux}, truth={self.truth}, "
                f"max_iter={self.max_iter}, eps={self.eps}, prox_lam={self.prox_lam}, backend={self.backend!r}")

    def next_order(self) -> torch.Tensor:
        """The update order of the next call: (N,) int64."""
        N = self.S.shape[0]
        return torch.arange(N) if self._orders is None else torch.randperm(N, generator=self._orders)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, order: torch.Tensor | None = None) -> torch.Tensor:
        """Re-generate the masked feature vectors.

        Parameters
        ----------
        x : Tensor (B, n, k)
            Feature vectors (values at masked positions are ignored).
        mask : Tensor (B, n), bool
            True where the feature vector is missing.
        order : Tensor (N,), int64, optional
            A fixed update order for this call (e.g. ``torch.arange(N)`` for a deterministic
            query); default :meth:`next_order`.

        Returns
        -------
        Tensor (B, n, k)
            Unmasked positions: the (normalised) inputs; masked: re-generated unit vectors.
        """
        n, k, t = self.n, self.k, int(self.truth)
        _check("x", x.dim() == 3 and tuple(x.shape[1:]) == (n, k), f"(B, {n}, {k}), got shape {tuple(x.shape)}")
        _check("x", bool(torch.isfinite(x).all()), "finite (it holds NaN or infinity)")
        _check("mask", tuple(mask.shape) == tuple(x.shape[:2]),
               f"(B, n) = {tuple(x.shape[:2])}, got shape {tuple(mask.shape)}")
        mask = mask.bool()
        x = x.to(self.S.dtype)
        v, zero = unit_vectors(x) if self.normalize else (x, (x == 0).all(-1))
        B = x.shape[0]
        start = uniform_vector(k, x.dtype)
        parts = []
        if t:
            parts.append(torch.zeros(B, 1, k, dtype=x.dtype).index_fill_(2, torch.tensor([0]), 1.0))
        parts.append(torch.where(mask[..., None], start, v))
        if self.aux:
            parts.append(start.expand(B, self.aux, k))
        V0 = torch.cat(parts, dim=1)
        is_output = torch.cat([torch.zeros(B, t, dtype=torch.bool), mask,
                               torch.ones(B, self.aux, dtype=torch.bool)], dim=1)
        V, info = mix(self.S, V0, is_output, self.next_order() if order is None else order, max_iter=self.max_iter, eps=self.eps,
                      prox_lam=self.prox_lam, backend=self.backend)
        self._record(info, zero & ~mask)
        return V[:, t:t + n]

    def _record(self, info: torch.Tensor, zero_inputs: torch.Tensor) -> None:
        stats = info_dict(info)
        stats["zero_inputs"] = zero_inputs.sum(1)
        self.last_stats = stats
        self.totals["calls"] += 1
        for name in ("zero_inputs", "degenerate_outputs", "dependent_inputs"):
            self.totals[name] += int(stats[name].sum())
        degenerate = int(stats["degenerate_outputs"].sum())
        if degenerate:
            warnings.warn(f"ViSATNet: {degenerate} output(s) had |g_o| = 0 (no update, zero gradient through "
                          "them); see layer.last_stats / layer.totals", RuntimeWarning, stacklevel=3)
