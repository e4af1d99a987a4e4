"""Run dimlpfidex 1.0.1 (the reference implementation) on the same inputs as ours.

dimlpfidex is driven by one CLI-style string per call and by text files; this module writes
the files (data, one-hot predictions, classes, the QIL weights file), runs
``fidex.fidexGloRules`` / ``fidex.fidexGloStats`` and reads back the JSON rules, the stats
file and the tool's own timing. Install with ``pip install --no-deps dimlpfidex==1.0.1``
(its metadata pins numpy<2 and pulls in TensorFlow-era trainers; the compiled ``fidex``
module itself needs neither).
"""
from __future__ import annotations

import importlib.util
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import integer, one_of
from . import rule_json
from .qil import QIL
from .ruleset import Rule, as_numpy
from .settings import FidexSettings

__all__ = ["available", "ReferenceRun", "fidexglo_rules", "fidexglo_stats"]


def available() -> bool:
    """True when dimlpfidex's compiled ``fidex`` module can be imported."""
    return importlib.util.find_spec("dimlpfidex") is not None


def _fidex():
    try:
        from dimlpfidex import fidex
    except ImportError as exc:
        raise ImportError("dimlpfidex is not installed: pip install --no-deps dimlpfidex==1.0.1") from exc
    return fidex


def _write_matrix(path: Path, a: np.ndarray, fmt: str) -> None:
    np.savetxt(path, a, fmt=fmt, delimiter=" ")


def _write_inputs(folder: Path, prefix: str, x, pred, y, n_classes: int) -> None:
    _write_matrix(folder / f"{prefix}_data.txt", as_numpy(x, "x", 2, np.float64), "%.17g")
    p = as_numpy(pred, "pred", 1).astype(np.int64)
    _write_matrix(folder / f"{prefix}_pred.txt", np.eye(n_classes, dtype=np.int64)[p], "%d")
    _write_matrix(folder / f"{prefix}_class.txt", as_numpy(y, "y", 1).astype(np.int64)[:, None], "%d")


def _settings_arguments(s: FidexSettings) -> str:
    """dimlpfidex's command-line options for the settings (its option names are the fields')."""
    values = {k: str(v).lower() if isinstance(v, bool) else v for k, v in s.as_dict().items()}
    return " ".join(f"--{k} {v}" for k, v in values.items())


@dataclass
class ReferenceRun:
    """dimlpfidex's output: ``rules`` (read from its JSON), wall time of the call, the time its
    log reports for the algorithm (file reading excluded), its console log and work folder."""

    rules: list[Rule]
    seconds_wall: float
    seconds_algorithm: float
    log: str
    folder: Path


def fidexglo_rules(
    train_x,
    train_pred,
    train_y,
    qil: QIL,
    *,
    n_classes: int,
    heuristic: int = 1,
    nb_threads: int = 1,
    settings: FidexSettings | None = None,
    folder=None,
    **options,
) -> ReferenceRun:
    """dimlpfidex's ``fidexGloRules`` on our data, predictions and QIL (its weights file).

    ``settings`` and ``options`` as for :class:`~nesy.rules.Fidex` (the same names as
    dimlpfidex's), except that the seed defaults to 1 and must be >= 1 (dimlpfidex's 0 means
    "from the clock"); ``nb_quant_levels`` is ``qil.n_steps``.
    """
    one_of("heuristic", heuristic, (1, 2, 3))
    if settings is None:
        options.setdefault("seed", 1)
    s = FidexSettings.from_options(settings, **options)
    integer("seed", s.seed, 1)
    if qil.n_steps < 3:
        raise ValueError(f"dimlpfidex needs nb_quant_levels >= 3; got qil.n_steps={qil.n_steps}")
    if qil.hi_knot != 5.0:
        raise ValueError(f"dimlpfidex 1.0.1's staircase spans [-5, 5]; got hi_knot={qil.hi_knot}")
    fidex = _fidex()
    folder = Path(folder or tempfile.mkdtemp(prefix="dimlpfidex-"))
    folder.mkdir(parents=True, exist_ok=True)
    _write_inputs(folder, "train", train_x, train_pred, train_y, n_classes)
    qil.save_weights(folder / "weights.wts")
    d = as_numpy(train_x, "train_x", 2).shape[1]
    cmd = (
        f"--root_folder {folder} --train_data_file train_data.txt --train_pred_file train_pred.txt "
        f"--train_class_file train_class.txt --weights_file weights.wts --global_rules_outfile rules.json "
        f"--nb_attributes {d} --nb_classes {n_classes} --heuristic {heuristic} --nb_threads {nb_threads} "
        f"--nb_quant_levels {qil.n_steps} {_settings_arguments(s)} --console_file console.txt"
    )
    t0 = time.perf_counter()
    status = fidex.fidexGloRules(cmd)
    wall = time.perf_counter() - t0
    log = (folder / "console.txt").read_text() if (folder / "console.txt").exists() else ""
    if status != 0:
        raise RuntimeError(f"dimlpfidex fidexGloRules failed ({status}):\n{log[-2000:]}")
    m = re.search(r"heuristic #\d ended in ([0-9.eE+-]+) sec", log)
    algo = float(m.group(1)) if m else float("nan")
    return ReferenceRun(rule_json.load(folder / "rules.json"), wall, algo, log, folder)


_STATS = {
    "fidelity": "The global rule fidelity rate is",
    "accuracy": "The global rule accuracy is",
    "explainability_rate": "The explainability rate",
    "default_rule_rate": "The default rule rate",
    "mean_correct_rules": "The mean number of correct(fidel) activated rules per sample is",
    "mean_wrong_rules": "The mean number of wrong(not fidel) activated rules per sample is",
    "model_accuracy": "The model test accuracy is",
    "model_accuracy_when_rules_agree": "The model test accuracy when rules and model agree is",
    "model_accuracy_when_activated_rules_agree": "The model test accuracy when activated rules and model agree is",
}


def fidexglo_stats(rules_file, test_x, test_pred, test_y, *, n_classes: int, folder=None) -> dict:
    """dimlpfidex's ``fidexGloStats`` of a JSON rules file on a test set, as a dict of floats
    (keys as in :class:`nesy.rules.stats.RulesetStats`)."""
    fidex = _fidex()
    folder = Path(folder or tempfile.mkdtemp(prefix="dimlpfidex-"))
    folder.mkdir(parents=True, exist_ok=True)
    _write_inputs(folder, "test", test_x, test_pred, test_y, n_classes)
    rules_copy = folder / "rules_under_test.json"  # paths are taken relative to --root_folder
    if Path(rules_file).resolve() != rules_copy.resolve():
        rules_copy.write_text(Path(rules_file).read_text())
    d = as_numpy(test_x, "test_x", 2).shape[1]
    cmd = (
        f"--root_folder {folder} --test_data_file test_data.txt --test_pred_file test_pred.txt "
        f"--test_class_file test_class.txt --global_rules_file {rules_copy.name} "
        f"--nb_attributes {d} --nb_classes {n_classes} --stats_file stats.txt --console_file stats_console.txt"
    )
    status = fidex.fidexGloStats(cmd)
    text = (folder / "stats.txt").read_text() if (folder / "stats.txt").exists() else ""
    if status != 0:
        raise RuntimeError(f"dimlpfidex fidexGloStats failed ({status})")
    out = {}
    for key, lead in _STATS.items():
        m = re.search(re.escape(lead) + r"[^:]*: *([-0-9.naif]+)", text)
        out[key] = float(m.group(1)) if m else float("nan")
    return out
