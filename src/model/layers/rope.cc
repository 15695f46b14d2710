#include "model/layers/rope.h"

#include <cmath>
#include <string>

#include "kernels/ref/ops_ref.h"

namespace silica {

RopeParams RopeTable::Params(int head_dim, int rotary_dim, bool neox) const {
  RopeParams p;
  p.head_dim = head_dim;
  p.rotary_dim = rotary_dim;
  p.neox = neox;
  p.inv_freq = inv_freq.data();
  p.attention_factor = attention_factor;
  return p;
}

Result<RopeTable> BuildRopeTable(const RopeSpec& spec, int rotary_dim,
                                 std::span<const float> freq_factors) {
  ASSIGN_OR_RETURN(RopeFreqs f,
                   ComputeRopeInvFreq(spec.theta, rotary_dim, spec.scaling));
  if (!freq_factors.empty()) {
    if (freq_factors.size() != f.inv_freq.size()) {
      return InvalidArgument(
          "rope_freqs has " + std::to_string(freq_factors.size()) +
          " factors, expected " + std::to_string(f.inv_freq.size()));
    }
    for (size_t i = 0; i < f.inv_freq.size(); ++i) {
      if (!(freq_factors[i] > 0.0f) || !std::isfinite(freq_factors[i])) {
        return InvalidArgument("rope_freqs factor " + std::to_string(i) +
                               " is not a positive number");
      }
      f.inv_freq[i] /= freq_factors[i];
    }
  }
  RopeTable t;
  t.inv_freq = std::move(f.inv_freq);
  t.attention_factor = f.attention_factor;
  return t;
}

}  // namespace silica
