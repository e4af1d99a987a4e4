// Rule extraction operators (QIL binning, Fidex hyperplane search). Kernels: csrc/rules/cpu/.
// Python wrappers: lib/nesy/rules/fidex.py; pure-Python twin: lib/nesy/rules/twin.py.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(nesy, m) {
  // bins[j, i] = number of hyperplanes hyperplanes[j, :] (non-decreasing) that are <= x[i, j].
  // x: [N, D] float64, hyperplanes: [D, K] float64 -> [D, N] uint8 (K < 255) or int16.
  m.def("rules_bins(Tensor x, Tensor hyperplanes) -> Tensor");
  // cum[c, j, k] = #{i : preds[i] == c and bins[j, i] <= k}; row c = n_classes counts all samples.
  // bins: [D, N], preds: [N] int64 -> [n_classes + 1, D, n_hyperplanes] int32.
  m.def("rules_cumcounts(Tensor bins, Tensor preds, int n_classes, int n_hyperplanes) -> Tensor");
  // Fidex for a batch of samples (one independent random stream per sample id).
  // Returns (status [S], n_antecedents [S], antecedent_dim [S, max_it], antecedent_hyp [S, max_it],
  //          fidelity [S], target_fidelity [S], target_covering [S], covered_ptr [S + 1], covered_idx [nnz]).
  m.def(
      "fidex(Tensor bins, Tensor preds, Tensor cum, Tensor sample_bins, Tensor sample_preds, "
      "Tensor sample_ids, int seed, int max_iterations, int min_covering, bool covering_strategy, "
      "int max_failed_attempts, float min_fidelity, float lowest_min_fidelity, float dropout_dim, "
      "float dropout_hyp, int n_threads) -> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, "
      "Tensor, Tensor)");
}
