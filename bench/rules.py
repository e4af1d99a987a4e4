"""FidexGlo (nesy.rules, compiled kernel) vs dimlpfidex 1.0.1 on identical inputs.

Same data (MNIST pixels as raw intensities 0-255, so the text files dimlpfidex reads are
exact), same model predictions (a small MLP trained here), same QIL hyperplanes (dimlpfidex
reads our QIL as its weights file), same settings (the patch-rules paper's: heuristic 1,
100 steps, max_iterations 25, dropout 0.95 on dimensions and hyperplanes), same thread count.
Both rulesets are scored on the same test samples by nesy.rules.stats (and dimlpfidex's own
fidexGloStats is run on its rules as a cross-check).

Needs `pip install --no-deps dimlpfidex==1.0.1`. Run: .venv/bin/python bench/rules.py
Ends with: speedup_vs_dimlpfidex: X fidelity_delta: Y
(X = dimlpfidex's own algorithm time, file reading excluded, over our whole fit();
 Y = our test fidelity minus dimlpfidex's).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from nesy import data
from nesy.rules import FidexGlo, QIL, evaluate, reference, rule_json


def train_model(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> torch.nn.Module:
    """A 784-64-10 MLP on pixels / 255 (Adam 1e-3, batch 128)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    xs = x / 255.0
    for _ in range(epochs):
        perm = torch.randperm(len(xs))
        for i in range(0, len(xs), 128):
            idx = perm[i : i + 128]
            loss = torch.nn.functional.cross_entropy(model(xs[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=2000, help="training samples the rules are extracted from")
    ap.add_argument("--test", type=int, default=500, help="test samples the rulesets are scored on")
    ap.add_argument("--model-train", type=int, default=10000, help="MNIST samples the MLP is trained on")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=100, help="QIL steps (nb_quant_levels)")
    ap.add_argument("--max-iterations", type=int, default=25)
    ap.add_argument("--dropout", type=float, default=0.95, help="dropout_dim = dropout_hyp")
    ap.add_argument("--heuristic", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not reference.available():
        raise SystemExit("dimlpfidex is missing: .venv/bin/pip install --no-deps dimlpfidex==1.0.1")
    torch.set_num_threads(args.threads)

    xtr_all, ytr_all = data.mnist("train")
    xte_all, yte_all = data.mnist("test")
    xm = xtr_all[: args.model_train].reshape(args.model_train, -1).float()
    model = train_model(xm, ytr_all[: args.model_train], args.epochs, seed=0)
    a, n, m = 50000, args.train, args.test  # rule-extraction samples are disjoint from the model's
    x = xtr_all[a : a + n].reshape(n, -1).double()
    y = ytr_all[a : a + n]
    xt = xte_all[:m].reshape(m, -1).double()
    yt = yte_all[:m]
    with torch.no_grad():
        pred = model(x.float() / 255.0).argmax(1)
        pred_t = model(xt.float() / 255.0).argmax(1)
    print(f"MNIST: model trained on {args.model_train} samples ({args.epochs} epochs); rules from {n} other "
          f"train samples, scored on {m} test samples; model accuracy train {(pred == y).double().mean():.4f}, "
          f"test {(pred_t == yt).double().mean():.4f}")
    settings = dict(max_iterations=args.max_iterations, dropout_dim=args.dropout, dropout_hyp=args.dropout)
    print(f"settings: heuristic {args.heuristic}, QIL {args.steps} steps, {settings}, min_covering 2, "
          f"min_fidelity 1.0, covering strategy on, seed {args.seed}, {args.threads} threads")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    qil = QIL.fit(x, n_steps=args.steps)
    t0 = time.perf_counter()
    ours = FidexGlo(args.heuristic, seed=args.seed, n_threads=args.threads, **settings).fit(x, pred, qil, train_y=y)
    t_ours = time.perf_counter() - t0

    theirs = reference.fidexglo_rules(x, pred, y, qil, n_classes=10, heuristic=args.heuristic, seed=args.seed,
                                      nb_threads=args.threads, **settings)
    check = reference.fidexglo_stats(theirs.folder / "rules.json", xt, pred_t, yt, n_classes=10, folder=theirs.folder)
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    s_ours = evaluate(ours.rules, xt, pred_t, yt)
    s_theirs = evaluate(theirs.rules, xt, pred_t, yt)
    if abs(check["fidelity"] - s_theirs.fidelity) > 1e-6 or abs(check["accuracy"] - s_theirs.accuracy) > 1e-6:
        print(f"WARNING: fidexGloStats disagrees with nesy.rules.stats on dimlpfidex's rules: {check}")
    train_fid = lambda rs: float(np.mean([r.fidelity for r in rs]))  # noqa: E731

    rows = [
        ("seconds", f"{t_ours:.2f} (fit)", f"{theirs.seconds_algorithm:.2f} (algorithm), {theirs.seconds_wall:.2f} (wall)"),
        ("rules", len(ours.rules), len(theirs.rules)),
        ("mean antecedents", f"{s_ours.mean_antecedents:.2f}", f"{s_theirs.mean_antecedents:.2f}"),
        ("mean covering (train)", f"{s_ours.mean_covering:.2f}", f"{s_theirs.mean_covering:.2f}"),
        ("mean rule fidelity (train)", f"{train_fid(ours.rules):.4f}", f"{train_fid(theirs.rules):.4f}"),
        ("test fidelity", f"{s_ours.fidelity:.4f}", f"{s_theirs.fidelity:.4f}"),
        ("test rule accuracy", f"{s_ours.accuracy:.4f}", f"{s_theirs.accuracy:.4f}"),
        ("explainability rate", f"{s_ours.explainability_rate:.4f}", f"{s_theirs.explainability_rate:.4f}"),
        ("default rule rate", f"{s_ours.default_rule_rate:.4f}", f"{s_theirs.default_rule_rate:.4f}"),
    ]
    print(f"\n{'':28s} {'nesy.rules':>22s}   dimlpfidex 1.0.1")
    for name, o, t in rows:
        print(f"{name:28s} {str(o):>22s}   {t}")
    print(f"\nours: {ours.path_counts}; stages {', '.join(f'{k} {v:.2f}s' for k, v in ours.seconds.items())}")
    print(f"dimlpfidex fidexGloStats on its own rules: fidelity {check['fidelity']:.4f}, accuracy {check['accuracy']:.4f}")
    print(f"wall-clock ratio (dimlpfidex call incl. reading its text files): {theirs.seconds_wall / t_ours:.1f}")
    rule_json.save(ours.rules, theirs.folder / "nesy_rules.json")
    print(f"rules of both tools (dimlpfidex JSON format): {theirs.folder}/rules.json, nesy_rules.json")
    speedup = theirs.seconds_algorithm / t_ours
    print(f"speedup_vs_dimlpfidex: {speedup:.1f} fidelity_delta: {s_ours.fidelity - s_theirs.fidelity:+.4f}")


if __name__ == "__main__":
    main()
