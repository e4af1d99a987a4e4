// locuslab/SATNet's layout of the same algorithm, written here as the benchmark baseline (the
// PyPI package does not build): per sample W = V^T S (k x m) is kept up to date,
// g_o = W s_o - |s_o|^2 v_o and W += (v_o^new - v_o^old) s_o^T, about 4 k m flops per update.
// The backward keeps Phi = U^T S likewise and solves SATNet's full-space system with the whole
// dl/dV (no split along the span), then dS = U W + V Phi and dl/dv_i = G_i + Phi s_i.
// Same update order, stopping rule and degenerate-|g| guard as mix_kernel.cpp.
#include <algorithm>

#include "mix_common.h"
#include "mix_kernel.h"

namespace nesy {
namespace satnet {
namespace {

// Threshold on |g_o| per output: 100 eps * sum_{j != o} |c_oj| |v_j| (outputs count as unit).
template <typename T>
T g_scale(const T* C, const T* V0b, const bool* is_out_b, int64_t N, int64_t k, int64_t o) {
  T s = 0;
  for (int64_t j = 0; j < N; ++j) {
    if (j == o) continue;
    const T nj = is_out_b[j] ? T(1) : std::sqrt(dot(V0b + j * k, V0b + j * k, k));
    s += std::abs(C[o * N + j]) * nj;
  }
  return g_tolerance<T>() * s;
}

template <typename T>
void forward_sample(const T* S, const T* C, const T* Snrm, const T* V0b, const bool* is_out_b, const int64_t* order,
                    int64_t N, int64_t m, int64_t k, int64_t max_iter, T eps, T* W, T* Vb, T* gnrm_b,
                    int64_t* info_b) {
  std::vector<int64_t> outs, ins;
  split_variables(is_out_b, order, N, outs, ins);
  const int64_t nO = outs.size();
  std::copy(V0b, V0b + N * k, Vb);
  std::fill(info_b, info_b + kInfoCols, int64_t(0));
  if (nO == 0) return;
  info_b[kRank] = info_b[kSweepDim] = k;
  std::vector<T> scale(nO), g(k), dv(k);
  std::vector<char> degenerate(nO, 0);
  for (int64_t p = 0; p < nO; ++p) scale[p] = g_scale(C, V0b, is_out_b, N, k, outs[p]);
  T eps_abs = 0;
  int64_t it = 0;
  while (it < max_iter) {
    T delta = 0;
    for (int64_t p = 0; p < nO; ++p) {
      const int64_t o = outs[p];
      const T* so = S + o * m;
      T* vo = Vb + o * k;
      for (int64_t c = 0; c < k; ++c) g[c] = dot(W + c * m, so, m) - Snrm[o] * vo[c];
      const T gnorm = std::sqrt(dot(g.data(), g.data(), k));
      if (!(gnorm > scale[p])) {
        degenerate[p] = 1;
        gnrm_b[o] = 0;
        continue;
      }
      degenerate[p] = 0;
      gnrm_b[o] = gnorm;
      const T inv = T(1) / gnorm;
      T d = 0;
      for (int64_t c = 0; c < k; ++c) {
        const T t = -g[c] * inv;
        dv[c] = t - vo[c];
        d += dv[c] * dv[c];
        vo[c] = t;
      }
      delta += gnorm * d;
      for (int64_t c = 0; c < k; ++c) axpy(W + c * m, dv[c], so, m);
    }
    ++it;
    if (it == 1)
      eps_abs = eps * delta;
    else if (delta < eps_abs)
      break;
  }
  info_b[kSweeps] = it;
  info_b[kDegenerate] = std::count(degenerate.begin(), degenerate.end(), 1);
}

template <typename T>
void backward_sample(const T* S, const T* Snrm, const T* Vb, const T* W, const T* Gb, const bool* is_out_b,
                     const int64_t* order, int64_t N, int64_t m, int64_t k, int64_t niter, const T* gnrm_b,
                     T prox_lam, T* Phi, T* dSb, T* dVb) {
  std::vector<int64_t> outs, ins;
  split_variables(is_out_b, order, N, outs, ins);
  const int64_t nO = outs.size();
  for (int64_t i : ins) std::copy(Gb + i * k, Gb + (i + 1) * k, dVb + i * k);
  if (nO == 0) return;
  std::vector<T> U(N * k, T(0)), g(k), du(k);
  for (int64_t it = 0; it < niter; ++it) {
    for (int64_t p = 0; p < nO; ++p) {
      const int64_t o = outs[p];
      if (!(gnrm_b[o] > 0)) continue;
      const T* so = S + o * m;
      const T* vo = Vb + o * k;
      T* uo = U.data() + o * k;
      for (int64_t c = 0; c < k; ++c) g[c] = dot(Phi + c * m, so, m) - Snrm[o] * uo[c] + Gb[o * k + c];
      const T cv = dot(vo, g.data(), k);
      const T inv = T(-1) / (gnrm_b[o] + prox_lam);
      for (int64_t c = 0; c < k; ++c) {
        const T t = (g[c] - cv * vo[c]) * inv;
        du[c] = t - uo[c];
        uo[c] = t;
      }
      for (int64_t c = 0; c < k; ++c) axpy(Phi + c * m, du[c], so, m);
    }
  }
  for (int64_t i = 0; i < N; ++i) {
    T* dsi = dSb + i * m;
    for (int64_t c = 0; c < k; ++c) {
      if (is_out_b[i]) axpy(dsi, U[i * k + c], W + c * m, m);
      axpy(dsi, Vb[i * k + c], Phi + c * m, m);
    }
  }
  for (int64_t i : ins)
    for (int64_t c = 0; c < k; ++c) dVb[i * k + c] += dot(Phi + c * m, S + i * m, m);
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> stock_layout_forward_cpu(const at::Tensor& S_, const at::Tensor& V0_,
                                                                        const at::Tensor& is_output_,
                                                                        const at::Tensor& order_, int64_t max_iter,
                                                                        double eps) {
  check_forward_args(S_, V0_, is_output_, order_, max_iter, eps);
  const auto S = S_.contiguous();
  const auto V0 = V0_.contiguous();
  const auto is_output = is_output_.contiguous();
  const auto order = order_.contiguous();
  const int64_t B = V0.size(0), N = V0.size(1), k = V0.size(2), m = S.size(1);
  const auto C = at::mm(S, S.t()).contiguous();
  const auto Snrm = S.pow(2).sum(1).contiguous();
  auto W = at::matmul(V0.transpose(1, 2), S).contiguous();  // (B, k, m)
  auto V = at::empty_like(V0);
  auto gnrm = at::zeros({B, N}, S.options());
  auto info = at::zeros({B, kInfoCols}, S.options().dtype(at::kLong));
  const int nthreads = batch_threads(B);
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_stock_layout_forward", [&] {
    const scalar_t* Sp = S.data_ptr<scalar_t>();
    const scalar_t* Cp = C.data_ptr<scalar_t>();
    const scalar_t* Np = Snrm.data_ptr<scalar_t>();
    const scalar_t* V0p = V0.data_ptr<scalar_t>();
    const bool* outp = is_output.data_ptr<bool>();
    const int64_t* ordp = order.data_ptr<int64_t>();
    scalar_t* Wp = W.data_ptr<scalar_t>();
    scalar_t* Vp = V.data_ptr<scalar_t>();
    scalar_t* gp = gnrm.data_ptr<scalar_t>();
    int64_t* ip = info.data_ptr<int64_t>();
    for_each_sample(B, nthreads, [&](int64_t b) {
      forward_sample<scalar_t>(Sp, Cp, Np, V0p + b * N * k, outp + b * N, ordp, N, m, k, max_iter,
                               static_cast<scalar_t>(eps), Wp + b * k * m, Vp + b * N * k, gp + b * N,
                               ip + b * kInfoCols);
    });
  });
  return {V, info, gnrm};
}

std::tuple<at::Tensor, at::Tensor> stock_layout_backward_cpu(const at::Tensor& S_, const at::Tensor& V_,
                                                             const at::Tensor& is_output_, const at::Tensor& order_,
                                                             const at::Tensor& info_, const at::Tensor& gnrm_,
                                                             const at::Tensor& grad_, double prox_lam) {
  check_forward_args(S_, V_, is_output_, order_, 0, 0.0);
  check_backward_args(S_, V_, info_, grad_, prox_lam);
  TORCH_CHECK(gnrm_.sizes() == at::IntArrayRef({V_.size(0), V_.size(1)}) && gnrm_.scalar_type() == S_.scalar_type(),
              "satnet_stock_layout_backward: gnrm (B, N) from the forward expected, got ", gnrm_.sizes());
  const auto S = S_.contiguous();
  const auto V = V_.contiguous();
  const auto is_output = is_output_.contiguous();
  const auto order = order_.contiguous();
  const auto gnrm = gnrm_.contiguous();
  const auto info = info_.contiguous();
  const auto grad = grad_.contiguous();
  const int64_t B = V.size(0), N = V.size(1), k = V.size(2), m = S.size(1);
  const auto Snrm = S.pow(2).sum(1).contiguous();
  const auto W = at::matmul(V.transpose(1, 2), S).contiguous();  // at the solution
  auto Phi = at::zeros({B, k, m}, S.options());
  auto dS = at::zeros({B, N, m}, S.options());
  auto dV0 = at::zeros_like(V);
  const int nthreads = batch_threads(B);
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_stock_layout_backward", [&] {
    const scalar_t* Sp = S.data_ptr<scalar_t>();
    const scalar_t* Np = Snrm.data_ptr<scalar_t>();
    const scalar_t* Vp = V.data_ptr<scalar_t>();
    const scalar_t* Wp = W.data_ptr<scalar_t>();
    const scalar_t* Gp = grad.data_ptr<scalar_t>();
    const bool* outp = is_output.data_ptr<bool>();
    const int64_t* ordp = order.data_ptr<int64_t>();
    const scalar_t* gnp = gnrm.data_ptr<scalar_t>();
    const int64_t* ip = info.data_ptr<int64_t>();
    scalar_t* Php = Phi.data_ptr<scalar_t>();
    scalar_t* dSp = dS.data_ptr<scalar_t>();
    scalar_t* dVp = dV0.data_ptr<scalar_t>();
    for_each_sample(B, nthreads, [&](int64_t b) {
      backward_sample<scalar_t>(Sp, Np, Vp + b * N * k, Wp + b * k * m, Gp + b * N * k, outp + b * N, ordp, N, m, k,
                                ip[b * kInfoCols + kSweeps], gnp + b * N, static_cast<scalar_t>(prox_lam),
                                Php + b * k * m,
                                dSp + b * N * m, dVp + b * N * k);
    });
  });
  return {dS.sum(0), dV0};
}

}  // namespace satnet
}  // namespace nesy
