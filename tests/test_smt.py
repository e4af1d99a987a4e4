"""nesy.smt on tiny layers: linearisation, IG, top-k, the mask problem (z3 = HiGHS = brute force), maps."""
import numpy as np
import pytest
import torch

from nesy import smt
from nesy.models import FirstConv


def test_linearise_matches_first_layer_and_black_offset(tiny_first_layer):
    first = tiny_first_layer()
    lin = smt.linearise(first, 8)
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    assert lin.output_shape == first.output_shape(8) == (4, 4, 4)
    torch.testing.assert_close(lin.pre_activation(x), first.pre_activation(x.double()), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(lin.offset, first.pre_activation(torch.zeros(1, 3, 8, 8, dtype=torch.float64))[0])


def tiny_bn_first(seed=0):
    """A first layer with a batch norm folded in (negative scales on some channels)."""
    g = torch.Generator().manual_seed(seed)
    conv = torch.randn(4, 3, 3, 3, generator=g)
    scale, shift = torch.tensor([1.5, -0.7, 0.3, 2.0]), torch.randn(4, generator=g) + 1.0
    return FirstConv(conv * scale[:, None, None, None], shift, mean=(0.4, 0.5, 0.6), std=(0.25, 0.5, 0.4), stride=(2, 2),
                     padding=(0, 1, 0, 1), activation="relu6", conv_weight=conv, conv_bias=torch.zeros(4))


def test_reference_mode_constrains_the_raw_convolution_with_mean_masking():
    first = tiny_bn_first()
    ref, folded = smt.linearise(first, 8, "reference"), smt.linearise(first, 8, "folded")
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(ref.pre_activation(x), first.conv_output(x.double()), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(folded.pre_activation(x), first.pre_activation(x.double()), rtol=1e-12, atol=1e-12)
    assert ref.masked_pixel == pytest.approx((0.4, 0.5, 0.6)) and folded.masked_pixel == (0.0, 0.0, 0.0)
    # a masked pixel is 0 in the network's input, so the fully masked image gives 0 (no conv bias)
    mean_image = torch.tensor(ref.masked_pixel, dtype=torch.float64).reshape(1, 3, 1, 1).expand(1, 3, 8, 8)
    assert ref.pre_activation(mean_image).abs().max() < 1e-12
    p = smt.mask_problem(ref, x[0], torch.arange(20), gamma=0.0, block=2)
    assert not p.empty_mask_feasible and np.allclose(p.offsets, 0.0)
    # the reference's masked image is x * mask in the network's input space: check A m against a forward pass
    m = np.random.default_rng(0).random(p.n_vars) < 0.5
    keep = torch.from_numpy(np.kron(p.block_mask(m), np.ones((2, 2)))[:8, :8].astype(bool))
    z = (x[0].double() - mean_image[0]) * keep
    masked_pixels = z + mean_image[0]
    pre = first.conv_output(masked_pixels[None]).reshape(-1).numpy()[p.neurons]
    np.testing.assert_allclose(p.A @ m.astype(float) + p.offsets, pre, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="constraint must be one of"):
        smt.linearise(first, 8, "raw")


def test_receptive_fields_respect_stride_and_asymmetric_padding(tiny_first_layer):
    lin = smt.linearise(tiny_first_layer(), 4)  # output 2x2; bottom/right padding of one row/column
    rows, cols, valid = lin.taps([0, 3])  # neurons (c0, 0, 0) and (c0, 1, 1)
    assert rows[0].min() == 0 and rows[0].max() == 2 and valid[0].all()
    assert sorted({(r, c) for r, c, v in zip(rows[1].ravel(), cols[1].ravel(), valid[1].ravel()) if v}) == [(2, 2), (2, 3), (3, 2), (3, 3)]


@pytest.mark.parametrize("masked_value", [0.0, 0.5])
def test_mask_problem_is_the_masked_pre_activation(masked_value, tiny_first_layer):
    first = tiny_first_layer(2)
    lin = smt.linearise(first, 8)
    x = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(3))
    pre = first.pre_activation(x[None].double())[0].reshape(-1)
    neurons = torch.nonzero(pre > 0).reshape(-1)[:10]
    p = smt.mask_problem(lin, x, neurons, gamma=0.4, block=2, masked_value=masked_value)
    np.testing.assert_allclose(p.activations, pre[neurons].numpy(), rtol=1e-10)
    np.testing.assert_allclose(p.slack(np.ones(p.n_vars)), 0.6 * p.activations, rtol=1e-9)
    m = np.random.default_rng(0).random(p.n_vars) > 0.5
    pixels = smt.pixel_mask(p.block_mask(m), 2, (8, 8)).double()
    masked = x.double() * pixels + masked_value * (1 - pixels)
    np.testing.assert_allclose(p.offsets + p.A @ m, first.pre_activation(masked[None])[0].reshape(-1)[neurons].numpy(), rtol=1e-9, atol=1e-12)


@pytest.fixture
def random_problem(tiny_first_layer):
    """``random_problem(seed, gamma)``: a mask problem on a tiny first layer with 12 positive neurons."""
    def build(seed, gamma):
        first = tiny_first_layer(seed, bias_shift=-1.5)  # negative biases: the empty mask is rarely enough
        lin = smt.linearise(first, 8)
        x = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(100 + seed))
        pre = first.pre_activation(x[None].double())[0].reshape(-1)
        positive = torch.nonzero(pre > 0).reshape(-1)
        neurons = positive[torch.randperm(len(positive), generator=torch.Generator().manual_seed(seed))[:12]]
        return smt.mask_problem(lin, x, neurons, gamma, block=2)  # 4x4 = 16 blocks at most
    return build


@pytest.mark.parametrize("seed", range(8))
def test_z3_and_highs_reach_the_brute_force_optimum(seed, random_problem):
    gamma = (0.0, 0.3, 0.6, 0.9)[seed % 4]
    p = random_problem(seed, gamma)
    best = smt.brute_force(p)
    z, h = smt.solve_z3(p, timeout_s=30), smt.solve_highs(p)
    assert z.status == h.status == best.status == "optimal"
    assert z.n_blocks == h.n_blocks == best.n_blocks
    assert p.is_feasible(z.keep) and p.is_feasible(h.keep)
    assert z.block_mask.sum() == z.n_blocks


def test_some_instance_needs_blocks(random_problem):
    assert any(smt.brute_force(random_problem(seed, 0.6)).n_blocks > 0 for seed in range(4))


def test_empty_mask_when_it_is_feasible(tiny_first_layer):
    first = tiny_first_layer(5, bias_shift=+10.0)  # every black-image pre-activation is large and positive
    lin = smt.linearise(first, 8)
    x = torch.rand(3, 8, 8)
    p = smt.mask_problem(lin, x, torch.arange(8), gamma=0.0, block=2)
    assert p.empty_mask_feasible
    for solution in (smt.solve_z3(p), smt.solve_highs(p)):
        assert solution.n_blocks == 0 and solution.status == "optimal" and solution.info["trivial"]


def test_z3_unknown_is_recorded_not_raised(monkeypatch, random_problem):
    import z3

    p = random_problem(1, 0.6)
    monkeypatch.setattr(z3.Optimize, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Optimize, "reason_unknown", lambda self: "timeout")
    s = smt.solve_z3(p, timeout_s=0.001)
    assert s.status == "unknown" and s.keep is None and s.n_blocks is None and not s.block_mask.any()
    assert s.info["reason"] == "timeout"


def test_highs_time_limit_is_unknown(monkeypatch, random_problem):
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    p = random_problem(1, 0.6)
    monkeypatch.setattr(scipy.optimize, "milp", lambda **kw: OptimizeResult(status=1, x=None, message="Time limit reached"))
    s = smt.solve_highs(p, time_limit_s=0.01)
    assert s.status == "unknown" and s.n_blocks is None


def test_bad_arguments(tiny_first_layer, random_problem):
    lin = smt.linearise(tiny_first_layer(), 8)
    with pytest.raises(ValueError, match="gamma"):
        smt.mask_problem(lin, torch.rand(3, 8, 8), [0], gamma=1.0)
    with pytest.raises(ValueError, match="backend"):
        smt.solve(random_problem(0, 0.5), backend="cplex")
    with pytest.raises(ValueError, match="k must"):
        smt.top_k_neurons(torch.rand(2, 3, 3), 0)


def test_top_k_best_first_by_both_rules():
    attr = torch.tensor([[[0.5, -1.0], [2.0, 0.0]], [[0.1, 3.0], [-0.2, 0.0]]])  # (2, 2, 2)
    assert smt.top_k_neurons(attr, 3).tolist() == [5, 2, 0]  # channel-major: (1, 0, 1) = 5
    # the reference keeps the k largest whatever their sign; "positive" drops the rest
    assert smt.top_k_neurons(attr, 10).tolist()[:4] == [5, 2, 0, 4] and len(smt.top_k_neurons(attr, 10)) == 8
    assert smt.top_k_neurons(attr, 10, rule="positive").tolist() == [5, 2, 0, 4]
    with pytest.raises(ValueError, match="rule must be one of"):
        smt.top_k_neurons(attr, 3, rule="largest")


def test_first_layer_ig_completeness_and_batching(tiny_split_model):
    model = tiny_split_model()
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    h, attr = smt.first_layer_ig(model, x, [0, 1, 2], n_steps=200, internal_batch_size=64)
    assert attr.shape == h.shape == (3, 4, 4, 4)
    with torch.no_grad():
        p = torch.softmax(model.head(h), 1)
        p0 = torch.softmax(model.head(torch.zeros_like(h)), 1)
    for i in range(3):
        assert float(attr[i].sum()) == pytest.approx(float(p[i, i] - p0[i, i]), abs=2e-3)
    _, one = smt.first_layer_ig(model, x[1:2], [1], n_steps=200, internal_batch_size=7)
    torch.testing.assert_close(one[0], attr[1], rtol=1e-4, atol=1e-7)


def test_receptive_field_map_sum_and_max_by_hand(tiny_first_layer):
    lin = smt.linearise(tiny_first_layer(out=1), 4)  # 2x2 neurons; (0,0) covers rows/cols 0-2, (1,1) covers 2-3
    s = smt.receptive_field_map(lin, [0, 3], [1.0, 2.0], "sum")
    m = smt.receptive_field_map(lin, [0, 3], [1.0, 2.0], "max")
    assert s[2, 2] == 3 and m[2, 2] == 2 and s[0, 0] == 1 and s[3, 3] == 2
    assert s[0, 3] == 0 and m[3, 0] == 0
    assert (s > 0).sum() == 9 + 4 - 1


def test_saliency_maps_and_sparsity(tiny_first_layer):
    lin = smt.linearise(tiny_first_layer(out=1), 8)
    neurons, values = torch.tensor([0, 5, 10]), torch.tensor([1.0, 2.0, 3.0])
    base = smt.smug_base_saliency(lin, neurons, values)
    assert base.max() == 1.0 and base[base > 0].min() == 0.5  # the reference's display scale
    keep = np.zeros((4, 4), dtype=bool)
    keep[0, 0] = True  # the top-left 2x2 block
    smug = smt.smug_saliency(lin, neurons, values, keep, 2)
    assert (smug[2:, :] == 0).all() and (smug[:, 2:] == 0).all() and (smug[:2, :2] == base[:2, :2]).all()
    assert smt.sparsity(smug) == pytest.approx(4 / 64) and smt.sparsity(base) > smt.sparsity(smug)
    assert smt.sparsity(smt.smug_saliency(lin, neurons, values, np.zeros((4, 4), bool), 2)) == 0


def test_explain_end_to_end_on_a_tiny_model(tiny_split_model):
    model = tiny_split_model(3)
    x = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(4))
    e = smt.explain(model, x, label=1, k=6, gamma=0.5, n_steps=16, block=2)
    assert len(e.neurons) <= 6 and e.solution.status == "optimal"
    assert e.sparsity_smug <= e.sparsity_base
    assert e.smug.shape == (8, 8) and ((e.smug > 0) <= (e.smug_base > 0)).all()
