// A small sampler for `silica generate`: greedy, temperature, top-k, top-p
// with a seeded generator. The engine's Sampler (logits processors,
// per-position seeding) replaces it with the serving engine.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace silica::cli {

struct SamplingOptions {
  float temperature = 0.0f;  // <= 0: greedy
  int top_k = 0;             // <= 0: off
  float top_p = 1.0f;        // >= 1: off
  uint64_t seed = 0;
};

class SimpleSampler {
 public:
  explicit SimpleSampler(const SamplingOptions& options);

  // Picks a token id from one row of logits.
  int32_t Sample(std::span<const float> logits);

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<int32_t> order_;
  std::vector<float> probs_;
};

// The index of the largest logit (the first on ties).
int32_t ArgMax(std::span<const float> logits);

}  // namespace silica::cli
