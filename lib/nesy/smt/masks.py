"""SMUG's minimal-mask problem (Eqs. 2-3) and two exact solvers: z3 and a MILP on HiGHS.

One 0/1 variable M_b per ``block x block`` square of pixels (shared by the colour
channels); a masked pixel takes the constraint mode's masked value (``"reference"``: 0 in the
network's input, the mean colour; ``"folded"``: black; :mod:`nesy.smt.linear`). For every
chosen neuron t whose original value ``a_t`` (the mode's quantity: the convolution before
batch norm, or the folded pre-activation) is positive, the value on the masked image must
stay above ``gamma * a_t``. The first layer is affine
(:mod:`nesy.smt.linear`), so with ``x0`` the fully masked image::

    pre_t(masked) = pre_t(x0) + sum_b M_b * g_tb,   g_tb = L(x - x0) restricted to block b

and the problem is the integer programme

    minimise sum_b M_b   s.t.   sum_b g_tb M_b > gamma * a_t - pre_t(x0)   for all t,

over the blocks that some chosen neuron's receptive field touches (every other block
would be 0 at the optimum). When ``pre_t(x0) > gamma * a_t`` for every t the empty mask
is optimal: in the ``"folded"`` mode, with EfficientNet-Lite0's folded biases, this is
common at ``gamma = 0``; in the ``"reference"`` mode ``pre_t(x0) = 0`` (no bias, masked input
0), so the empty mask never satisfies ``gamma = 0``
(:attr:`MaskProblem.empty_mask_feasible` says so before any solve).

Backends: :func:`solve_z3` (``z3.Optimize``, Int variables in {0, 1}, as the reference;
a timeout gives status ``"unknown"``, never an exception) and :func:`solve_highs`
(``scipy.optimize.milp``: the optimum of the non-strict relaxation ``A m >= rhs`` is a lower
bound and is the answer when it passes a strict float64 re-check; otherwise ``>= rhs + margin``
with a margin below the slack of the all-ones mask; what HiGHS cannot prove goes to z3).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from .linear import AffineConv

STATUSES = ("optimal", "unknown", "infeasible")


@dataclass(frozen=True)
class MaskProblem:
    """``minimise sum(m)`` over ``m in {0,1}^n`` subject to ``A m > rhs`` (strict, row-wise).

    A: ``scipy.sparse.csr_matrix (K, n)`` float64: row t holds neuron t's coefficients g_tb.
    rhs: float64 ``(K,)``: ``gamma * a_t - pre_t(x0)``.
    blocks: int64 ``(n,)``: flat block index (row-major over ``grid``) of each variable.
    grid: ``(rows, cols)`` of blocks over the image; block: block side in pixels.
    neurons: int64 ``(K,)`` the constrained neurons (flat channel-major indices).
    activations: float64 ``(K,)`` their original pre-activations a_t (all > 0).
    offsets: float64 ``(K,)`` their pre-activations on the fully masked image.
    gamma: the activity factor. n_skipped: chosen neurons left out because ``a_t <= 0``.
    """

    A: sp.csr_matrix
    rhs: np.ndarray
    blocks: np.ndarray
    grid: tuple[int, int]
    block: int
    neurons: np.ndarray
    activations: np.ndarray
    offsets: np.ndarray
    gamma: float
    n_skipped: int = 0

    @property
    def n_vars(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_constraints(self) -> int:
        return int(self.A.shape[0])

    @property
    def empty_mask_feasible(self) -> bool:
        """True when keeping no block at all already satisfies every constraint."""
        return bool(np.all(self.rhs < 0))

    def slack(self, m) -> np.ndarray:
        """``A m - rhs`` per constraint (all > 0 iff m is feasible)."""
        return self.A @ np.asarray(m, dtype=np.float64) - self.rhs

    def is_feasible(self, m) -> bool:
        return bool(self.n_constraints == 0 or np.all(self.slack(m) > 0))

    def block_mask(self, m) -> np.ndarray:
        """Variables ``(n,)`` -> bool block grid ``(rows, cols)``."""
        grid = np.zeros(self.grid[0] * self.grid[1], dtype=bool)
        grid[self.blocks[np.asarray(m, dtype=bool)]] = True
        return grid.reshape(self.grid)


@dataclass(frozen=True)
class MaskSolution:
    """One solve. keep: bool ``(n,)`` per variable (None when status is not ``"optimal"``).
    block_mask: bool grid ``(rows, cols)`` (all False when there is no solution, as the
    reference's empty mask). n_blocks: kept blocks (None without a solution).
    status: ``"optimal"``, ``"unknown"`` (timeout / limit: counted separately, never an
    exception) or ``"infeasible"``. time_s: encoding + solving wall time. min_slack: the
    smallest ``A m - rhs`` of the solution (float64)."""

    keep: np.ndarray | None
    block_mask: np.ndarray
    n_blocks: int | None
    status: str
    backend: str
    time_s: float
    min_slack: float | None = None
    info: dict = field(default_factory=dict)


def mask_problem(
    lin: AffineConv,
    x: torch.Tensor,
    neurons,
    gamma: float,
    *,
    block: int = 4,
    masked_value=None,
) -> MaskProblem:
    """Build Eq. 3 for one image.

    lin: the first layer's affine map (:func:`nesy.smt.linear.linearise`).
    x: pixels ``(C, H, W)`` (or ``(1, C, H, W)``) in [0, 1]. neurons: flat channel-major
    indices of the chosen neurons (e.g. :func:`~nesy.smt.attribution.top_k_neurons`).
    gamma: in [0, 1). block: block side in pixels (4 for 224-px images as in the paper).
    masked_value: the pixel value a masked pixel takes (a float or one per channel);
    default ``lin.masked_pixel``, the constraint mode's (``"reference"``: 0 in the network's
    input, i.e. the mean colour; ``"folded"``: black).
    """
    if not 0 <= gamma < 1:
        raise ValueError(f"gamma must be in [0, 1); got {gamma}")
    if block < 1:
        raise ValueError(f"block must be >= 1; got {block}")
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"x must be one image (C, H, W); got shape {list(x.shape)}")
        x = x[0]
    if tuple(x.shape[-2:]) != lin.image_size:
        raise ValueError(f"x is {list(x.shape)}, the layer expects images of {lin.image_size}")
    neurons = np.asarray(torch.as_tensor(neurons).cpu(), dtype=np.int64).reshape(-1)
    height, width = lin.image_size
    grid = (-(-height // block), -(-width // block))

    x = x.detach().double().cpu()
    fill = torch.as_tensor(lin.masked_pixel if masked_value is None else masked_value, dtype=torch.float64)
    x0 = torch.ones_like(x) * (fill.reshape(-1, 1, 1) if fill.dim() else fill)
    base = lin.pre_activation(x0)[0].reshape(-1).numpy()  # pre(x0) per neuron
    diff = (x - x0).numpy()  # (C, H, W)
    weight = lin.weight.numpy()  # (O, C, kh, kw)
    channel, _, _ = lin.neuron_coords(neurons)
    rows, cols, valid = lin.taps(neurons)  # (K, kh, kw)
    r, c = np.where(valid, rows, 0), np.where(valid, cols, 0)
    # contribution of each (neuron, tap) summed over the colour channels: (K, kh, kw)
    contrib = np.einsum("kcij,ckij->kij", weight[channel], diff[:, r, c]) * valid
    block_of = (r // block) * grid[1] + c // block
    k_idx = np.broadcast_to(np.arange(len(neurons))[:, None, None], valid.shape)
    sel = valid.reshape(-1)
    coo = sp.coo_matrix(
        (contrib.reshape(-1)[sel], (k_idx.reshape(-1)[sel], block_of.reshape(-1)[sel])),
        shape=(len(neurons), grid[0] * grid[1]),
    ).tocsr()  # duplicates (taps in the same block) are summed
    offsets = base[neurons]
    activations = offsets + np.asarray(coo.sum(axis=1)).reshape(-1)
    touched = np.unique(block_of.reshape(-1)[sel])
    active = activations > 0
    A = coo[active][:, touched].tocsr()
    A.sort_indices()
    return MaskProblem(
        A=A,
        rhs=gamma * activations[active] - offsets[active],
        blocks=touched.astype(np.int64),
        grid=grid,
        block=block,
        neurons=neurons[active],
        activations=activations[active],
        offsets=offsets[active],
        gamma=float(gamma),
        n_skipped=int((~active).sum()),
    )


def _solution(problem: MaskProblem, keep, status: str, backend: str, t0: float, **info) -> MaskSolution:
    elapsed = time.perf_counter() - t0
    if keep is None:
        return MaskSolution(None, np.zeros(problem.grid, dtype=bool), None, status, backend, elapsed, None, info)
    keep = np.asarray(keep, dtype=bool)
    slack = problem.slack(keep)
    min_slack = float(slack.min()) if slack.size else float("inf")
    return MaskSolution(keep, problem.block_mask(keep), int(keep.sum()), status, backend, elapsed, min_slack, info)


def solve_z3(problem: MaskProblem, *, timeout_s: float | None = 600.0, seed: int = 0) -> MaskSolution:
    """Minimal mask with ``z3.Optimize`` (one Int in {0, 1} per block, real coefficients).

    Both backends return the empty mask at once when it is feasible (``info["trivial"]``).
    timeout_s: z3's timeout; when it expires the status is ``"unknown"`` and no mask is
    returned (the reference then uses the empty mask; callers count these).
    """
    import z3

    t0 = time.perf_counter()
    if problem.n_constraints == 0 or problem.empty_mask_feasible:
        return _solution(problem, np.zeros(problem.n_vars, dtype=bool), "optimal", "z3", t0, trivial=True)
    opt = z3.Optimize()
    opt.set("random_seed", int(seed))
    if timeout_s is not None:
        opt.set("timeout", max(1, int(timeout_s * 1000)))
    m = [z3.Int(f"m_{b}") for b in problem.blocks]
    for v in m:
        opt.add(v >= 0, v <= 1)
    A = problem.A
    for t in range(problem.n_constraints):
        lo, hi = A.indptr[t], A.indptr[t + 1]
        terms = [z3.RealVal(repr(float(coef))) * m[j] for j, coef in zip(A.indices[lo:hi], A.data[lo:hi])]
        lhs = z3.Sum(terms) if terms else z3.RealVal(0)
        opt.add(lhs > z3.RealVal(repr(float(problem.rhs[t]))))
    opt.minimize(z3.Sum(m) if m else z3.IntVal(0))
    result = opt.check()
    if result == z3.sat:
        model = opt.model()
        keep = [model.eval(v, model_completion=True).as_long() == 1 for v in m]
        return _solution(problem, keep, "optimal", "z3", t0)
    if result == z3.unsat:
        return _solution(problem, None, "infeasible", "z3", t0)
    return _solution(problem, None, "unknown", "z3", t0, reason=opt.reason_unknown())


def solve_highs(
    problem: MaskProblem,
    *,
    time_limit_s: float | None = 600.0,
    margin: float = 1e-7,
    feasibility_tol: float = 1e-9,
    max_attempts: int = 4,
    fallback: bool = True,
) -> MaskSolution:
    """Minimal mask as a MILP on HiGHS (``scipy.optimize.milp``), proven optimal.

    HiGHS solves ``>=`` constraints within an absolute tolerance (``feasibility_tol``),
    not strict ones, so the optimum is bracketed by two MILPs (zero relative gap):

    1. the relaxation ``A m >= rhs`` plus, for every row with ``rhs_t >= 0``, the cover cut
       "at least one block with a positive coefficient is kept" (``A_t m > rhs_t >= 0`` is
       impossible otherwise): every strictly feasible mask satisfies both, so its optimum is
       a lower bound; when its rounded solution passes the strict float64 check
       ``A m > rhs`` it is the optimum (one solve, the usual case). Without the cuts a
       ``gamma = 0`` problem in the ``"reference"`` mode (``rhs = 0``) would relax to the
       empty mask and never be proven this way;
    2. otherwise the tightened MILP ``A_t m >= rhs_t + margin_t``, with
       ``margin_t = min(margin * 10**attempt * (1 + |rhs_t| + sum|A_t|), cap_t)``, its
       rounded solution re-checked strictly and the margin raised tenfold (at most
       ``max_attempts`` times) while the check fails. ``cap_t`` is half the slack row t has
       at ``m = 1`` (half the largest slack any mask gives row t when ``m = 1`` violates
       it), so the all-ones mask stays feasible for the tightened MILP whenever it is
       strictly feasible (every :func:`mask_problem` with ``gamma < 1``, where that slack
       is ``(1 - gamma) * a_t``). A strict solution whose size equals the bound of step 1
       is the optimum.

    When neither step proves an optimum (a rounded solution keeps violating a strict
    constraint at the largest margin, the tightened MILP is reported infeasible, or its
    strict solution is larger than the relaxation's bound: a smaller mask may have a slack
    below the margin), the problem is handed to :func:`solve_z3` (exact rationals) with the
    time left: ``info["fallback"] = "z3"`` and ``info["fallback_reason"]`` say so, the
    status is z3's and ``backend`` stays ``"highs"``. ``fallback=False`` gives status
    ``"unknown"`` there instead. ``info["attempts"]`` counts the HiGHS solves.

    Status ``"infeasible"`` only when the strict problem has no solution: some row
    exceeds what any mask can reach (``sum of A_t's positive entries <= rhs_t``, e.g. a
    hand-built problem with ``gamma >= 1``), or HiGHS finds even the relaxation of step 1
    infeasible while ``m = 1`` is not strictly feasible. A time limit (over all solves,
    the fallback included) gives status ``"unknown"``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    n = problem.n_vars
    if problem.n_constraints == 0 or problem.empty_mask_feasible:
        return _solution(problem, np.zeros(n, dtype=bool), "optimal", "highs", t0, trivial=True)
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1; got {max_attempts}")
    deadline = None if time_limit_s is None else t0 + float(time_limit_s)
    ones = np.ones(n)
    reachable = problem.A.maximum(0) @ ones - problem.rhs  # (K,) the largest slack of each row alone
    if np.any(reachable <= 0):
        return _solution(problem, None, "infeasible", "highs", t0, attempts=0,
                         message=f"{int((reachable <= 0).sum())} constraint(s) exceed what any mask reaches")
    ones_slack = problem.slack(ones)  # (K,) (1 - gamma) * a_t for mask_problem
    cap = 0.5 * np.where(ones_slack > 0, ones_slack, reachable)  # > 0 in every row
    scale = 1.0 + np.abs(problem.rhs) + np.asarray(abs(problem.A).sum(axis=1)).reshape(-1)
    options = {
        "mip_rel_gap": 0.0,
        "presolve": True,
        "primal_feasibility_tolerance": feasibility_tol,
        "mip_feasibility_tolerance": feasibility_tol,
    }
    attempts = 0

    covered = np.flatnonzero(problem.rhs >= 0)  # rows that need a kept block with a positive coefficient
    cover = (problem.A[covered] > 0).astype(np.float64)
    cuts = [LinearConstraint(cover, 1.0, np.inf)] if covered.size else []

    def run(lower):
        nonlocal attempts
        opts = dict(options)
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            opts["time_limit"] = left
        attempts += 1
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
            return milp(
                c=ones,
                integrality=ones,
                bounds=Bounds(0, 1),
                constraints=[LinearConstraint(problem.A, lower, np.inf), *cuts],
                options=opts,
            )

    def timed_out(res):
        return res is None or res.status == 1

    def unknown(res):
        message = "time limit reached" if res is None else res.message
        return _solution(problem, None, "unknown", "highs", t0, attempts=attempts, message=message)

    def hand_to_z3(reason, **extra):
        if not fallback:
            return _solution(problem, None, "unknown", "highs", t0, attempts=attempts, message=reason, **extra)
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            return _solution(problem, None, "unknown", "highs", t0, attempts=attempts, message=reason, **extra)
        z = solve_z3(problem, timeout_s=left)
        return _solution(problem, z.keep, z.status, "highs", t0, attempts=attempts, fallback="z3",
                         fallback_reason=reason, **extra, **z.info)

    # 1. the relaxation A m >= rhs with the cover cuts: its optimum bounds the strict one from below
    res = run(problem.rhs)
    if timed_out(res):
        return unknown(res)
    if res.status == 2:
        if problem.is_feasible(ones):
            return hand_to_z3("HiGHS found A m >= rhs infeasible although m = 1 is strictly feasible")
        return _solution(problem, None, "infeasible", "highs", t0, attempts=attempts, message=res.message)
    if res.status != 0 or res.x is None:
        return hand_to_z3(f"HiGHS: {res.message}")
    bound = res.mip_dual_bound if np.isfinite(getattr(res, "mip_dual_bound", np.nan)) else res.fun
    lower_bound = int(np.ceil(bound - 1e-6))  # the objective is an integer
    keep = np.round(res.x) > 0.5
    if problem.is_feasible(keep):
        return _solution(problem, keep, "optimal", "highs", t0, attempts=attempts)

    # 2. the tightened MILP, its margin never above cap (so m = 1 stays feasible when it is)
    relative = margin * scale
    for attempt in range(max_attempts):
        margin_t = np.minimum(relative * 10.0**attempt, cap)
        res = run(problem.rhs + margin_t)
        if timed_out(res):
            return unknown(res)
        if res.status != 0 or res.x is None:
            return hand_to_z3(f"tightened MILP: {res.message}", lower_bound=lower_bound)
        keep = np.round(res.x) > 0.5
        if problem.is_feasible(keep):
            if int(keep.sum()) == lower_bound:
                return _solution(problem, keep, "optimal", "highs", t0, attempts=attempts)
            return hand_to_z3("the strict solution is larger than the relaxation's bound",
                              lower_bound=lower_bound, upper_bound=int(keep.sum()))
        if np.all(margin_t >= cap):
            break
    return hand_to_z3("rounded MILP solutions violate a strict constraint at the largest margin",
                      lower_bound=lower_bound)


def solve(problem: MaskProblem, backend: str = "highs", **options) -> MaskSolution:
    """Dispatch to :func:`solve_highs` (``"highs"``) or :func:`solve_z3` (``"z3"``)."""
    if backend == "highs":
        return solve_highs(problem, **options)
    if backend == "z3":
        return solve_z3(problem, **options)
    raise ValueError(f"backend must be 'highs' or 'z3'; got {backend!r}")


def brute_force(problem: MaskProblem, max_vars: int = 16) -> MaskSolution:
    """Exhaustive search over all ``2**n`` masks (for tests, n <= max_vars): the feasible
    mask with the fewest blocks (the first in binary order among ties)."""
    t0 = time.perf_counter()
    n = problem.n_vars
    if n > max_vars:
        raise ValueError(f"brute force is for at most {max_vars} variables; the problem has {n}")
    masks = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(np.float64)  # (2^n, n)
    feasible = np.all(problem.A @ masks.T > problem.rhs[:, None], axis=0) if problem.n_constraints else np.ones(2**n, bool)
    if not feasible.any():
        return _solution(problem, None, "infeasible", "brute-force", t0)
    sizes = np.where(feasible, masks.sum(axis=1), np.inf)
    return _solution(problem, masks[int(np.argmin(sizes))] > 0, "optimal", "brute-force", t0)
