"""Propositional rules (conjunctions of axis-parallel thresholds) and rulesets."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Antecedent", "Rule", "Ruleset", "activation_matrix", "agreeing_activations", "firing_pairs", "as_numpy"]

#: How a rule was found (``Rule.path``): the relaxation step of dimlpfidex's launchFidex.
PATHS = {0: "direct", 1: "reduced covering", 2: "lowered fidelity", 3: "retried", -1: "no rule"}


def as_numpy(x, name: str, ndim: int, dtype=None) -> np.ndarray:
    """``x`` (Tensor or array-like) as a numpy array with ``ndim`` dimensions, else ValueError."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=dtype)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    return a


def as_labels(x, name: str) -> np.ndarray:
    """Class indices or sample ids ``x`` [N] as int64; refuses fractional, non-finite or non-numeric values
    (``astype`` would silently truncate 2.7 to 2)."""
    a = as_numpy(x, name, 1)
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and len(a) and a.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} holds values beyond int64")
        return a.astype(np.int64)
    if a.dtype.kind == "b":
        raise ValueError(f"{name} must hold integers, got booleans")
    if a.dtype.kind != "f":
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)) or (len(a) and np.abs(a).max() >= 2.0 ** 53):
        bad = a[~(np.isfinite(a) & (a == np.round(a)))][:3]
        raise ValueError(f"{name} must hold integers (class indices or ids), got e.g. {bad.tolist()}")
    return a.astype(np.int64)


@dataclass(frozen=True)
class Antecedent:
    """``x[attribute] >= value`` when ``ge`` is True, else ``x[attribute] < value``."""

    attribute: int
    ge: bool
    value: float

    def holds(self, x: np.ndarray) -> np.ndarray:
        """Bool[N] for samples ``x`` [N, D]."""
        return self.holds_values(x[:, self.attribute])

    def holds_values(self, values: np.ndarray) -> np.ndarray:
        """Bool[M] for values [M] of the antecedent's feature, compared in float64 whatever their dtype.

        (A Python float against a float32 array would be rounded to float32 first, NumPy 2's rule
        for scalars, and a value just above a hyperplane could then fall on it.)
        """
        t = np.float64(self.value)
        return values >= t if self.ge else values < t

    def __str__(self) -> str:
        return f"X{self.attribute}{'>=' if self.ge else '<'}{self.value:.6g}"


@dataclass
class Rule:
    """A conjunction of antecedents predicting ``output_class``.

    Attributes
    ----------
    antecedents : list[Antecedent]
        In the order Fidex added them (an attribute may appear more than once).
    output_class : int
        The class the rule predicts (the model's class for the explained sample).
    covered : ndarray[int64]
        Indices of the training samples the rule covers (ascending).
    fidelity : float
        Fraction of covered training samples that the model puts in ``output_class``.
    accuracy : float or None
        Fraction of covered training samples the model classifies correctly (dimlpfidex
        1.0.1's definition), None without true labels.
    confidence : float
        Mean model score of ``output_class`` over the covered samples.
    path : int
        How Fidex found it (see ``PATHS``); -1 for a rule that missed its targets.
    """

    antecedents: list[Antecedent]
    output_class: int
    covered: np.ndarray = field(repr=False)
    fidelity: float
    accuracy: float | None = None
    confidence: float = float("nan")
    path: int = 0

    @property
    def covering_size(self) -> int:
        return int(len(self.covered))

    def holds(self, x) -> np.ndarray:
        """Bool[N]: which samples of ``x`` [N, D] activate the rule."""
        xa = as_numpy(x, "x", 2)
        out = np.ones(len(xa), dtype=bool)
        for a in self.antecedents:
            out &= a.holds(xa)
        return out

    def key(self) -> tuple:
        """Identity for de-duplication: antecedents and class."""
        return (tuple((a.attribute, a.ge, a.value) for a in self.antecedents), self.output_class)

    def __str__(self) -> str:
        return " ".join(str(a) for a in self.antecedents) + f" -> class {self.output_class}"


def firing_pairs(rules: list[Rule], x, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Every firing of ``rules`` on samples ``x`` [N, D]: int64 arrays ``(rule, sample)``, one entry per pair.

    Compared in float64 as :meth:`Antecedent.holds`. The features the rules use are transposed
    once per chunk of samples, so a rule's first antecedent reads one contiguous row and each
    later one only the samples still in play: about one pass over the chunk per rule.
    """
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1 (samples), got {chunk!r}")
    xa = as_numpy(x, "x", 2)
    n = len(xa)
    used = np.array(sorted({a.attribute for rule in rules for a in rule.antecedents}), dtype=np.int64)
    row_of = {int(attribute): i for i, attribute in enumerate(used)}
    rule_parts, sample_parts = [], []
    for start in range(0, n, chunk):
        rows = np.ascontiguousarray(xa[start : start + chunk][:, used].T)    # (A, chunk)
        width = rows.shape[1]
        for r, rule in enumerate(rules):
            idx = None
            for a in rule.antecedents:
                values = rows[row_of[a.attribute]]
                if idx is None:
                    idx = np.flatnonzero(a.holds_values(values))
                else:
                    idx = idx[a.holds_values(values[idx])]
                if not len(idx):
                    break
            if idx is None:  # no antecedent: the rule fires everywhere
                idx = np.arange(width)
            rule_parts.append(np.full(len(idx), r, dtype=np.int64))
            sample_parts.append(idx.astype(np.int64) + start)
    if not rule_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rule_parts), np.concatenate(sample_parts)


def activation_matrix(rules: list[Rule], x) -> np.ndarray:
    """Bool[R, N]: ``out[r, i]`` is True when rule ``r`` fires on sample ``i`` of ``x`` [N, D]."""
    xa = as_numpy(x, "x", 2)
    out = np.zeros((len(rules), len(xa)), dtype=bool)
    out[firing_pairs(rules, xa)] = True
    return out


def agreeing_activations(rules: list[Rule], x, pred) -> np.ndarray:
    """Bool[R, N]: rule ``r`` fires on sample ``i`` of ``x`` [N, D] and predicts ``pred[i]`` (int [N])."""
    pred = as_numpy(pred, "pred", 1, np.int64)
    classes = np.array([rule.output_class for rule in rules], dtype=np.int64)
    return activation_matrix(rules, x) & (classes[:, None] == pred[None, :])


@dataclass
class Ruleset:
    """A global ruleset (FidexGlo's output).

    Attributes
    ----------
    rules : list[Rule]
    n_train : int
        Number of training samples it was extracted from.
    samples_without_rule : ndarray[int64]
        Training samples for which Fidex found no rule (dropped, as in dimlpfidex).
    n_fidex_runs : int
        Local rules computed (N for heuristics 1-2, fewer for 3).
    path_counts : dict[str, int]
        How many of those local rules each relaxation step produced.
    seconds : dict[str, float]
        Wall time per stage.
    """

    rules: list[Rule]
    n_train: int
    samples_without_rule: np.ndarray
    n_fidex_runs: int
    path_counts: dict[str, int]
    seconds: dict[str, float]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)

    def __getitem__(self, i):
        return self.rules[i]
