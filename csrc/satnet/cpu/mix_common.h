// Shared pieces of the two mixing-method kernels (Gram/subspace layout in mix_kernel.cpp,
// locuslab's k x m layout in stock_layout_kernel.cpp): argument checks, per-sample index
// lists, small vector helpers. See lib/nesy/satnet/reference.py for the algorithm.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../../parallel.h"

namespace nesy {
namespace satnet {

// Columns of the per-sample info tensor (B, kInfoCols), int64.
enum InfoCol { kSweeps = 0, kRank = 1, kSweepDim = 2, kDegenerate = 3, kDependent = 4, kInfoCols = 5 };
// Most coordinate-descent sweeps a forward may run (and a backward replay).
constexpr int64_t kMaxSweeps = 1000000;

// Checks shared by the forward and backward ops (V0: the forward's input or output rows).
inline void check_forward_args(const at::Tensor& S, const at::Tensor& V0, const at::Tensor& is_output,
                               const at::Tensor& order, int64_t max_iter, double eps) {
  TORCH_CHECK(S.dim() == 2, "satnet: S must be (N, m), got ", S.sizes());
  TORCH_CHECK(V0.dim() == 3, "satnet: V0 must be (B, N, k), got ", V0.sizes());
  TORCH_CHECK(V0.size(1) == S.size(0), "satnet: V0 has N=", V0.size(1), " rows per sample but S has N=", S.size(0));
  TORCH_CHECK(V0.scalar_type() == S.scalar_type(), "satnet: V dtype ", V0.scalar_type(), " differs from S dtype ",
              S.scalar_type());
  TORCH_CHECK(is_output.scalar_type() == at::kBool, "satnet: is_output must be bool, got ", is_output.scalar_type());
  TORCH_CHECK(is_output.dim() == 2 && is_output.size(0) == V0.size(0) && is_output.size(1) == V0.size(1),
              "satnet: is_output must be (B, N) = (", V0.size(0), ", ", V0.size(1), "), got ", is_output.sizes());
  TORCH_CHECK(order.scalar_type() == at::kLong && order.dim() == 1 && order.size(0) == S.size(0),
              "satnet: order must be int64 (N,) with N=", S.size(0), ", got ", order.scalar_type(), " ", order.sizes());
  TORCH_CHECK(max_iter >= 0 && max_iter <= kMaxSweeps, "satnet: max_iter must be in [0, ", kMaxSweeps, "], got ",
              max_iter);
  TORCH_CHECK(eps >= 0, "satnet: eps must be >= 0, got ", eps);
  TORCH_CHECK(S.device().is_cpu() && V0.device().is_cpu(), "satnet: CPU tensors expected");
  const int64_t N = S.size(0);
  std::vector<char> seen(N, 0);
  auto o = order.contiguous();
  const int64_t* op = o.data_ptr<int64_t>();
  for (int64_t i = 0; i < N; ++i) {
    TORCH_CHECK(op[i] >= 0 && op[i] < N && !seen[op[i]], "satnet: order must be a permutation of 0..", N - 1);
    seen[op[i]] = 1;
  }
}

inline void check_backward_args(const at::Tensor& S, const at::Tensor& V, const at::Tensor& info,
                                const at::Tensor& grad, double prox_lam) {
  TORCH_CHECK(grad.sizes() == V.sizes(), "satnet: grad ", grad.sizes(), " must match V ", V.sizes());
  TORCH_CHECK(V.scalar_type() == S.scalar_type() && grad.scalar_type() == S.scalar_type(),
              "satnet: V and grad must have S's dtype ", S.scalar_type());
  TORCH_CHECK(info.scalar_type() == at::kLong && info.dim() == 2 && info.size(0) == V.size(0) &&
                  info.size(1) == kInfoCols,
              "satnet: info must be int64 (B, ", int(kInfoCols), "), got ", info.scalar_type(), " ", info.sizes());
  TORCH_CHECK(prox_lam >= 0, "satnet: prox_lam must be >= 0, got ", prox_lam);
  // info comes from the forward: its rank and sweep counts size the backward's work and buffers
  const int64_t k = V.size(2);
  const auto ic = info.contiguous();
  const int64_t* ip = ic.data_ptr<int64_t>();
  for (int64_t b = 0; b < info.size(0); ++b) {
    const int64_t rank = ip[b * kInfoCols + kRank], sweeps = ip[b * kInfoCols + kSweeps];
    TORCH_CHECK(rank >= 0 && rank <= k, "satnet: info[", b, "] rank ", rank, " must be in [0, ", k,
                "] (info must be the forward's)");
    TORCH_CHECK(sweeps >= 0 && sweeps <= kMaxSweeps, "satnet: info[", b, "] sweeps ", sweeps, " must be in [0, ",
                kMaxSweeps, "] (info must be the forward's)");
  }
}

// Output variables of sample b in update order, input variables in natural order.
inline void split_variables(const bool* is_out_b, const int64_t* order, int64_t N, std::vector<int64_t>& outs,
                            std::vector<int64_t>& ins) {
  outs.clear();
  ins.clear();
  for (int64_t t = 0; t < N; ++t)
    if (is_out_b[order[t]]) outs.push_back(order[t]);
  for (int64_t i = 0; i < N; ++i)
    if (!is_out_b[i]) ins.push_back(i);
}

template <typename T>
inline T dot(const T* __restrict__ x, const T* __restrict__ y, int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

template <typename T>
inline void axpy(T* __restrict__ y, T a, const T* __restrict__ x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// The SIMD vector of T for the CPU capability this extension is compiled for (setup.py: AVX2, 4
// doubles, on AVX2 and AVX512 machines; DEFAULT, at::vec's portable array, elsewhere), as ATen
// compiles its cpu/ kernels once per capability; nesy._C.cpu_capability names it.
template <typename T>
using Vec = at::vec::Vectorized<T>;

// Sum of the lanes of v.
template <typename T>
inline T lane_sum(const Vec<T>& v) {
  return at::vec::vec_reduce_all<T>([](Vec<T>& a, Vec<T>& b) { return a + b; }, v);
}

// out[0:d] = base[0:d] + sum_{q<n} c[q] X[q*stride : q*stride + d] (base may be null or alias
// out). The sums stay in vector registers, in two chains over q, instead of round-tripping
// through memory once per q: the short rows of the mixing method are latency-bound, not
// flop-bound.
template <typename T, int NV>
inline void combo_block(int64_t n, int64_t stride, int64_t l0, const T* __restrict__ c, const T* base,
                        const T* __restrict__ X, T* out) {
  using V = Vec<T>;
  constexpr int W = V::size();
  V s0[NV], s1[NV];
  for (int j = 0; j < NV; ++j) {
    s0[j] = base ? V::loadu(base + l0 + j * W) : V(T(0));
    s1[j] = V(T(0));
  }
  int64_t q = 0;
  for (; q + 1 < n; q += 2) {
    const V c0(c[q]), c1(c[q + 1]);
    const T* x0 = X + q * stride + l0;
    const T* x1 = x0 + stride;
    for (int j = 0; j < NV; ++j) {
      s0[j] = at::vec::fmadd(c0, V::loadu(x0 + j * W), s0[j]);
      s1[j] = at::vec::fmadd(c1, V::loadu(x1 + j * W), s1[j]);
    }
  }
  if (q < n) {
    const V c0(c[q]);
    const T* x0 = X + q * stride + l0;
    for (int j = 0; j < NV; ++j) s0[j] = at::vec::fmadd(c0, V::loadu(x0 + j * W), s0[j]);
  }
  for (int j = 0; j < NV; ++j) (s0[j] + s1[j]).store(out + l0 + j * W);
}

template <typename T>
inline void combo(int64_t n, int64_t d, int64_t stride, const T* c, const T* base, const T* X, T* out) {
  constexpr int W = Vec<T>::size();
  int64_t l0 = 0;
  for (; l0 + 4 * W <= d; l0 += 4 * W) combo_block<T, 4>(n, stride, l0, c, base, X, out);
  switch ((d - l0) / W) {
    case 3: combo_block<T, 3>(n, stride, l0, c, base, X, out); break;
    case 2: combo_block<T, 2>(n, stride, l0, c, base, X, out); break;
    case 1: combo_block<T, 1>(n, stride, l0, c, base, X, out); break;
    default: break;
  }
  for (l0 += ((d - l0) / W) * W; l0 < d; ++l0) {
    T s = base ? base[l0] : T(0);
    for (int64_t q = 0; q < n; ++q) s += c[q] * X[q * stride + l0];
    out[l0] = s;
  }
}

// Relative threshold under which |g_o| counts as zero: 100 machine epsilons (as reference.py).
template <typename T>
inline T g_tolerance() {
  return T(100) * std::numeric_limits<T>::epsilon();
}

// Threads for the batch loop: torch's intra-op setting, never more than the batch.
inline int batch_threads(int64_t B) {
  int64_t t = at::get_num_threads();
  if (t > B) t = B;
  return t < 1 ? 1 : static_cast<int>(t);
}

// Work of the Gram-form kernel on a batch, in flops as its loops do them (roughly): per sample
// the span basis (~4 k N^2) and `sweeps` sweeps over its nO outputs (~2 nO^2 min(N, k) each).
// sweeps_of(b) gives sample b's sweep count.
template <typename Sweeps>
inline double gram_work(const bool* is_out, int64_t B, int64_t N, int64_t k, const Sweeps& sweeps_of) {
  double total = 0.0;
  const double d = static_cast<double>(std::min(N, k));
  for (int64_t b = 0; b < B; ++b) {
    int64_t nO = 0;
    for (int64_t i = 0; i < N; ++i) nO += is_out[b * N + i];
    total += 4.0 * k * N * N + 2.0 * nO * nO * d * static_cast<double>(sweeps_of(b));
  }
  return total;
}

// Below this much work per thread a second thread does not pay: waking a sleeping OpenMP thread
// (OMP_WAIT_POLICY=PASSIVE, what the book runs with) cost up to ~0.2 ms per parallel region on the
// 2-core machine that builds the book, more than one core needs for the whole batch. Measured with
// bench/satnet.py: the MNIST shape at batch 8 (~1.3e6 flops per call) took 1.07 ms per forward +
// backward on two threads and 0.37 ms on one.
constexpr double kMinWorkPerThread = 2.0e6;

// Threads for a batch whose total work is `work` flops: torch's intra-op setting, never more
// than the batch nor than work / kMinWorkPerThread.
inline int work_threads(int64_t B, double work) {
  const int by_work = static_cast<int>(std::min<double>(work / kMinWorkPerThread, 1.0e6));
  const int t = std::min(batch_threads(B), by_work);
  return t < 1 ? 1 : t;
}

// Products of the clause matrix S (N, m) this small run on the calling thread: a BLAS call wakes
// a thread team, which under OMP_WAIT_POLICY=PASSIVE costs more than the product (measured:
// 25x320 S S^T takes 0.26 ms at 2 threads against 0.02 ms at 1).
constexpr double kSmallProductFlops = 1.6e7;

// out[q] = <x, Y[q * m : q * m + m]> for q < 4: four dot products sharing x, in four
// independent accumulators (one accumulator chain is latency-bound on these short rows; the
// difference is within the noise of a whole forward + backward call, which other work dominates).
template <typename T>
inline void dot4(const T* __restrict__ x, const T* __restrict__ Y, int64_t m, T* out) {
  const T* y0 = Y;
  const T* y1 = Y + m;
  const T* y2 = Y + 2 * m;
  const T* y3 = Y + 3 * m;
  T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
  for (int64_t l = 0; l < m; ++l) {
    const T v = x[l];
    a0 += v * y0[l];
    a1 += v * y1[l];
    a2 += v * y2[l];
    a3 += v * y3[l];
  }
  out[0] = a0, out[1] = a1, out[2] = a2, out[3] = a3;
}

// y += a[0] X[0:m] + a[1] X[m:2m] + a[2] X[2m:3m] + a[3] X[3m:4m].
template <typename T>
inline void axpy4(T* __restrict__ y, const T* a, const T* __restrict__ X, int64_t m) {
  const T a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  const T* x0 = X;
  const T* x1 = X + m;
  const T* x2 = X + 2 * m;
  const T* x3 = X + 3 * m;
#pragma omp simd
  for (int64_t l = 0; l < m; ++l) y[l] += a0 * x0[l] + a1 * x1[l] + a2 * x2[l] + a3 * x3[l];
}

// C = S S^T, (N, N), S (N, m) contiguous.
inline at::Tensor gram(const at::Tensor& S) {
  const int64_t N = S.size(0), m = S.size(1);
  if (2.0 * N * N * m > kSmallProductFlops) return at::mm(S, S.t()).contiguous();
  auto C = at::empty({N, N}, S.options());
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_gram", [&] {
    const scalar_t* Sp = S.data_ptr<scalar_t>();
    scalar_t* Cp = C.data_ptr<scalar_t>();
    scalar_t four[4];
    for (int64_t i = 0; i < N; ++i) {
      int64_t j = 0;
      for (; j + 4 <= i + 1; j += 4) {
        dot4(Sp + i * m, Sp + j * m, m, four);
        for (int q = 0; q < 4; ++q) Cp[i * N + j + q] = Cp[(j + q) * N + i] = four[q];
      }
      for (; j <= i; ++j) Cp[i * N + j] = Cp[j * N + i] = dot(Sp + i * m, Sp + j * m, m);
    }
  });
  return C;
}

// A S for A (N, N) and S (N, m), both contiguous: (N, m). Four rows of S per pass over a row
// of the output, so that row is loaded and stored a quarter as often.
inline at::Tensor times_clauses(const at::Tensor& A, const at::Tensor& S) {
  const int64_t N = S.size(0), m = S.size(1);
  if (2.0 * N * N * m > kSmallProductFlops) return at::mm(A, S);
  auto out = at::zeros({N, m}, S.options());
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_times_clauses", [&] {
    const scalar_t* Ap = A.data_ptr<scalar_t>();
    const scalar_t* Sp = S.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    for (int64_t i = 0; i < N; ++i) {
      scalar_t* o = op + i * m;
      const scalar_t* a = Ap + i * N;
      int64_t j = 0;
      for (; j + 4 <= N; j += 4) axpy4(o, a + j, Sp + j * m, m);
      for (; j < N; ++j) axpy(o, a[j], Sp + j * m, m);
    }
  });
  return out;
}

// Runs body(b) for b in [0, B) on at most nthreads of torch's threads, one sample at a time
// (samples stop after different numbers of sweeps).
template <typename F>
inline void for_each_sample(int64_t B, int nthreads, const F& body) {
  for_each_task(B, nthreads, [&] { return [&](int64_t b) { body(b); }; });
}

}  // namespace satnet
}  // namespace nesy
