"""SMUG: symbolic minimal masks on gradient-chosen first-layer neurons (Eqs. 1-4).

Public API::

    linearise(first, image_size, constraint="reference"|"folded") -> AffineConv   # Eq. 3's affine map
    first_layer_ig(model, x, target, n_steps=200) -> (activations, attributions)   # captum
    top_k_neurons(attributions, k, rule="reference") -> LongTensor   # the k largest, best first
    mask_problem(lin, x, neurons, gamma, block=4) -> MaskProblem   # Eq. 3
    solve(problem, backend="highs"|"z3") -> MaskSolution; solve_z3, solve_highs, brute_force
    smug_saliency, smug_base_saliency, receptive_field_map, pixel_mask, rescale, sparsity
    explain(model, x, label, k, gamma) / explain_from_attributions(lin, x, attr, k, gamma)
        -> SmugExplanation
    MLP, train_mlp, full_mask_z3, full_mask_milp, full_mask_brute_force -> FullMaskResult
        # Appendix A: the whole 784-32-10 MNIST network in SMT (Eq. 6)
    evaluate_image(model, lin, x, label, boxes, k, variants) -> ImageEvaluation   # Table 1, one image
    variant_key(constraint, gamma) -> "SMUG@reference:0"
    analysis: the chapter's tables over many images (Table 1 and its side-by-side, the ablation,
        the sweep, Table 2, the two cats); nesy.plots.smug draws its figures

Typical use::

    from nesy import models, smt
    model = models.efficientnet_lite0()
    lin = smt.linearise(model.first, 224)
    _, attr = smt.first_layer_ig(model, x[None], [label])          # x: (3, 224, 224) in [0, 1]
    result = smt.explain_from_attributions(lin, x, attr[0], k=3000, gamma=0.5)
    result.solution.n_blocks, result.smug, result.sparsity_smug
"""

from .full_network import MLP, FullMaskResult, full_mask_brute_force, full_mask_milp, full_mask_z3, logit_margin, train_mlp
from .evaluation import METHODS, ImageEvaluation, evaluate_image, variant_key
from .attribution import first_layer_ig, top_k_neurons
from .linear import CONSTRAINT_MODES, AffineConv, linearise
from .masks import MaskProblem, MaskSolution, brute_force, mask_problem, solve, solve_highs, solve_z3
from .pipeline import SmugExplanation, explain, explain_from_attributions
from .saliency import pixel_mask, receptive_field_map, rescale, smug_base_saliency, smug_saliency, sparsity

__all__ = [
    "METHODS",
    "ImageEvaluation",
    "evaluate_image",
    "variant_key",
    "CONSTRAINT_MODES",
    "MLP",
    "FullMaskResult",
    "full_mask_brute_force",
    "full_mask_milp",
    "full_mask_z3",
    "logit_margin",
    "train_mlp",
    "AffineConv",
    "MaskProblem",
    "MaskSolution",
    "SmugExplanation",
    "brute_force",
    "explain",
    "explain_from_attributions",
    "first_layer_ig",
    "linearise",
    "mask_problem",
    "pixel_mask",
    "receptive_field_map",
    "rescale",
    "smug_base_saliency",
    "smug_saliency",
    "solve",
    "solve_highs",
    "solve_z3",
    "sparsity",
    "top_k_neurons",
]
