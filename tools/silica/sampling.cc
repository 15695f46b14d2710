#include "silica/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace silica::cli {

int32_t ArgMax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) -
                              logits.begin());
}

SimpleSampler::SimpleSampler(const SamplingOptions& options)
    : options_(options), rng_(options.seed) {}

int32_t SimpleSampler::Sample(std::span<const float> logits) {
  if (options_.temperature <= 0.0f || options_.top_k == 1) {
    return ArgMax(logits);
  }
  const auto n = static_cast<int32_t>(logits.size());
  order_.resize(static_cast<size_t>(n));
  std::iota(order_.begin(), order_.end(), 0);
  // Candidates sorted by logit, cut to top-k first (a partial sort keeps
  // this cheap on 150k-entry vocabularies).
  int32_t keep = n;
  if (options_.top_k > 0) keep = std::min(keep, options_.top_k);
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(),
                    by_logit);
  order_.resize(static_cast<size_t>(keep));

  // Softmax with temperature over the survivors.
  const float inv_t = 1.0f / options_.temperature;
  const float max_logit = logits[static_cast<size_t>(order_[0])];
  probs_.resize(order_.size());
  double sum = 0.0;
  for (size_t i = 0; i < order_.size(); ++i) {
    const float z =
        (logits[static_cast<size_t>(order_[i])] - max_logit) * inv_t;
    probs_[i] = std::exp(z);
    sum += probs_[i];
  }
  // Top-p: the smallest prefix whose mass reaches p.
  size_t cut = order_.size();
  if (options_.top_p < 1.0f) {
    double acc = 0.0;
    for (size_t i = 0; i < order_.size(); ++i) {
      acc += probs_[i] / sum;
      if (acc >= options_.top_p) {
        cut = i + 1;
        break;
      }
    }
  }
  double mass = 0.0;
  for (size_t i = 0; i < cut; ++i) mass += probs_[i];
  std::uniform_real_distribution<double> uniform(0.0, mass);
  double r = uniform(rng_);
  for (size_t i = 0; i < cut; ++i) {
    r -= probs_[i];
    if (r <= 0.0) return order_[i];
  }
  return order_[cut - 1];
}

}  // namespace silica::cli
