"""Training per-class Vi-SATNets on the feature re-generation task (the paper's Sec. 4.1).

Each class gets its own :class:`~nesy.satnet.ViSATNet`, trained only on that class's feature
vectors with random masks and the cosine loss ``1 - d(v_hat_o, v_o)`` (Eq. 5) averaged over
the masked vectors of each image and then over the batch ("per image per re-generated
feature vector", as Figure 3 plots it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nesy.satnet.layer import ViSATNet
from nesy.satnet.vectors import unit_vectors
from nesy.training import train_epochs


def feature_vectors(fmap: torch.Tensor) -> torch.Tensor:
    """Feature map ``(N, K, H, W)`` -> feature vectors ``(N, H*W, K)`` in the paper's Eq. 1 order
    (position ``i`` is row ``i // W``, column ``i % W``)."""
    if fmap.dim() != 4:
        raise ValueError(f"fmap must be (N, K, H, W); got shape {tuple(fmap.shape)}")
    return fmap.flatten(2).transpose(1, 2).contiguous()


def feature_map(vectors: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`feature_vectors`: ``(N, H*W, K)`` -> ``(N, K, H, W)``."""
    if vectors.dim() != 3 or vectors.shape[1] != height * width:
        raise ValueError(f"vectors must be (N, {height * width}, K); got shape {tuple(vectors.shape)}")
    return vectors.transpose(1, 2).reshape(vectors.shape[0], vectors.shape[2], height, width)


def random_masks(batch: int, n: int, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """``(batch, n)`` bool masks, each with exactly ``round(ratio * n)`` positions True (missing),
    drawn uniformly without replacement."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1]; got {ratio!r}")
    count = round(ratio * n)
    ranks = torch.rand(batch, n, generator=generator).argsort(dim=1).argsort(dim=1)
    return ranks < count


def cosine_loss(output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 5 per image: mean over masked positions of ``1 - cos(output_o, target_o)``.

    output, target : (B, n, k); mask : (B, n) bool. Positions whose target is all zero (no
    direction) are left out. Returns (B,); an image with no usable masked position gives 0.
    """
    t, zero = unit_vectors(target)
    o, _ = unit_vectors(output)
    use = mask & ~zero
    per = (1.0 - (o * t).sum(-1)) * use
    return per.sum(1) / use.sum(1).clamp(min=1)


@dataclass
class History:
    """Per-epoch mean losses (Eq. 5) of one Vi-SATNet: ``train`` over the epoch's batches,
    ``val`` on the validation vectors with fixed masks (drawn once from the seed)."""

    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)


def train_visatnet(train: torch.Tensor, val: torch.Tensor, *, m: int, epochs: int, batch_size: int = 8,
                   mask_ratio: float = 0.4, learning_rate: float = 2e-3, aux: int = 0, truth: bool = False,
                   seed: int = 0, on_epoch=None) -> tuple[ViSATNet, History]:
    """Train one Vi-SATNet on one class's feature vectors.

    Runs on the CPU, whatever a chapter's ``device``: the layer's forward and backward are the
    compiled mixing-method kernel (``nesy._C``, CPU only), and what is pure torch around it (the
    masks, the Eq. 5 loss, Adam on ``S``) is a few small tensor operations per batch: nothing
    worth moving to a GPU.

    Parameters
    ----------
    train, val : Tensor (N, n, k)
        Feature vectors (raw; the layer normalises them) of training / validation images.
    m, aux, truth : the layer's clause rank, auxiliary variables and truth variable.
    epochs, batch_size, mask_ratio : as in the paper (50, 8, 0.4).
    learning_rate : Adam's (SATNet's Sudoku setting: 2e-3).
    seed : seeds the layer, the batch order and the masks.
    on_epoch : optional callable(epoch, History) called after every epoch.

    Returns
    -------
    (layer, History)
    """
    if train.dim() != 3 or val.dim() != 3 or train.shape[1:] != val.shape[1:]:
        raise ValueError(f"train and val must be (N, n, k) with equal n, k; got {tuple(train.shape)}, {tuple(val.shape)}")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1; got {epochs}, {batch_size}")
    n, k = train.shape[1:]
    layer = ViSATNet(n, m, k, aux=aux, truth=truth, seed=seed)
    gen = torch.Generator().manual_seed(seed + 7)
    val_masks = random_masks(val.shape[0], n, mask_ratio, torch.Generator().manual_seed(seed + 11))
    history = History()

    def batch_loss(idx):
        x = train[idx]
        mask = random_masks(x.shape[0], n, mask_ratio, gen)
        return cosine_loss(layer(x, mask), x, mask).mean()

    def after_epoch(epoch, train_loss, _bar):
        history.train.append(train_loss)
        history.val.append(evaluate_loss(layer, val, val_masks))
        if on_epoch is not None:
            on_epoch(epoch, history)

    train_epochs(torch.optim.Adam(layer.parameters(), lr=learning_rate), batch_loss, train.shape[0], epochs=epochs,
                 batch_size=batch_size, generator=gen, after_epoch=after_epoch)
    return layer, history


@torch.no_grad()
def evaluate_loss(layer: ViSATNet, vectors: torch.Tensor, masks: torch.Tensor, batch_size: int = 256) -> float:
    """Mean Eq.-5 loss of `layer` over images ``vectors (N, n, k)`` with ``masks (N, n)``."""
    losses = [cosine_loss(layer(vectors[i:i + batch_size], masks[i:i + batch_size]), vectors[i:i + batch_size],
                          masks[i:i + batch_size]) for i in range(0, vectors.shape[0], batch_size)]
    return float(torch.cat(losses).mean())


def known_mean_loss(vectors: torch.Tensor, ratio: float, seed: int) -> float:
    """Mean Eq. 5 loss of :func:`known_mean_completion` on ``vectors (B, n, k)`` with
    ``random_masks(B, n, ratio)`` drawn from ``torch.Generator().manual_seed(seed)``: the trivial
    completion's loss, the scale against which a Vi-SATNet's loss is read."""
    masks = random_masks(vectors.shape[0], vectors.shape[1], ratio, torch.Generator().manual_seed(seed))
    return float(cosine_loss(known_mean_completion(vectors, masks), vectors, masks).mean())


def known_mean_completion(vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """A trivial baseline completion: every masked vector becomes the normalised mean of the
    image's known (normalised) vectors. vectors (B, n, k), mask (B, n) -> (B, n, k); compare
    its :func:`cosine_loss` with a Vi-SATNet's to see what the learned rules add."""
    v, _ = unit_vectors(vectors)
    mean, _ = unit_vectors((v * (~mask)[..., None]).sum(1, keepdim=True))
    return torch.where(mask[..., None], mean.expand_as(v), v)
