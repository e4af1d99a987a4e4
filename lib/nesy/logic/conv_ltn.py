"""The Convolutional LTN of the crash article: a CNN encoder e(Im) -> f, LTN predicates and
functions on f, and Crash over their ten outputs.

Two training objectives:

- ``"mse"``: the article's. The sum over outputs of the mean squared error against the labels;
  a distance term is averaged over its relevant samples only (images where that vehicle is
  obstructed), "scaled by the number of relevant samples" as the article puts it.
- ``"ltn"``: LTN's own. The labels become axioms (for every image where the small car exists,
  sce holds; where it does not, not sce; distances equal their labels; crash images satisfy
  Crash ...) plus the rules of the road as background knowledge, all aggregated with
  ``SatAgg``; the loss is ``1 - SatAgg``. Operators: product t-norm, probabilistic sum,
  Reichenbach implication, standard negation, ``AggregPMeanError(p=2)`` for forall.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from collections.abc import Mapping
from dataclasses import dataclass, field

import ltn
import torch
from torch import nn

from nesy import device as devices
from nesy.checks import one_of
from nesy.training import train_epochs
from nesy.logic.crash_world import DISTANCE, FUNCTIONS, OBSTRUCTED, PREDICATES, VEHICLES, CrashWorld

OUTPUTS = PREDICATES + FUNCTIONS  # the ten inputs of Crash, in the article's order
TRUTH_OUTPUTS = PREDICATES + ("Crash",)  # the eight truth-valued outputs of the accuracy table
OBJECTIVES = ("mse", "ltn")


class Encoder(nn.Module):
    """e(Im) -> f. Three conv blocks and a dense layer.

    Input ``images`` (Tensor[B, 3, H, W], float in [0, 1]); output Tensor[B, feature_dim].
    """

    def __init__(self, image_shape: tuple[int, int, int], feature_dim: int):
        super().__init__()
        channels, height, width = image_shape
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(64 * (height // 8) * (width // 8), feature_dim), nn.ReLU())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.dense(self.conv(images))


def _head(in_features: int, hidden: int) -> nn.Module:
    """A small MLP ending in a sigmoid: Tensor[B, in_features] -> Tensor[B, 1] in (0, 1)."""
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid())


class Heads(nn.ModuleDict):
    """One head per predicate/function, indexed by the article's short names.

    (The names are stored with a suffix: ``to``, truck obstructed, would shadow ``Module.to``.)
    """

    def __init__(self, feature_dim: int, hidden: int):
        super().__init__({f"{name}_head": _head(feature_dim, hidden) for name in OUTPUTS})

    def __getitem__(self, name: str) -> nn.Module:
        return super().__getitem__(f"{name}_head")


class CrashFromFeatures(nn.Module):
    """Crash(sce(f), ..., td(f)): the crash head over the ten head outputs of ``f``."""

    def __init__(self, heads: Heads, hidden: int):
        super().__init__()
        self.heads = heads  # shared with the model, not copied
        self.crash_head = _head(len(OUTPUTS), hidden)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        ten = torch.cat([self.heads[name](features) for name in OUTPUTS], dim=1)  # (B, 10)
        return self.crash_head(ten)


class ConvLTN(nn.Module):
    """Encoder, one head per predicate/function, and Crash.

    ``forward(images)`` takes Tensor[B, 3, H, W] (float in [0, 1]) and returns a dict of
    Tensor[B]: the seven predicates, the three distances and ``Crash``.
    """

    def __init__(self, image_shape: tuple[int, int, int] = (3, 36, 96), feature_dim: int = 64, hidden: int = 32):
        super().__init__()
        self.encoder = Encoder(image_shape, feature_dim)
        self.heads = Heads(feature_dim, hidden)
        self.crash = CrashFromFeatures(self.heads, hidden)

    def outputs_from_features(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {name: self.heads[name](features)[:, 0] for name in OUTPUTS}
        out["Crash"] = self.crash.crash_head(torch.stack([out[name] for name in OUTPUTS], dim=1))[:, 0]
        return out

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.outputs_from_features(self.encoder(images))


def summary(model: ConvLTN) -> list[dict]:
    """One row per part of the model (encoder, each head, the crash head) with its parameter count."""
    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    rows = [{"part": "encoder e(Im) -> f", "symbol": "e", "parameters": count(model.encoder)}]
    rows += [{"part": f"head on f ({'predicate' if name in PREDICATES else 'function'})", "symbol": name,
              "parameters": count(model.heads[name])} for name in OUTPUTS]
    rows.append({"part": "Crash over the ten outputs", "symbol": "Crash", "parameters": count(model.crash.crash_head)})
    return rows


def _as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def mse_loss(outputs: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]) -> torch.Tensor:
    """The article's combined objective (a scalar): MSE per output, distances over relevant samples."""
    loss = sum(((outputs[name] - labels[name]) ** 2).mean() for name in PREDICATES)
    loss = loss + ((outputs["Crash"] - labels["Crash"]) ** 2).mean()
    for vehicle in VEHICLES:
        relevant = labels[OBSTRUCTED[vehicle]] > 0.5
        if relevant.any():
            name = DISTANCE[vehicle]
            loss = loss + ((outputs[name][relevant] - labels[name][relevant]) ** 2).sum() / relevant.sum()
    return loss


class LTNKnowledgeBase:
    """The crash world as LTN axioms over a batch of features; ``satisfaction`` is SatAgg.

    Predicates and functions wrap the model's heads (``ltn.Predicate``/``ltn.Function``), so
    the same parameters serve both objectives. Distances are compared with the smooth
    equality ``Eq(x, y) = exp(-alpha |x - y|)`` (LTN's usual choice).
    """

    def __init__(self, model: ConvLTN, alpha: float = 10.0):
        self.model = model
        self.symbols = {name: ltn.Predicate(model.heads[name]) for name in PREDICATES}
        self.symbols.update({name: ltn.Function(model.heads[name]) for name in FUNCTIONS})
        self.crash = ltn.Predicate(model.crash)
        self.equal = ltn.Predicate(func=lambda x, y: torch.exp(-alpha * torch.abs(x - y).sum(dim=1)))
        self.Not = ltn.Connective(ltn.fuzzy_ops.NotStandard())
        self.And = ltn.Connective(ltn.fuzzy_ops.AndProd())
        self.Implies = ltn.Connective(ltn.fuzzy_ops.ImpliesReichenbach())
        self.Forall = ltn.Quantifier(ltn.fuzzy_ops.AggregPMeanError(p=2), quantifier="f")
        self.sat_agg = ltn.fuzzy_ops.SatAgg()

    def satisfaction(self, features: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor:
        """SatAgg of all axioms that have at least one image in this batch (a scalar in [0, 1])."""
        axioms = []

        def variable(name: str, mask: torch.Tensor) -> ltn.Variable | None:
            return ltn.Variable(name, features[mask]) if mask.any() else None

        for name in PREDICATES:
            positive, negative = variable(f"{name}_pos", labels[name] > 0.5), variable(f"{name}_neg", labels[name] < 0.5)
            if positive is not None:
                axioms.append(self.Forall(positive, self.symbols[name](positive)))
            if negative is not None:
                axioms.append(self.Forall(negative, self.Not(self.symbols[name](negative))))
        for vehicle in VEHICLES:
            relevant = labels[OBSTRUCTED[vehicle]] > 0.5
            if relevant.any():
                name = DISTANCE[vehicle]
                image, target = ltn.Variable(f"{name}_im", features[relevant]), ltn.Variable(
                    f"{name}_target", labels[name][relevant][:, None]
                )
                image, target = ltn.diag(image, target)
                axioms.append(self.Forall([image, target], self.equal(self.symbols[name](image), target)))
        crashes, safe = variable("crash_pos", labels["Crash"] > 0.5), variable("crash_neg", labels["Crash"] < 0.5)
        if crashes is not None:
            axioms.append(self.Forall(crashes, self.crash(crashes)))
        if safe is not None:
            axioms.append(self.Forall(safe, self.Not(self.crash(safe))))
        # Rules of the road, true of every image (no labels needed).
        every = ltn.Variable("im", features)
        s = self.symbols
        axioms.append(self.Forall(every, self.Implies(self.Not(s["oe"](every)), self.Not(self.crash(every)))))
        for vehicle, exists in (("small_car", "sce"), ("big_car", "bce"), ("truck", "te")):
            obstructed = s[OBSTRUCTED[vehicle]](every)
            axioms.append(self.Forall(every, self.Implies(obstructed, self.And(s[exists](every), s["oe"](every)))))
        return self.sat_agg(*axioms)


@dataclass
class TrainingHistory:
    """Per-epoch training loss and validation loss (the article's MSE objective for both)."""

    objective: str
    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def _batches(n: int, batch_size: int, generator: torch.Generator | None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@torch.no_grad()
def predict(model: ConvLTN, world: CrashWorld, batch_size: int = 512,
            device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """All outputs of ``model`` on ``world``: a dict of Tensor[N] on the CPU (eval mode, no
    gradients). The batches run on ``device`` (the model is moved there for the call and back)."""
    model.eval()
    with devices.placed(model, device) as device:
        parts = [{name: value.cpu() for name, value in model(_as_float(world.images[index].to(device))).items()}
                 for index in _batches(len(world), batch_size, None)]
    return {name: torch.cat([part[name] for part in parts]) for name in parts[0]}


@contextmanager
def _ltn_device(device: torch.device):
    """LTNtorch moves every ``ltn.Variable`` to the global ``ltn.device`` (chosen at import: CUDA
    when present); inside the block it is ``device``, the one the model trains on."""
    chosen = ltn.device
    ltn.device = device
    try:
        yield
    finally:
        ltn.device = chosen


def train(
    model: ConvLTN,
    train_world: CrashWorld,
    validation_world: CrashWorld,
    *,
    objective: str = "mse",
    max_epochs: int = 10,
    patience: int = 0,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> TrainingHistory:
    """Train ``model`` in place with Adam; returns the loss history.

    ``patience`` > 0 stops once the validation loss has not improved for that many epochs
    (the article trains "until the loss plateaued"); 0 runs exactly ``max_epochs``.
    Validation loss is always the article's MSE objective, so both objectives are comparable.
    ``device``: where the training runs (:func:`nesy.device.resolve`; LTNtorch's variables too);
    the model is moved there for the call and back to where it was, the batch order is drawn
    on the CPU.
    """
    one_of("objective", objective, OBJECTIVES)
    for name, value, low in (("max_epochs", max_epochs, 1), ("batch_size", batch_size, 1), ("patience", patience, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")

    with devices.placed(model, device) as device, _ltn_device(device):
        return _train(model, train_world, validation_world, objective, max_epochs, patience, batch_size,
                      learning_rate, seed, progress, device)


def _train(model, train_world, validation_world, objective, max_epochs, patience, batch_size, learning_rate, seed,
           progress, device) -> TrainingHistory:
    knowledge = LTNKnowledgeBase(model) if objective == "ltn" else None
    history = TrainingHistory(objective)
    best, stale = math.inf, 0
    start = time.perf_counter()

    def batch_loss(index):
        images = _as_float(train_world.images[index].to(device))
        labels = {name: value[index].to(device) for name, value in train_world.labels.items()}
        if knowledge is None:
            return mse_loss(model(images), labels)
        return 1.0 - knowledge.satisfaction(model.encoder(images), labels)

    def after_epoch(_epoch, train_loss, bar):
        nonlocal best, stale
        history.train_loss.append(train_loss)
        history.validation_loss.append(float(mse_loss(predict(model, validation_world, device=device),
                                                      validation_world.labels)))
        bar.set_postfix(train=f"{history.train_loss[-1]:.4f}", validation=f"{history.validation_loss[-1]:.4f}")
        if patience:
            if history.validation_loss[-1] < best - 1e-4:
                best, stale = history.validation_loss[-1], 0
            else:
                stale += 1
        return bool(patience) and stale >= patience

    train_epochs(torch.optim.Adam(model.parameters(), lr=learning_rate), batch_loss, len(train_world),
                 epochs=max_epochs, batch_size=batch_size, generator=torch.Generator().manual_seed(seed),
                 module=model, progress=bool(progress), desc=f"training ({objective})", after_epoch=after_epoch)
    history.seconds = time.perf_counter() - start
    return history


def loss_rows(histories: Mapping[str, TrainingHistory]) -> list[dict]:
    """One row ``{objective, epoch, loss, which}`` per objective, epoch and curve (the training
    objective, the validation MSE) of ``{objective: TrainingHistory}``."""
    return [
        {"objective": objective.upper(), "epoch": epoch + 1, "loss": loss, "which": which}
        for objective, history in histories.items()
        for which, losses in (("training objective", history.train_loss), ("validation MSE", history.validation_loss))
        for epoch, loss in enumerate(losses)
    ]


def validation_metrics(outputs: dict[str, torch.Tensor], labels: dict[str, torch.Tensor]) -> dict[str, float]:
    """Accuracy (%) of the eight truth-valued outputs at threshold 0.5 and distance errors (%).

    ``distance_error`` is the mean absolute error over every obstructed vehicle (the only ones
    whose distance is trained); ``<scd|bcd|td>_error`` per vehicle type.
    """
    metrics = {}
    for name in TRUTH_OUTPUTS:
        truth = labels[name] > 0.5
        metrics[f"{name}_accuracy"] = 100.0 * float(((outputs[name] > 0.5) == truth).float().mean())
    errors = []
    for vehicle in VEHICLES:
        relevant = labels[OBSTRUCTED[vehicle]] > 0.5
        name = DISTANCE[vehicle]
        error = (outputs[name][relevant] - labels[name][relevant]).abs()
        metrics[f"{name}_error"] = 100.0 * float(error.mean()) if len(error) else float("nan")
        errors.append(error)
    metrics["distance_error"] = 100.0 * float(torch.cat(errors).mean())
    return metrics
