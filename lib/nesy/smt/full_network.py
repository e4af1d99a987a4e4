"""The whole network in SMT: SMUG's Appendix A (Eq. 6) for a small MLP on MNIST.

For an MLP ``logits = W2 relu(W1 x + b1) + b2`` and one image x (pixels in [0, 1]), find the
smallest pixel mask M in {0, 1}^n such that the masked image ``M * x`` (masked pixels are 0)
is still classified as ``label``::

    minimise sum_i M_i   s.t.   logit_label(M * x) > logit_l(M * x)   for every l != label.

The paper's network has sigmoid outputs; a sigmoid is increasing, so comparing sigmoid
outputs is comparing logits. Two exact solvers:

- :func:`full_mask_z3`: the paper's encoding. One z3 ``Int`` in {0, 1} per pixel, every
  hidden unit a term ``If(pre > 0, pre, 0)``, ``z3.Optimize().minimize(sum M)`` with a
  timeout. ``"unknown"`` (timeout) is what the paper counts as not SAT.
- :func:`full_mask_milp`: the same problem as a mixed-integer programme on HiGHS (scipy):
  each ReLU whose sign the mask can change gets a binary and the standard big-M
  constraints, with bounds from interval arithmetic over the masks. Not in the paper: it
  shows how much of the paper's time-out rate is the solver rather than the problem.

Both return a :class:`FullMaskResult`, whose mask is re-checked by a float64 forward pass.
:class:`MLP` and :func:`train_mlp` give the paper's 784-32-10 network.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nesy import device as devices
from nesy.checks import integer, number
from nesy.training import train_epochs

STATUSES = ("optimal", "unknown", "infeasible")


class MLP(nn.Module):
    """``inputs -> Linear(hidden) -> ReLU -> Linear(classes)`` (logits; the paper applies a
    sigmoid per class, which does not change their order). x: ``(N, inputs)`` in [0, 1]."""

    def __init__(self, inputs: int = 784, hidden: int = 32, classes: int = 10):
        super().__init__()
        self.hidden, self.out = nn.Linear(inputs, hidden), nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.hidden(x.flatten(1))))

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(W1 (H, n), b1 (H,), W2 (C, H), b2 (C,))`` as float64 numpy arrays."""
        return tuple(p.detach().double().numpy().copy() for p in (self.hidden.weight, self.hidden.bias, self.out.weight, self.out.bias))


def train_mlp(
    images: torch.Tensor, labels: torch.Tensor, *, hidden: int = 32, epochs: int = 8, batch_size: int = 128,
    learning_rate: float = 1e-2, seed: int = 0, device: str | torch.device = "cpu",
) -> MLP:
    """Train :class:`MLP` with Adam and softmax cross-entropy; returns it in eval mode, on the CPU
    (where the z3 and HiGHS encodings read its weights).

    images: uint8 ``(N, 28, 28)`` (scaled to [0, 1] here); labels: int64 ``(N,)`` in [0, 10).
    One shuffled pass over the N images per epoch in batches of `batch_size`; the step size
    starts at `learning_rate` and falls to 0 over the run on a cosine. seed: the
    initialisation and the batch order; the global torch random state is left as it was.
    Same seed, same machine: the same weights. device: where the training runs
    (:func:`nesy.device.resolve`); the initialisation and the batch order are drawn on the CPU.

    Departure: the paper writes "10 output nodes with sigmoid"; the reference code's
    ``models/train_mnist.py`` trains a softmax output with categorical cross-entropy (Adam,
    lr 1e-3, batch 32, 48,000 images, a constant step size), and so do we, with our own batch
    size and schedule. Either way Eq. 6 compares logits, whose order neither a sigmoid nor a
    softmax changes.
    """
    for name, value in (("hidden", hidden), ("epochs", epochs), ("batch_size", batch_size)):
        integer(name, value, 1)
    number("learning_rate", learning_rate, 0.0, low_open=True)
    if images.dim() < 2 or labels.shape != (images.shape[0],):
        raise ValueError(f"images must be (N, 28, 28) and labels (N,); got {tuple(images.shape)}, {tuple(labels.shape)}")
    x = images.reshape(len(images), -1).float() / 255.0
    y = labels.long()
    device = devices.resolve(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MLP(x.shape[1], hidden, 10)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate)
    steps = epochs * -(-len(x) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
    generator = torch.Generator().manual_seed(seed + 1)
    train_epochs(optimiser, lambda idx: F.cross_entropy(model(x[idx].to(device)), y[idx].to(device)), len(x),
                 epochs=epochs, batch_size=batch_size, generator=generator, scheduler=schedule, module=model)
    model.eval()
    return model.to(devices.CPU)


@dataclass(frozen=True)
class FullMaskResult:
    """One full-network solve. keep: bool ``(n,)`` pixels kept (None without a proven optimum),
    n_pixels: their number, status: ``"optimal"`` / ``"unknown"`` (timeout) / ``"infeasible"``,
    backend, time_s (encoding + solve), margin: ``logit_label - max other logit`` of the masked
    image in float64 (> 0 when the mask is valid)."""

    keep: np.ndarray | None
    n_pixels: int | None
    status: str
    backend: str
    time_s: float
    margin: float | None = None
    info: dict = field(default_factory=dict)


def _weights(model_or_weights):
    if isinstance(model_or_weights, MLP):
        return model_or_weights.weights()
    w1, b1, w2, b2 = (np.asarray(a, dtype=np.float64) for a in model_or_weights)
    if w1.ndim != 2 or w2.ndim != 2 or b1.shape != (w1.shape[0],) or b2.shape != (w2.shape[0],) or w2.shape[1] != w1.shape[0]:
        raise ValueError(f"weights must be W1 (H, n), b1 (H,), W2 (C, H), b2 (C,); got {[np.shape(a) for a in model_or_weights]}")
    return w1, b1, w2, b2


def _check(x, label, n_inputs, n_classes):
    x = np.asarray(torch.as_tensor(x).double().reshape(-1), dtype=np.float64)
    if x.size != n_inputs:
        raise ValueError(f"x must have {n_inputs} pixels; got {x.size}")
    if not 0 <= int(label) < n_classes:
        raise ValueError(f"label must be in [0, {n_classes}); got {label}")
    return x, int(label)


def logit_margin(weights, x, keep, label: int) -> float:
    """``logit_label - max_{l != label} logit_l`` of the image with only `keep` pixels (float64)."""
    w1, b1, w2, b2 = _weights(weights)
    masked = np.asarray(x, dtype=np.float64).reshape(-1) * np.asarray(keep, dtype=np.float64)
    logits = w2 @ np.maximum(w1 @ masked + b1, 0) + b2
    return float(logits[label] - np.delete(logits, label).max())


def _result(weights, x, label, keep, status, backend, t0, **info) -> FullMaskResult:
    elapsed = time.perf_counter() - t0
    if keep is None:
        return FullMaskResult(None, None, status, backend, elapsed, None, info)
    keep = np.asarray(keep, dtype=bool)
    return FullMaskResult(keep, int(keep.sum()), status, backend, elapsed, logit_margin(weights, x, keep, label), info)


def full_mask_z3(weights, x, label: int, *, timeout_s: float | None = 60.0, seed: int = 0) -> FullMaskResult:
    """Eq. 6 with z3 (the paper's encoding). weights: an :class:`MLP` or ``(W1, b1, W2, b2)``;
    x: ``(n,)`` or ``(28, 28)`` pixels in [0, 1]; label: the class to keep (the prediction).

    Coefficients enter z3 as exact rationals of their float values. timeout_s: z3's limit;
    on expiry the status is ``"unknown"`` (the paper's UNKNOWN), never an exception.
    """
    import z3

    if timeout_s is not None and timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0 or None; got {timeout_s}")
    w1, b1, w2, b2 = _weights(weights)
    x, label = _check(x, label, w1.shape[1], w2.shape[0])
    t0 = time.perf_counter()
    opt = z3.Optimize()
    opt.set("random_seed", int(seed))
    if timeout_s is not None:
        opt.set("timeout", max(1, int(timeout_s * 1000)))
    m = [z3.Int(f"m_{i}") for i in range(x.size)]
    for v in m:
        opt.add(v >= 0, v <= 1)
    nonzero = np.flatnonzero(x)  # a black pixel is the same masked or not
    real = lambda value: z3.RealVal(repr(float(value)))  # noqa: E731
    hidden = []
    for j in range(w1.shape[0]):
        pre = z3.Sum([real(b1[j])] + [real(w1[j, i] * x[i]) * m[i] for i in nonzero if w1[j, i] != 0])
        hidden.append(z3.If(pre > 0, pre, real(0)))
    logits = [z3.Sum([real(b2[c])] + [real(w2[c, j]) * hidden[j] for j in range(len(hidden))]) for c in range(w2.shape[0])]
    for c in range(len(logits)):
        if c != label:
            opt.add(logits[label] > logits[c])
    opt.minimize(z3.Sum(m))
    result = opt.check()
    if result == z3.sat:
        model = opt.model()
        keep = [model.eval(v, model_completion=True).as_long() == 1 for v in m]
        return _result((w1, b1, w2, b2), x, label, keep, "optimal", "z3", t0)
    if result == z3.unsat:
        return _result((w1, b1, w2, b2), x, label, None, "infeasible", "z3", t0)
    return _result((w1, b1, w2, b2), x, label, None, "unknown", "z3", t0, reason=opt.reason_unknown())


def full_mask_milp(weights, x, label: int, *, time_limit_s: float | None = 60.0, margin: float = 1e-6) -> FullMaskResult:
    """Eq. 6 as a MILP on HiGHS (``scipy.optimize.milp``), proven optimal within the limit.

    Variables: the pixel mask m (binary), hidden activations h >= 0 and, for each hidden
    unit whose pre-activation can take both signs over all masks, a binary z with
    ``h >= pre, h <= pre - lo (1 - z), h <= hi z`` (lo, hi: the pre-activation's bounds, the
    sums of the negative and of the positive terms). Units that are always off drop out;
    units that are always on have ``h = pre``. The strict ``>`` becomes ``>= margin``; the
    mask is re-checked in float64 (``FullMaskResult.margin``); HiGHS runs with feasibility
    tolerances of 1e-9 so that the margin is not absorbed by them.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0 or None; got {time_limit_s}")
    w1, b1, w2, b2 = _weights(weights)
    x, label = _check(x, label, w1.shape[1], w2.shape[0])
    t0 = time.perf_counter()
    n, hdim, cdim = x.size, w1.shape[0], w2.shape[0]
    g = w1 * x[None, :]  # (H, n): pre_j = b1_j + g_j . m
    lo = b1 + np.minimum(g, 0).sum(1)
    hi = b1 + np.maximum(g, 0).sum(1)
    # variable layout: m (n) | h (H) | z (H)
    nv = n + 2 * hdim
    rows, lower, upper = [], [], []

    def add(coef: dict, lb: float, ub: float):
        row = np.zeros(nv)
        for idx, v in coef.items():
            row[idx] += v
        rows.append(row)
        lower.append(lb)
        upper.append(ub)

    h_ub = np.zeros(hdim)
    fixed_z = np.zeros(hdim)  # 0: always off, 1: always on, 0.5: free
    for j in range(hdim):
        hj, zj = n + j, n + hdim + j
        if hi[j] <= 0:  # always off: h = 0
            fixed_z[j] = 0
            continue
        h_ub[j] = hi[j]
        row_pre = {i: -g[j, i] for i in range(n) if g[j, i] != 0}
        if lo[j] >= 0:  # always on: h = pre
            fixed_z[j] = 1
            add({**row_pre, hj: 1.0}, b1[j], b1[j])
            continue
        fixed_z[j] = 0.5
        add({**row_pre, hj: 1.0}, b1[j], np.inf)  # h - g.m >= b1
        add({**row_pre, hj: 1.0, zj: -lo[j]}, -np.inf, b1[j] - lo[j])  # h <= pre - lo (1 - z)
        add({hj: 1.0, zj: -hi[j]}, -np.inf, 0.0)  # h <= hi z
    for c in range(cdim):
        if c != label:
            coef = {n + j: w2[label, j] - w2[c, j] for j in range(hdim)}
            add(coef, margin - (b2[label] - b2[c]), np.inf)
    lb = np.zeros(nv)
    ub = np.concatenate([np.ones(n), h_ub, np.where(fixed_z == 0.5, 1.0, 0.0)])
    integrality = np.concatenate([np.ones(n), np.zeros(hdim), np.ones(hdim)])
    cost = np.concatenate([np.ones(n), np.zeros(2 * hdim)])
    options = {"mip_rel_gap": 0.0, "primal_feasibility_tolerance": 1e-9, "mip_feasibility_tolerance": 1e-9}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unrecognized options", category=RuntimeWarning)
        res = milp(c=cost, integrality=integrality, bounds=Bounds(lb, ub),
                   constraints=LinearConstraint(np.array(rows), lower, upper), options=options)
    weights64 = (w1, b1, w2, b2)
    if res.status == 2:
        return _result(weights64, x, label, None, "infeasible", "highs", t0, message=res.message)
    if res.status != 0 or res.x is None:
        return _result(weights64, x, label, None, "unknown", "highs", t0, message=res.message)
    keep = np.round(res.x[:n]) > 0.5
    out = _result(weights64, x, label, keep, "optimal", "highs", t0)
    if out.margin is not None and out.margin <= 0:
        return _result(weights64, x, label, None, "unknown", "highs", t0, message="rounded MILP mask fails the float64 check")
    return out


def full_mask_brute_force(weights, x, label: int, max_pixels: int = 14) -> FullMaskResult:
    """Exhaustive search over every mask of the non-zero pixels (tests; at most `max_pixels`)."""
    w1, b1, w2, b2 = _weights(weights)
    x, label = _check(x, label, w1.shape[1], w2.shape[0])
    t0 = time.perf_counter()
    nonzero = np.flatnonzero(x)
    if nonzero.size > max_pixels:
        raise ValueError(f"brute force is for at most {max_pixels} non-zero pixels; the image has {nonzero.size}")
    best = None
    for code in range(2**nonzero.size):
        keep = np.zeros(x.size, dtype=bool)
        keep[nonzero[[(code >> b) & 1 == 1 for b in range(nonzero.size)]]] = True
        if logit_margin((w1, b1, w2, b2), x, keep, label) > 0 and (best is None or keep.sum() < best.sum()):
            best = keep
    if best is None:
        return _result((w1, b1, w2, b2), x, label, None, "infeasible", "brute-force", t0)
    return _result((w1, b1, w2, b2), x, label, best, "optimal", "brute-force", t0)
