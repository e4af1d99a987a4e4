"""A classifier ``C`` on a frozen backbone's last feature map, trained here on its features.

The Vi-SATNet paper's ``C`` is VGG19's classifier: the ``7x7x512`` map flattened, then dense
layers, so every position enters with its own weights, and a position set to the uniform
vector changes the logits by what its own weights make of it. A backbone whose ``C`` is global
average pooling then a linear layer (EfficientNet-Lite0's) lacks that property: a uniform
vector only dilutes a mean. :class:`FlattenClassifier` is a small VGG-like ``C`` with the
property; :class:`PooledClassifier` is the pooling form, for the same training on a backbone
that has no pooled head of its own. :func:`train_classifier` fits either on feature maps
(raw, or with every position's vector normalised, as Vi-SATNet's outputs are).

Departure from VGG19: one hidden layer (VGG19 has two of 4,096 units) and trained on the few
Imagenette training images the chapter uses, not on ImageNet.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nesy import device as devices
from nesy.checks import integer, number, one_of
from nesy.satnet.train import feature_map, feature_vectors
from nesy.satnet.vectors import unit_vectors
from nesy.training import train_epochs

HEADS = ("flatten", "pooled")


class FlattenClassifier(nn.Module):
    """VGG-like ``C``: flatten ``(N, K, H, W)`` -> dense ``hidden`` -> ReLU -> dropout -> dense
    ``classes``, giving logits ``(N, classes)``.

    The flatten order is torch's (channel-major, as VGG19's ``torch.flatten`` of its pool5
    map), so position ``(i, j)`` of channel ``c`` has its own column of the first weight matrix.
    """

    def __init__(self, channels: int, height: int, width: int, classes: int, hidden: int = 128,
                 dropout: float = 0.5):
        super().__init__()
        _check_sizes(channels=channels, height=height, width=width, classes=classes, hidden=hidden)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
        self.shape = (int(channels), int(height), int(width))
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, classes))

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        """``fmap (N, K, H, W)`` -> logits ``(N, classes)``."""
        if tuple(fmap.shape[1:]) != self.shape:
            raise ValueError(f"fmap must be (N, {', '.join(map(str, self.shape))}); got {tuple(fmap.shape)}")
        return self.net(fmap)


class PooledClassifier(nn.Module):
    """``C`` as global average pooling then one linear layer: ``(N, K, H, W)`` -> ``(N, classes)``
    (the form of EfficientNet-Lite0's own head). ``dropout`` acts on the pooled ``(N, K)`` vector;
    ``hidden`` is ignored (accepted so that both heads are built alike)."""

    def __init__(self, channels: int, height: int, width: int, classes: int, hidden: int = 0,
                 dropout: float = 0.0):
        super().__init__()
        _check_sizes(channels=channels, height=height, width=width, classes=classes)
        self.shape = (int(channels), int(height), int(width))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, classes)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        if tuple(fmap.shape[1:]) != self.shape:
            raise ValueError(f"fmap must be (N, {', '.join(map(str, self.shape))}); got {tuple(fmap.shape)}")
        return self.fc(self.dropout(fmap.mean((2, 3))))


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")


def normalise_positions(fmap: torch.Tensor) -> torch.Tensor:
    """Every position's vector of ``fmap (N, K, H, W)`` scaled to unit length (all-zero vectors
    stay zero), as Vi-SATNet's inputs and outputs are. Returns ``(N, K, H, W)``."""
    _, _, h, w = fmap.shape
    return feature_map(unit_vectors(feature_vectors(fmap))[0], h, w)


def train_classifier(fmaps: torch.Tensor, labels: torch.Tensor, *, head: str = "flatten", classes: int | None = None,
                     hidden: int = 128, dropout: float = 0.5, epochs: int = 12, batch_size: int = 64,
                     learning_rate: float = 1e-3, unit: bool = False, seed: int = 0,
                     device: str | torch.device = "cpu") -> nn.Module:
    """Fit a ``C`` on frozen feature maps with Adam and cross-entropy.

    Parameters
    ----------
    fmaps : Tensor (N, K, H, W)
        Training feature maps (raw backbone output).
    labels : Tensor (N,) int64 in ``[0, classes)``.
    head : ``"flatten"`` (:class:`FlattenClassifier`) or ``"pooled"`` (:class:`PooledClassifier`).
    classes : number of classes (default ``labels.max() + 1``).
    hidden, dropout : the flatten head's hidden width and dropout (the pooled head ignores ``hidden``).
    epochs, batch_size, learning_rate : Adam's schedule (one shuffled pass over the N maps per epoch).
    unit : train on :func:`normalise_positions` of the maps instead of the raw maps.
    seed : seeds the initialisation, the batch order and the dropout; the global torch random
        state is left as it was. Same seed, same machine: the same weights.
    device : where the training runs (:func:`nesy.device.resolve`): the initialisation and the
        batch order are drawn on the CPU, each batch is moved there.

    Returns
    -------
    The classifier on the CPU, frozen (``requires_grad=False``) in eval mode; it takes maps as
    given (it does not normalise them itself).
    """
    one_of("head", head, HEADS)
    if fmaps.dim() != 4 or labels.shape != (fmaps.shape[0],):
        raise ValueError(f"fmaps must be (N, K, H, W) and labels (N,); got {tuple(fmaps.shape)}, {tuple(labels.shape)}")
    integer("epochs", epochs, 1)
    integer("batch_size", batch_size, 1)
    number("learning_rate", learning_rate, 0.0, low_open=True)
    classes = int(labels.max()) + 1 if classes is None else classes
    x = (normalise_positions(fmaps) if unit else fmaps).float()
    _, k, h, w = x.shape
    build = FlattenClassifier if head == "flatten" else PooledClassifier
    device = devices.resolve(device)
    with torch.random.fork_rng(devices=devices.rng_devices(device)):
        torch.manual_seed(seed)
        net = build(k, h, w, classes, hidden=hidden, dropout=dropout).to(device)
        train_epochs(torch.optim.Adam(net.parameters(), lr=learning_rate),
                     lambda idx: F.cross_entropy(net(x[idx].to(device)), labels[idx].to(device)), x.shape[0],
                     epochs=epochs, batch_size=batch_size, generator=torch.Generator().manual_seed(seed + 1),
                     module=net)
    net.eval().requires_grad_(False)
    return net.to(devices.CPU)


@torch.no_grad()
def classifier_accuracy(classifier: nn.Module, fmaps: torch.Tensor, labels: torch.Tensor, *, unit: bool = False,
             batch_size: int = 256, device: str | torch.device = "cpu") -> float:
    """Accuracy (%) of ``classifier`` on ``fmaps (N, K, H, W)`` (normalised per position first
    when ``unit``) against ``labels (N,)``; the batches run on ``device`` (the classifier is
    moved there for the call and back)."""
    x = normalise_positions(fmaps) if unit else fmaps
    with devices.placed(classifier, device) as device:
        pred = torch.cat([classifier(x[i:i + batch_size].to(device)).argmax(1).cpu()
                          for i in range(0, x.shape[0], batch_size)])
    return 100.0 * float((pred == labels).float().mean())
