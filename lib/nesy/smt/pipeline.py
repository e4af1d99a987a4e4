"""SMUG end to end for one image: IG on the first layer, top-k, minimal mask, saliency maps."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .attribution import first_layer_ig, top_k_neurons
from .linear import AffineConv, linearise
from .masks import MaskProblem, MaskSolution, mask_problem, solve
from .saliency import smug_base_saliency, smug_saliency, sparsity


@dataclass(frozen=True)
class SmugExplanation:
    """One image's SMUG result.

    neurons: the top-k neurons ``(K,)``; attributions: their IG ``(K,)``.
    problem, solution: the mask problem and its solve (``solution.status`` may be
    ``"unknown"``; then ``smug`` is all zero, as the reference's empty mask).
    smug, smug_base: saliency maps float64 ``(H, W)``; sparsity_smug, sparsity_base:
    fractions of non-zero pixels. empty_mask: the empty mask already satisfied every
    constraint (the degenerate case at gamma = 0 with EfficientNet-Lite0's biases).
    """

    k: int
    gamma: float
    neurons: torch.Tensor
    attributions: torch.Tensor
    problem: MaskProblem
    solution: MaskSolution
    smug: torch.Tensor
    smug_base: torch.Tensor
    sparsity_smug: float
    sparsity_base: float
    empty_mask: bool


def explain_from_attributions(
    lin: AffineConv,
    x: torch.Tensor,
    attributions: torch.Tensor,
    k: int,
    gamma: float,
    *,
    block: int = 4,
    masked_value=None,
    backend: str = "highs",
    top_k_rule: str = "reference",
    reduce: str = "sum",
    scale: bool = True,
    **solver_options,
) -> SmugExplanation:
    """SMUG for one image from its first-layer IG ``(O, H', W')`` (reuse it across k and gamma).

    x: pixels ``(3, H, W)`` in [0, 1]. lin: the first layer in the chosen constraint mode
    (:func:`~nesy.smt.linear.linearise`). top_k_rule: see :func:`~nesy.smt.attribution.top_k_neurons`.
    Other arguments as :func:`~nesy.smt.masks.mask_problem`,
    :func:`~nesy.smt.masks.solve` (``backend``, ``timeout_s`` / ``time_limit_s``) and
    :func:`~nesy.smt.saliency.smug_saliency` (``reduce``, ``scale``).
    """
    neurons = top_k_neurons(attributions, k, top_k_rule)
    values = attributions.reshape(-1)[neurons]
    problem = mask_problem(lin, x, neurons, gamma, block=block, masked_value=masked_value)
    solution = solve(problem, backend, **solver_options)
    base = smug_base_saliency(lin, neurons, values, reduce=reduce, scale=scale)
    smug = smug_saliency(lin, neurons, values, solution.block_mask, block, reduce=reduce, scale=scale)
    return SmugExplanation(
        k=k,
        gamma=gamma,
        neurons=neurons,
        attributions=values,
        problem=problem,
        solution=solution,
        smug=smug,
        smug_base=base,
        sparsity_smug=sparsity(smug),
        sparsity_base=sparsity(base),
        empty_mask=problem.empty_mask_feasible,
    )


def explain(model, x: torch.Tensor, label: int, k: int = 3000, gamma: float = 0.0, *, n_steps: int = 200,
            constraint: str = "reference", device: str | torch.device = "cpu", **options) -> SmugExplanation:
    """SMUG for one image ``(3, S, S)`` (pixels in [0, 1]) and class `label` with a
    :class:`nesy.models.SplitModel`: IG (``n_steps``, on ``device``), top-k, mask (in the
    `constraint` mode), maps. ``options`` go to :func:`explain_from_attributions`."""
    lin = linearise(model.first, tuple(x.shape[-2:]), constraint)
    _, attr = first_layer_ig(model, x[None], [label], n_steps=n_steps, device=device)
    return explain_from_attributions(lin, x, attr[0], k, gamma, **options)
