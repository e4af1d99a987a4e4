"""Vi-SATNet (vector-input SATNet) and stock SATNet on one compiled mixing-method kernel.

Public API
----------
ViSATNet
    The layer of the paper: feature vectors (B, n, k) and a mask in, completed unit vectors out.
StockSATNet, stock_mix
    SATNet of Wang et al. (2019): probabilities in, probabilities out, same kernel.
mix, MixFunction, info_dict, INFO_FIELDS, BACKENDS
    The differentiable mixing method on the shared layout, with the back end as a choice:
    ``"kernel"`` (Gram form in the span of the inputs, C++/OpenMP), ``"stock_layout"``
    (locuslab's ``k x m`` layout, C++/OpenMP, the benchmark baseline), ``"reference"``
    (the float64 PyTorch twin in :mod:`nesy.satnet.reference`).
uniform_vector, unit_vectors, init_clauses
    Start vectors, safe normalisation, SATNet's weight initialisation.
"""
from nesy.satnet.function import BACKENDS, INFO_FIELDS, MixFunction, info_dict, mix
from nesy.satnet.layer import ViSATNet
from nesy.satnet.stock import StockSATNet, stock_mix
from nesy.satnet.vectors import init_clauses, uniform_vector, unit_vectors

__all__ = ["BACKENDS", "INFO_FIELDS", "MixFunction", "StockSATNet", "ViSATNet", "info_dict", "init_clauses",
           "mix", "stock_mix", "uniform_vector", "unit_vectors"]
