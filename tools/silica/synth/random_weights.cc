#include "silica/synth/random_weights.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace silica::synth {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// SplitMix64's output function: a bijective 64-bit mixer with good
// avalanche, so consecutive counters give independent-looking bits.
uint64_t Mix(uint64_t z) {
  z += kGolden;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Two independent N(0,1) samples from counter `pair` (Box-Muller on two
// 24-bit uniforms; u1 is in (0, 1] so the log is finite).
void NormalPair(uint64_t key, uint64_t pair, float* z0, float* z1) {
  const uint64_t h = Mix(key + pair * kGolden);
  constexpr float kScale = 1.0f / 16777216.0f;  // 2^-24
  const float u1 = static_cast<float>((h >> 40) + 1) * kScale;
  const float u2 = static_cast<float>((h >> 16) & 0xffffff) * kScale;
  const float r = std::sqrt(-2.0f * std::log(u1));
  const float theta = 2.0f * std::numbers::pi_v<float> * u2;
  *z0 = r * std::cos(theta);
  *z1 = r * std::sin(theta);
}

// Hugging Face row of GGUF row `r` of a q/k projection with `heads` heads:
// llama.cpp stores each head's rows as interleaved (first-half, second-
// half) pairs where Hugging Face stores the two halves one after another.
int64_t HfRowOfGgufRow(int64_t r, int64_t rows, int64_t heads) {
  const int64_t head_rows = rows / heads;
  const int64_t h = r / head_rows;
  const int64_t within = r % head_rows;
  const int64_t pair = within / 2;
  const int64_t half = within % 2;
  return h * head_rows + half * (head_rows / 2) + pair;
}

}  // namespace

uint64_t TensorKey(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : name) {
    h = (h ^ c) * 0x100000001b3ull;
  }
  return Mix(Mix(seed) ^ h);
}

void FillNormal(uint64_t key, int64_t first, std::span<float> out,
                float stddev) {
  size_t i = 0;
  int64_t e = first;
  float z0 = 0.0f;
  float z1 = 0.0f;
  if (e % 2 != 0 && i < out.size()) {  // starts on the odd half of a pair
    NormalPair(key, static_cast<uint64_t>(e / 2), &z0, &z1);
    out[i++] = stddev * z1;
    ++e;
  }
  for (; i + 1 < out.size(); i += 2, e += 2) {
    NormalPair(key, static_cast<uint64_t>(e / 2), &z0, &z1);
    out[i] = stddev * z0;
    out[i + 1] = stddev * z1;
  }
  if (i < out.size()) {
    NormalPair(key, static_cast<uint64_t>(e / 2), &z0, &z1);
    out[i] = stddev * z0;
  }
}

Result<std::vector<float>> Llama3RopeFactors(const ArchShape& shape) {
  if (!shape.rope_llama3) {
    return InvalidArgument(shape.name + " has no llama3 RoPE scaling");
  }
  const Llama3RopeScaling& r = *shape.rope_llama3;
  const int64_t dim = shape.head_dim;
  const double old_ctx =
      static_cast<double>(r.original_max_position_embeddings);
  const double low_wavelen = old_ctx / r.low_freq_factor;
  const double high_wavelen = old_ctx / r.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < dim; i += 2) {
    // The converter does this in float32 (torch); so do we.
    const float exponent = static_cast<float>(i) / static_cast<float>(dim);
    const float freq =
        1.0f / std::pow(static_cast<float>(shape.rope_theta), exponent);
    const float wavelen =
        static_cast<float>(2.0 * std::numbers::pi / static_cast<double>(freq));
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(r.factor));
    } else {
      const float smooth =
          (static_cast<float>(old_ctx) / wavelen -
           static_cast<float>(r.low_freq_factor)) /
          static_cast<float>(r.high_freq_factor - r.low_freq_factor);
      factors.push_back(
          1.0f / ((1.0f - smooth) / static_cast<float>(r.factor) + smooth));
    }
  }
  return factors;
}

Status TensorRows(const ArchShape& shape, const TensorSpec& t, uint64_t seed,
                  bool gguf_layout, int64_t row_begin, int64_t nrows,
                  float* out) {
  const int64_t rows = t.Rows();
  const int64_t cols = t.Cols();
  if (row_begin < 0 || nrows < 0 || row_begin + nrows > rows) {
    return OutOfRange("tensor '" + t.gguf_name + t.hf_name + "': rows [" +
                      std::to_string(row_begin) + ", " +
                      std::to_string(row_begin + nrows) + ") of " +
                      std::to_string(rows));
  }
  switch (t.role) {
    case TensorRole::kNorm:
      std::fill(out, out + nrows * cols, 1.0f);
      return Status::Ok();
    case TensorRole::kRopeFreqs: {
      ASSIGN_OR_RETURN(std::vector<float> f, Llama3RopeFactors(shape));
      if (static_cast<int64_t>(f.size()) != cols || rows != 1) {
        return Internal("rope_freqs: shape does not match head_dim / 2");
      }
      std::copy(f.begin(), f.end(), out);
      return Status::Ok();
    }
    default:
      break;
  }
  const uint64_t key =
      TensorKey(seed, t.hf_name.empty() ? t.gguf_name : t.hf_name);
  const bool permute = gguf_layout && t.rope_permute_heads > 0;
  if (permute && rows % (2 * t.rope_permute_heads) != 0) {
    return Internal("tensor '" + t.gguf_name +
                    "': rows not a whole number of head pairs");
  }
  for (int64_t r = 0; r < nrows; ++r) {
    const int64_t row = row_begin + r;
    const int64_t src =
        permute ? HfRowOfGgufRow(row, rows, t.rope_permute_heads) : row;
    FillNormal(key, src * cols,
               std::span<float>(out + r * cols, static_cast<size_t>(cols)),
               kWeightStd);
  }
  return Status::Ok();
}

}  // namespace silica::synth
