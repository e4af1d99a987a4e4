// The mixing method in the Gram form, reduced to the span of each sample's starting rows.
//
// Every update v_o <- -g_o/|g_o| with g_o = sum_{j != o} c_oj v_j keeps v_o in the span of the
// inputs and the start vectors, so each sample works in an orthonormal basis Q (r x k,
// r <= min(N, k)) of that span: coordinates a_j = Q v_j. Inputs enter only through the
// constant b_o = sum_{i in I} c_oi a_i, so the outputs even stay in span(start vectors, b_o),
// of dimension r2 <= |O| + 1, where the sweeps run: per update O(|O| r2) flops instead of
// O(k m) (stock layout) or O(N k) (plain Gram form). The backward solves SATNet's system in
// the r coordinates and adds the exact term for the part of dl/dV orthogonal to the span
// (see lib/nesy/satnet/reference.py). Exactly the same arithmetic as the full-space twin up to
// rounding: tests compare the two in float64.
#include "mix_kernel.h"

#include <algorithm>
#include <type_traits>

#include "mix_common.h"

namespace nesy {
namespace satnet {
namespace {

// Appends row x (length d, norm nx > 0) to the orthonormal rows Q (r x d, capacity cap) by
// classical Gram-Schmidt run twice ("twice is enough"); adds x's coordinates into c (length
// >= r + 1). Once r == d one exact projection suffices. Returns whether x added a row.
// w: scratch (d).
template <typename T>
bool gs_append(const T* x, int64_t d, T nx, T* Q, int64_t& r, int64_t cap, T* c, T* w) {
  if (r == d) {
    for (int64_t j = 0; j < r; ++j) c[j] += dot(Q + j * d, x, d);
    return false;
  }
  std::copy(x, x + d, w);
  T t[64];  // projections, in chunks (the rows are independent dots)
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t j0 = 0; j0 < r; j0 += 64) {
      const int64_t nj = std::min<int64_t>(64, r - j0);
      for (int64_t j = 0; j < nj; ++j) t[j] = dot(Q + (j0 + j) * d, w, d);
      for (int64_t j = 0; j < nj; ++j) {
        c[j0 + j] += t[j];
        t[j] = -t[j];
      }
      combo(nj, d, d, t, w, Q + j0 * d, w);
    }
  }
  const T nw = std::sqrt(dot(w, w, d));
  if (r >= cap || !(nw > T(64) * std::numeric_limits<T>::epsilon() * nx)) return false;
  T* q = Q + r * d;
  const T inv = T(1) / nw;
  for (int64_t t = 0; t < d; ++t) q[t] = w[t] * inv;
  c[r] = nw;
  ++r;
  return true;
}

// Sweep dimensions are padded to whole SIMD vectors of T (zeros stay zero).
template <typename T>
inline int64_t padded(int64_t d) {
  constexpr int64_t W = Vec<T>::size();
  return (d + W - 1) / W * W;
}

// Row p of the field, out = base + sum_q c_q X_q for NV whole vectors (dp = NV * W), kept in
// registers for the caller (two chains over q, as combo()).
template <typename T, int NV>
inline void field_regs(int64_t n, const T* __restrict__ c, const T* __restrict__ base, const T* __restrict__ X,
                       Vec<T>* out) {
  using V = Vec<T>;
  constexpr int W = V::size(), dp = NV * W;
  V s1[NV];
  for (int j = 0; j < NV; ++j) {
    out[j] = V::loadu(base + j * W);
    s1[j] = V(T(0));
  }
  int64_t q = 0;
  for (; q + 1 < n; q += 2) {
    const V c0(c[q]), c1(c[q + 1]);
    for (int j = 0; j < NV; ++j) {
      out[j] = at::vec::fmadd(c0, V::loadu(X + q * dp + j * W), out[j]);
      s1[j] = at::vec::fmadd(c1, V::loadu(X + (q + 1) * dp + j * W), s1[j]);
    }
  }
  if (q < n) {
    const V c0(c[q]);
    for (int j = 0; j < NV; ++j) out[j] = at::vec::fmadd(c0, V::loadu(X + q * dp + j * W), out[j]);
  }
  for (int j = 0; j < NV; ++j) out[j] = out[j] + s1[j];
}

// Forward update of output p: g_p = b_p + sum_q c_pq a_q; a_p <- -g_p / |g_p| unless |g_p| is
// below its threshold (degenerate: a_p kept). Returns |g_p| |a_p^new - a_p^old|^2.
template <typename T, int NV>
inline T forward_update_regs(int64_t nO, int64_t p, const T* Coo, const T* Bin, const T* scale, T* A, T* gn,
                             char* degenerate) {
  using V = Vec<T>;
  constexpr int W = V::size(), dp = NV * W;
  V g[NV];
  field_regs<T, NV>(nO, Coo + p * nO, Bin + p * dp, A, g);
  V acc = g[0] * g[0];
  for (int j = 1; j < NV; ++j) acc = at::vec::fmadd(g[j], g[j], acc);
  const T gnorm = std::sqrt(lane_sum<T>(acc));
  if (!(gnorm > scale[p])) {
    degenerate[p] = 1;
    gn[p] = 0;
    return 0;
  }
  degenerate[p] = 0;
  gn[p] = gnorm;
  const V inv(T(-1) / gnorm);
  T* ap = A + p * dp;
  V dacc(T(0));
  for (int j = 0; j < NV; ++j) {
    const V t = g[j] * inv;
    const V dd = t - V::loadu(ap + j * W);
    dacc = at::vec::fmadd(dd, dd, dacc);
    t.store(ap + j * W);
  }
  return gnorm * lane_sum<T>(dacc);
}

template <typename T>
inline T forward_update(int64_t nO, int64_t dp, int64_t p, const T* Coo, const T* Bin, const T* scale, T* A,
                        T* gn, char* degenerate, T* g) {
  combo(nO, dp, dp, Coo + p * nO, Bin + p * dp, A, g);  // g_p = b_p + sum_q c_pq a_q
  const T gnorm = std::sqrt(dot(g, g, dp));
  if (!(gnorm > scale[p])) {  // |g_o| ~ 0: keep v_o, flag it (no 0/0)
    degenerate[p] = 1;
    gn[p] = 0;
    return 0;
  }
  degenerate[p] = 0;
  gn[p] = gnorm;
  T* __restrict__ ap = A + p * dp;
  const T inv = T(-1) / gnorm;
  T dsq = 0;
#pragma omp simd reduction(+ : dsq)
  for (int64_t l = 0; l < dp; ++l) {
    const T t = g[l] * inv;
    const T dd = t - ap[l];
    dsq += dd * dd;
    ap[l] = t;
  }
  return gnorm * dsq;
}

// Mixing sweeps in dp (padded) coordinates: A (nO x dp) holds the start and receives the
// result; gn and degenerate per output. Returns the number of sweeps made. Short rows (up to
// four SIMD vectors) stay in registers through each update.
template <typename T>
int64_t sweeps(int64_t nO, int64_t dp, const T* Coo, const T* Bin, const T* scale, int64_t max_iter, T eps, T* A,
               T* gn, char* degenerate) {
  std::vector<T> g(dp);
  const int64_t nv = dp / Vec<T>::size();
  T eps_abs = 0;
  int64_t it = 0;
  while (it < max_iter) {
    T delta = 0;
    for (int64_t p = 0; p < nO; ++p) {
      switch (nv) {
        case 1: delta += forward_update_regs<T, 1>(nO, p, Coo, Bin, scale, A, gn, degenerate); break;
        case 2: delta += forward_update_regs<T, 2>(nO, p, Coo, Bin, scale, A, gn, degenerate); break;
        case 3: delta += forward_update_regs<T, 3>(nO, p, Coo, Bin, scale, A, gn, degenerate); break;
        case 4: delta += forward_update_regs<T, 4>(nO, p, Coo, Bin, scale, A, gn, degenerate); break;
        default: delta += forward_update(nO, dp, p, Coo, Bin, scale, A, gn, degenerate, g.data());
      }
    }
    ++it;
    if (it == 1)
      eps_abs = eps * delta;
    else if (delta < eps_abs)
      break;
  }
  return it;
}

// Backward update of output p: u_p = inv * P_p (h_p + sum_q c_pq u_q), inv = -1 / (|g_p| + prox_lam).
template <typename T, int NV>
inline void backward_update_regs(int64_t nO, int64_t p, const T* Coo, const T* H, const T* A, T* U, T inv) {
  using V = Vec<T>;
  constexpr int W = V::size(), dp = NV * W;
  V s[NV];
  field_regs<T, NV>(nO, Coo + p * nO, H + p * dp, U, s);
  const T* ap = A + p * dp;
  V acc = V::loadu(ap) * s[0];
  for (int j = 1; j < NV; ++j) acc = at::vec::fmadd(V::loadu(ap + j * W), s[j], acc);
  const V c(lane_sum<T>(acc)), scale(inv);
  for (int j = 0; j < NV; ++j) ((s[j] - c * V::loadu(ap + j * W)) * scale).store(U + p * dp + j * W);
}

template <typename T>
inline void backward_update(int64_t nO, int64_t dp, int64_t p, const T* Coo, const T* H, const T* A, T* U, T inv,
                            T* s) {
  combo(nO, dp, dp, Coo + p * nO, H + p * dp, U, s);
  const T* __restrict__ ap = A + p * dp;
  const T c = dot(ap, s, dp);
  T* __restrict__ up = U + p * dp;
#pragma omp simd
  for (int64_t l = 0; l < dp; ++l) up[l] = (s[l] - c * ap[l]) * inv;
}

// One sample's slice of what the forward hands to the backward: the state tensor, laid out as
// [Q | X | R | gnrm], and the integer tensor kept; r_max = min(N, k). The forward fills a
// State<T>, the backward reads a State<const T>.
template <typename T>
struct State {
  T* Q;      // r_max x k: orthonormal basis of the span of the rows of V0 (inputs, then starts)
  T* X;      // N x r_max: coordinates of the rows of V (inputs: of V0; outputs: final)
  T* R;      // r_max x r_max: coordinates of the rows that made the basis (lower triangular)
  T* gnrm;   // N: |g_o| of each output's last update, 0 if degenerate (and for inputs)
  std::conditional_t<std::is_const<T>::value, const int64_t*, int64_t*> kept;  // r_max: variable whose row made q_j, -1 past the rank

  static int64_t size(int64_t N, int64_t k) {
    const int64_t rcap = std::min(N, k);
    return rcap * k + N * rcap + rcap * rcap + N;
  }
  State(T* base, decltype(kept) kept_b, int64_t N, int64_t k) : kept(kept_b) {
    const int64_t rcap = std::min(N, k);
    Q = base;
    X = Q + rcap * k;
    R = X + N * rcap;
    gnrm = R + rcap * rcap;
  }
};

template <typename T>
void forward_sample(const T* C, const T* V0b, const bool* is_out_b, const int64_t* order, int64_t N, int64_t k,
                    int64_t max_iter, T eps, T* Vb, int64_t* info_b, State<T> st) {
  const int64_t rcap = std::min(N, k);
  std::vector<int64_t> outs, ins;
  split_variables(is_out_b, order, N, outs, ins);
  const int64_t nO = outs.size();
  std::copy(V0b, V0b + N * k, Vb);
  std::fill(info_b, info_b + kInfoCols, int64_t(0));
  if (nO == 0) return;
  // 1. Basis of the span of the inputs (natural order) and start vectors (equal ones reused).
  std::vector<T> norms(N, T(0)), w(k);
  int64_t r = 0, dropped = 0;
  auto add_row = [&](int64_t i) {
    const T* x = V0b + i * k;
    norms[i] = std::sqrt(dot(x, x, k));
    if (!(norms[i] > 0)) return false;
    if (!gs_append(x, k, norms[i], st.Q, r, rcap, st.X + i * rcap, w.data())) return false;
    st.kept[r - 1] = i;
    std::copy(st.X + i * rcap, st.X + (i + 1) * rcap, st.R + (r - 1) * rcap);
    return true;
  };
  for (int64_t i : ins)
    if (!add_row(i) && norms[i] > 0) ++dropped;
  for (int64_t p = 0; p < nO; ++p) {
    const int64_t o = outs[p], prev = p > 0 ? outs[p - 1] : -1;
    if (prev >= 0 && std::equal(V0b + o * k, V0b + (o + 1) * k, V0b + prev * k)) {
      std::copy(st.X + prev * rcap, st.X + (prev + 1) * rcap, st.X + o * rcap);
      norms[o] = norms[prev];
    } else {
      add_row(o);
    }
  }
  info_b[kRank] = r;
  info_b[kDependent] = r < k ? dropped : 0;
  // 2. Constants: C among outputs, b_o = sum_{i in I} c_oi x_i, thresholds on |g_o|.
  const int64_t dr = padded<T>(r);
  std::vector<T> Coo(nO * nO, T(0)), Bin(nO * dr, T(0)), scale(nO), ci(N, T(0));
  for (int64_t p = 0; p < nO; ++p) {
    const T* Co = C + outs[p] * N;
    T s = 0;
    for (int64_t q = 0; q < nO; ++q) {
      if (q == p) continue;
      Coo[p * nO + q] = Co[outs[q]];
      s += std::abs(Co[outs[q]]);
    }
    for (int64_t i : ins) {
      ci[i] = Co[i];
      s += std::abs(Co[i]) * norms[i];
    }
    combo(N, r, rcap, ci.data(), static_cast<const T*>(nullptr), st.X, Bin.data() + p * dr);
    scale[p] = g_tolerance<T>() * s;
  }
  // 3. The outputs never leave span(starts, b_1..b_nO): sweep in that span when it is smaller.
  std::vector<T> Q2(r * r, T(0)), c2(2 * nO * (r + 1), T(0)), w2(r);
  std::vector<int64_t> row_of(nO);
  int64_t r2 = 0, nrows = 0;
  for (int64_t p = 0; p < nO && r2 < r; ++p) {
    const T* a = st.X + outs[p] * rcap;
    if (p > 0 && std::equal(a, a + r, st.X + outs[p - 1] * rcap)) {
      row_of[p] = row_of[p - 1];
      continue;
    }
    row_of[p] = nrows;
    const T na = std::sqrt(dot(a, a, r));
    if (na > 0) gs_append(a, r, na, Q2.data(), r2, r, c2.data() + nrows * (r + 1), w2.data());
    ++nrows;
  }
  const int64_t first_b = nrows;
  for (int64_t p = 0; p < nO && r2 < r; ++p) {
    const T* b = Bin.data() + p * dr;
    const T nb = std::sqrt(dot(b, b, r));
    if (nb > 0) gs_append(b, r, nb, Q2.data(), r2, r, c2.data() + (first_b + p) * (r + 1), w2.data());
  }
  std::vector<T> gn(nO, T(0));
  std::vector<char> degenerate(nO, 0);
  std::vector<T> A;  // final output coordinates, stride dr
  if (r2 < r) {
    const int64_t d2 = padded<T>(r2);
    std::vector<T> A2(nO * d2, T(0)), B2(nO * d2, T(0));
    for (int64_t p = 0; p < nO; ++p) {
      std::copy(c2.data() + row_of[p] * (r + 1), c2.data() + row_of[p] * (r + 1) + r2, A2.data() + p * d2);
      std::copy(c2.data() + (first_b + p) * (r + 1), c2.data() + (first_b + p) * (r + 1) + r2, B2.data() + p * d2);
    }
    info_b[kSweepDim] = r2;
    info_b[kSweeps] = sweeps(nO, d2, Coo.data(), B2.data(), scale.data(), max_iter, eps, A2.data(), gn.data(),
                       degenerate.data());
    A.assign(nO * dr, T(0));
    for (int64_t p = 0; p < nO; ++p)
      combo(r2, r, r, A2.data() + p * d2, static_cast<const T*>(nullptr), Q2.data(), A.data() + p * dr);
  } else {
    A.assign(nO * dr, T(0));
    for (int64_t p = 0; p < nO; ++p) std::copy(st.X + outs[p] * rcap, st.X + outs[p] * rcap + r, A.data() + p * dr);
    info_b[kSweepDim] = r;
    info_b[kSweeps] = sweeps(nO, dr, Coo.data(), Bin.data(), scale.data(), max_iter, eps, A.data(), gn.data(),
                       degenerate.data());
  }
  // 4. Outputs back in R^k; their final coordinates go to the state.
  for (int64_t p = 0; p < nO; ++p) {
    const int64_t o = outs[p];
    combo(r, k, k, A.data() + p * dr, static_cast<const T*>(nullptr), st.Q, Vb + o * k);
    std::copy(A.data() + p * dr, A.data() + p * dr + r, st.X + o * rcap);
    st.gnrm[o] = gn[p];
  }
  info_b[kDegenerate] = std::count(degenerate.begin(), degenerate.end(), 1);
}

template <typename T>
void backward_sample(const T* C, const T* Gb, const bool* is_out_b, const int64_t* order, int64_t N, int64_t k,
                     int64_t niter, int64_t r, T prox_lam, State<const T> st, T* dCb, T* dVb) {
  const int64_t rcap = std::min(N, k);
  std::vector<int64_t> outs, ins;
  split_variables(is_out_b, order, N, outs, ins);
  const int64_t nO = outs.size();
  for (int64_t i : ins) std::copy(Gb + i * k, Gb + (i + 1) * k, dVb + i * k);  // pass-through
  if (nO == 0) return;
  const T* Q = st.Q;
  const int64_t dr = padded<T>(r);
  // Coordinates of the outputs and of their gradients' parallel part, C among outputs.
  std::vector<T> A(nO * dr, T(0)), H(nO * dr, T(0)), U(nO * dr, T(0)), s(dr), gn(nO), Coo(nO * nO, T(0));
  std::vector<int64_t> pos(N, -1);
  for (int64_t p = 0; p < nO; ++p) {
    const int64_t o = outs[p];
    pos[o] = p;
    gn[p] = st.gnrm[o];
    std::copy(st.X + o * rcap, st.X + o * rcap + r, A.data() + p * dr);
    for (int64_t l = 0; l < r; ++l) H[p * dr + l] = dot(Q + l * k, Gb + o * k, k);
    for (int64_t q = 0; q < nO; ++q)
      if (q != p) Coo[p * nO + q] = C[o * N + outs[q]];
  }
  // Gauss-Seidel: u_o = -P_o (sum_{j != o} c_oj u_j + h_o) / (|g_o| + prox_lam), as many sweeps as the forward.
  std::vector<T> inv(nO);
  for (int64_t p = 0; p < nO; ++p) inv[p] = T(-1) / (gn[p] + prox_lam);
  const int64_t nv = dr / Vec<T>::size();
  for (int64_t it = 0; it < niter; ++it) {
    for (int64_t p = 0; p < nO; ++p) {
      if (!(gn[p] > 0)) continue;  // degenerate output: u_o = 0 (counted by the forward)
      const T *Cd = Coo.data(), *Hd = H.data(), *Ad = A.data();
      switch (nv) {
        case 1: backward_update_regs<T, 1>(nO, p, Cd, Hd, Ad, U.data(), inv[p]); break;
        case 2: backward_update_regs<T, 2>(nO, p, Cd, Hd, Ad, U.data(), inv[p]); break;
        case 3: backward_update_regs<T, 3>(nO, p, Cd, Hd, Ad, U.data(), inv[p]); break;
        case 4: backward_update_regs<T, 4>(nO, p, Cd, Hd, Ad, U.data(), inv[p]); break;
        default: backward_update(nO, dr, p, Cd, Hd, Ad, U.data(), inv[p], s.data());
      }
    }
  }
  // dl/dC = U V^T + V U^T (rows of outputs), in coordinates.
  for (int64_t p = 0; p < nO; ++p) {
    const int64_t o = outs[p];
    const T* up = U.data() + p * dr;
    for (int64_t j = 0; j < N; ++j) {
      const T mval = dot(up, st.X + j * rcap, r);
      dCb[o * N + j] += mval;
      dCb[j * N + o] += mval;
    }
  }
  // dl/dv_i += sum_o c_io u_o for inputs.
  std::vector<T> z(dr), ci(std::max(nO, r));
  for (int64_t i : ins) {
    for (int64_t p = 0; p < nO; ++p) ci[p] = C[i * N + outs[p]];
    combo(nO, dr, dr, ci.data(), static_cast<const T*>(nullptr), U.data(), z.data());
    combo(r, k, k, z.data(), dVb + i * k, Q, dVb + i * k);
  }
  if (r >= k) return;
  // Part of dl/dV_O orthogonal to the span: exact derivative sum_o alpha_oi G_perp_o, where
  // V_O = alpha (rows that made the basis); alpha by back-substitution on their coordinates R.
  std::vector<T> Gp(nO * k), alpha(nO * r);
  for (int64_t p = 0; p < nO; ++p) {
    for (int64_t l = 0; l < r; ++l) ci[l] = -H[p * dr + l];
    combo(r, k, k, ci.data(), Gb + outs[p] * k, Q, Gp.data() + p * k);
    T* al = alpha.data() + p * r;
    for (int64_t l = r - 1; l >= 0; --l) {
      T v = A[p * dr + l];
      for (int64_t j = l + 1; j < r; ++j) v -= al[j] * st.R[j * rcap + l];
      al[l] = v / st.R[l * rcap + l];
    }
  }
  for (int64_t j = 0; j < r; ++j) {
    const int64_t i = st.kept[j];
    if (is_out_b[i]) continue;  // start vectors are constants
    for (int64_t p = 0; p < nO; ++p) ci[p] = alpha[p * r + j];
    combo(nO, k, k, ci.data(), dVb + i * k, Gp.data(), dVb + i * k);
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> mix_forward_cpu(const at::Tensor& S_, const at::Tensor& V0_,
                                                                          const at::Tensor& is_output_,
                                                                          const at::Tensor& order_, int64_t max_iter,
                                                                          double eps) {
  check_forward_args(S_, V0_, is_output_, order_, max_iter, eps);
  const auto S = S_.contiguous();
  const auto V0 = V0_.contiguous();
  const auto is_output = is_output_.contiguous();
  const auto order = order_.contiguous();
  const int64_t B = V0.size(0), N = V0.size(1), k = V0.size(2);
  const auto C = gram(S);
  auto V = at::empty_like(V0);
  auto info = at::empty({B, kInfoCols}, S.options().dtype(at::kLong));
  const auto* outp_work = is_output.data_ptr<bool>();
  const int nthreads = work_threads(B, gram_work(outp_work, B, N, k, [&](int64_t) { return max_iter; }));
  const int64_t rcap = std::min(N, k);
  auto kept = at::full({B, rcap}, -1, S.options().dtype(at::kLong));
  int64_t* kp = kept.data_ptr<int64_t>();
  at::Tensor state;
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_mix_forward", [&] {
    const int64_t ssize = State<scalar_t>::size(N, k);
    state = at::zeros({B, ssize}, S.options());
    const scalar_t* Cp = C.data_ptr<scalar_t>();
    const scalar_t* V0p = V0.data_ptr<scalar_t>();
    const bool* outp = is_output.data_ptr<bool>();
    const int64_t* ordp = order.data_ptr<int64_t>();
    scalar_t* Vp = V.data_ptr<scalar_t>();
    int64_t* ip = info.data_ptr<int64_t>();
    scalar_t* stp = state.data_ptr<scalar_t>();
    for_each_sample(B, nthreads, [&](int64_t b) {
      State<scalar_t> st(stp + b * ssize, kp + b * rcap, N, k);
      forward_sample<scalar_t>(Cp, V0p + b * N * k, outp + b * N, ordp, N, k, max_iter, static_cast<scalar_t>(eps),
                               Vp + b * N * k, ip + b * kInfoCols, st);
    });
  });
  return {V, info, state, kept, C};
}

std::tuple<at::Tensor, at::Tensor> mix_backward_cpu(const at::Tensor& S_, const at::Tensor& V_,
                                                    const at::Tensor& is_output_, const at::Tensor& order_,
                                                    const at::Tensor& info_, const at::Tensor& state_,
                                                    const at::Tensor& kept_, const at::Tensor& C_,
                                                    const at::Tensor& grad_, double prox_lam) {
  check_forward_args(S_, V_, is_output_, order_, 0, 0.0);
  check_backward_args(S_, V_, info_, grad_, prox_lam);
  const int64_t B = V_.size(0), N = V_.size(1), k = V_.size(2);
  const int64_t ssize = State<float>::size(N, k);
  TORCH_CHECK(state_.dim() == 2 && state_.size(0) == B && state_.size(1) == ssize &&
                  state_.scalar_type() == S_.scalar_type(),
              "satnet_mix_backward: the forward's state (", B, ", ", ssize, ") expected, got ", state_.sizes());
  const int64_t rcap = std::min(N, k);
  TORCH_CHECK(kept_.sizes() == at::IntArrayRef({B, rcap}) && kept_.scalar_type() == at::kLong,
              "satnet_mix_backward: the forward's kept (", B, ", ", rcap, ") int64 expected, got ", kept_.sizes(), " ",
              kept_.scalar_type());
  TORCH_CHECK(C_.sizes() == at::IntArrayRef({N, N}) && C_.scalar_type() == S_.scalar_type(),
              "satnet_mix_backward: C = S S^T (", N, ", ", N, ") from the forward expected, got ", C_.sizes());
  const auto S = S_.contiguous();
  const auto is_output = is_output_.contiguous();
  const auto order = order_.contiguous();
  const auto info = info_.contiguous();
  const auto grad = grad_.contiguous();
  const auto state = state_.contiguous();
  const auto kept = kept_.contiguous();
  const auto C = C_.contiguous();
  const int64_t* kp = kept.data_ptr<int64_t>();
  const int64_t* info_chk = info.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {  // the rows that made the basis index V: forged ones must not
    const int64_t r = info_chk[b * kInfoCols + kRank];
    TORCH_CHECK(r <= rcap, "satnet_mix_backward: info[", b, "] rank ", r, " must be <= min(N, k) = ", rcap,
                " (info must be the forward's)");
    for (int64_t j = 0; j < r; ++j)
      TORCH_CHECK(kp[b * rcap + j] >= 0 && kp[b * rcap + j] < N, "satnet_mix_backward: kept[", b, ", ", j, "] = ",
                  kp[b * rcap + j], " must be a variable in [0, ", N, ") (kept must be the forward's)");
  }
  auto dC = at::zeros({B, N, N}, S.options());
  auto dV0 = at::zeros_like(grad);
  const int64_t* info_work = info.data_ptr<int64_t>();
  const int nthreads = work_threads(B, gram_work(is_output.data_ptr<bool>(), B, N, k,
                                                 [&](int64_t b) { return info_work[b * kInfoCols + kSweeps]; }));
  AT_DISPATCH_FLOATING_TYPES(S.scalar_type(), "satnet_mix_backward", [&] {
    const scalar_t* Cp = C.data_ptr<scalar_t>();
    const scalar_t* Gp = grad.data_ptr<scalar_t>();
    const bool* outp = is_output.data_ptr<bool>();
    const int64_t* ordp = order.data_ptr<int64_t>();
    const int64_t* ip = info.data_ptr<int64_t>();
    const scalar_t* stp = state.data_ptr<scalar_t>();
    scalar_t* dCp = dC.data_ptr<scalar_t>();
    scalar_t* dVp = dV0.data_ptr<scalar_t>();
    for_each_sample(B, nthreads, [&](int64_t b) {
      const int64_t* ib = ip + b * kInfoCols;
      backward_sample<scalar_t>(Cp, Gp + b * N * k, outp + b * N, ordp, N, k, ib[kSweeps], ib[kRank],
                                static_cast<scalar_t>(prox_lam), State<const scalar_t>(stp + b * ssize, kp + b * rcap, N, k),
                                dCp + b * N * N, dVp + b * N * k);
    });
  });
  auto dS = times_clauses(dC.sum(0).contiguous(), S);
  return {dS, dV0};
}

}  // namespace satnet
}  // namespace nesy
