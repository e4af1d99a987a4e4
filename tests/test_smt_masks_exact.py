"""solve_highs on hand-built mask problems with tight constraints: the same optimum as z3
(exact rationals) and brute force, strictly feasible, "infeasible" only when it is true."""
import numpy as np
import pytest
import scipy.sparse as sp

from nesy import smt
from nesy.smt.masks import MaskProblem

UNIT = 2**10  # coefficients are multiples of 1 / UNIT: float64 sums of a few are exact


def hand_problem(A, rhs, *, activations=None, offsets=None, gamma=0.5):
    """A MaskProblem straight from ``A m > rhs``: one variable per block of a 1 x n grid."""
    A = sp.csr_matrix(np.asarray(A, dtype=np.float64))
    rhs = np.asarray(rhs, dtype=np.float64)
    k, n = A.shape
    return MaskProblem(
        A=A, rhs=rhs, blocks=np.arange(n, dtype=np.int64), grid=(1, n), block=1,
        neurons=np.arange(k, dtype=np.int64),
        activations=np.ones(k) if activations is None else np.asarray(activations, dtype=np.float64),
        offsets=np.zeros(k) if offsets is None else np.asarray(offsets, dtype=np.float64),
        gamma=float(gamma),
    )


def problem_from_activations(A, offsets, gamma, tight=None):
    """As :func:`nesy.smt.mask_problem` builds it: ``a = offsets + A 1`` (rows with ``a <= 0``
    dropped), ``rhs = gamma * a - offsets``. tight: optional ``(row, mask, eps)`` setting that
    row's rhs to ``A_row mask - eps`` (a mask whose slack is eps)."""
    A, offsets = np.asarray(A, dtype=np.float64), np.asarray(offsets, dtype=np.float64)
    activations = offsets + A.sum(axis=1)
    active = activations > 0
    A, offsets, activations = A[active], offsets[active], activations[active]
    rhs = gamma * activations - offsets
    if tight is not None and len(rhs):
        row, mask, eps = tight
        row %= len(rhs)
        rhs[row] = A[row] @ np.asarray(mask, dtype=np.float64) - eps
    return hand_problem(A, rhs, activations=activations, offsets=offsets, gamma=gamma)


def assert_same_optimum_as_z3(p, **options):
    h, z = smt.solve_highs(p, **options), smt.solve_z3(p, timeout_s=30)
    assert z.status == "optimal"
    assert h.status == "optimal", h.info
    assert h.n_blocks == z.n_blocks, (h.info, h.keep, z.keep)
    assert p.is_feasible(h.keep) and h.min_slack > 0
    return h


def test_a_row_only_the_all_ones_mask_satisfies():
    # slack 1e-9 at m = 1 against coefficients of size 1; the old margin (7e-7) made this "infeasible"
    p = hand_problem([[1.0, 1.0, 1.0], [0.5, 0.0, 0.25]], [3.0 - 1e-9, 0.1])
    h = assert_same_optimum_as_z3(p)
    assert h.n_blocks == 3 and h.min_slack < 2e-9


@pytest.mark.parametrize("gamma", [0.999, 1 - 1e-6, 1 - 1e-9])
def test_gamma_close_to_one(gamma):
    rng = np.random.default_rng(7)
    A = rng.uniform(-0.2, 1.0, size=(5, 12))  # (K, n), coefficients of size 1
    offsets = rng.uniform(-1.0, 0.5, size=5)
    p = problem_from_activations(A, offsets, gamma)
    assert p.n_constraints == 5 and p.is_feasible(np.ones(p.n_vars))
    np.testing.assert_allclose(p.slack(np.ones(p.n_vars)), (1 - gamma) * p.activations, rtol=1e-5)
    h = assert_same_optimum_as_z3(p)
    assert h.n_blocks == smt.brute_force(p).n_blocks


def test_an_optimum_with_a_tiny_slack_is_not_cut_off():
    # one block suffices with slack 1e-10; the old margin (6e-7) forced two and called that optimal
    p = hand_problem([[1.0, 1.0, 1.0, 1.0]], [1.0 - 1e-10])
    assert assert_same_optimum_as_z3(p).n_blocks == 1


def test_a_tie_on_the_boundary_goes_to_z3_and_is_recorded():
    # two blocks give slack exactly 0 (not strict): HiGHS's relaxation takes them, the
    # tightened MILP needs three, which it cannot prove optimal on its own
    p = hand_problem([[1.0, 1.0, 1.0]], [2.0])
    h = assert_same_optimum_as_z3(p)
    assert h.n_blocks == 3 and h.backend == "highs"
    assert h.info["fallback"] == "z3" and h.info["attempts"] >= 2
    assert h.info["lower_bound"] == 2 and h.info["upper_bound"] == 3
    s = smt.solve_highs(p, fallback=False)
    assert s.status == "unknown" and s.keep is None and "fallback" not in s.info


def test_no_fallback_when_highs_proves_the_optimum():
    p = hand_problem([[1.0, 1.0, 1.0, 1.0]], [1.5])
    h = smt.solve_highs(p)
    assert h.status == "optimal" and h.n_blocks == 2 and "fallback" not in h.info and h.info["attempts"] == 1


def test_infeasible_only_when_the_strict_problem_is():
    # gamma = 1: every row's slack at m = 1 is 0, and m = 1 is each row's best mask
    A = np.array([[0.5, 0.25, 1.0], [1.0, 0.0, 0.5]])
    offsets = np.array([-0.5, 0.25])
    a = offsets + A.sum(axis=1)
    p = hand_problem(A, a - offsets, activations=a, offsets=offsets, gamma=1.0)
    # each row can be met alone, never both: x0 - x1 > 0.5 and x1 - x0 > 0.5
    q = hand_problem([[1.0, -1.0], [-1.0, 1.0]], [0.5, 0.5])
    for problem in (p, q):
        h = smt.solve_highs(problem)
        assert h.status == smt.solve_z3(problem).status == smt.brute_force(problem).status == "infeasible"
        assert h.keep is None and not h.block_mask.any()


def test_highs_never_says_infeasible_when_all_ones_is_feasible(monkeypatch):
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    p = hand_problem([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]], [1.5, 0.5])
    monkeypatch.setattr(scipy.optimize, "milp", lambda **kw: OptimizeResult(status=2, x=None, message="infeasible"))
    h = smt.solve_highs(p)
    assert h.status == "optimal" and h.n_blocks == 2 and h.info["fallback"] == "z3"
    assert smt.solve_highs(p, fallback=False).status == "unknown"


GAMMAS = (0.0, 0.5, 0.9, 0.999, 1 - 1e-6, 1 - 1e-9, 1 - 2.0**-40)
EPSILONS = (2.0**-30, 1e-9, 2.0**-40, 0.0, -(2.0**-30))


def check_against_z3(p):
    """The property: HiGHS proves z3's optimum (= brute force's) with a strictly feasible mask."""
    h, z, best = smt.solve_highs(p), smt.solve_z3(p, timeout_s=30), smt.brute_force(p)
    assert z.status == best.status == "optimal"
    assert h.status == "optimal", h.info
    assert h.n_blocks == z.n_blocks == best.n_blocks, (h.info, h.keep, z.keep)
    assert p.is_feasible(h.keep)


def random_dyadic_problem(rng):
    k, n = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    A = rng.integers(-UNIT, UNIT + 1, size=(k, n)) * (rng.random((k, n)) < 0.7) / UNIT
    offsets = rng.integers(-4 * UNIT, 4 * UNIT + 1, size=k) / UNIT
    gamma = float(rng.choice(GAMMAS)) if rng.random() < 0.7 else float(rng.random())
    tight = (int(rng.integers(k)), rng.random(n) < 0.5, float(rng.choice(EPSILONS))) if rng.random() < 0.5 else None
    return problem_from_activations(A, offsets, gamma, tight)


def test_random_problems_with_a_feasible_all_ones_mask():
    rng, checked = np.random.default_rng(2024), 0
    while checked < 60:
        p = random_dyadic_problem(rng)
        if p.n_constraints == 0 or p.empty_mask_feasible or not p.is_feasible(np.ones(p.n_vars)):
            continue
        check_against_z3(p)
        checked += 1


try:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st
except ImportError:  # hypothesis is optional: the seeded test above covers the same ground

    def test_property_against_z3_hypothesis():
        pytest.skip("hypothesis is not installed")

else:

    @st.composite
    def dyadic_problems(draw):
        k, n = draw(st.integers(1, 4)), draw(st.integers(1, 8))
        A = np.array([[draw(st.integers(-UNIT, UNIT)) for _ in range(n)] for _ in range(k)]) / UNIT
        offsets = np.array([draw(st.integers(-4 * UNIT, 4 * UNIT)) for _ in range(k)]) / UNIT
        gamma = draw(st.sampled_from(GAMMAS) | st.floats(0.0, 1.0, exclude_max=True))
        tight = draw(st.none() | st.tuples(st.integers(0, k - 1), st.lists(st.booleans(), min_size=n, max_size=n),
                                           st.sampled_from(EPSILONS)))
        return problem_from_activations(A, offsets, gamma, tight)

    @settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
    @given(dyadic_problems())
    def test_property_against_z3_hypothesis(p):
        # multiples of 1/UNIT: A m is exact in float64, so the float64 check equals z3's exact one
        assume(p.n_constraints > 0 and p.is_feasible(np.ones(p.n_vars)))
        check_against_z3(p)


def test_gamma_zero_in_the_reference_mode_is_proven_by_the_cover_cuts():
    """rhs = 0 (the reference mode at gamma = 0): the plain relaxation A m >= 0 is met by the
    empty mask, so only the cover cuts let one HiGHS solve prove the optimum."""
    rng = np.random.default_rng(5)
    A = rng.integers(-UNIT, UNIT, size=(12, 10)) / UNIT
    A[:, 0] = np.abs(A[:, 0]) + 1 / UNIT  # every row has a positive coefficient somewhere
    problem = hand_problem(A, np.zeros(12), gamma=0.0)
    h, z = smt.solve_highs(problem), smt.solve_z3(problem)
    assert h.status == z.status == "optimal" and h.n_blocks == z.n_blocks == smt.brute_force(problem).n_blocks
    assert problem.is_feasible(h.keep) and h.info["attempts"] == 1 and "fallback" not in h.info
