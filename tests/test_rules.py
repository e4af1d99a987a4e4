"""nesy.rules: QIL hyperplanes, the Fidex kernel against its Python twin, FidexGlo's heuristics,
the ruleset statistics and the JSON format (hand-computed answers on tiny data)."""
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nesy.rules import (QIL, Antecedent, Fidex, FidexBatch, FidexGlo, Rule, activation_matrix, agreeing_activations,
                        evaluate, rule_json, summary)
from nesy.rules.ruleset import firing_pairs
from nesy.rules.fidexglo import greedy_cover, sorted_cover
from nesy.rules.twin import SplitMix64


def ops():
    import nesy._C  # noqa: F401

    return torch.ops.nesy


def toy(seed=0, n=90, d=4, classes=3):
    """Small data with structure, label noise and a constant feature."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).round(2)
    x[:, -1] = 0.0
    pred = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8)
    flip = rng.random(n) < 0.1
    pred[flip] = rng.integers(0, classes, flip.sum())
    y = pred.copy()
    y[rng.random(n) < 0.15] = 0
    return x, pred, y


# ---------------------------------------------------------------- QIL


def test_qil_hyperplanes_by_hand():
    # mean 1, population std 1 -> w = 1, b = -1; Q = 2 knots -5, 0, 5 -> (e - b) / w
    qil = QIL.fit(torch.tensor([[0.0, 3.0], [2.0, 3.0]]), n_steps=2)
    h = qil.hyperplanes()
    assert h.shape == (2, 3)
    assert h[0].tolist() == [-4.0, 1.0, 6.0]
    # constant feature: sigma -> 0.001, hyperplanes 3 + 0.001 * (-5, 0, 5)
    assert torch.allclose(h[1], torch.tensor([2.995, 3.0, 3.005], dtype=torch.float64))
    assert qil.knots().tolist() == [-5.0, 0.0, 5.0]


def test_qil_staircase_and_weights_file(tmp_path):
    qil = QIL.fit(np.array([[0.0], [2.0]]), n_steps=4)  # standardised h = x - 1; steps of 2.5 over [-5, 5]
    out = qil(np.array([[-10.0], [1.0], [1.1], [3.6], [10.0]]))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert np.allclose(out[:, 0].numpy(), [0.0, sig(0.0), sig(0.0), sig(2.5), sig(5.0)])
    back = QIL.load_weights(qil.save_weights(tmp_path / "w.wts"), n_steps=4)
    assert torch.equal(back.hyperplanes(), qil.hyperplanes())


def test_qil_rejects_bad_parameters():
    with pytest.raises(ValueError, match="n_steps"):
        QIL.fit(np.zeros((3, 2)), n_steps=0)
    with pytest.raises(ValueError, match="hi_knot"):
        QIL.fit(np.zeros((3, 2)), hi_knot=0)


# ---------------------------------------------------------------- kernels


@pytest.mark.parametrize("k", [7, 300])
def test_bins_match_searchsorted(k):
    rng = np.random.default_rng(1)
    hyp = np.sort(rng.normal(size=(3, k)), axis=1)
    x = rng.normal(size=(50, 3))
    x[:5] = hyp[:, 2]  # exact ties count as "hyperplane <= x"
    bins = ops().rules_bins(torch.from_numpy(x), torch.from_numpy(hyp)).numpy()
    assert bins.dtype == (np.uint8 if k < 255 else np.int16)
    want = np.stack([np.searchsorted(hyp[j], x[:, j], side="right") for j in range(3)])
    assert np.array_equal(bins, want)


def test_cumcounts_by_hand():
    bins = torch.tensor([[0, 1, 1, 2]], dtype=torch.uint8)
    preds = torch.tensor([0, 1, 0, 1])
    cum = ops().rules_cumcounts(bins, preds, 2, 2).numpy()
    # class 0 has bins {0, 1}; class 1 {1, 2}; all {0, 1, 1, 2}; cum[., 0, k] = #{bin <= k}
    assert cum[:, 0].tolist() == [[1, 2], [0, 1], [1, 3]]


SETTINGS = [
    {},
    {"dropout_dim": 0.3, "dropout_hyp": 0.4},
    {"max_iterations": 2, "min_covering": 5},
    {"max_iterations": 1, "min_covering": 3, "max_failed_attempts": 3, "dropout_hyp": 0.5},
    {"covering_strategy": False, "min_fidelity": 0.9},
]


def test_kernel_equals_python_twin():
    x, pred, y = toy(0, n=80)
    qil = QIL.fit(x, n_steps=8)
    paths = set()
    for kw in SETTINGS:
        kernel = Fidex(x, pred, qil, seed=3, **kw).run(x, pred, np.arange(len(x)))
        twin = Fidex(x, pred, qil, seed=3, backend="python", **kw).run(x, pred, np.arange(len(x)))
        for field in FidexBatch.__dataclass_fields__:
            assert np.array_equal(getattr(kernel, field), getattr(twin, field)), (kw, field)
        paths |= set(kernel.path.tolist())
    assert paths == {-1, 0, 1, 2, 3}  # every relaxation step is exercised


def test_results_do_not_depend_on_threads_or_batch():
    x, pred, _ = toy(2, n=300, d=6)
    fx = Fidex(x, pred, QIL.fit(x, 20), seed=5, dropout_dim=0.5, dropout_hyp=0.5)
    one = fx.run(x, pred, np.arange(300), n_threads=1)
    two = fx.run(x, pred, np.arange(300), n_threads=2)
    for field in FidexBatch.__dataclass_fields__:
        assert np.array_equal(getattr(one, field), getattr(two, field)), field
    part = fx.run(x[[7, 250]], pred[[7, 250]], [7, 250])
    for s, i in enumerate([7, 250]):
        assert np.array_equal(part.covered(s), one.covered(i))
        assert np.array_equal(part.dims[s], one.dims[i])
    other_seed = Fidex(x, pred, QIL.fit(x, 20), seed=6, dropout_dim=0.5, dropout_hyp=0.5).run(x, pred, np.arange(300))
    assert not np.array_equal(other_seed.dims, one.dims)


def test_splitmix_stream_is_fixed():
    rng = SplitMix64(0, 0)
    assert rng.next() == 0xE220A8397B1DCDAF  # SplitMix64's published first output from state 0
    assert 0.0 <= SplitMix64(1, 2).uniform() < 1.0


# ---------------------------------------------------------------- Fidex by hand

X1 = np.arange(6, dtype=np.float64)[:, None]  # x = 0..5
P1 = np.array([0, 0, 0, 1, 1, 1])
H1 = np.array([[0.5, 2.5, 4.5]])


@pytest.mark.parametrize("backend", ["kernel", "python"])
def test_rule_fidelity_and_covering_by_hand(backend):
    # sample x=4, class 1: start at fidelity 3/6; "x >= 0.5" covers 5 (fid 3/5), "x >= 2.5"
    # covers {3, 4, 5} with fidelity 1 -> taken at once.
    (rule,) = Fidex(X1, P1, H1, train_y=[0, 0, 1, 1, 1, 1], backend=backend).explain([[4.0]], [1])
    assert str(rule) == "X0>=2.5 -> class 1"
    assert rule.covered.tolist() == [3, 4, 5]
    assert rule.fidelity == 1.0 and rule.path == 0
    assert rule.accuracy == 1.0 and rule.confidence == 1.0
    assert rule.holds(X1).tolist() == [False, False, False, True, True, True]


@pytest.mark.parametrize("backend", ["kernel", "python"])
def test_relaxation_reduces_covering_by_hand(backend):
    # With min_covering 4 no rule reaches fidelity 1 ("x >= 0.5" -> 3/5, then nothing better);
    # the dichotomic search over coverings 1..3 finds 3 ("x >= 2.5", exactly 3 samples).
    fx = Fidex(X1, P1, H1, min_covering=4, backend=backend)
    batch = fx.run([[4.0]], [1])
    assert batch.path.tolist() == [1]
    assert batch.target_covering.tolist() == [3]
    (rule,) = fx.explain([[4.0]], [1])
    assert str(rule) == "X0>=2.5 -> class 1" and rule.fidelity == 1.0


@pytest.mark.parametrize("backend", ["kernel", "python"])
def test_relaxation_lowers_fidelity_in_float32(backend):
    # Sample x=0 of class 0; the best rule "x < 0.5" has fidelity 4/5 = 0.8 < 1. No smaller
    # covering helps, so the target drops by 0.05 in float32 as in dimlpfidex: 0.95, 0.9, 0.85,
    # then 0.79999995 (not 0.8), which the rule meets on the fourth step.
    x = np.array([[0.0]] * 5 + [[1.0]])
    pred = np.array([0, 0, 0, 0, 1, 1])
    batch = Fidex(x, pred, [[0.5]], backend=backend).run([[0.0]], [0])
    f = np.float32(1.0)
    for _ in range(4):
        f = np.float32(f - np.float32(0.05))
    assert batch.path.tolist() == [2]
    assert batch.fidelity.tolist() == [0.8]
    assert batch.target_fidelity.tolist() == [float(f)] and float(f) < 0.8


def test_unreachable_fidelity_gives_no_rule():
    x = np.array([[0.0], [0.0], [1.0], [1.0]])
    pred = np.array([0, 1, 0, 1])  # identical inputs, different classes: fidelity <= 1/2
    batch = Fidex(x, pred, [[0.5]], max_failed_attempts=2).run([[0.0]], [0])
    assert batch.path.tolist() == [-1]


def test_fidex_validates_parameters():
    with pytest.raises(ValueError, match="dropout_dim"):
        Fidex(X1, P1, H1, dropout_dim=1.5)
    with pytest.raises(ValueError, match="min_covering"):
        Fidex(X1, P1, H1, min_covering=0)
    with pytest.raises(ValueError, match="lowest_min_fidelity"):
        Fidex(X1, P1, H1, min_fidelity=0.5, lowest_min_fidelity=0.7)
    with pytest.raises(ValueError, match="hyperplanes"):
        Fidex(X1, P1, [[2.0, 1.0]])
    with pytest.raises(ValueError, match="backend"):
        Fidex(X1, P1, H1, backend="gpu")
    with pytest.raises(ValueError, match="heuristic"):
        FidexGlo(heuristic=4)


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": 2**64}, r"seed must be an integer in \[0, 9223372036854775807\]"),
    ({"max_iterations": 2**40}, r"max_iterations must be an integer in \[1, 10000\]"),
    ({"min_covering": 2**40}, "min_covering must be an integer in"),
    ({"n_threads": 0}, "n_threads must be an integer in"),
])
def test_fidex_bounds_are_checked_before_the_kernel(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Fidex(X1, P1, H1, **kwargs)


@pytest.mark.parametrize("labels", [[0.0, 1.5], [0, float("nan")], ["a", "b"], [True, False]])
def test_fractional_or_non_integer_labels_are_refused(labels):
    x = np.array([[0.0], [1.0]])
    with pytest.raises(ValueError, match="train_pred must hold integers"):
        Fidex(x, labels, [[0.5]])
    fidex = Fidex(x, [0, 1], [[0.5]])
    with pytest.raises(ValueError, match="pred must hold integers"):
        fidex.run(x, labels)


def test_integral_float_labels_are_accepted():
    x = np.array([[0.0], [1.0]])
    assert Fidex(x, np.array([0.0, 1.0]), [[0.5]]).pred.tolist() == [0, 1]


# ---------------------------------------------------------------- FidexGlo


def batch_of(sets, n):
    ptr = np.concatenate([[0], np.cumsum([len(s) for s in sets])])
    idx = np.concatenate([np.array(s, dtype=np.int32) for s in sets])
    z = np.zeros(len(sets), dtype=np.int64)
    return FidexBatch(z, z, z[:, None], z[:, None], z * 1.0, z * 1.0, z, ptr, idx)


def test_cover_heuristics_on_a_toy_set():
    sets = [[0, 1, 2], [2, 3], [3, 4], [4]]
    b = batch_of(sets, 5)
    everything = np.arange(4)
    assert greedy_cover(b, everything, np.arange(5), 5) == [0, 2]  # A, then C covers {3, 4}
    assert sorted_cover(b, everything, np.arange(5), 5) == [0, 1, 2]  # by size: A, B (+3), C (+4)
    # ties in gain go to the earlier candidate
    assert greedy_cover(batch_of([[0], [1], [0, 1]], 2), np.arange(3), np.arange(2), 2) == [2]
    assert greedy_cover(batch_of([[0], [1]], 2), np.arange(2), np.arange(2), 2) == [0, 1]


def test_greedy_cover_equals_eager_greedy():
    rng = np.random.default_rng(4)
    n = 60
    sets = [np.flatnonzero(rng.random(n) < rng.uniform(0.02, 0.3)).tolist() + [i] for i in range(n)]
    sets = [sorted(set(s)) for s in sets]
    b = batch_of(sets, n)
    uncovered, eager, cands = set(range(n)), [], list(range(n))
    while uncovered:
        gains = [len(uncovered & set(sets[c])) for c in cands]
        pick = cands.pop(int(np.argmax(gains)))
        eager.append(pick)
        uncovered -= set(sets[pick])
    assert greedy_cover(b, np.arange(n), np.arange(n), n) == eager


@pytest.mark.parametrize("heuristic", [1, 2, 3])
def test_fidexglo_covers_every_explained_sample(heuristic):
    x, pred, y = toy(3, n=200)
    rs = FidexGlo(heuristic, seed=2, max_iterations=5).fit(x, pred, QIL.fit(x, 10), train_y=y)
    assert len(rs) > 0 and rs.n_train == 200
    covered = np.zeros(200, dtype=bool)
    for r in rs:
        assert np.array_equal(np.flatnonzero(r.holds(x)), r.covered)  # covering = antecedents on the data
        assert r.fidelity == pytest.approx(np.mean(pred[r.covered] == r.output_class))
        covered[r.covered] = True
    assert covered[np.setdiff1d(np.arange(200), rs.samples_without_rule)].all()
    sizes = [r.covering_size for r in rs]
    assert sizes == sorted(sizes, reverse=True)
    again = FidexGlo(heuristic, seed=2, max_iterations=5).fit(x, pred, QIL.fit(x, 10), train_y=y)
    assert [str(r) for r in again] == [str(r) for r in rs]


def test_fidexglo_twin_backend_gives_same_ruleset():
    x, pred, y = toy(5, n=60, d=3)
    kw = dict(seed=1, max_iterations=4, dropout_hyp=0.3)
    a = FidexGlo(1, **kw).fit(x, pred, QIL.fit(x, 6), train_y=y)
    b = FidexGlo(1, backend="python", **kw).fit(x, pred, QIL.fit(x, 6), train_y=y)
    assert rule_json.dumps(a.rules) == rule_json.dumps(b.rules)


# ---------------------------------------------------------------- statistics and JSON


def rules_by_hand():
    r0 = Rule([Antecedent(0, True, 0.5)], 1, np.array([2, 3]), 1.0, 1.0, 1.0)
    r1 = Rule([Antecedent(0, False, 0.5), Antecedent(1, True, 0.0)], 0, np.array([0, 1, 4]), 2 / 3, 0.5, 0.6)
    return [r0, r1]


def test_statistics_by_hand():
    rules = rules_by_hand()
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [1.0, 0.0], [0.0, 2.0]])
    pred = np.array([1, 1, 0, 0, 0])
    y = np.array([1, 0, 0, 1, 2])
    # sample  fires      model pred / true   faithful  rules' answer right  explained
    # 0       r0 (1)     1 / 1 (correct rule)  yes       yes                  yes
    # 1       r1 (0)     1 / 0 (wrong rule)    no        yes (rules say 0)    yes
    # 2       none       0 / 0 (default rule)  yes       yes                  no
    # 3       r0 (1)     0 / 1 (wrong rule)    no        yes (rules say 1)    yes
    # 4       r1 (0)     0 / 2 (correct rule)  yes       no                   yes
    s = evaluate(rules, x, pred, y)
    assert s.fidelity == pytest.approx(3 / 5)
    assert s.accuracy == pytest.approx(4 / 5)
    assert s.explainability_rate == pytest.approx(4 / 5)
    assert s.default_rule_rate == pytest.approx(1 / 5)
    assert s.mean_correct_rules == pytest.approx(2 / 5)
    assert s.mean_wrong_rules == pytest.approx(2 / 5)
    assert s.model_accuracy == pytest.approx(2 / 5)
    assert s.model_accuracy_when_rules_agree == pytest.approx(2 / 3)  # samples 0, 2, 4: right on 0, 2
    assert s.model_accuracy_when_activated_rules_agree == pytest.approx(1 / 2)  # samples 0, 4
    assert summary(rules) == {"n_rules": 2, "mean_antecedents": 1.5, "mean_covering": 2.5}
    assert s.n_rules == 2 and s.mean_covering == 2.5
    # the correct rules of the table above: r0 on sample 0, r1 on sample 4
    assert agreeing_activations(rules, x, pred).tolist() == [[True, False, False, False, False],
                                                              [False, False, False, False, True]]


def test_json_round_trip_in_dimlpfidex_layout(tmp_path):
    rules = rules_by_hand()
    path = rule_json.save(rules, tmp_path / "rules.json")
    doc = json.loads(path.read_text())
    assert list(doc) == ["positive index class", "rules", "threshold"]
    assert list(doc["rules"][1]) == ["accuracy", "antecedents", "confidence", "coveredSamples", "coveringSize",
                                     "fidelity", "outputClass"]
    assert doc["rules"][1]["antecedents"][0] == {"attribute": 0, "inequality": False, "value": 0.5}
    back = rule_json.load(path)
    assert rule_json.dumps(back) == rule_json.dumps(rules)
    assert [str(r) for r in back] == [str(r) for r in rules]
    # fidexGloStats' variant ({"train": rule, "test": rule}) loads its train part
    doc["rules"] = [{"train": d, "test": d} for d in doc["rules"]]
    assert rule_json.dumps(rule_json.loads(json.dumps(doc))) == rule_json.dumps(rules)
    with pytest.raises(ValueError, match="rules"):
        rule_json.loads("{}")


def test_antecedents_compare_in_float64_whatever_the_features_dtype():
    """A float32 feature just below a float64 hyperplane stays below it (NumPy 2 would round a Python float)."""
    x32 = np.array([[0.5], [0.75]], dtype=np.float32)
    rule = Rule([Antecedent(0, True, 0.5000000001)], 1, np.array([], dtype=np.int64), 1.0)
    assert rule.holds(x32).tolist() == [False, True]
    assert activation_matrix([rule], x32).tolist() == [[False, True]]
    assert evaluate([rule], x32, np.array([1, 1])).default_rule_rate == 0.5


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(0, 12), st.integers(1, 7))
def test_firing_pairs_match_testing_every_antecedent_on_every_sample(seed, n, n_rules, chunk):
    """The narrowing, chunked evaluation fires exactly where all antecedents hold (float64)."""
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([-1.0, 0.0, 0.25, 0.5, 1.0], dtype=np.float32), size=(n, 4))
    rules = [Rule([Antecedent(int(rng.integers(4)), bool(rng.integers(2)), float(rng.choice([-0.5, 0.0, 0.25, 0.6])))
                   for _ in range(int(rng.integers(0, 4)))], int(rng.integers(3)), np.array([], dtype=np.int64), 1.0)
             for _ in range(n_rules)]
    expected = np.ones((n_rules, n), dtype=bool)
    for r, rule in enumerate(rules):
        for a in rule.antecedents:
            column = x[:, a.attribute].astype(np.float64)
            expected[r] &= column >= a.value if a.ge else column < a.value
    fired_rule, fired_sample = firing_pairs(rules, x, chunk=chunk)
    got = np.zeros_like(expected)
    got[fired_rule, fired_sample] = True
    assert len(fired_rule) == expected.sum()  # each firing once
    assert np.array_equal(got, expected)
    assert np.array_equal(activation_matrix(rules, x), expected)


@pytest.mark.parametrize("chunk", [0, -3, 2.5, True])
def test_firing_pairs_rejects_a_bad_chunk(chunk):
    with pytest.raises(ValueError, match="chunk must be an integer >= 1"):
        firing_pairs([], np.zeros((2, 1)), chunk=chunk)


def test_one_settings_object_reaches_fidex_fidexglo_and_dimlpfidex_arguments():
    from nesy.rules.reference import _settings_arguments
    from nesy.rules.settings import FidexSettings

    s = FidexSettings(max_iterations=4, covering_strategy=False, dropout_hyp=0.25, seed=7)
    assert Fidex(X1, P1, H1, settings=s).settings is s
    assert Fidex(X1, P1, H1, settings=s, seed=8).settings == FidexSettings(
        max_iterations=4, covering_strategy=False, dropout_hyp=0.25, seed=8)
    assert FidexGlo(1, settings=s).settings is s
    args = _settings_arguments(s).split()
    assert dict(zip(args[::2], args[1::2])) == {
        "--max_iterations": "4", "--min_covering": "2", "--covering_strategy": "false",
        "--max_failed_attempts": "30", "--min_fidelity": "1.0", "--lowest_min_fidelity": "0.75",
        "--dropout_dim": "0.0", "--dropout_hyp": "0.25", "--seed": "7"}
    with pytest.raises(ValueError, match="unknown Fidex parameter 'max_iteration'; the parameters are max_iterations"):
        FidexGlo(1, max_iteration=3)
    with pytest.raises(ValueError, match=r"covering_strategy must be True or False, got 1"):
        FidexSettings(covering_strategy=1)
