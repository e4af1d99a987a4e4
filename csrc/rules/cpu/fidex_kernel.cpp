// Fidex hyperplane search on CPU (torch's threads over explained samples).
//
// Every feature value is replaced once by its bin: the number of candidate hyperplanes (QIL
// thresholds, non-decreasing per feature) at or below it. A training sample lies on the ">="
// side of hyperplane k of feature j exactly when k < bin[j, i]. So one pass over the covered
// samples per feature gives a histogram whose prefix sums are the covering and fidelity of
// every hyperplane of that feature: O(|S| + K) per feature instead of the reference's
// O(|S| * K). On the first iteration (all training samples covered) the prefix sums are
// precomputed per predicted class (rules_cumcounts), so it costs O(K) per feature.
//
// The search order, tie-breaks, dropout draws and relaxation strategy follow dimlpfidex 1.0.1
// (see ../../../lib/nesy/rules/twin.py, which is the same algorithm written literally).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <tuple>
#include <utility>
#include <vector>

#include "../../parallel.h"
#include "rng.h"

namespace nesy {
namespace rules {
namespace {

struct Params {
  int64_t max_iterations;
  int64_t min_covering;
  int64_t max_failed_attempts;
  bool covering_strategy;
  float min_fidelity;
  float lowest_min_fidelity;
  double dropout_dim;
  double dropout_hyp;
  bool has_dropout_dim;
  bool has_dropout_hyp;
};

// One Fidex run's rule: antecedents (feature, hyperplane index) and the covered samples.
struct Attempt {
  std::vector<int32_t> covered;   // training indices, ascending
  std::vector<uint8_t> agrees;    // pred[covered[i]] == rule class
  std::vector<int32_t> ante_dim;
  std::vector<int32_t> ante_hyp;
  bool full = true;               // covered is implicitly every training sample
  int64_t n_covered = 0;
  int64_t n_agree = 0;
  double fidelity = 0.0;
};

template <typename bin_t>
class FidexSolver {
 public:
  FidexSolver(const bin_t* bins, const int64_t* preds, const int32_t* cum, const int64_t* class_count,
              int64_t n, int64_t d, int64_t k, int64_t c, const Params& p)
      : bins_(bins), preds_(preds), cum_(cum), class_count_(class_count),
        n_(n), d_(d), k_(k), c_(c), p_(p),
        dims_(d), hist_(2 * (k + 1)), below_all_(k), below_agree_(k) {
    for (Attempt* a : {&current_, &best_}) {
      a->covered.reserve(n);
      a->agrees.reserve(n);
      a->ante_dim.reserve(p.max_iterations);
      a->ante_hyp.reserve(p.max_iterations);
    }
  }

  // dimlpfidex's launchFidex: a direct attempt, then (covering strategy) the largest minimum
  // covering below min_covering found by dichotomic search, then lower fidelity targets
  // (steps of 0.05 in float32 down to lowest_min_fidelity), then retries at the lowest one.
  // Returns the path: 0 direct, 1 reduced covering, 2 lowered fidelity, 3 retried, -1 none.
  int64_t launch(const bin_t* sb, int64_t y, SplitMix64& rng, float* used_fidelity,
                 int64_t* used_covering, const Attempt** result) {
    const float min_f = p_.min_fidelity;
    const int64_t min_c = p_.min_covering;
    *used_fidelity = min_f;
    *used_covering = min_c;
    *result = &current_;
    if (compute(sb, y, min_f, min_c, rng, current_)) return 0;
    if (!p_.covering_strategy) return -1;

    int64_t left = 1, right = min_c - 1, best_covering = -1;
    if (right > 0) {
      int64_t cover = right + 1;
      while (cover != (right + left + 1) / 2 && left <= right) {
        cover = (right + left + 1) / 2;
        if (compute(sb, y, min_f, cover, rng, current_)) {
          best_covering = cover;
          std::swap(current_, best_);
          left = cover + 1;
        } else {
          right = cover - 1;
        }
      }
    }
    if (best_covering != -1) {
      *used_covering = best_covering;
      *result = &best_;
      return 1;
    }

    float f = min_f;
    bool created = false;
    while (!created && f > p_.lowest_min_fidelity) {
      f -= 0.05f;
      created = compute(sb, y, f, 1, rng, current_);
    }
    *used_fidelity = f;
    *used_covering = 1;
    if (created) return 2;
    int64_t failed = 0;
    do {
      created = compute(sb, y, f, 1, rng, current_);
      if (!created) ++failed;
    } while (!created && failed < p_.max_failed_attempts);
    return created ? 3 : -1;
  }

  // Materialises the covered set of a rule without antecedents (every training sample).
  void materialise(const Attempt& a, std::vector<int32_t>& out) const {
    if (a.full) {
      out.resize(n_);
      std::iota(out.begin(), out.end(), 0);
    } else {
      out.assign(a.covered.begin(), a.covered.end());
    }
  }

 private:
  // One Fidex run (dimlpfidex's Fidex::compute): greedily add the hyperplane that most raises
  // fidelity until it reaches min_fidelity or max_iterations is spent.
  bool compute(const bin_t* sb, int64_t y, double min_fidelity, int64_t min_covering,
               SplitMix64& rng, Attempt& a) {
    a.ante_dim.clear();
    a.ante_hyp.clear();
    a.covered.clear();
    a.agrees.clear();
    a.full = true;
    a.n_covered = n_;
    a.n_agree = class_count_[y];
    a.fidelity = static_cast<double>(a.n_agree) / static_cast<double>(a.n_covered);

    const int32_t* cum_all = cum_ + c_ * d_ * k_;
    const int32_t* cum_y = cum_ + y * d_ * k_;
    int32_t* dims = dims_.data();

    for (int64_t it = 0; a.fidelity < min_fidelity && it < p_.max_iterations; ++it) {
      double best_fid = -1.0;
      int64_t best_cov = 0, best_dim = -1, min_hyp = -1, max_hyp = -1;

      std::iota(dims_.begin(), dims_.end(), 0);
      for (int64_t i = d_ - 1; i > 0; --i) {
        std::swap(dims[i], dims[rng.below(static_cast<uint64_t>(i + 1))]);
      }

      for (int64_t q = 0; q < d_; ++q) {
        if (best_fid >= min_fidelity) break;
        const int64_t j = dims[q];
        if (p_.has_dropout_dim && rng.uniform() < p_.dropout_dim) continue;

        const int32_t* below_all;
        const int32_t* below_agree;
        if (a.full) {
          below_all = cum_all + j * k_;
          below_agree = cum_y + j * k_;
        } else {
          histogram(a, j);
          below_all = below_all_.data();
          below_agree = below_agree_.data();
        }

        const int64_t side = sb[j];
        bool blocked = true;
        for (int64_t h = 0; h < k_; ++h) {
          if (p_.has_dropout_hyp && rng.uniform() < p_.dropout_hyp) continue;
          const bool ge = h < side;
          const int64_t cov = ge ? a.n_covered - below_all[h] : below_all[h];
          if (cov >= min_covering) {
            const int64_t agr = ge ? a.n_agree - below_agree[h] : below_agree[h];
            const double fid = static_cast<double>(agr) / static_cast<double>(cov);
            if (fid > best_fid || (fid == best_fid && cov > best_cov)) {
              best_fid = fid;
              best_cov = cov;
              best_dim = j;
              min_hyp = h;
              max_hyp = -1;
              blocked = false;
            } else if (fid == best_fid && cov == best_cov) {
              if (!blocked) max_hyp = h;
            } else {
              blocked = true;
            }
          } else {
            blocked = true;
          }
          if (best_fid >= min_fidelity) break;
        }
      }

      if (best_dim >= 0 && (best_fid > a.fidelity || (best_fid == a.fidelity && best_cov > a.n_covered))) {
        const int64_t hyp = max_hyp >= 0 ? (min_hyp + max_hyp) / 2 : min_hyp;
        apply(a, best_dim, hyp, hyp < sb[best_dim], y);
        a.ante_dim.push_back(static_cast<int32_t>(best_dim));
        a.ante_hyp.push_back(static_cast<int32_t>(hyp));
      }
    }
    return a.fidelity >= min_fidelity;
  }

  // Prefix sums over bins of the covered samples for feature j.
  void histogram(const Attempt& a, int64_t j) {
    const bin_t* row = bins_ + j * n_;
    int32_t* hist = hist_.data();
    std::fill(hist_.begin(), hist_.end(), 0);
    const int32_t* cov = a.covered.data();
    const uint8_t* agr = a.agrees.data();
    const int64_t m = a.n_covered;
    for (int64_t i = 0; i < m; ++i) {
      ++hist[2 * static_cast<int64_t>(row[cov[i]]) + agr[i]];
    }
    int32_t run_all = 0, run_agree = 0;
    int32_t* ba = below_all_.data();
    int32_t* bg = below_agree_.data();
    for (int64_t h = 0; h < k_; ++h) {
      run_all += hist[2 * h] + hist[2 * h + 1];
      run_agree += hist[2 * h + 1];
      ba[h] = run_all;
      bg[h] = run_agree;
    }
  }

  // Keep the covered samples on the explained sample's side of hyperplane (j, h).
  void apply(Attempt& a, int64_t j, int64_t h, bool ge, int64_t y) {
    const bin_t* row = bins_ + j * n_;
    int64_t m = 0, agree = 0;
    if (a.full) {
      a.covered.resize(n_);
      a.agrees.resize(n_);
      int32_t* cov = a.covered.data();
      uint8_t* agr = a.agrees.data();
      for (int64_t i = 0; i < n_; ++i) {
        if ((h < static_cast<int64_t>(row[i])) == ge) {
          const uint8_t g = preds_[i] == y;
          cov[m] = static_cast<int32_t>(i);
          agr[m] = g;
          agree += g;
          ++m;
        }
      }
      a.full = false;
    } else {
      int32_t* cov = a.covered.data();
      uint8_t* agr = a.agrees.data();
      for (int64_t i = 0; i < a.n_covered; ++i) {
        if ((h < static_cast<int64_t>(row[cov[i]])) == ge) {
          cov[m] = cov[i];
          agr[m] = agr[i];
          agree += agr[i];
          ++m;
        }
      }
    }
    a.covered.resize(m);
    a.agrees.resize(m);
    a.n_covered = m;
    a.n_agree = agree;
    a.fidelity = m > 0 ? static_cast<double>(agree) / static_cast<double>(m) : 0.0;
  }

  const bin_t* bins_;
  const int64_t* preds_;
  const int32_t* cum_;
  const int64_t* class_count_;
  const int64_t n_, d_, k_, c_;
  const Params p_;
  std::vector<int32_t> dims_;
  std::vector<int32_t> hist_;
  std::vector<int32_t> below_all_;
  std::vector<int32_t> below_agree_;
  Attempt current_;
  Attempt best_;
};

bool is_bin_dtype(const at::Tensor& t) {
  return t.scalar_type() == at::kByte || t.scalar_type() == at::kShort;
}

// A bin is the number of a feature's hyperplanes at or below a value: it must lie in [0, k]
// (the kernels index their count tables with it).
void check_bin_values(const at::Tensor& bins, int64_t k, const char* what) {
  if (bins.numel() == 0) return;
  const int64_t lo = bins.min().item<int64_t>(), hi = bins.max().item<int64_t>();
  TORCH_CHECK(lo >= 0 && hi <= k, what, " values must be in [0, ", k, "] (the number of hyperplanes per feature), got [",
              lo, ", ", hi, "]");
}

at::Tensor rules_bins_cpu(const at::Tensor& x, const at::Tensor& hyperplanes) {
  TORCH_CHECK(x.dim() == 2, "rules_bins: x must be [N, D], got ", x.sizes());
  TORCH_CHECK(hyperplanes.dim() == 2, "rules_bins: hyperplanes must be [D, K], got ", hyperplanes.sizes());
  TORCH_CHECK(x.size(1) == hyperplanes.size(0), "rules_bins: x has ", x.size(1),
              " features but hyperplanes has ", hyperplanes.size(0), " rows");
  TORCH_CHECK(x.scalar_type() == at::kDouble && hyperplanes.scalar_type() == at::kDouble,
              "rules_bins: x and hyperplanes must be float64, got ", x.scalar_type(), " and ",
              hyperplanes.scalar_type());
  const int64_t n = x.size(0), d = x.size(1), k = hyperplanes.size(1);
  TORCH_CHECK(k >= 1 && k < 32767, "rules_bins: need 1 <= K < 32767 hyperplanes per feature, got ", k);
  const at::Tensor xc = x.contiguous();
  const at::Tensor hc = hyperplanes.contiguous();
  const auto dtype = k < 255 ? at::kByte : at::kShort;
  at::Tensor out = at::empty({d, n}, x.options().dtype(dtype));
  const double* xp = xc.data_ptr<double>();
  const double* hp = hc.data_ptr<double>();
  // Small inputs (e.g. one sample to explain) run inline: waking the pool costs more.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(n, 1));
  auto run = [&](auto* op) {
    using bin_t = std::remove_pointer_t<decltype(op)>;
    at::parallel_for(0, d, grain, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        const double* t = hp + j * k;
        bin_t* row = op + j * n;
        for (int64_t i = 0; i < n; ++i) {
          row[i] = static_cast<bin_t>(std::upper_bound(t, t + k, xp[i * d + j]) - t);
        }
      }
    });
  };
  if (dtype == at::kByte) {
    run(out.data_ptr<uint8_t>());
  } else {
    run(out.data_ptr<int16_t>());
  }
  return out;
}

at::Tensor rules_cumcounts_cpu(const at::Tensor& bins, const at::Tensor& preds, int64_t n_classes,
                               int64_t n_hyperplanes) {
  TORCH_CHECK(bins.dim() == 2 && is_bin_dtype(bins), "rules_cumcounts: bins must be [D, N] uint8/int16, got ",
              bins.sizes(), " ", bins.scalar_type());
  TORCH_CHECK(preds.dim() == 1 && preds.size(0) == bins.size(1) && preds.scalar_type() == at::kLong,
              "rules_cumcounts: preds must be int64 [", bins.size(1), "], got ", preds.sizes(), " ",
              preds.scalar_type());
  TORCH_CHECK(n_classes >= 1, "rules_cumcounts: n_classes must be >= 1, got ", n_classes);
  TORCH_CHECK(n_hyperplanes >= 1, "rules_cumcounts: n_hyperplanes must be >= 1, got ", n_hyperplanes);
  const int64_t d = bins.size(0), n = bins.size(1), k = n_hyperplanes, c = n_classes;
  check_bin_values(bins, k, "rules_cumcounts: bins");
  const at::Tensor bc = bins.contiguous();
  const at::Tensor pc = preds.contiguous();
  const int64_t* pp = pc.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(pp[i] >= 0 && pp[i] < c, "rules_cumcounts: preds[", i, "] = ", pp[i], " is outside [0, ", c, ")");
  }
  at::Tensor cum = at::zeros({c + 1, d, k}, bins.options().dtype(at::kInt));
  int32_t* cp = cum.data_ptr<int32_t>();
  auto run = [&](const auto* bp) {
    at::parallel_for(0, d, 1, [&](int64_t begin, int64_t end) {
      std::vector<int32_t> hist((c + 1) * (k + 1));
      for (int64_t j = begin; j < end; ++j) {
        std::fill(hist.begin(), hist.end(), 0);
        const auto* row = bp + j * n;
        for (int64_t i = 0; i < n; ++i) {
          const int64_t b = std::min<int64_t>(row[i], k);
          ++hist[pp[i] * (k + 1) + b];
          ++hist[c * (k + 1) + b];
        }
        for (int64_t cls = 0; cls <= c; ++cls) {
          int32_t run_count = 0;
          for (int64_t h = 0; h < k; ++h) {
            run_count += hist[cls * (k + 1) + h];
            cp[(cls * d + j) * k + h] = run_count;
          }
        }
      }
    });
  };
  if (bc.scalar_type() == at::kByte) {
    run(bc.data_ptr<uint8_t>());
  } else {
    run(bc.data_ptr<int16_t>());
  }
  return cum;
}

using FidexResult = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
                               at::Tensor, at::Tensor, at::Tensor>;

FidexResult fidex_cpu(const at::Tensor& bins, const at::Tensor& preds, const at::Tensor& cum,
                      const at::Tensor& sample_bins, const at::Tensor& sample_preds,
                      const at::Tensor& sample_ids, int64_t seed, int64_t max_iterations,
                      int64_t min_covering, bool covering_strategy, int64_t max_failed_attempts,
                      double min_fidelity, double lowest_min_fidelity, double dropout_dim,
                      double dropout_hyp, int64_t n_threads) {
  TORCH_CHECK(bins.dim() == 2 && is_bin_dtype(bins), "fidex: bins must be [D, N] uint8/int16, got ",
              bins.sizes(), " ", bins.scalar_type());
  const int64_t d = bins.size(0), n = bins.size(1);
  TORCH_CHECK(n >= 1 && n < std::numeric_limits<int32_t>::max(), "fidex: need 1 <= N < 2^31 training samples, got ", n);
  TORCH_CHECK(preds.dim() == 1 && preds.size(0) == n && preds.scalar_type() == at::kLong,
              "fidex: preds must be int64 [", n, "], got ", preds.sizes(), " ", preds.scalar_type());
  TORCH_CHECK(cum.dim() == 3 && cum.size(1) == d && cum.size(0) >= 2 && cum.scalar_type() == at::kInt,
              "fidex: cum must be int32 [C + 1, ", d, ", K], got ", cum.sizes(), " ", cum.scalar_type());
  const int64_t c = cum.size(0) - 1, k = cum.size(2);
  TORCH_CHECK(sample_bins.dim() == 2 && sample_bins.size(1) == d && sample_bins.scalar_type() == bins.scalar_type(),
              "fidex: sample_bins must be [S, ", d, "] of ", bins.scalar_type(), ", got ", sample_bins.sizes(), " ",
              sample_bins.scalar_type());
  const int64_t s = sample_bins.size(0);
  TORCH_CHECK(sample_preds.dim() == 1 && sample_preds.size(0) == s && sample_preds.scalar_type() == at::kLong,
              "fidex: sample_preds must be int64 [", s, "], got ", sample_preds.sizes(), " ", sample_preds.scalar_type());
  TORCH_CHECK(sample_ids.dim() == 1 && sample_ids.size(0) == s && sample_ids.scalar_type() == at::kLong,
              "fidex: sample_ids must be int64 [", s, "], got ", sample_ids.sizes(), " ", sample_ids.scalar_type());
  TORCH_CHECK(seed >= 0, "fidex: seed must be >= 0, got ", seed);
  TORCH_CHECK(max_iterations >= 1, "fidex: max_iterations must be >= 1, got ", max_iterations);
  TORCH_CHECK(min_covering >= 1, "fidex: min_covering must be >= 1, got ", min_covering);
  TORCH_CHECK(max_failed_attempts >= 0, "fidex: max_failed_attempts must be >= 0, got ", max_failed_attempts);
  TORCH_CHECK(max_iterations <= 10000, "fidex: max_iterations must be <= 10000, got ", max_iterations);
  TORCH_CHECK(n_threads >= 1 && n_threads <= 1024, "fidex: n_threads must be in [1, 1024], got ", n_threads);
  TORCH_CHECK(min_fidelity >= 0 && min_fidelity <= 1 && lowest_min_fidelity >= 0 && lowest_min_fidelity <= min_fidelity,
              "fidex: need 0 <= lowest_min_fidelity <= min_fidelity <= 1, got ", lowest_min_fidelity, " and ", min_fidelity);
  TORCH_CHECK(dropout_dim >= 0 && dropout_dim <= 1 && dropout_hyp >= 0 && dropout_hyp <= 1,
              "fidex: dropout_dim and dropout_hyp must be in [0, 1], got ", dropout_dim, " and ", dropout_hyp);
  check_bin_values(bins, k, "fidex: bins");
  check_bin_values(sample_bins, k, "fidex: sample_bins");
  TORCH_CHECK(s == 0 || sample_ids.min().item<int64_t>() >= 0, "fidex: sample_ids must be >= 0");

  const at::Tensor bc = bins.contiguous();
  const at::Tensor pc = preds.contiguous();
  const at::Tensor cc = cum.contiguous();
  const at::Tensor sbc = sample_bins.contiguous();
  const at::Tensor spc = sample_preds.contiguous();
  const at::Tensor sic = sample_ids.contiguous();
  const int64_t* pp = pc.data_ptr<int64_t>();
  const int64_t* spp = spc.data_ptr<int64_t>();
  const int64_t* sip = sic.data_ptr<int64_t>();

  std::vector<int64_t> class_count(c, 0);
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(pp[i] >= 0 && pp[i] < c, "fidex: preds[", i, "] = ", pp[i], " is outside [0, ", c, ")");
    ++class_count[pp[i]];
  }
  for (int64_t i = 0; i < s; ++i) {
    TORCH_CHECK(spp[i] >= 0 && spp[i] < c, "fidex: sample_preds[", i, "] = ", spp[i], " is outside [0, ", c, ")");
  }

  Params p;
  p.max_iterations = max_iterations;
  p.min_covering = min_covering;
  p.max_failed_attempts = max_failed_attempts;
  p.covering_strategy = covering_strategy;
  p.min_fidelity = static_cast<float>(min_fidelity);
  p.lowest_min_fidelity = static_cast<float>(lowest_min_fidelity);
  p.dropout_dim = dropout_dim;
  p.dropout_hyp = dropout_hyp;
  p.has_dropout_dim = dropout_dim > 0.001;
  p.has_dropout_hyp = dropout_hyp > 0.001;

  const auto long_opts = preds.options().dtype(at::kLong);
  at::Tensor status = at::empty({s}, long_opts);
  at::Tensor n_ante = at::empty({s}, long_opts);
  at::Tensor ante_dim = at::full({s, max_iterations}, -1, long_opts);
  at::Tensor ante_hyp = at::full({s, max_iterations}, -1, long_opts);
  at::Tensor fidelity = at::empty({s}, preds.options().dtype(at::kDouble));
  at::Tensor target_fid = at::empty({s}, preds.options().dtype(at::kDouble));
  at::Tensor target_cov = at::empty({s}, long_opts);
  int64_t* stp = status.data_ptr<int64_t>();
  int64_t* nap = n_ante.data_ptr<int64_t>();
  int64_t* adp = ante_dim.data_ptr<int64_t>();
  int64_t* ahp = ante_hyp.data_ptr<int64_t>();
  double* fp = fidelity.data_ptr<double>();
  double* tfp = target_fid.data_ptr<double>();
  int64_t* tcp = target_cov.data_ptr<int64_t>();
  std::vector<std::vector<int32_t>> covered(s);

  const int threads = static_cast<int>(n_threads > 0 ? n_threads : at::get_num_threads());
  const int32_t* cp = cc.data_ptr<int32_t>();

  auto run = [&](const auto* bp, const auto* sbp) {
    using bin_t = std::remove_const_t<std::remove_pointer_t<decltype(bp)>>;
    // One solver (scratch) per worker; each sample's rule depends only on its own stream.
    for_each_task(s, threads, [&] {
      return [&, solver = FidexSolver<bin_t>(bp, pp, cp, class_count.data(), n, d, k, c, p)](int64_t i) mutable {
        SplitMix64 rng(static_cast<uint64_t>(seed), static_cast<uint64_t>(sip[i]));
        float used_fid = 0.0f;
        int64_t used_cov = 0;
        const Attempt* a = nullptr;
        stp[i] = solver.launch(sbp + i * d, spp[i], rng, &used_fid, &used_cov, &a);
        const int64_t m = static_cast<int64_t>(a->ante_dim.size());
        nap[i] = m;
        for (int64_t q = 0; q < m; ++q) {
          adp[i * max_iterations + q] = a->ante_dim[q];
          ahp[i * max_iterations + q] = a->ante_hyp[q];
        }
        fp[i] = a->fidelity;
        tfp[i] = static_cast<double>(used_fid);
        tcp[i] = used_cov;
        solver.materialise(*a, covered[i]);
      };
    });
  };
  if (bc.scalar_type() == at::kByte) {
    run(bc.data_ptr<uint8_t>(), sbc.data_ptr<uint8_t>());
  } else {
    run(bc.data_ptr<int16_t>(), sbc.data_ptr<int16_t>());
  }

  at::Tensor ptr = at::empty({s + 1}, long_opts);
  int64_t* ptrp = ptr.data_ptr<int64_t>();
  ptrp[0] = 0;
  for (int64_t i = 0; i < s; ++i) ptrp[i + 1] = ptrp[i] + static_cast<int64_t>(covered[i].size());
  at::Tensor idx = at::empty({ptrp[s]}, preds.options().dtype(at::kInt));
  int32_t* idxp = idx.data_ptr<int32_t>();
  for (int64_t i = 0; i < s; ++i) std::copy(covered[i].begin(), covered[i].end(), idxp + ptrp[i]);
  return {status, n_ante, ante_dim, ante_hyp, fidelity, target_fid, target_cov, ptr, idx};
}

}  // namespace

TORCH_LIBRARY_IMPL(nesy, CPU, m) {
  m.impl("rules_bins", &rules_bins_cpu);
  m.impl("rules_cumcounts", &rules_cumcounts_cpu);
  m.impl("fidex", &fidex_cpu);
}

}  // namespace rules
}  // namespace nesy
