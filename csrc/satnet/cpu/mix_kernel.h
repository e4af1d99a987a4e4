// Kernels of the Vi-SATNet / SATNet mixing method (CPU, torch's threads over the batch).
//
// Shared layout: S (N, m); V0 (B, N, k) with inputs in input rows and start vectors in output
// rows; is_output (B, N) bool; order (N,) int64, the update order. Both forwards return
// V (B, N, k) and info (B, 5) int64 = [sweeps, rank of the span, dimension the sweeps ran in,
// degenerate outputs, linearly dependent nonzero inputs], then their own state for the backward;
// both backwards return (dS (N, m), dV0 (B, N, k)).
// The algorithm and its gradient are documented in lib/nesy/satnet/reference.py.
#pragma once

#include <ATen/ATen.h>

#include <tuple>
#include <vector>

namespace nesy {
namespace satnet {

// Gram form (C = S S^T) in an orthonormal basis of the span of each sample's V0 rows. The forward
// returns (V, info, state, kept, C): state (B, *) holds what the backward reuses per sample (the
// basis, coordinates, |g_o|; layout in mix_kernel.cpp), kept (B, min(N, k)) int64 the variable
// whose row made each basis vector (-1 past the rank), C = S S^T (N, N).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> mix_forward_cpu(
    const at::Tensor& S, const at::Tensor& V0, const at::Tensor& is_output, const at::Tensor& order, int64_t max_iter,
    double eps);
std::tuple<at::Tensor, at::Tensor> mix_backward_cpu(const at::Tensor& S, const at::Tensor& V,
                                                    const at::Tensor& is_output, const at::Tensor& order,
                                                    const at::Tensor& info, const at::Tensor& state,
                                                    const at::Tensor& kept, const at::Tensor& C,
                                                    const at::Tensor& grad, double prox_lam);

// locuslab/SATNet's layout (W = V^T S, k x m, per sample), kept as the benchmark baseline. The
// forward returns (V, info, gnrm).
std::tuple<at::Tensor, at::Tensor, at::Tensor> stock_layout_forward_cpu(const at::Tensor& S, const at::Tensor& V0,
                                                                        const at::Tensor& is_output,
                                                                        const at::Tensor& order, int64_t max_iter,
                                                                        double eps);
std::tuple<at::Tensor, at::Tensor> stock_layout_backward_cpu(const at::Tensor& S, const at::Tensor& V,
                                                             const at::Tensor& is_output, const at::Tensor& order,
                                                             const at::Tensor& info, const at::Tensor& gnrm,
                                                             const at::Tensor& grad, double prox_lam);

}  // namespace satnet
}  // namespace nesy
