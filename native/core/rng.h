// Seeded random streams: xoshiro256** seeded through splitmix64 from (seed, stream). Integer-only state and
// our own conversions, so a seed gives the same numbers on every machine; stream = thread, user or block id.
#pragma once
#include <cmath>
#include <cstdint>

namespace recsys {

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A stateless hash of (seed, a, b) to 64 bits: for per-element randomness that must not depend on visiting order.
inline uint64_t hash3(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t x = seed ^ (a * 0xD1B54A32D192ED03ull) ^ (b * 0xABC98388FB8FAC03ull);
  uint64_t s = x;
  splitmix64(s);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0) {
    uint64_t x = seed ^ (stream * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    for (auto& w : s_) w = splitmix64(x);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
  uint32_t below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(static_cast<uint32_t>(next() >> 32)) * n;
    uint32_t l = static_cast<uint32_t>(m);
    if (l < n) {
      uint32_t threshold = static_cast<uint32_t>(-n) % n;
      while (l < threshold) {
        m = static_cast<uint64_t>(static_cast<uint32_t>(next() >> 32)) * n;
        l = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }
  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller; one value per call, simple and reproducible).
  double normal() {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // n normals N(mean, std^2) into out, using both values of each Box-Muller pair (half the log/sqrt/cos work
  // of calling normal() n times; factor initialization of large models spends most of its time here).
  void fill_normal(float* out, int64_t n, double mean, double std) {
    int64_t j = 0;
    for (; j + 1 < n; j += 2) {
      double u1 = uniform();
      const double u2 = uniform();
      if (u1 < 1e-300) u1 = 1e-300;
      const double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
      out[j] = static_cast<float>(mean + std * r * std::cos(t));
      out[j + 1] = static_cast<float>(mean + std * r * std::sin(t));
    }
    if (j < n) out[j] = static_cast<float>(mean + std * normal());
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace recsys
