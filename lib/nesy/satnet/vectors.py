"""Vectors the SATNet layers start from: unit feature vectors, the uniform vector, weights."""
from __future__ import annotations

import torch


def uniform_vector(k: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The uniform unit vector ``[1/sqrt(k), ..., 1/sqrt(k)]`` (Vi-SATNet's "no information").

    Returns
    -------
    Tensor (k,)

    Examples
    --------
    >>> uniform_vector(4)
    tensor([0.5000, 0.5000, 0.5000, 0.5000])
    """
    return torch.full((k,), k ** -0.5, dtype=dtype)


def unit_vectors(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalise feature vectors along the last axis, leaving all-zero vectors at zero.

    The gradient is finite everywhere: zero for an all-zero vector (whose direction is
    undefined), which is why the layers count such vectors in their statistics.

    Parameters
    ----------
    x : Tensor (..., k)

    Returns
    -------
    v : Tensor (..., k)
        ``x / |x|``, or 0 where ``x`` is all zero.
    zero : Tensor (...), bool
        Where ``x`` was all zero.

    Examples
    --------
    >>> v, zero = unit_vectors(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    >>> v, zero
    (tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]]), tensor([False,  True]))
    """
    sq = (x * x).sum(-1, keepdim=True)
    zero = sq == 0
    norm = torch.sqrt(torch.where(zero, torch.ones_like(sq), sq))
    v = torch.where(zero, torch.zeros_like(x), x / norm)
    # Squaring overflows (float32: |x| > 1.8e19, an inf norm, i.e. a zero vector not counted as
    # zero) or underflows (|x| < 1e-19) for extreme magnitudes: those rows are divided by their
    # largest |entry| first (detached: the result does not depend on it, nor does its gradient).
    extreme = ~torch.isfinite(sq) | ((sq < torch.finfo(x.dtype).tiny) & (x != 0).any(-1, keepdim=True))
    if bool(extreme.any()):
        scale = x.detach().abs().amax(-1, keepdim=True)
        zero = scale == 0
        y = x / torch.where(zero, torch.ones_like(scale), scale)
        y_sq = (y * y).sum(-1, keepdim=True)
        y_norm = torch.sqrt(torch.where(zero, torch.ones_like(y_sq), y_sq))  # no sqrt(0): its gradient is inf
        scaled = torch.where(zero, torch.zeros_like(x), y / y_norm)
        v = torch.where(extreme, scaled, v)
    return v, zero.squeeze(-1)


def init_clauses(N: int, m: int, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """SATNet's initial clause matrix: ``N(0, 1) * sqrt(0.5 / (N + m))``.

    Returns
    -------
    Tensor (N, m)
    """
    return torch.randn(N, m, generator=generator, dtype=dtype) * (0.5 / (N + m)) ** 0.5
