#include "model/layers/decoder.h"

#include <cmath>
#include <string>
#include <utility>

#include "model/layers/host_ops.h"

namespace silica {
namespace {

void Grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
}

}  // namespace

Result<std::unique_ptr<DecoderModel>> DecoderModel::Create(
    DecoderParams params, std::unique_ptr<WeightSource> source,
    std::span<const SlotNames> table, Backend& backend) {
  if (backend.device() != Device::kCpu) {
    // Biases, scaling and soft-capping still run on host memory
    // (layers/host_ops.h).
    return Unimplemented("model forward needs a CPU backend for now, got " +
                         std::string(backend.name()));
  }
  ASSIGN_OR_RETURN(DecoderWeights weights,
                   LoadDecoderWeights(*source, table, params, backend.ops()));
  auto model = std::unique_ptr<DecoderModel>(new DecoderModel(
      std::move(params), std::move(source), std::move(weights), backend));
  const DecoderParams& p = model->params_;
  const int rot = static_cast<int>(p.rotary_dim);
  ASSIGN_OR_RETURN(
      model->rope_global_,
      BuildRopeTable(p.rope_global, rot, model->weights_.rope_freqs));
  // rope_freqs (GGUF Llama 3 only) applies to every layer, as in llama.cpp.
  // Only Gemma 3 has distinct local layers, and its files never carry it.
  ASSIGN_OR_RETURN(
      model->rope_local_,
      BuildRopeTable(p.rope_local, rot, model->weights_.rope_freqs));
  for (int64_t l = 0; l < p.num_layers; ++l) {
    const bool sliding = p.sliding[static_cast<size_t>(l)];
    AttentionSetup s;
    s.n_heads = static_cast<int>(p.n_heads);
    s.n_kv_heads = static_cast<int>(p.n_kv_heads);
    s.head_dim = static_cast<int>(p.head_dim);
    s.rms_eps = p.rms_eps;
    s.rope = (sliding ? model->rope_local_ : model->rope_global_)
                 .Params(s.head_dim, rot, p.rope_neox);
    s.attn.n_heads = s.n_heads;
    s.attn.n_kv_heads = s.n_kv_heads;
    s.attn.head_dim = s.head_dim;
    s.attn.scale = p.attn_scale > 0.0f
                       ? p.attn_scale
                       : 1.0f / std::sqrt(static_cast<float>(p.head_dim));
    s.attn.sliding_window = sliding ? static_cast<int>(p.sliding_window) : 0;
    s.attn.softcap = p.attn_softcap;
    model->layer_setup_.push_back(s);
  }
  return model;
}

DecoderModel::DecoderModel(DecoderParams params,
                           std::unique_ptr<WeightSource> source,
                           DecoderWeights weights, Backend& backend)
    : params_(std::move(params)),
      source_(std::move(source)),
      weights_(std::move(weights)),
      backend_(backend) {
  info_.architecture = params_.architecture;
  info_.name = params_.name;
  info_.vocab_size = static_cast<int>(params_.vocab_size);
  info_.num_layers = static_cast<int>(params_.num_layers);
  info_.hidden_size = static_cast<int>(params_.hidden);
  info_.n_heads = static_cast<int>(params_.n_heads);
  info_.n_kv_heads = static_cast<int>(params_.n_kv_heads);
  info_.head_dim = static_cast<int>(params_.head_dim);
  info_.context_length = static_cast<int>(params_.context_length);
  info_.eos_token_ids = params_.eos_token_ids;
}

Status DecoderModel::Validate(const BatchInputs& in,
                              const KVCacheTensors& kv) const {
  const int64_t t = static_cast<int64_t>(in.token_ids.size());
  if (t == 0) return InvalidArgument("forward: empty batch");
  if (static_cast<int64_t>(in.positions.size()) != t ||
      static_cast<int64_t>(in.slot_mapping.size()) != t) {
    return InvalidArgument(
        "forward: token_ids, positions and slot_mapping "
        "must have the same length");
  }
  const KVCacheShape& ks = kv.shape();
  if (ks.num_layers != params_.num_layers ||
      ks.n_kv_heads != params_.n_kv_heads || ks.head_dim != params_.head_dim) {
    return InvalidArgument("forward: KV cache shape does not fit the model");
  }
  const AttentionBatch& a = in.attention;
  if (a.num_seqs <= 0 || a.query_start == nullptr || a.seq_lens == nullptr ||
      a.block_table == nullptr || a.query_start[0] != 0 ||
      a.query_start[a.num_seqs] != t) {
    return InvalidArgument(
        "forward: attention batch does not cover the "
        "tokens (query_start must run from 0 to T)");
  }
  const int64_t capacity = int64_t{a.max_blocks_per_seq} * ks.block_size;
  for (int s = 0; s < a.num_seqs; ++s) {
    const int n_query = a.query_start[s + 1] - a.query_start[s];
    if (n_query <= 0 || a.seq_lens[s] < n_query || a.seq_lens[s] > capacity) {
      return InvalidArgument("forward: sequence " + std::to_string(s) +
                             " has " + std::to_string(n_query) +
                             " queries, length " +
                             std::to_string(a.seq_lens[s]) + " and room for " +
                             std::to_string(capacity));
    }
    const int32_t* table = a.block_table + int64_t{s} * a.max_blocks_per_seq;
    const int used = (a.seq_lens[s] + ks.block_size - 1) / ks.block_size;
    for (int b = 0; b < used; ++b) {
      if (table[b] < 0 || table[b] >= ks.num_blocks) {
        return InvalidArgument("forward: block table of sequence " +
                               std::to_string(s) + " names block " +
                               std::to_string(table[b]));
      }
    }
  }
  const int64_t slots = int64_t{ks.num_blocks} * ks.block_size;
  for (int32_t slot : in.slot_mapping) {
    if (slot >= slots) {
      return InvalidArgument("forward: slot " + std::to_string(slot) +
                             " outside the KV cache");
    }
  }
  for (int32_t row : in.logits_rows) {
    if (row < 0 || row >= t) {
      return InvalidArgument("forward: logits row " + std::to_string(row) +
                             " outside the batch");
    }
  }
  return Status::Ok();
}

Status DecoderModel::Forward(const BatchInputs& inputs, KVCacheTensors& kv,
                             float* logits) {
  RETURN_IF_ERROR(Validate(inputs, kv));
  OpTable& ops = backend_.ops();
  const DecoderParams& p = params_;
  const int64_t t = static_cast<int64_t>(inputs.token_ids.size());
  const int64_t d = p.hidden;
  Grow(x_, t * d);
  Grow(h_, t * d);
  Grow(o_, t * d);
  scratch_.Reserve(t, p);
  float* x = x_.data();
  float* h = h_.data();
  float* o = o_.data();

  RETURN_IF_ERROR(
      ops.Embed(weights_.token_embd, inputs.token_ids.data(), t, x));
  if (p.embed_scale != 1.0f) ScaleInPlace(x, t * d, p.embed_scale);

  for (int64_t l = 0; l < p.num_layers; ++l) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    ops.RmsNorm(x, w.attn_norm.data(), t, d, p.rms_eps, false, h);
    RETURN_IF_ERROR(RunAttention(ops, w, layer_setup_[static_cast<size_t>(l)],
                                 h, inputs, kv.layer(static_cast<int>(l)),
                                 scratch_, o));
    if (p.post_norms) {
      ops.RmsNorm(o, w.attn_post_norm.data(), t, d, p.rms_eps, false, o);
    }
    ops.Add(x, o, t * d);

    ops.RmsNorm(x, w.ffn_norm.data(), t, d, p.rms_eps, false, h);
    RETURN_IF_ERROR(RunMlp(ops, w, p.activation, h, t, scratch_, o));
    if (p.post_norms) {
      ops.RmsNorm(o, w.ffn_post_norm.data(), t, d, p.rms_eps, false, o);
    }
    ops.Add(x, o, t * d);
  }

  // Only the rows that want logits go through the final norm and the head
  // (in decode that is one row per sequence, not every prompt token).
  const int64_t rows = static_cast<int64_t>(inputs.logits_rows.size());
  if (rows == 0) return Status::Ok();
  GatherRows(x, inputs.logits_rows, d, h);
  ops.RmsNorm(h, weights_.output_norm.data(), rows, d, p.rms_eps, false, h);
  RETURN_IF_ERROR(ops.MatMul(h, rows, weights_.output, logits));
  if (p.final_softcap > 0.0f) {
    SoftcapInPlace(logits, rows * p.vocab_size, p.final_softcap);
  }
  return Status::Ok();
}

}  // namespace silica
