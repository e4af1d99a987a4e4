"""Integrated Gradients on first-layer activations (captum), and the top-k neuron choice.

SMUG scores every first-layer neuron by IG of ``softmax(head(h))[label]`` with respect to
the activations h, from the all-zero activation baseline (Sundararajan et al. 2017, as
SMUG's Eq. 1 with the network "second through the final layer"). captum's
``IntegratedGradients`` over the head with ``method="riemann_trapezoid"`` and 200 steps
matches the reference implementation; captum's ``LayerIntegratedGradients`` would not (its
baseline is the layer's response to a baseline *image*, not zero activations).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nesy import device as devices
from nesy.checks import one_of


def first_layer_ig(
    model,
    x: torch.Tensor,
    target,
    *,
    n_steps: int = 200,
    method: str = "riemann_trapezoid",
    internal_batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Activations and their IG attributions, both ``(N, O, H', W')``, on the CPU.

    model: a :class:`nesy.models.SplitModel` (``first``, ``head``).
    x: pixels ``(N, 3, S, S)`` in [0, 1]. target: class index per image (int, list or
        LongTensor ``(N,)``), usually the model's prediction.
    n_steps: IG path points (200 as in SMUG's reference). internal_batch_size: path points
        evaluated per forward/backward pass (16 was fastest on 2 CPU cores for EfficientNet-Lite0
        with its batch norms folded: 41 ms per image and step, against 55 at 8 and 57 at 32).
    device: where the forward and backward passes run (:func:`nesy.device.resolve`); the model
        is moved there for the call and back.
    """
    from captum.attr import IntegratedGradients

    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2; got {n_steps}")
    if x.dim() != 4:
        raise ValueError(f"x must be (N, 3, S, S); got shape {list(x.shape)}")
    target = torch.as_tensor(target, dtype=torch.int64).reshape(-1)
    if target.numel() == 1 and x.shape[0] > 1:
        target = target.expand(x.shape[0])
    with devices.placed(model, device) as device:
        with torch.no_grad():
            h = model.first(x.to(device))

        def probability(activations: torch.Tensor) -> torch.Tensor:
            activations = activations.contiguous(memory_format=torch.channels_last)  # faster depthwise convs on CPU
            return F.softmax(model.head(activations), dim=1)

        ig = IntegratedGradients(probability)
        attr = ig.attribute(
            h,
            baselines=torch.zeros_like(h),
            target=target.to(device),
            n_steps=n_steps,
            method=method,
            internal_batch_size=internal_batch_size,
        )
    return h.detach().cpu(), attr.detach().contiguous().cpu()


TOP_K_RULES = ("reference", "positive")


def top_k_neurons(attributions: torch.Tensor, k: int, rule: str = "reference") -> torch.Tensor:
    """Flat (channel-major) indices of the k neurons with the largest signed attribution,
    best first. attributions: ``(O, H', W')`` for one image.

    rule: ``"reference"`` keeps the k largest whatever their sign, as google-research
    ``smug_saliency`` does (it then constrains only those whose pre-activation is positive,
    which :func:`~nesy.smt.masks.mask_problem` does for either rule); ``"positive"`` also drops
    the non-positive attributions, so fewer than k may be returned.
    """
    if attributions.dim() != 3:
        raise ValueError(f"attributions must be (O, H', W') for one image; got shape {list(attributions.shape)}")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    one_of("rule", rule, TOP_K_RULES)
    flat = attributions.reshape(-1)
    values, order = torch.topk(flat, min(k, flat.numel()), sorted=True)
    return order if rule == "reference" else order[values > 0]
