// SimRng: the simulator's random numbers. Deterministic across platforms and compilers (the
// standard library's distributions are not), so one seed gives one stream everywhere:
// xoshiro256** (Blackman and Vigna 2018) seeded through splitmix64, with its own normal
// (Marsaglia polar method), exponential and weighted choice. Not thread-safe; one per thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace vigil::sim {

class SimRng {
 public:
  explicit SimRng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : s_) s = SplitMix(x);
  }
  // An independent stream for a sub-entity (a retry of one event, one customer), from a parent
  // seed and a key, without consuming the parent's stream.
  static SimRng Derive(std::uint64_t seed, std::uint64_t key) {
    std::uint64_t x = seed ^ (key * 0x9E3779B97F4A7C15ull);
    return SimRng(SplitMix(x));
  }

  std::uint64_t Next() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n).
  std::uint64_t Below(std::uint64_t n) { return n == 0 ? 0 : Next() % n; }
  bool Bernoulli(double p) { return Uniform() < p; }
  double Normal(double mean, double sd) {
    if (have_spare_) {
      have_spare_ = false;
      return mean + sd * spare_;
    }
    double u, v, s;
    do {
      u = Uniform() * 2.0 - 1.0;
      v = Uniform() * 2.0 - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    have_spare_ = true;
    return mean + sd * u * f;
  }
  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }
  // exp(N(log(median), sigma)).
  double LogNormal(double median, double sigma) { return median * std::exp(Normal(0.0, sigma)); }
  // An index drawn with probability proportional to its weight (all weights >= 0).
  std::size_t Pick(std::span<const double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = Uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.empty() ? 0 : weights.size() - 1;
  }

 private:
  static std::uint64_t SplitMix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool have_spare_ = false;
};

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace vigil::sim
