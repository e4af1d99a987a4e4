"""QIL: the Quantised Interpretable Layer whose steps are the candidate rule thresholds.

A QIL is a diagonal linear layer followed by a staircase activation (Bologna's DIMLP first
layer). With weights ``w_j = 1 / sigma_j`` and biases ``b_j = -mu_j / sigma_j`` from the
training data it standardises every feature; the staircase has ``n_steps`` steps over
``[-hi_knot, hi_knot]`` standardised units, and each of its ``n_steps + 1`` knots ``e_k``
induces one axis-parallel hyperplane per feature, at ``x_j = (e_k - b_j) / w_j``
(= ``mu_j + sigma_j * e_k``). Those hyperplanes are the only thresholds Fidex may use.

The arithmetic (population std, ``sigma = 0 -> 0.001``, knots ``-hi + k * (2 hi / n_steps)``,
hyperplanes ``(e_k - b) / w``) is the one of dimlpfidex 1.0.1, so both tools get bit-identical
hyperplanes from the same weights file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = ["QIL"]


def _as_float64(x, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.dim() != 2:
        raise ValueError(f"{name} must be a 2-D array [N, D], got shape {tuple(t.shape)}")
    return t.detach().to(torch.float64).cpu()


@dataclass(frozen=True)
class QIL:
    """Quantised Interpretable Layer (diagonal weights + staircase activation).

    Parameters
    ----------
    weights : Tensor[D] (float64)
        Diagonal weights ``1 / sigma_j``.
    biases : Tensor[D] (float64)
        Biases ``-mu_j / sigma_j``.
    n_steps : int
        Number of staircase steps ``Q`` (dimlpfidex ``--nb_quant_levels``); ``Q + 1``
        hyperplanes per feature. The patch-rules paper uses 100, dimlpfidex defaults to 50.
    hi_knot : float
        The staircase spans ``[-hi_knot, hi_knot]`` standardised units (5 in dimlpfidex).

    Examples
    --------
    >>> qil = QIL.fit(torch.tensor([[0.0], [2.0]]), n_steps=2)
    >>> qil.hyperplanes()
    tensor([[-4.,  1.,  6.]], dtype=torch.float64)
    """

    weights: torch.Tensor
    biases: torch.Tensor
    n_steps: int = 50
    hi_knot: float = 5.0

    def __post_init__(self):
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, (int, np.integer)) or self.n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1 (dimlpfidex accepts >= 3), got {self.n_steps!r}")
        if not (isinstance(self.hi_knot, (int, float)) and math.isfinite(self.hi_knot) and self.hi_knot > 0):
            raise ValueError(f"hi_knot must be a finite number > 0, got {self.hi_knot!r}")
        w = torch.as_tensor(self.weights, dtype=torch.float64)
        b = torch.as_tensor(self.biases, dtype=torch.float64)
        if w.dim() != 1 or b.shape != w.shape:
            raise ValueError(f"weights and biases must be 1-D of equal length, got {tuple(w.shape)} and {tuple(b.shape)}")
        if not bool(torch.all(w > 0)):
            raise ValueError("weights must all be > 0 (they are 1 / sigma)")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "biases", b)

    @classmethod
    def fit(cls, x, n_steps: int = 50, hi_knot: float = 5.0) -> "QIL":
        """QIL standardising the training data ``x`` (Tensor or array [N, D]).

        Uses the mean and the population standard deviation per feature; a constant feature
        gets ``sigma = 0.001`` (as dimlpfidex does).
        """
        xt = _as_float64(x, "x")
        if xt.shape[0] < 1:
            raise ValueError("x must hold at least one sample")
        xn = xt.numpy()
        mu = xn.mean(axis=0)
        sigma = xn.std(axis=0)
        sigma[sigma == 0] = 0.001
        return cls(torch.from_numpy(1.0 / sigma), torch.from_numpy(-mu / sigma), int(n_steps), float(hi_knot))

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[0])

    def knots(self) -> torch.Tensor:
        """The ``Q + 1`` staircase knots, Tensor[Q + 1] (float64), in standardised units."""
        low = -float(self.hi_knot)
        width = (float(self.hi_knot) - low) / self.n_steps
        return torch.from_numpy(low + width * np.arange(self.n_steps + 1, dtype=np.float64))

    def hyperplanes(self) -> torch.Tensor:
        """Candidate thresholds, Tensor[D, Q + 1] (float64), non-decreasing along each row."""
        e = self.knots().numpy()[None, :]
        w = self.weights.numpy()[:, None]
        b = self.biases.numpy()[:, None]
        return torch.from_numpy((e - b) / w)

    def forward(self, x) -> torch.Tensor:
        """The layer's output: ``sigmoid(knot)`` of the step each ``w x + b`` falls on, Tensor[N, D]."""
        xt = _as_float64(x, "x")
        h = xt * self.weights + self.biases
        low, width = -float(self.hi_knot), 2.0 * float(self.hi_knot) / self.n_steps
        step = torch.floor((h - low) / width).clamp(0, self.n_steps - 1)
        out = torch.sigmoid(low + width * step)
        out = torch.where(h < low, torch.zeros_like(out), out)
        return torch.where(h >= self.hi_knot, torch.sigmoid(torch.tensor(float(self.hi_knot), dtype=torch.float64)), out)

    __call__ = forward

    def cells(self, x) -> torch.Tensor:
        """Which staircase step each value falls on, int64 Tensor[N, D] in ``[0, Q + 1]``.

        Cell ``c`` of feature ``j`` is the number of hyperplanes ``t_jk <= x_ij``, compared in
        float64 exactly as a rule's ``x >= t`` is, so two inputs with the same cells satisfy the
        same antecedents, and a model that reads only the cells is constant between hyperplanes.
        """
        xt = _as_float64(x, "x")
        if xt.shape[1] != self.n_features:
            raise ValueError(f"x must have {self.n_features} columns, got {xt.shape[1]}")
        return torch.searchsorted(self.hyperplanes(), xt.T.contiguous(), right=True).T

    def staircase(self, x) -> torch.Tensor:
        """The staircase's output in standardised units, float32 Tensor[N, D].

        Each value becomes the centre of its step, ``-hi_knot + width * (cell - 1/2)`` (a step
        of width ``2 hi_knot / Q``; the two open cells below and above the knots get the
        centre of a step of the same width), a function of :meth:`cells` only. It carries
        the same information as :meth:`forward` (a monotone relabelling of the steps) on the
        standardised scale a network trains well on.
        """
        width = 2.0 * float(self.hi_knot) / self.n_steps
        return (-float(self.hi_knot) + width * (self.cells(x).to(torch.float64) - 0.5)).float()

    def snap(self, x) -> torch.Tensor:
        """``x`` moved to the centre of its step, in the input's units, float32 Tensor[N, D].

        The image a pretrained backbone sees behind the QIL: still an image (pixels near their
        values), but one value per step, so the backbone's features are a function of the cells.
        """
        z = self.staircase(x).to(torch.float64)
        return ((z - self.biases) / self.weights).float()

    def save_weights(self, path) -> Path:
        """Write a dimlpfidex weights file: biases on line 1, weights on line 2 (exact reprs)."""
        path = Path(path)
        lines = [" ".join(repr(float(v)) for v in t.tolist()) for t in (self.biases, self.weights)]
        path.write_text("\n".join(lines) + "\n")
        return path

    @classmethod
    def load_weights(cls, path, n_steps: int = 50, hi_knot: float = 5.0) -> "QIL":
        """Read a dimlpfidex weights file written by :meth:`save_weights` (or dimlpfidex's trainers)."""
        rows = [r.split() for r in Path(path).read_text().splitlines() if r.strip()]
        if len(rows) != 2 or len(rows[0]) != len(rows[1]):
            raise ValueError(f"{path}: expected 2 lines of equal length (biases, weights)")
        b, w = (torch.tensor([float(v) for v in r], dtype=torch.float64) for r in rows)
        return cls(w, b, int(n_steps), float(hi_knot))
