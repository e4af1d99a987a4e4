// A tiny counter-seeded random stream (SplitMix64) for the rule-extraction kernels.
//
// One stream per explained sample, seeded from (seed, sample id), so results do not depend
// on which thread explains which sample. lib/nesy/rules/twin.py holds the same generator in
// pure Python; both must draw exactly the same numbers in the same order.
#pragma once

#include <cstdint>

namespace nesy {
namespace rules {

class SplitMix64 {
 public:
  SplitMix64(uint64_t seed, uint64_t stream)
      : state_(seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Integer in [0, n) (n >= 1); the modulo bias is negligible for the sizes used here.
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

}  // namespace rules
}  // namespace nesy
