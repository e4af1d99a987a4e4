"""Vi-SATNet / SATNet mixing method: compiled kernel == float64 twin, gradients == finite
differences, the layer's contracts (unit outputs, masked-only updates, counted zero vectors)."""
import math
import warnings

import pytest
import torch

from nesy import satnet
from nesy.satnet import reference

F64 = torch.float64


def problem(B, N, k, m, n_out, seed, zero_inputs=0, random_starts=False, dtype=F64):
    """S (N, m), V0 (B, N, k), is_output (B, N), order (N,), dl/dV (B, N, k)."""
    g = torch.Generator().manual_seed(seed)
    S = satnet.init_clauses(N, m, g, dtype)
    X = torch.randn(B, N, k, generator=g, dtype=dtype)
    X = X / X.norm(dim=-1, keepdim=True)
    is_output = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B):
        is_output[b, torch.randperm(N, generator=g)[:n_out]] = True
        X[b, (~is_output[b]).nonzero().flatten()[:zero_inputs]] = 0
    if random_starts:
        start = torch.randn(B, N, k, generator=g, dtype=dtype)
        start = start / start.norm(dim=-1, keepdim=True)
    else:
        start = satnet.uniform_vector(k, dtype)
    V0 = torch.where(is_output[..., None], start, X)
    return S, V0, is_output, torch.randperm(N, generator=g), torch.randn(B, N, k, generator=g, dtype=dtype)


def run(backend, S, V0, is_output, order, grad, **kw):
    S = S.clone().requires_grad_()
    V0 = V0.clone().requires_grad_()
    V, info = satnet.mix(S, V0, is_output, order, backend=backend, **kw)
    (V * grad).sum().backward()
    return V.detach(), info, S.grad, V0.grad


CASES = {  # B, N, k, m, outputs per sample, seed, zero inputs, random starts
    "span-is-everything": (3, 6, 3, 5, 2, 1, 0, False),
    "small-span": (3, 6, 8, 5, 3, 2, 0, False),
    "mostly-masked": (3, 9, 10, 6, 7, 2, 0, False),
    "zero-inputs": (3, 9, 10, 6, 4, 3, 2, False),
    "all-masked": (2, 7, 5, 6, 7, 4, 0, False),
    "none-masked": (2, 7, 5, 6, 0, 4, 0, False),
    "random-starts": (2, 12, 5, 8, 5, 5, 0, True),
    "random-starts-small-span": (2, 12, 30, 8, 5, 5, 0, True),
    "mnist-like": (2, 25, 16, 32, 10, 6, 0, False),
    "clauses-through-blas": (1, 60, 4, 2300, 20, 7, 0, False),  # S S^T above kSmallProductFlops
}


@pytest.mark.parametrize("case", CASES)
def test_kernel_equals_twin(case):
    B, N, k, m, n_out, seed, zeros, random_starts = CASES[case]
    S, V0, is_output, order, grad = problem(B, N, k, m, n_out, seed, zeros, random_starts)
    kw = dict(max_iter=60, eps=1e-6, prox_lam=1e-2)
    V, info, dS, dV = run("reference", S, V0, is_output, order, grad, **kw)
    Vk, infok, dSk, dVk = run("kernel", S, V0, is_output, order, grad, **kw)
    fields = [0, 1, 3, 4]  # all but sweep_dim (the twin sweeps in all k dimensions)
    assert torch.equal(info[:, fields], infok[:, fields])
    torch.testing.assert_close(Vk, V, rtol=0, atol=1e-12)
    torch.testing.assert_close(dSk, dS, rtol=1e-10, atol=1e-11)
    torch.testing.assert_close(dVk, dV, rtol=1e-10, atol=1e-11)
    assert bool((infok[:, 2] <= infok[:, 1]).all())


def _doubles_per_vector() -> int:
    from nesy import kernels

    return kernels.cpu_capability()[1]


@pytest.mark.parametrize("rows_per_width", [(0, -1), (0, 1), (1, 0), (1, 1), (2, 3), (4, 0), (4, 1), (5, 3)])
def test_kernel_equals_twin_around_the_vector_width(rows_per_width):
    """Sweep spans of whole vectors, a vector and a tail, and past the 4 kept in registers (widths
    of the build's at::vec): k = vectors * width + extra, random starts so the span reaches k."""
    vectors, extra = rows_per_width
    k = max(1, vectors * _doubles_per_vector() + extra)
    S, V0, is_output, order, grad = problem(2, k + 6, k, 12, k + 2, 11, 0, True)
    kw = dict(max_iter=40, eps=1e-6, prox_lam=1e-2)
    V, info, dS, dV = run("reference", S, V0, is_output, order, grad, **kw)
    Vk, infok, dSk, dVk = run("kernel", S, V0, is_output, order, grad, **kw)
    assert torch.equal(info[:, [0, 1, 3, 4]], infok[:, [0, 1, 3, 4]])
    torch.testing.assert_close(Vk, V, rtol=0, atol=1e-12)
    torch.testing.assert_close(dSk, dS, rtol=1e-10, atol=1e-11)
    torch.testing.assert_close(dVk, dV, rtol=1e-10, atol=1e-11)


def test_kernels_report_the_capability_they_were_built_for():
    from nesy import kernels, report

    capability, width = kernels.cpu_capability()
    assert (capability, width) in {("AVX2", 4), ("DEFAULT", 4), ("DEFAULT", 2)}
    assert capability in report.versions()["nesy_kernels"]


@pytest.mark.parametrize("case", ["small-span", "zero-inputs", "random-starts"])
def test_stock_layout_equals_twin(case):
    B, N, k, m, n_out, seed, zeros, random_starts = CASES[case]
    S, V0, is_output, order, grad = problem(B, N, k, m, n_out, seed, zeros, random_starts)
    V, info, dS, _ = run("reference", S, V0, is_output, order, grad)
    Vs, infos, dSs, _ = run("stock_layout", S, V0, is_output, order, grad)
    assert torch.equal(info[:, 0], infos[:, 0])
    torch.testing.assert_close(Vs, V, rtol=0, atol=1e-12)
    # dl/dS never sees the part of dl/dV outside the span, so the stock full-space solve agrees.
    torch.testing.assert_close(dSs, dS, rtol=1e-10, atol=1e-11)


def test_twin_gradcheck():
    """The twin's backward (implicit gradient) against finite differences of its forward."""
    for B, N, k, m, n_out, seed in [(1, 5, 3, 4, 2, 0), (1, 5, 6, 3, 2, 1)]:  # full span, then k > span
        S, V0, is_output, order, _ = problem(B, N, k, m, n_out, seed)
        start = V0.clone()

        def f(S, X):
            V0 = torch.where(is_output[..., None], start, X)
            return reference.ReferenceMix.apply(S, V0, is_output, order, 40, 0.0, 0.0)  # converged by ~25

        X = V0.clone().requires_grad_()
        assert torch.autograd.gradcheck(f, (S.clone().requires_grad_(), X), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("shape", [(2, 9, 10, 6, 7, 2, 3000), (2, 8, 5, 6, 4, 3, 400)])
def test_kernel_gradcheck(shape):
    """Kernel gradients against finite differences, including the hard case where the outputs
    leave the inputs' span (slow convergence: many sweeps) and zero inputs."""
    B, N, k, m, n_out, seed, sweeps = shape
    S, V0, is_output, order, _ = problem(B, N, k, m, n_out, seed, zero_inputs=1)
    start = V0.clone()
    nonzero = (V0.norm(dim=-1, keepdim=True) > 0) | is_output[..., None]

    def f(S, X):  # zero inputs stay zero: their perpendicular derivative is undefined
        V0 = torch.where(is_output[..., None], start, X * nonzero)
        return satnet.mix(S, V0, is_output, order, max_iter=sweeps, eps=0.0, prox_lam=0.0)[0]

    X = V0.clone().requires_grad_()
    assert torch.autograd.gradcheck(f, (S.clone().requires_grad_(), X), atol=1e-6, rtol=1e-4)


def test_stock_mode_probability_gradient_matches_finite_differences():
    n, aux, k, m, B = 5, 2, 8, 8, 2
    g = torch.Generator().manual_seed(0)
    S = satnet.init_clauses(1 + n + aux, m, g, F64).requires_grad_()
    z = torch.rand(B, n, generator=g, dtype=F64).requires_grad_()
    is_input = torch.tensor([[1, 1, 0, 1, 0], [0, 1, 1, 1, 0]], dtype=torch.bool)
    start = torch.randn(B, 1 + n + aux, k, generator=g, dtype=F64)
    start = start / start.norm(dim=-1, keepdim=True)
    order = torch.randperm(1 + n + aux, generator=g)

    def f(S, z):
        return satnet.stock_mix(S, z, is_input, start, order, aux=aux, max_iter=300, eps=0.0, prox_lam=0.0)[0]

    assert torch.autograd.gradcheck(f, (S, z), atol=1e-6, rtol=1e-4)
    out, stats = satnet.stock_mix(S, z, is_input, start, order, aux=aux)
    assert torch.equal(out[is_input], z[is_input])
    assert bool(((out >= 0) & (out <= 1)).all())
    assert set(stats) >= {"sweeps", "saturated_outputs"}


def test_stock_module_runs_and_passes_inputs_through():
    sat = satnet.StockSATNet(3, 4, aux=2, seed=0)
    z = torch.tensor([[1.0, 0.0, 0.5], [0.2, 0.9, 0.4]])
    is_input = torch.tensor([[True, True, False], [True, False, True]])
    out = sat(z, is_input)
    out.sum().backward()
    assert torch.equal(out[is_input], z[is_input])
    assert torch.isfinite(sat.S.grad).all()


@pytest.mark.parametrize("truth,aux", [(False, 0), (True, 0), (False, 3), (True, 2)])
def test_layer_kernel_equals_twin_and_contracts(truth, aux):
    B, n, k, m = 3, 8, 5, 12
    g = torch.Generator().manual_seed(7)
    x = torch.relu(torch.randn(B, n, k, generator=g, dtype=F64))
    x[0, 1] = 0  # an all-zero (post-ReLU) feature vector at an unmasked position
    mask = torch.zeros(B, n, dtype=torch.bool)
    mask[0, [0, 3, 5]] = True
    mask[1] = True  # all masked
    # sample 2: nothing masked
    outs, grads = [], []
    for backend in ("kernel", "reference"):
        layer = satnet.ViSATNet(n, m, k, aux=aux, truth=truth, max_iter=50, eps=1e-6, seed=3, backend=backend,
                                dtype=F64)
        xr = x.clone().requires_grad_()
        out = layer(xr, mask)
        (out * torch.linspace(-1, 1, k, dtype=F64)).sum().backward()
        outs.append(out.detach())
        grads.append((layer.S.grad, xr.grad))
        assert layer.S.shape == (int(truth) + n + aux, m)
        assert int(layer.last_stats["zero_inputs"][0]) == 1 and layer.totals["zero_inputs"] == 1
        assert bool(torch.isfinite(xr.grad).all()) and bool(torch.isfinite(layer.S.grad).all())
        assert torch.equal(xr.grad[0, 1], torch.zeros(k, dtype=F64))  # counted, not silent
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=1e-12)
    for a, b in zip(grads[0], grads[1]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-11)
    out = outs[0]
    v, _ = satnet.unit_vectors(x)
    assert torch.equal(out[~mask], v[~mask])  # unmasked positions unchanged
    torch.testing.assert_close(out[mask].norm(dim=-1), torch.ones(int(mask.sum()), dtype=F64))


def test_layer_float32_close_to_float64_twin():
    B, n, k, m = 4, 25, 16, 64
    g = torch.Generator().manual_seed(1)
    x = torch.relu(torch.randn(B, n, k, generator=g))
    mask = torch.rand(B, n, generator=g) < 0.4
    layer = satnet.ViSATNet(n, m, k, seed=0, eps=0.0)  # exactly 40 sweeps in both
    twin = satnet.ViSATNet(n, m, k, seed=0, eps=0.0, backend="reference", dtype=F64)
    with torch.no_grad():
        twin.S.copy_(layer.S)
    out32, out64 = layer(x, mask), twin(x.double(), mask)
    torch.testing.assert_close(out32.double(), out64, rtol=0, atol=1e-4)
    torch.testing.assert_close(out32[mask].norm(dim=-1), torch.ones(int(mask.sum())), rtol=0, atol=1e-5)


def test_degenerate_outputs_are_counted_not_nan():
    n, k, m = 4, 3, 5
    layer = satnet.ViSATNet(n, m, k, seed=0, dtype=F64)
    with torch.no_grad():
        layer.S[1] = 0  # variable 1 takes part in no clause: g = 0 when it is masked
    x = torch.rand(2, n, k, dtype=F64, requires_grad=True)
    mask = torch.tensor([[False, True, True, False], [False, False, True, False]])
    with pytest.warns(RuntimeWarning, match="1 output"):
        out = layer(x, mask)
    out.sum().backward()
    assert layer.last_stats["degenerate_outputs"].tolist() == [1, 0]
    torch.testing.assert_close(out[0, 1], satnet.uniform_vector(k, F64))  # kept its start
    assert bool(torch.isfinite(x.grad).all()) and bool(torch.isfinite(layer.S.grad).all())


def test_batch_threads_and_per_sample_results_agree():
    # Large enough (about 6e6 flops) for the kernel to use a second thread (kMinWorkPerThread).
    S, V0, is_output, order, grad = problem(6, 40, 48, 30, 20, 9, dtype=torch.float32)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        V2, info2, dS2, dV2 = run("kernel", S, V0, is_output, order, grad)
        torch.set_num_threads(1)
        V1, info1, dS1, dV1 = run("kernel", S, V0, is_output, order, grad)
    finally:
        torch.set_num_threads(old)
    assert torch.equal(V1, V2) and torch.equal(info1, info2) and torch.equal(dV1, dV2)
    torch.testing.assert_close(dS1, dS2)
    Va, *_ = run("kernel", S, V0[2:3], is_output[2:3], order, grad[2:3])
    assert torch.equal(Va, V2[2:3])


def test_update_order_is_seeded():
    x = torch.rand(2, 6, 4)
    mask = torch.tensor([[True, False, True, False, False, True]] * 2)
    a, b = satnet.ViSATNet(6, 8, 4, seed=5), satnet.ViSATNet(6, 8, 4, seed=5)
    assert torch.equal(a(x, mask), b(x, mask))
    orders = [a.next_order().tolist() for _ in range(3)]
    assert len({tuple(o) for o in orders}) > 1 and all(sorted(o) == list(range(6)) for o in orders)
    assert satnet.ViSATNet(6, 8, 4, seed=None).next_order().tolist() == list(range(6))


def test_eps_zero_makes_exactly_max_iter_sweeps_and_eps_stops_early():
    S, V0, is_output, order, _ = problem(2, 10, 6, 8, 4, 3, dtype=torch.float32)
    _, info = satnet.mix(S, V0, is_output, order, max_iter=17, eps=0.0)
    assert info[:, 0].tolist() == [17, 17]
    _, info = satnet.mix(S, V0, is_output, order, max_iter=200, eps=1e-3)
    assert bool((info[:, 0] < 200).all())


def test_bad_arguments_raise_value_errors_naming_the_parameter():
    with pytest.raises(ValueError, match="backend"):
        satnet.ViSATNet(4, 8, 3, backend="gpu")
    with pytest.raises(ValueError, match="aux"):
        satnet.ViSATNet(4, 8, 3, aux=-1)
    layer = satnet.ViSATNet(4, 8, 3)
    with pytest.raises(ValueError, match="x must be"):
        layer(torch.rand(2, 5, 3), torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask must be"):
        layer(torch.rand(2, 4, 3), torch.zeros(2, 3, dtype=torch.bool))
    S, V0, is_output, order, _ = problem(1, 4, 3, 5, 2, 0)
    with pytest.raises(ValueError, match="order"):
        satnet.mix(S, V0, is_output, torch.tensor([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="max_iter"):
        satnet.mix(S, V0, is_output, max_iter=-1)
    with pytest.raises(ValueError, match=r"max_iter must be an int in \[0, 1000000\]"):
        satnet.mix(S, V0, is_output, max_iter=2**40)
    for backend in satnet.BACKENDS:  # every back end refuses non-finite inputs alike (the kernels gave NaN)
        bad = V0.clone()
        bad[0, 0, 0] = float("nan")
        with pytest.raises(ValueError, match="V0 must be finite"):
            satnet.mix(S, bad, is_output, backend=backend)
        with pytest.raises(ValueError, match="S must be finite"):
            satnet.mix(S * float("inf"), V0, is_output, backend=backend)
    with pytest.raises(ValueError, match="k"):
        satnet.StockSATNet(3, 4, k=1)


def test_uniform_and_unit_vectors():
    assert math.isclose(float(satnet.uniform_vector(9).norm()), 1.0, rel_tol=1e-6)
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    v, zero = satnet.unit_vectors(x)
    v.sum().backward()
    assert zero.tolist() == [True, False] and torch.isfinite(x.grad).all()
    x = torch.rand(1, 4, 3)
    x[0, 2] = 0
    with warnings.catch_warnings():  # zero inputs are counted, not warned about
        warnings.simplefilter("error")
        layer = satnet.ViSATNet(4, 8, 3)
        layer(x, torch.tensor([[True, False, False, False]]))
    assert layer.last_stats["zero_inputs"].tolist() == [1]


def test_unit_vectors_of_extreme_magnitudes_are_unit_not_zero():
    """float32 squares overflow above 1.8e19 and underflow below 1e-19: such rows are rescaled first."""
    x = torch.tensor([[3e20, 4e20], [3e-30, 4e-30], [0.0, 0.0], [3.0, 4.0]], dtype=torch.float32, requires_grad=True)
    v, zero = satnet.unit_vectors(x)
    assert torch.allclose(v[[0, 1, 3]], torch.tensor([[0.6, 0.8]] * 3)) and zero.tolist() == [False, False, True, False]
    v.sum().backward()
    assert torch.isfinite(x.grad).all()
    big = (torch.randn(3, 4, dtype=torch.float64) * 1e200).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: satnet.unit_vectors(t)[0], (big,), eps=1e194, atol=1e-5)
    layer = satnet.ViSATNet(4, 8, 3)
    bad = torch.rand(1, 4, 3)
    bad[0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="x must be finite"):
        layer(bad, torch.tensor([[True, False, False, False]]))
