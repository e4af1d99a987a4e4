"""nesy.rules against dimlpfidex 1.0.1 itself (the reference implementation).

Needs `pip install --no-deps dimlpfidex==1.0.1` (its metadata pins numpy<2; the compiled module
works with numpy 2). Skipped when it is not installed.

With a single feature and no dropout the random streams play no part (there is nothing to
shuffle), so our rules must be exactly dimlpfidex's: local rules, relaxation paths, covering
heuristics, rule order and statistics. With more features the streams differ, so we check the
shared ground: identical hyperplanes, the same inequality semantics, the same statistics.
"""
import json

import numpy as np
import pytest

pytest.importorskip("dimlpfidex")

from nesy.rules import QIL, Fidex, FidexGlo, evaluate, reference, rule_json  # noqa: E402


def one_feature(seed, n=240):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1)).round(2)
    pred = (np.sin(3 * x[:, 0]) > 0).astype(np.int64) + (x[:, 0] > 1.2)
    flip = rng.random(n) < 0.05
    pred[flip] = rng.integers(0, 3, flip.sum())
    y = pred.copy()
    y[rng.random(n) < 0.1] = 0
    return x, pred, y


def canonical(rules):
    return sorted(json.dumps(d, sort_keys=True) for d in rule_json.to_dict(rules)["rules"])


@pytest.mark.parametrize("seed, steps, kw", [
    (0, 10, {}),
    (1, 20, {"max_iterations": 3, "min_covering": 5}),
    (2, 7, {"max_iterations": 4, "min_covering": 3}),
])
@pytest.mark.parametrize("heuristic", [1, 2])
def test_one_feature_rulesets_equal_dimlpfidex(tmp_path, seed, steps, kw, heuristic):
    x, pred, y = one_feature(seed)
    qil = QIL.fit(x, n_steps=steps)
    ours = FidexGlo(heuristic, seed=1, **kw).fit(x, pred, qil, train_y=y)
    theirs = reference.fidexglo_rules(x, pred, y, qil, n_classes=3, heuristic=heuristic, seed=1,
                                      folder=tmp_path, **kw)
    assert canonical(ours.rules) == canonical(theirs.rules)
    assert [r.covering_size for r in ours.rules] == [r.covering_size for r in theirs.rules]
    assert f"Number of rules not found is {len(ours.samples_without_rule)}" in theirs.log


def test_one_feature_local_rules_equal_dimlpfidex(tmp_path):
    from dimlpfidex import fidex as dfx

    x, pred, y = one_feature(1)
    qil = QIL.fit(x, n_steps=20)
    kw = {"max_iterations": 3, "min_covering": 5}
    run = reference.fidexglo_rules(x, pred, y, qil, n_classes=3, seed=1, folder=tmp_path, **kw)  # writes the inputs
    cmd = (f"--root_folder {tmp_path} --train_data_file train_data.txt --train_pred_file train_pred.txt "
           f"--train_class_file train_class.txt --test_data_file train_data.txt --test_pred_file train_pred.txt "
           f"--test_class_file train_class.txt --weights_file weights.wts --rules_outfile local.json "
           f"--nb_attributes 1 --nb_classes 3 --nb_quant_levels 20 --max_iterations 3 --min_covering 5 "
           f"--seed 1 --console_file local.txt")
    assert dfx.fidex(cmd) == 0 and run.rules
    theirs = rule_json.load(tmp_path / "local.json")
    fx = Fidex(x, pred, qil, **kw)
    batch = fx.run(x, pred)
    assert set(batch.path.tolist()) >= {-1, 0, 1, 2}
    for i, t in enumerate(theirs):
        ours = fx.rule(batch, i, x[i], pred[i])
        assert [(a.attribute, a.ge, a.value) for a in ours.antecedents] == [(a.attribute, a.ge, a.value) for a in t.antecedents]
        assert ours.covered.tolist() == sorted(t.covered.tolist())


def test_hyperplanes_semantics_and_stats_match_dimlpfidex(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(500, 5)).round(3)
    pred = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    y = pred.copy()
    y[rng.random(500) < 0.15] = 2
    tr, te = slice(0, 350), slice(350, 500)
    qil = QIL.fit(x[tr], n_steps=12)
    kw = {"max_iterations": 6, "dropout_dim": 0.2, "dropout_hyp": 0.2}
    theirs = reference.fidexglo_rules(x[tr], pred[tr], y[tr], qil, n_classes=3, seed=3, folder=tmp_path, **kw)
    hyp = qil.hyperplanes().numpy()
    for r in theirs.rules:
        for a in r.antecedents:  # their thresholds are exactly our QIL's hyperplanes
            assert a.value in set(hyp[a.attribute].tolist())
        assert np.flatnonzero(r.holds(x[tr])).tolist() == sorted(r.covered.tolist())
    ours = FidexGlo(1, seed=3, **kw).fit(x[tr], pred[tr], qil, train_y=y[tr])
    for rules, name in ((theirs.rules, "theirs.json"), (ours.rules, "ours.json")):
        rule_json.save(rules, tmp_path / name)
        ref = reference.fidexglo_stats(tmp_path / name, x[te], pred[te], y[te], n_classes=3, folder=tmp_path)
        mine = evaluate(rules, x[te], pred[te], y[te]).as_dict()
        for key, value in ref.items():
            assert mine[key] == pytest.approx(value, abs=5e-6), key
