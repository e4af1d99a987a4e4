"""Vi-SATNet mixing method: the compiled kernel against the stock k x m layout and the PyTorch twin.

Times forward + backward for one batch of 8 (float32; exactly 40 sweeps forward and 40
backward: eps = 0; 40% of the positions masked; random post-ReLU-like features) at the MNIST
shape (n=25, m=320, k=16) and the Imagenette shape (n=49, m=500, k=512), with 1 and 2 threads:

* kernel        nesy's compiled op: Gram form, sweeps in the span of the inputs (C++/OpenMP)
* stock_layout  the same algorithm in locuslab/SATNet's layout (W = V^T S, k x m per sample,
                ~4 k m flops per update), compiled here with the same flags and OpenMP
* twin          nesy.satnet.reference (PyTorch, batched over samples), the test oracle

Each implementation is called at the op level (forward function, then backward function with
a fixed dl/dV), so Python autograd overhead is the same for all and not timed; the median of
several repetitions is kept. GFLOP/s count each implementation's own arithmetic (a model of
its loops, printed as a rate, not a measurement of hardware counters). The last line is
``speedup_vs_stock: X``, X the smaller kernel-vs-stock ratio of the two shapes at 2 threads.

Run: ``.venv/bin/python bench/satnet.py`` (a few minutes; the stock layout at the Imagenette
shape takes about a second per call).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

# The OpenMP wait policy decides the 2-thread rows, and it is the caller's. The book runs with
# OMP_WAIT_POLICY=PASSIVE (spinning threads fight torch's pool for 2 loaded cores: 93 ms against
# 0.18 ms at one thread), whose sleeping threads must be woken for every parallel region and
# every multi-threaded BLAS call. The kernel therefore keeps small batches on one thread
# (kMinWorkPerThread in csrc/satnet/cpu/mix_common.h) and computes small S S^T and dC S itself:
# before that, the MNIST shape gave speedup_vs_stock 13.5 under PASSIVE (37.7 ACTIVE, 45.4 unset).
# The header prints the policy in force.

import torch  # noqa: E402

from nesy.satnet import init_clauses, uniform_vector, unit_vectors  # noqa: E402
from nesy.satnet.function import _backend  # noqa: E402

SHAPES = {"mnist": (25, 320, 16), "imagenette": (49, 500, 512)}
BATCH, SWEEPS, MASKED = 8, 40, 0.4


def problem(n, m, k, seed=0):
    g = torch.Generator().manual_seed(seed)
    S = init_clauses(n, m, g)
    v, _ = unit_vectors(torch.relu(torch.randn(BATCH, n, k, generator=g)))
    mask = torch.rand(BATCH, n, generator=g) < MASKED
    V0 = torch.where(mask[..., None], uniform_vector(k), v)
    return S, V0, mask, torch.randperm(n, generator=g), torch.randn(BATCH, n, k, generator=g)


def runner(name, S, V0, mask, order, grad):
    forward, backward = _backend("reference" if name == "twin" else name)

    def once():
        V, info, *state = forward(S, V0, mask, order, SWEEPS, 0.0)
        dS, dV = backward(S, V0, V, mask, order, info, state, grad, 1e-2)
        return V, info, dS
    return once


def timed(fn, reps):
    fn()  # warm up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def flops(name, n, m, k, mask, info):
    """Arithmetic of one forward + backward as each implementation's loops do it."""
    total = 0.0
    for b in range(BATCH):
        nO, nI = int(mask[b].sum()), n - int(mask[b].sum())
        r, d = int(info[b, 1]), int(info[b, 2])
        if name == "kernel":
            basis = 4 * k * r * r + 2 * nO * n * r + 4 * r * d * d
            fwd = SWEEPS * nO * (2 * nO * d + 6 * d) + 2 * nO * d * r + 2 * nO * r * k
            bwd = (2 * nO * r * k + SWEEPS * nO * (2 * nO * r + 6 * r) + 2 * nO * n * r
                   + nI * (2 * nO * r + 2 * r * k))
            if r < k:
                bwd += 2 * nO * r * k + nO * r * r + 2 * nI * nO * k
            total += basis + fwd + bwd
        elif name == "stock_layout":
            total += (2 * 2 * n * k * m + 2 * SWEEPS * nO * 4 * k * m + 2 * (nO + n) * k * m + nI * 2 * k * m)
        else:  # twin: every sweep visits all n variables for the whole batch
            total += 2 * SWEEPS * n * (2 * n * k + 8 * k)
    return total + 3 * 2 * n * n * m  # C = S S^T twice, dS = dC S


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default: per implementation and shape)")
    args = parser.parse_args(argv)
    old_threads = torch.get_num_threads()
    print(f"Vi-SATNet mixing method, forward+backward per batch of {BATCH}, float32, {SWEEPS} sweeps, "
          f"{MASKED:.0%} masked; median of repetitions; machine: {torch.get_num_threads()} threads available; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset (libgomp default)')}")
    print(f"{'shape':<11}{'threads':>8} {'impl':<13}{'time_ms':>10}{'GFLOP/s':>9}{'kernel_speedup':>16}")
    ratios = {}
    for shape, (n, m, k) in SHAPES.items():
        S, V0, mask, order, grad = problem(n, m, k)
        impls = {name: runner(name, S, V0, mask, order, grad) for name in ("kernel", "stock_layout", "twin")}
        V, info, dS = impls["kernel"]()
        Vs, _, dSs = impls["stock_layout"]()
        Vt, _, dSt = impls["twin"]()
        agree = max(float((V - Vs).abs().max()), float((V - Vt).abs().max()))
        dS_agree = max(float((dS - dSs).abs().max()), float((dS - dSt).abs().max())) / float(dS.abs().max())
        print(f"# {shape}: n={n} m={m} k={k}; span rank per sample {info[:, 1].tolist()}, sweep dim "
              f"{info[:, 2].tolist()}; outputs agree to {agree:.1e}, dS to {dS_agree:.1e} (relative)")
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times = {}
            for name, fn in impls.items():
                reps = args.reps or {"kernel": 200, "stock_layout": 30 if k < 100 else 3, "twin": 3}[name]
                times[name] = timed(fn, reps)
            for name, t in times.items():
                rate = flops(name, n, m, k, mask, info) / t / 1e9
                speedup = "" if name == "kernel" else f"{t / times['kernel']:.1f}x"
                print(f"{shape:<11}{threads:>8} {name:<13}{t * 1e3:>10.3f}{rate:>9.2f}{speedup:>16}")
            ratios[(shape, threads)] = times["stock_layout"] / times["kernel"]
    torch.set_num_threads(old_threads)
    print(f"speedup_vs_stock: {min(ratios[(shape, 2)] for shape in SHAPES):.1f}")


if __name__ == "__main__":
    main()
