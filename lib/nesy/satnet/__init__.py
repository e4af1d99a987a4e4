"""Vi-SATNet (vector-input SATNet) and stock SATNet on one compiled mixing-method kernel.

Public API
----------
ViSATNet
    The layer of the paper: feature vectors (B, n, k) and a mask in, completed unit vectors out.
StockSATNet, stock_mix
    SATNet of Wang et al. (2019): probabilities in, probabilities out, same kernel.
mix, MixFunction, info_dict, INFO_FIELDS, BACKENDS
    The differentiable mixing method on the shared layout, with the back end as a choice:
    ``"kernel"`` (Gram form in the span of the inputs, C++, at::parallel_for), ``"stock_layout"``
    (locuslab's ``k x m`` layout, C++, at::parallel_for, the benchmark baseline), ``"reference"``
    (the float64 PyTorch twin in :mod:`nesy.satnet.reference`).
    The compiled back ends are torch ops with registered autograd and fake kernels
    (:mod:`nesy.kernels`); ``MixFunction`` is the twin's autograd.
uniform_vector, unit_vectors, init_clauses
    Start vectors, safe normalisation, SATNet's weight initialisation.
train_visatnet, History, feature_vectors, feature_map, random_masks, cosine_loss, evaluate_loss,
known_mean_completion
    Per-class training on the re-generation task (:mod:`nesy.satnet.train`).
vi_c_agreement, vi_c_agreements, Agreement, decide, masked_baseline, mask_sweep
    Algorithm 1 (with one ``C`` or several on the same completions), Table 1's baseline and the
    mask-ratio sweep (:mod:`nesy.satnet.agreement`).
FlattenClassifier, PooledClassifier, train_classifier, classifier_accuracy, normalise_positions
    A ``C`` trained on a frozen backbone's feature maps: the VGG-like flatten head that reads
    every position, or the pooled one (:mod:`nesy.satnet.classifier`).
minimal_significant_sets, MSF, target_similarity, position_evidence
    Algorithm 2 (:mod:`nesy.satnet.msf`); per-position class evidence.
grid_distances, member_distances, far_member_summary, member_distance_histogram
    Grid distances of an MSF's members from its target, and their histogram against chance
    (Case study 1, Figure 4).
extract_features
    A frozen backbone's feature maps in batches.
effective_receptive_fields, erf_outlines
    Luo et al.'s ERFs of feature positions (:mod:`nesy.satnet.erf`).

The chapter's experiments on top of these (ten per-class Vi-SATNets and their loss rows, the
layer and loss-gap ablations, Table 1 beside the paper's, the MSF case studies) are in
:mod:`nesy.satnet.experiments`, their figures in :mod:`nesy.plots.vi_satnet`.
"""
from nesy.satnet.function import BACKENDS, INFO_FIELDS, MixFunction, info_dict, mix
from nesy.satnet.layer import ViSATNet
from nesy.satnet.stock import StockSATNet, stock_mix
from nesy.satnet.vectors import init_clauses, uniform_vector, unit_vectors
from nesy.satnet.train import (History, cosine_loss, evaluate_loss, feature_map, feature_vectors,
                               known_mean_completion, known_mean_loss, random_masks, train_visatnet)
from nesy.satnet.agreement import Agreement, decide, mask_sweep, masked_baseline, vi_c_agreement, vi_c_agreements
from nesy.satnet.classifier import (FlattenClassifier, PooledClassifier, classifier_accuracy, normalise_positions,
                                   train_classifier)
from nesy.satnet.msf import (MSF, far_member_summary, grid_distances, member_distance_histogram, member_distances,
                             minimal_significant_sets, position_evidence, target_similarity)
from nesy.satnet.features import extract_features
from nesy.satnet.erf import effective_receptive_fields, erf_outlines

__all__ = [
    "BACKENDS", "INFO_FIELDS", "MixFunction", "StockSATNet", "ViSATNet", "info_dict", "init_clauses", "mix",
    "stock_mix", "uniform_vector", "unit_vectors",
    "History", "cosine_loss", "evaluate_loss", "feature_map", "feature_vectors", "known_mean_completion", "known_mean_loss", "random_masks",
    "train_visatnet",
    "Agreement", "decide", "mask_sweep", "masked_baseline", "vi_c_agreement", "vi_c_agreements",
    "FlattenClassifier", "PooledClassifier", "classifier_accuracy", "normalise_positions", "train_classifier",
    "MSF", "minimal_significant_sets", "position_evidence", "target_similarity", "member_distances",
    "far_member_summary", "grid_distances", "member_distance_histogram",
    "extract_features", "effective_receptive_fields", "erf_outlines",
]
