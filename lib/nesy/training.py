"""The library's one training loop: epochs of shuffled mini-batches, one optimiser step each.

Every model the book trains (LeNet-5, the Vi-SATNet layers and their classifiers, the MNIST
MLP of the full-network encoding, the Conv-LTN, the patch-rules networks) goes through
:func:`train_epochs`; what differs between them is the loss of a batch, which the caller gives
as a function of the batch's sample indices.

>>> import torch
>>> w = torch.zeros(1, requires_grad=True)
>>> x = torch.arange(8.0)
>>> losses = train_epochs(torch.optim.SGD([w], lr=0.1), lambda idx: ((w - x[idx]) ** 2).mean(), len(x),
...                       epochs=3, batch_size=4, generator=torch.Generator().manual_seed(0))
>>> len(losses), losses[-1] < losses[0]
(3, True)
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nesy.checks import integer

__all__ = ["train_epochs"]


def train_epochs(optimiser: torch.optim.Optimizer, batch_loss: Callable[[torch.Tensor], torch.Tensor], n: int, *,
                 epochs: int, batch_size: int, generator: torch.Generator,
                 scheduler: torch.optim.lr_scheduler.LRScheduler | None = None, module: nn.Module | None = None,
                 min_batch: int = 1, mean_over: int | None = None, progress: bool | None = False, desc: str = "epochs",
                 after_epoch: Callable[[int, float, object], bool | None] | None = None) -> list[float]:
    """Train for ``epochs`` passes over ``n`` samples; returns each epoch's mean batch loss.

    Each epoch draws a permutation of ``range(n)`` from ``generator`` and splits it into
    batches of ``batch_size`` indices (int64 [B]); a batch smaller than ``min_batch`` is
    skipped (batch norm needs two samples). For each batch: ``loss = batch_loss(idx)`` (a
    scalar; it may draw more from ``generator``, e.g. masks or augmentations), then
    zero_grad, backward, ``optimiser.step()`` and ``scheduler.step()``.

    module: put in train mode at the start of every epoch (``after_epoch`` may evaluate it).
    mean_over: the epoch's mean is its loss sum over ``mean_over`` samples (default: the
    samples trained on). progress: a tqdm bar over the epochs (``None``: tqdm's default, shown
    in notebooks and terminals; ``False``: none). after_epoch: ``after_epoch(epoch,
    mean_loss, bar)``, called after every epoch (``bar.set_postfix`` shows what it measured,
    a no-op without a bar); returning True stops the training (early stopping).
    """
    from tqdm.auto import tqdm

    integer("epochs", epochs, 0)
    integer("batch_size", batch_size, 1)
    bar = tqdm(range(epochs), desc=desc, unit="epoch", leave=False, disable=progress is False)
    history = []
    for epoch in bar:
        if module is not None:
            module.train()
        total, count = 0.0, 0
        for idx in torch.randperm(n, generator=generator).split(batch_size):
            if len(idx) < min_batch:
                continue
            loss = batch_loss(idx)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
            total, count = total + float(loss.detach()) * len(idx), count + len(idx)
        history.append(total / (mean_over or count) if (mean_over or count) else float("nan"))
        if after_epoch is not None and after_epoch(epoch, history[-1], bar) is True:
            break
    bar.close()
    return history
