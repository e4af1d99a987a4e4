"""Ruleset statistics as the patch-rules paper (Table 7) and dimlpfidex's fidexGloStats report them.

On a test set, for each sample the *activated* rules are those whose antecedents all hold; a
*correct* activated rule predicts the model's class, a *wrong* one does not.

- fidelity: share of samples with a correct activated rule, or with no activated rule at all
  (the default rule: one would run Fidex on that sample, so it agrees with the model);
- accuracy: share of samples where the ruleset's answer is the true class (a correct rule and
  a right model; no rule and a right model; or only wrong rules that all give the true class);
- explainability rate: share of samples with a correct activated rule, or whose activated
  rules are all wrong but agree on one class;
- default rule rate: share of samples no rule fires on;
- mean correct / wrong activated rules per sample;
- model accuracy, and model accuracy on the samples where the rules agree with the model
  (correct rule or default rule) and where an activated rule agrees with it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .ruleset import Rule, as_labels, as_numpy, firing_pairs

__all__ = ["RulesetStats", "summary", "evaluate"]


@dataclass
class RulesetStats:
    """Statistics of a ruleset; ``as_dict()`` for the results JSON."""

    n_rules: int
    mean_antecedents: float
    mean_covering: float
    n_samples: int
    fidelity: float
    accuracy: float
    explainability_rate: float
    default_rule_rate: float
    mean_correct_rules: float
    mean_wrong_rules: float
    model_accuracy: float
    model_accuracy_when_rules_agree: float
    model_accuracy_when_activated_rules_agree: float

    def as_dict(self) -> dict:
        return asdict(self)


def summary(rules: list[Rule]) -> dict:
    """Number of rules, mean antecedents per rule and mean training covering per rule."""
    if not rules:
        return {"n_rules": 0, "mean_antecedents": float("nan"), "mean_covering": float("nan")}
    return {
        "n_rules": len(rules),
        "mean_antecedents": float(np.mean([len(r.antecedents) for r in rules])),
        "mean_covering": float(np.mean([r.covering_size for r in rules])),
    }


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def evaluate(rules: list[Rule], x, pred, y=None) -> RulesetStats:
    """Statistics of ``rules`` on samples ``x`` [N, D] with model classes ``pred`` [N].

    ``y`` [N] (true classes) is needed for the accuracies (NaN without it).
    """
    xa = as_numpy(x, "x", 2)
    p = as_labels(pred, "pred")
    if len(p) != len(xa):
        raise ValueError(f"pred has {len(p)} entries, x has {len(xa)} samples")
    n = len(xa)
    if n == 0:
        raise ValueError("x must hold at least one sample")
    yt = None if y is None else as_labels(y, "y")
    if yt is not None and len(yt) != n:
        raise ValueError(f"y has {len(yt)} entries, x has {n} samples")

    classes = np.array([r.output_class for r in rules], dtype=np.int64)
    n_classes = int(max([p.max(initial=0)] + list(classes))) + 1
    fired_rule, fired_sample = firing_pairs(rules, xa)
    per_class = np.bincount(classes[fired_rule] * n + fired_sample,      # (C, N) activated rules per class
                            minlength=n_classes * n).reshape(n_classes, n).astype(np.int64)
    n_act = per_class.sum(axis=0)
    n_correct = per_class[p, np.arange(n)]
    n_classes_act = (per_class > 0).sum(axis=0)
    decision = per_class.argmax(axis=0)

    default = n_act == 0
    correct = n_correct > 0
    wrong_same = (n_act > 0) & ~correct & (n_classes_act == 1)
    faithful = default | correct
    wrong_rules = np.where(correct, n_act - n_correct, np.where(default, 0, n_act))

    if yt is not None:
        right = p == yt
        accuracy = float(np.count_nonzero((faithful & right) | (wrong_same & (decision == yt)))) / n
        model_acc = float(np.count_nonzero(right)) / n
        acc_agree = _ratio(np.count_nonzero(faithful & right), np.count_nonzero(faithful))
        acc_act_agree = _ratio(np.count_nonzero(correct & right), np.count_nonzero(correct))
    else:
        accuracy = model_acc = acc_agree = acc_act_agree = float("nan")

    s = summary(rules)
    return RulesetStats(
        n_rules=s["n_rules"],
        mean_antecedents=s["mean_antecedents"],
        mean_covering=s["mean_covering"],
        n_samples=n,
        fidelity=float(np.count_nonzero(faithful)) / n,
        accuracy=float(accuracy),
        explainability_rate=float(np.count_nonzero(correct | wrong_same)) / n,
        default_rule_rate=float(np.count_nonzero(default)) / n,
        mean_correct_rules=float(n_correct.sum()) / n,
        mean_wrong_rules=float(wrong_rules.sum()) / n,
        model_accuracy=float(model_acc),
        model_accuracy_when_rules_agree=float(acc_agree),
        model_accuracy_when_activated_rules_agree=float(acc_act_agree),
    )
