"""Pure-Python Fidex: the compiled kernel's twin, written the way dimlpfidex 1.0.1 states it.

Slow (a numpy comparison per candidate hyperplane, no histograms, no bins), for tests on small
data: for the same inputs and seed it must return exactly the kernel's rules. It draws from the
same per-sample SplitMix64 stream as csrc/rules/cpu/rng.h, in the same order.

One Fidex run (``compute``), for a sample ``v`` the model puts in class ``y``:

- start from every training sample covered; fidelity = share of them predicted ``y``;
- while fidelity < target and fewer than ``max_iterations`` iterations: shuffle the features;
  for each (skipped with probability ``dropout_dim``) and each of its hyperplanes ``t``
  (skipped with probability ``dropout_hyp``), keep the covered samples on ``v``'s side of
  ``t`` (``t <= x`` iff ``t <= v``); the best candidate has the highest fidelity, then the
  largest covering, among those covering >= ``min_covering``; the search stops as soon as a
  candidate reaches the target. Equal consecutive candidates of the best feature are replaced
  by their middle one. The best is added if it raises fidelity.

``launch`` adds dimlpfidex's relaxation when the direct run misses the target: dichotomic
search of the largest minimum covering below ``min_covering``; then fidelity targets lowered by
0.05 (float32 arithmetic) down to ``lowest_min_fidelity`` with covering 1; then up to
``max_failed_attempts`` retries at the last target.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .settings import FidexSettings

__all__ = ["SplitMix64", "FidexSettings", "fidex_one"]

_MASK = (1 << 64) - 1


class SplitMix64:
    """The kernel's random stream for one sample, seeded from ``(seed, stream)``."""

    def __init__(self, seed: int, stream: int):
        self.state = (seed * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03) & _MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        return (self.next() >> 11) * 2.0**-53

    def below(self, n: int) -> int:
        return self.next() % n


@dataclass
class _Attempt:
    covered: np.ndarray
    dims: list
    hyps: list
    fidelity: float


def _compute(x, preds, hyp, v, y, min_fid: float, min_cov: int, rng: SplitMix64, s: FidexSettings) -> tuple[bool, _Attempt]:
    n, d = x.shape
    k = hyp.shape[1]
    has_dd, has_dh = s.dropout_dim > 0.001, s.dropout_hyp > 0.001
    cur = np.arange(n)
    fid = float(np.count_nonzero(preds == y)) / n
    dims_out, hyps_out = [], []
    it = 0
    while fid < min_fid and it < s.max_iterations:
        best_fid, best_cov, best_dim, min_hyp, max_hyp = -1.0, 0, -1, -1, -1
        dims = list(range(d))
        for i in range(d - 1, 0, -1):
            r = rng.below(i + 1)
            dims[i], dims[r] = dims[r], dims[i]
        agree = preds[cur] == y
        for j in dims:
            if best_fid >= min_fid:
                break
            if has_dd and rng.uniform() < s.dropout_dim:
                continue
            col = x[cur, j]
            blocked = True
            for h in range(k):
                if has_dh and rng.uniform() < s.dropout_hyp:
                    continue
                t = hyp[j, h]
                mask = (t <= col) == (t <= v[j])
                cov = int(np.count_nonzero(mask))
                if cov >= min_cov:
                    f = int(np.count_nonzero(agree[mask])) / cov
                    if f > best_fid or (f == best_fid and cov > best_cov):
                        best_fid, best_cov, best_dim, min_hyp, max_hyp, blocked = f, cov, j, h, -1, False
                    elif f == best_fid and cov == best_cov:
                        if not blocked:
                            max_hyp = h
                    else:
                        blocked = True
                else:
                    blocked = True
                if best_fid >= min_fid:
                    break
        if best_dim >= 0 and (best_fid > fid or (best_fid == fid and best_cov > len(cur))):
            h = (min_hyp + max_hyp) // 2 if max_hyp >= 0 else min_hyp
            t = hyp[best_dim, h]
            cur = cur[(t <= x[cur, best_dim]) == (t <= v[best_dim])]
            fid = float(np.count_nonzero(preds[cur] == y)) / len(cur) if len(cur) else 0.0
            dims_out.append(int(best_dim))
            hyps_out.append(int(h))
        it += 1
    return fid >= min_fid, _Attempt(cur, dims_out, hyps_out, fid)


def fidex_one(x, preds, hyp, v, y: int, sample_id: int, s: FidexSettings):
    """Fidex with relaxation for one sample.

    Parameters
    ----------
    x : ndarray[N, D] float64
        Training samples.
    preds : ndarray[N] int64
        Model classes of the training samples.
    hyp : ndarray[D, K] float64
        Candidate hyperplanes, non-decreasing along each row.
    v : ndarray[D] float64
        The sample to explain.
    y : int
        Its model class.
    sample_id : int
        Selects the random stream (the kernel's ``sample_ids``).

    Returns
    -------
    tuple
        ``(path, dims, hyps, covered, fidelity, target_fidelity, target_covering)`` with
        ``path`` 0 direct, 1 reduced covering, 2 lowered fidelity, 3 retried, -1 none.
    """
    rng = SplitMix64(int(s.seed), int(sample_id))
    min_f = np.float32(s.min_fidelity)
    min_c = int(s.min_covering)

    def run(f, c):
        return _compute(x, preds, hyp, v, y, float(f), c, rng, s)

    def out(path, a, f, c):
        return path, a.dims, a.hyps, a.covered, a.fidelity, float(f), int(c)

    ok, a = run(min_f, min_c)
    if ok:
        return out(0, a, min_f, min_c)
    if not s.covering_strategy:
        return out(-1, a, min_f, min_c)
    left, right, best_c, best = 1, min_c - 1, -1, None
    if right > 0:
        cover = right + 1
        while cover != (right + left + 1) // 2 and left <= right:
            cover = (right + left + 1) // 2
            ok, a = run(min_f, cover)
            if ok:
                best_c, best, left = cover, a, cover + 1
            else:
                right = cover - 1
    if best_c != -1:
        return out(1, best, min_f, best_c)
    f, lowest, created = min_f, np.float32(s.lowest_min_fidelity), False
    while not created and f > lowest:
        f = np.float32(f - np.float32(0.05))
        created, a = run(f, 1)
    if created:
        return out(2, a, f, 1)
    failed = 0
    while True:
        created, a = run(f, 1)
        if not created:
            failed += 1
        if created or failed >= s.max_failed_attempts:
            break
    return out(3 if created else -1, a, f, 1)
