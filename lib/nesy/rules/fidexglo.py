"""FidexGlo: a global ruleset from local Fidex rules and a covering heuristic.

Bologna et al., "Fidex and FidexGlo" (Algorithms 18, 2025); the patch-rules paper's "global
rule extraction algorithm". The heuristics are dimlpfidex 1.0.1's ``fidexGloRules``:

1. ``"greedy"``: a Fidex rule for every training sample, then greedy set cover (repeatedly
   take the rule covering most still-uncovered samples; ties go to the lower sample index).
2. ``"sorted"``: the same rules sorted by covering size (stable), each kept if it covers a
   still-uncovered sample.
3. ``"sequential"``: visit the samples in a random order (``seed``); for each one not yet
   covered compute its rule and mark what it covers.

Samples for which Fidex finds no rule (even after relaxation) are left out of the cover, as
in dimlpfidex, and listed in ``Ruleset.samples_without_rule``. The ruleset is returned sorted
by decreasing covering size, as dimlpfidex writes it.
"""
from __future__ import annotations

import heapq
import time

import numpy as np

from ..checks import integer
from .fidex import Fidex, FidexBatch
from .settings import FidexSettings
from .ruleset import PATHS, Ruleset

__all__ = ["FidexGlo", "greedy_cover", "sorted_cover", "HEURISTICS"]

HEURISTICS = {1: "greedy", 2: "sorted", 3: "sequential"}


def _heuristic(h) -> int:
    if isinstance(h, str) and h in HEURISTICS.values():
        return next(k for k, v in HEURISTICS.items() if v == h)
    if not isinstance(h, bool) and isinstance(h, (int, np.integer)) and int(h) in HEURISTICS:
        return int(h)
    raise ValueError(f"heuristic must be 1, 2, 3 or one of {sorted(HEURISTICS.values())}, got {h!r}")


def _gains(batch: FidexBatch, candidates: np.ndarray, uncovered: np.ndarray) -> np.ndarray:
    """Number of still-uncovered samples each candidate rule covers, int64[len(candidates)]."""
    hits = np.concatenate([[0], np.cumsum(uncovered[batch.covered_idx], dtype=np.int64)])
    return hits[batch.covered_ptr[candidates + 1]] - hits[batch.covered_ptr[candidates]]


def greedy_cover(batch: FidexBatch, candidates: np.ndarray, targets: np.ndarray, n: int) -> list[int]:
    """Heuristic 1's greedy set cover (lazy evaluation; same choices as the eager loop).

    Parameters
    ----------
    batch : FidexBatch
        Local rules; row ``r`` covers ``batch.covered(r)``.
    candidates : int64[R]
        Rows of ``batch`` that may be chosen, in priority order for ties.
    targets : int64[T]
        Sample indices (in ``[0, n)``) to cover.

    Returns
    -------
    list[int]
        Chosen rows, in the order chosen.
    """
    uncovered = np.zeros(n, dtype=bool)
    uncovered[targets] = True
    remaining = int(uncovered.sum())
    gains = _gains(batch, candidates, uncovered)
    heap = [(-int(g), pos) for pos, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    chosen = []
    while remaining > 0 and heap:
        neg, pos = heapq.heappop(heap)
        cov = batch.covered(int(candidates[pos]))
        gain = int(np.count_nonzero(uncovered[cov]))
        if gain == -neg:
            chosen.append(int(candidates[pos]))
            uncovered[cov] = False
            remaining -= gain
        elif gain > 0:
            heapq.heappush(heap, (-gain, pos))
    return chosen


def sorted_cover(batch: FidexBatch, candidates: np.ndarray, targets: np.ndarray, n: int) -> list[int]:
    """Heuristic 2: candidates by decreasing covering size (stable), kept if they add coverage."""
    uncovered = np.zeros(n, dtype=bool)
    uncovered[targets] = True
    remaining = int(uncovered.sum())
    sizes = np.diff(batch.covered_ptr)[candidates]
    chosen = []
    for r in candidates[np.argsort(-sizes, kind="stable")]:
        if remaining == 0:
            break
        cov = batch.covered(int(r))
        gain = int(np.count_nonzero(uncovered[cov]))
        if gain:
            chosen.append(int(r))
            uncovered[cov] = False
            remaining -= gain
    return chosen


class FidexGlo:
    """Global rule extraction (FidexGlo) with one of dimlpfidex's covering heuristics.

    Parameters
    ----------
    heuristic : {1, 2, 3, "greedy", "sorted", "sequential"}
        Covering heuristic (see the module docstring); the patch-rules paper uses 1.
    progress : bool
        Show a progress bar while the local rules are computed.
    chunk_size : int
        Samples per kernel call for heuristics 1-2 (the progress bar's step).
    settings, n_threads, backend, **options
        As for :class:`~nesy.rules.Fidex`: the :class:`~nesy.rules.settings.FidexSettings`,
        with ``options`` (its field names) replacing some of them.

    Examples
    --------
    The model's class is 1 when the first of three features exceeds 0.5; the rule covering most
    training samples comes first:

    >>> import torch
    >>> from nesy.rules import QIL
    >>> x_train = torch.rand(200, 3, generator=torch.Generator().manual_seed(0))
    >>> pred_train = (x_train[:, 0] > 0.5).long()
    >>> glo = FidexGlo(heuristic=1, dropout_dim=0.0, dropout_hyp=0.0, seed=1)
    >>> ruleset = glo.fit(x_train, pred_train, QIL.fit(x_train, 20))
    >>> print(ruleset.rules[0])
    X0>=0.521132 -> class 1
    """

    def __init__(self, heuristic=1, *, progress: bool = False, chunk_size: int = 512,
                 settings: FidexSettings | None = None, n_threads: int | None = None, backend: str = "kernel",
                 **options):
        self.heuristic = _heuristic(heuristic)
        self.chunk_size = integer("chunk_size", chunk_size, 1)
        self.progress = bool(progress)
        self.settings = FidexSettings.from_options(settings, **options)
        self.n_threads, self.backend = n_threads, backend  # checked by Fidex

    def fit(self, train_x, train_pred, hyperplanes, *, train_y=None, train_scores=None, n_classes=None,
            seeds=None) -> Ruleset:
        """Extract the global ruleset.

        Parameters
        ----------
        train_x : Tensor or array [N, D]
        train_pred : Tensor or array [N] (int)
            The model's classes (the rules mimic these).
        hyperplanes : QIL or Tensor [D, K]
        train_y : Tensor or array [N] (int), optional
            True classes (rule accuracy).
        train_scores : Tensor or array [N, C], optional
            Model scores (rule confidence).
        n_classes : int, optional
        seeds : int array [S], optional
            Heuristics 1-2 only: the training samples whose local rules are computed (default:
            all N, as in dimlpfidex). Fidelity and covering are still measured on all N, and the
            cover takes rules until every sample some local rule covers is covered.

        Returns
        -------
        Ruleset
        """
        return self.fit_heuristics(train_x, train_pred, hyperplanes, (self.heuristic,), train_y=train_y,
                                   train_scores=train_scores, n_classes=n_classes, seeds=seeds)[self.heuristic]

    def fit_heuristics(self, train_x, train_pred, hyperplanes, heuristics=(1, 2), *, train_y=None, train_scores=None,
                       n_classes=None, seeds=None) -> dict[int, Ruleset]:
        """One ruleset per heuristic, ``{heuristic: Ruleset}``, as :meth:`fit` (same arguments).

        Heuristics 1 and 2 select from the same local rules, so these are computed once.
        """
        chosen_heuristics = [_heuristic(h) for h in heuristics]
        if not chosen_heuristics:
            raise ValueError("heuristics must name at least one heuristic")
        t0 = time.perf_counter()
        fidex = Fidex(train_x, train_pred, hyperplanes, train_y=train_y, train_scores=train_scores,
                      n_classes=n_classes, settings=self.settings, n_threads=self.n_threads, backend=self.backend)
        n = fidex.n_train
        if seeds is not None:
            if 3 in chosen_heuristics:
                raise ValueError("seeds applies to heuristics 1 and 2 only")
            seeds = np.unique(np.asarray(seeds, dtype=np.int64))
            if len(seeds) == 0 or seeds[0] < 0 or seeds[-1] >= n:
                raise ValueError(f"seeds must be a non-empty set of training indices in [0, {n})")
        prepared = time.perf_counter() - t0
        out, batch = {}, None
        for h in chosen_heuristics:
            t1 = time.perf_counter()
            if h in (1, 2):
                if batch is None:
                    batch, sample_of = self._all_rules(fidex, seeds)
                    fidex_seconds = time.perf_counter() - t1
                else:
                    fidex_seconds = 0.0  # shared with the heuristic before
                t2 = time.perf_counter()
                ok = np.flatnonzero(batch.path >= 0)
                targets = ok if seeds is None else np.unique(np.concatenate([batch.covered(int(r)) for r in ok] or [ok]))
                chosen = (greedy_cover if h == 1 else sorted_cover)(batch, ok, targets, n)
                without = sample_of[batch.path < 0]
                rows_of = sample_of
            else:
                b3, rows_of, chosen, without = self._sequential(fidex)
                fidex_seconds, t2 = time.perf_counter() - t1, time.perf_counter()
            used = batch if h in (1, 2) else b3
            rules = [fidex.rule(used, r, fidex.x[rows_of[r]], fidex.pred[rows_of[r]]) for r in chosen]
            rules.sort(key=lambda r: -r.covering_size)  # dimlpfidex's output order (stable: ties as chosen)
            t3 = time.perf_counter()
            counts = {name: int(np.count_nonzero(used.path == code)) for code, name in PATHS.items()}
            out[h] = Ruleset(
                rules=rules,
                n_train=n,
                samples_without_rule=np.asarray(without, dtype=np.int64),
                n_fidex_runs=len(used),
                path_counts=counts,
                seconds={"prepare": prepared, "fidex": fidex_seconds, "cover": t3 - t2,
                         "total": prepared + fidex_seconds + (t3 - t2)},
            )
        return out

    def _all_rules(self, fidex: Fidex, seeds=None) -> tuple[FidexBatch, np.ndarray]:
        """Local rules of the ``seeds`` (default all samples): the batch and, per row, its sample."""
        ids = np.arange(fidex.n_train) if seeds is None else np.asarray(seeds, dtype=np.int64)
        starts = range(0, len(ids), self.chunk_size)
        if self.progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Fidex rules", unit="chunk")
        parts = []
        for a in starts:
            rows = ids[a : a + self.chunk_size]
            parts.append(fidex.run(fidex.x[rows], fidex.pred[rows], rows))
        return FidexBatch.concat(parts), ids

    def _sequential(self, fidex: Fidex):
        n = fidex.n_train
        order = np.random.default_rng(fidex.settings.seed).permutation(n)
        uncovered = np.ones(n, dtype=bool)
        parts, sample_of, chosen, without = [], [], [], []
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc="FidexGlo (sequential)", unit="sample")
        for sid in order:
            if not uncovered[sid]:
                continue
            b = fidex.run(fidex.x[sid : sid + 1], fidex.pred[sid : sid + 1], [sid], n_threads=1)
            before = int(uncovered.sum())
            if b.path[0] >= 0:
                chosen.append(len(parts))
                uncovered[b.covered(0)] = False
            else:
                without.append(int(sid))
            uncovered[sid] = False
            parts.append(b)
            sample_of.append(int(sid))
            if bar is not None:
                bar.update(before - int(uncovered.sum()))
        if bar is not None:
            bar.close()
        return FidexBatch.concat(parts), np.asarray(sample_of, dtype=np.int64), chosen, sorted(without)
