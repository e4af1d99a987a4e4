"""Fidex: a local rule for one sample, faithful to a model on the training set.

Bologna et al., "Fidex and FidexGlo: from local explanations to global explanations of deep
models", Algorithms 18 (2025). The compiled kernel (``torch.ops.nesy.fidex``, csrc/rules/)
follows dimlpfidex 1.0.1's search, tie-breaks and relaxation strategy; it departs from it in
the random streams (one SplitMix64 stream per explained sample, seeded from ``(seed, sample
id)``, so results do not depend on threads) and in how candidates are counted (a histogram of
covered samples per feature instead of one pass per hyperplane). ``backend="python"`` runs
the pure-Python twin (:mod:`nesy.rules.twin`) instead; both return the same rules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..kernels import compiled_ops
from .qil import QIL
from .ruleset import Antecedent, Rule, as_labels, as_numpy
from ..checks import integer, one_of
from .settings import FidexSettings
from .twin import fidex_one

__all__ = ["Fidex", "FidexBatch", "FidexSettings"]


def _ops():
    return compiled_ops("backend='python'")


@dataclass
class FidexBatch:
    """Raw local rules for S samples, as arrays (what the kernel returns).

    ``path`` [S] (0 direct, 1 reduced covering, 2 lowered fidelity, 3 retried, -1 no rule),
    ``n_antecedents`` [S], ``dims`` / ``hyps`` [S, max_iterations] (padded with -1),
    ``fidelity`` [S], ``target_fidelity`` [S], ``target_covering`` [S], and the covered
    training samples of sample s in ``covered_idx[covered_ptr[s]:covered_ptr[s + 1]]``.
    """

    path: np.ndarray
    n_antecedents: np.ndarray
    dims: np.ndarray
    hyps: np.ndarray
    fidelity: np.ndarray
    target_fidelity: np.ndarray
    target_covering: np.ndarray
    covered_ptr: np.ndarray
    covered_idx: np.ndarray

    def __len__(self) -> int:
        return len(self.path)

    def covered(self, s: int) -> np.ndarray:
        return self.covered_idx[self.covered_ptr[s] : self.covered_ptr[s + 1]]

    @classmethod
    def concat(cls, parts: list["FidexBatch"]) -> "FidexBatch":
        ptrs, offset = [np.zeros(1, dtype=np.int64)], 0
        for p in parts:
            ptrs.append(p.covered_ptr[1:] + offset)
            offset += int(p.covered_ptr[-1])
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        return cls(
            cat("path"), cat("n_antecedents"), cat("dims"), cat("hyps"), cat("fidelity"),
            cat("target_fidelity"), cat("target_covering"), np.concatenate(ptrs), cat("covered_idx"),
        )


class Fidex:
    """Local rules (Fidex) explaining a model's class for given samples.

    Parameters
    ----------
    train_x : Tensor or array [N, D]
        Training samples (the rules' covering and fidelity are measured on them).
    train_pred : Tensor or array [N] (int)
        The model's class for each training sample.
    hyperplanes : QIL or Tensor [D, K]
        Candidate thresholds (``QIL.hyperplanes()``), non-decreasing along each row.
    train_y : Tensor or array [N] (int), optional
        True classes, for the rules' accuracy.
    train_scores : Tensor or array [N, C], optional
        Model scores, for the rules' confidence (else the one-hot of ``train_pred``).
    n_classes : int, optional
        Defaults to ``max(train_pred) + 1`` (or ``train_scores.shape[1]``).
    settings : FidexSettings, optional
        dimlpfidex's parameters, same names and defaults; ``seed`` must be >= 0 and always
        gives the same rules (dimlpfidex's 0 means "random").
    **options
        Fields of :class:`~nesy.rules.settings.FidexSettings` replacing those of ``settings``
        (max_iterations, min_covering, covering_strategy, max_failed_attempts, min_fidelity,
        lowest_min_fidelity, dropout_dim, dropout_hyp, seed).
    n_threads : int, optional
        Threads of the kernel (``at::parallel_for``; default and at most ``torch.get_num_threads()``). Results do not
        depend on it.
    backend : {"kernel", "python"}
        The compiled kernel or its pure-Python twin (slow; for tests).

    Examples
    --------
    Three features in [0, 1]; the model's class is 1 when the first exceeds 0.5:

    >>> import torch
    >>> from nesy.rules import QIL
    >>> x_train = torch.rand(200, 3, generator=torch.Generator().manual_seed(0))
    >>> pred_train = (x_train[:, 0] > 0.5).long()
    >>> qil = QIL.fit(x_train, n_steps=20)
    >>> fidex = Fidex(x_train, pred_train, qil, seed=1, dropout_dim=0.0, dropout_hyp=0.0)
    >>> print(fidex.explain(x_train[:1], pred_train[:1])[0])
    X0<0.521132 X2<0.637022 X2>=0.0416678 -> class 0
    """

    def __init__(
        self,
        train_x,
        train_pred,
        hyperplanes,
        *,
        train_y=None,
        train_scores=None,
        n_classes: int | None = None,
        settings: FidexSettings | None = None,
        n_threads: int | None = None,
        backend: str = "kernel",
        **options,
    ):
        self.settings = FidexSettings.from_options(settings, **options)
        self.backend = one_of("backend", backend, ("kernel", "python"))
        self.n_threads = None if n_threads is None else integer("n_threads", n_threads, 1, 1024)

        self.x = np.ascontiguousarray(as_numpy(train_x, "train_x", 2, np.float64))
        n, d = self.x.shape
        if n < 1:
            raise ValueError("train_x must hold at least one sample")
        self.pred = as_labels(train_pred, "train_pred")
        if len(self.pred) != n:
            raise ValueError(f"train_pred has {len(self.pred)} entries, train_x has {n} samples")
        if self.pred.min() < 0:
            raise ValueError("train_pred must hold class indices >= 0")
        self.y = None
        if train_y is not None:
            self.y = as_labels(train_y, "train_y")
            if len(self.y) != n:
                raise ValueError(f"train_y has {len(self.y)} entries, train_x has {n} samples")
        self.scores = None
        if train_scores is not None:
            self.scores = as_numpy(train_scores, "train_scores", 2, np.float64)
            if len(self.scores) != n:
                raise ValueError(f"train_scores has {len(self.scores)} rows, train_x has {n} samples")
        c = int(self.pred.max()) + 1
        if self.scores is not None:
            c = max(c, self.scores.shape[1])
        if n_classes is not None:
            if integer("n_classes", n_classes, 1) < c:
                raise ValueError(f"n_classes={n_classes} but train_pred/train_scores need at least {c}")
            c = int(n_classes)
        self.n_classes = c

        h = hyperplanes.hyperplanes() if isinstance(hyperplanes, QIL) else hyperplanes
        self.hyperplanes = np.ascontiguousarray(as_numpy(h, "hyperplanes", 2, np.float64))
        if self.hyperplanes.shape[0] != d:
            raise ValueError(f"hyperplanes has {self.hyperplanes.shape[0]} rows, train_x has {d} features")
        if not np.all(np.diff(self.hyperplanes, axis=1) >= 0):
            raise ValueError("hyperplanes must be non-decreasing along each row")
        if not np.all(np.isfinite(self.x)):
            raise ValueError("train_x must be finite")

        if backend == "kernel":
            ops = _ops()
            self._bins = ops.rules_bins(torch.from_numpy(self.x), torch.from_numpy(self.hyperplanes))
            self._cum = ops.rules_cumcounts(self._bins, torch.from_numpy(self.pred), c, self.hyperplanes.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x.shape[0])

    def run(self, x, pred, sample_ids=None, n_threads: int | None = None) -> FidexBatch:
        """Local rules for samples ``x`` [S, D] of model class ``pred`` [S], as arrays.

        ``sample_ids`` [S] (default ``0..S-1``) select each sample's random stream: the same
        id, seed and inputs give the same rule whatever the batch or thread count
        (``n_threads`` overrides the constructor's for this call).
        """
        xs = np.ascontiguousarray(as_numpy(x, "x", 2, np.float64))
        ps = as_labels(pred, "pred")
        if xs.shape[1] != self.x.shape[1]:
            raise ValueError(f"x has {xs.shape[1]} features, the training set has {self.x.shape[1]}")
        if len(ps) != len(xs):
            raise ValueError(f"pred has {len(ps)} entries, x has {len(xs)} samples")
        if not np.all(np.isfinite(xs)):
            raise ValueError("x must be finite")
        if len(ps) and (ps.min() < 0 or ps.max() >= self.n_classes):
            raise ValueError(f"pred must hold classes in [0, {self.n_classes})")
        ids = np.arange(len(xs), dtype=np.int64) if sample_ids is None else as_labels(sample_ids, "sample_ids")
        if len(ids) != len(xs) or (len(ids) and ids.min() < 0):
            raise ValueError("sample_ids must hold one integer >= 0 per sample")
        if self.backend == "python":
            return self._run_twin(xs, ps, ids)
        return self._run_kernel(xs, ps, ids, n_threads or self.n_threads or torch.get_num_threads())

    def _run_kernel(self, xs, ps, ids, n_threads: int) -> FidexBatch:
        ops, s = _ops(), self.settings
        sb = ops.rules_bins(torch.from_numpy(xs), torch.from_numpy(self.hyperplanes)).t().contiguous()
        out = ops.fidex(
            self._bins, torch.from_numpy(self.pred), self._cum, sb, torch.from_numpy(ps), torch.from_numpy(ids),
            s.seed, s.max_iterations, s.min_covering, s.covering_strategy, s.max_failed_attempts,
            s.min_fidelity, s.lowest_min_fidelity, s.dropout_dim, s.dropout_hyp, n_threads,
        )
        return FidexBatch(*(t.numpy() for t in out))

    def _run_twin(self, xs, ps, ids) -> FidexBatch:
        m = self.settings.max_iterations
        rows = [fidex_one(self.x, self.pred, self.hyperplanes, v, int(p), int(i), self.settings) for v, p, i in zip(xs, ps, ids)]
        s = len(rows)
        dims = np.full((s, m), -1, dtype=np.int64)
        hyps = np.full((s, m), -1, dtype=np.int64)
        for r, row in enumerate(rows):
            dims[r, : len(row[1])] = row[1]
            hyps[r, : len(row[2])] = row[2]
        sizes = np.array([len(r[3]) for r in rows], dtype=np.int64)
        return FidexBatch(
            path=np.array([r[0] for r in rows], dtype=np.int64),
            n_antecedents=np.array([len(r[1]) for r in rows], dtype=np.int64),
            dims=dims,
            hyps=hyps,
            fidelity=np.array([r[4] for r in rows], dtype=np.float64),
            target_fidelity=np.array([r[5] for r in rows], dtype=np.float64),
            target_covering=np.array([r[6] for r in rows], dtype=np.int64),
            covered_ptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
            covered_idx=np.concatenate([r[3] for r in rows] or [np.zeros(0)]).astype(np.int32),
        )

    def rule(self, batch: FidexBatch, s: int, x_s, cls: int) -> Rule:
        """The :class:`Rule` for row ``s`` of ``batch``: ``x_s`` [D] was explained as class ``cls``."""
        n_ante = int(batch.n_antecedents[s])
        ants = []
        for j, h in zip(batch.dims[s, :n_ante], batch.hyps[s, :n_ante]):
            t = float(self.hyperplanes[j, h])
            ants.append(Antecedent(int(j), bool(t <= x_s[j]), t))
        covered = batch.covered(s).astype(np.int64)
        cls = int(cls)
        acc = None
        if self.y is not None and len(covered):
            acc = float(np.mean(self.pred[covered] == self.y[covered]))
        if self.scores is not None and len(covered):
            conf = float(np.mean(self.scores[covered, cls]))
        else:
            conf = float(np.mean(self.pred[covered] == cls)) if len(covered) else math.nan
        return Rule(ants, cls, covered, float(batch.fidelity[s]), acc, conf, int(batch.path[s]))

    def explain(self, x, pred, sample_ids=None) -> list[Rule]:
        """Local rules (list of :class:`Rule`) for samples ``x`` [S, D] of model class ``pred`` [S].

        A rule whose ``path`` is -1 missed its fidelity target even after relaxation.
        """
        xs = as_numpy(x, "x", 2, np.float64)
        ps = as_labels(pred, "pred")
        batch = self.run(xs, ps, sample_ids)
        return [self.rule(batch, s, xs[s], ps[s]) for s in range(len(batch))]
