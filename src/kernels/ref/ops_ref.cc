#include "kernels/ref/ops_ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/ref/quant.h"

namespace silica {
namespace {

// Element e of token slot `slot`, kv head h, in a K or V cache.
float ReadCache(const void* base, DType dtype, int64_t index) {
  if (dtype == DType::kF16) {
    return HalfToFloat(static_cast<const uint16_t*>(base)[index]);
  }
  return static_cast<const float*>(base)[index];
}

void WriteCache(void* base, DType dtype, int64_t index, float value) {
  if (dtype == DType::kF16) {
    static_cast<uint16_t*>(base)[index] = FloatToHalf(value);
  } else {
    static_cast<float*>(base)[index] = value;
  }
}

}  // namespace

void RmsNormRef(const float* x, const float* w, int64_t rows, int64_t dim,
                float eps, bool one_plus_w, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    double ss = 0.0;
    for (int64_t i = 0; i < dim; ++i) ss += double{xr[i]} * xr[i];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) {
      const double g = one_plus_w ? 1.0 + w[i] : double{w[i]};
      yr[i] = static_cast<float>(xr[i] * inv * g);
    }
  }
}

void RopeRef(float* x, int64_t tokens, int heads, const int32_t* positions,
             const RopeParams& p) {
  const int half = p.rotary_dim / 2;
  for (int64_t t = 0; t < tokens; ++t) {
    for (int h = 0; h < heads; ++h) {
      float* v = x + (t * heads + h) * p.head_dim;
      for (int i = 0; i < half; ++i) {
        const float angle = static_cast<float>(positions[t]) * p.inv_freq[i];
        const double c = std::cos(double{angle}) * p.attention_factor;
        const double s = std::sin(double{angle}) * p.attention_factor;
        const int i0 = p.neox ? i : 2 * i;
        const int i1 = p.neox ? i + half : 2 * i + 1;
        const double x0 = v[i0], x1 = v[i1];
        v[i0] = static_cast<float>(x0 * c - x1 * s);
        v[i1] = static_cast<float>(x0 * s + x1 * c);
      }
    }
  }
}

void SiluMulRef(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void GeluTanhMulRef(const float* gate, const float* up, int64_t n,
                    float* out) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    const double gelu = 0.5 * g * (1.0 + std::tanh(k * (g + 0.044715 * g * g * g)));
    out[i] = static_cast<float>(gelu * up[i]);
  }
}

void SoftmaxRef(float* x, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r) {
    float* xr = x + r * n;
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double{xr[i]});
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(xr[i] - mx);
    for (int64_t i = 0; i < n; ++i) {
      xr[i] = static_cast<float>(std::exp(xr[i] - mx) / sum);
    }
  }
}

void AddRef(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void StoreKVRef(const float* k, const float* v, int64_t tokens,
                const int32_t* slot_mapping, const PagedKV& kv) {
  const int d = kv.head_dim;
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t slot = slot_mapping[t];
    if (slot < 0) continue;
    for (int h = 0; h < kv.n_kv_heads; ++h) {
      const int64_t dst = KVOffset(kv, slot, h);
      const int64_t src = (t * kv.n_kv_heads + h) * d;
      for (int e = 0; e < d; ++e) {
        WriteCache(kv.k, kv.dtype, dst + e, k[src + e]);
        WriteCache(kv.v, kv.dtype, dst + e, v[src + e]);
      }
    }
  }
}

void AttentionRef(const float* q, const PagedKV& kv,
                  const AttentionBatch& batch, const AttentionParams& p,
                  float* out) {
  const int d = p.head_dim;
  const int group = p.n_heads / p.n_kv_heads;
  std::vector<double> scores;
  std::vector<double> acc(d);
  for (int s = 0; s < batch.num_seqs; ++s) {
    const int q0 = batch.query_start[s];
    const int n_query = batch.query_start[s + 1] - q0;
    const int len = batch.seq_lens[s];
    const int32_t* table = batch.block_table +
                           int64_t{s} * batch.max_blocks_per_seq;
    for (int i = 0; i < n_query; ++i) {
      const int pos = len - n_query + i;
      const int lo = p.sliding_window > 0
                         ? std::max(0, pos - p.sliding_window + 1)
                         : 0;
      for (int h = 0; h < p.n_heads; ++h) {
        const int kvh = h / group;
        const float* qv = q + (int64_t{q0 + i} * p.n_heads + h) * d;
        scores.assign(pos - lo + 1, 0.0);
        double mx = -std::numeric_limits<double>::infinity();
        for (int c = lo; c <= pos; ++c) {
          const int64_t slot =
              int64_t{table[c / kv.block_size]} * kv.block_size +
              c % kv.block_size;
          const int64_t base = KVOffset(kv, slot, kvh);
          double dot = 0.0;
          for (int e = 0; e < d; ++e) {
            dot += double{qv[e]} * ReadCache(kv.k, kv.dtype, base + e);
          }
          double score = dot * p.scale;
          if (p.softcap > 0.0f) {
            score = p.softcap * std::tanh(score / p.softcap);
          }
          scores[c - lo] = score;
          mx = std::max(mx, score);
        }
        double sum = 0.0;
        for (double& sc : scores) {
          sc = std::exp(sc - mx);
          sum += sc;
        }
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int c = lo; c <= pos; ++c) {
          const int64_t slot =
              int64_t{table[c / kv.block_size]} * kv.block_size +
              c % kv.block_size;
          const int64_t base = KVOffset(kv, slot, kvh);
          const double w = scores[c - lo] / sum;
          for (int e = 0; e < d; ++e) {
            acc[e] += w * ReadCache(kv.v, kv.dtype, base + e);
          }
        }
        float* o = out + (int64_t{q0 + i} * p.n_heads + h) * d;
        for (int e = 0; e < d; ++e) o[e] = static_cast<float>(acc[e]);
      }
    }
  }
}

Status EmbedRef(const TensorView& table, const int32_t* ids, int64_t n,
                float* out) {
  if (table.shape.rank != 2) {
    return InvalidArgument("embedding table must be 2-D, got " +
                           table.shape.ToString());
  }
  const int64_t vocab = table.shape[0];
  const int64_t dim = table.shape[1];
  const uint64_t row_bytes = table.RowBytes();
  const auto* base = static_cast<const uint8_t*>(table.data);
  for (int64_t t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= vocab) {
      return InvalidArgument("token id " + std::to_string(ids[t]) +
                             " outside the embedding table of " +
                             std::to_string(vocab) + " rows");
    }
    RETURN_IF_ERROR(DequantizeRow(table.dtype, base + ids[t] * row_bytes,
                                  out + t * dim, dim));
  }
  return Status::Ok();
}

namespace {

double YarnMscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

// The rotary dimension index whose wavelength makes `rotations` turns over
// the original context.
double YarnCorrectionDim(double rotations, int dim, double base,
                         double max_pos) {
  return dim * std::log(max_pos / (rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(base));
}

}  // namespace

Result<RopeFreqs> ComputeRopeInvFreq(double theta, int rotary_dim,
                                     const RopeScaling& scaling) {
  if (rotary_dim <= 0 || rotary_dim % 2 != 0) {
    return InvalidArgument("rotary_dim must be positive and even, got " +
                           std::to_string(rotary_dim));
  }
  if (!(theta > 1.0) || !std::isfinite(theta)) {
    return InvalidArgument("rope theta must be > 1, got " +
                           std::to_string(theta));
  }
  if (scaling.type != RopeScalingType::kDefault &&
      !(scaling.factor > 0.0 && std::isfinite(scaling.factor))) {
    return InvalidArgument("rope scaling factor must be > 0, got " +
                           std::to_string(scaling.factor));
  }
  const int half = rotary_dim / 2;
  std::vector<double> base(half);
  for (int i = 0; i < half; ++i) {
    base[i] = 1.0 / std::pow(theta, 2.0 * i / rotary_dim);
  }
  double attention_factor = 1.0;
  switch (scaling.type) {
    case RopeScalingType::kDefault:
      break;
    case RopeScalingType::kLinear:
      for (double& f : base) f /= scaling.factor;
      break;
    case RopeScalingType::kLlama3: {
      const double ctx =
          static_cast<double>(scaling.original_max_position_embeddings);
      const double lo = scaling.low_freq_factor, hi = scaling.high_freq_factor;
      if (!(ctx > 0) || !(lo > 0) || !(hi > lo)) {
        return InvalidArgument(
            "llama3 rope scaling needs original_max_position_embeddings > 0 "
            "and 0 < low_freq_factor < high_freq_factor");
      }
      const double low_freq_wavelen = ctx / lo;
      const double high_freq_wavelen = ctx / hi;
      for (double& f : base) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_freq_wavelen) {
          f /= scaling.factor;  // long wavelengths: interpolate fully
        } else if (wavelen >= high_freq_wavelen) {
          // Medium band: blend scaled and unscaled smoothly.
          const double smooth = (ctx / wavelen - lo) / (hi - lo);
          f = (1.0 - smooth) * f / scaling.factor + smooth * f;
        }
      }
      break;
    }
    case RopeScalingType::kYarn: {
      const int64_t orig = scaling.original_max_position_embeddings > 0
                               ? scaling.original_max_position_embeddings
                               : scaling.max_position_embeddings;
      if (orig <= 0) {
        return InvalidArgument(
            "yarn rope scaling needs original_max_position_embeddings or "
            "max_position_embeddings");
      }
      if (scaling.attention_factor.has_value()) {
        attention_factor = *scaling.attention_factor;
      } else if (scaling.mscale.has_value() &&
                 scaling.mscale_all_dim.has_value() && *scaling.mscale != 0 &&
                 *scaling.mscale_all_dim != 0) {
        attention_factor = YarnMscale(scaling.factor, *scaling.mscale) /
                           YarnMscale(scaling.factor, *scaling.mscale_all_dim);
      } else {
        attention_factor = YarnMscale(scaling.factor, 1.0);
      }
      double low = YarnCorrectionDim(scaling.beta_fast, rotary_dim, theta,
                                     static_cast<double>(orig));
      double high = YarnCorrectionDim(scaling.beta_slow, rotary_dim, theta,
                                      static_cast<double>(orig));
      if (scaling.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, static_cast<double>(rotary_dim - 1));
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      for (int i = 0; i < half; ++i) {
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
        const double extrapolation = 1.0 - ramp;
        const double interp = base[i] / scaling.factor;
        base[i] = interp * (1.0 - extrapolation) + base[i] * extrapolation;
      }
      break;
    }
  }
  RopeFreqs out;
  out.inv_freq.resize(half);
  for (int i = 0; i < half; ++i) out.inv_freq[i] = static_cast<float>(base[i]);
  out.attention_factor = static_cast<float>(attention_factor);
  return out;
}

}  // namespace silica
