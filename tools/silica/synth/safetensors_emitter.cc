#include "silica/synth/safetensors_emitter.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "io/safetensors_writer.h"
#include "silica/synth/hf_tokenizer_writer.h"
#include "silica/synth/tensor_fill.h"

namespace silica::synth {
namespace {

using Json = nlohmann::json;  // sorted keys, as transformers writes them

Result<std::string> TorchDtype(DType d) {
  switch (d) {
    case DType::kF32:
      return std::string("float32");
    case DType::kF16:
      return std::string("float16");
    case DType::kBF16:
      return std::string("bfloat16");
    default:
      return InvalidArgument("safetensors synth writes f32, f16 or bf16, not " +
                             std::string(DTypeName(d)));
  }
}

// The tokenizer carries the real model's special ids unless it is a
// stand-in (then the config must point at tokens that exist in it).
bool TokenizerHasRealIds(const ArchShape& s, const TokenizerData& tok) {
  return tok.bos_id && *tok.bos_id == s.bos_token_id && tok.eos_id &&
         !s.eos_token_ids.empty() && *tok.eos_id == s.eos_token_ids[0];
}

Json Ids(const std::vector<int64_t>& ids) {
  return ids.size() == 1 ? Json(ids[0]) : Json(ids);
}

Result<std::string> Dump(const Json& j) {
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("cannot encode JSON: ") + e.what());
  }
}

// Weights of an earlier run in the same folder would shadow or mix with
// the new ones (a stale index wins over a new single file), so they go.
Status RemoveOldWeights(const std::filesystem::path& root) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    const bool weights =
        name == "model.safetensors" || name == "model.safetensors.index.json" ||
        (name.starts_with("model-") && name.ends_with(".safetensors"));
    if (weights && !std::filesystem::remove(e.path(), ec)) {
      return IoError(e.path().string() + ": cannot remove old weights");
    }
  }
  if (ec) return IoError(root.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::string> HfConfigJson(const ArchShape& s, const TokenizerData& tok,
                                 DType dtype) {
  ASSIGN_OR_RETURN(const std::string torch_dtype, TorchDtype(dtype));
  const bool real_ids = TokenizerHasRealIds(s, tok);
  Json j;
  j["architectures"] = Json::array({s.hf_architecture});
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = real_ids
                          ? Json(s.bos_token_id)
                          : (tok.bos_id ? Json(*tok.bos_id) : Json(nullptr));
  j["eos_token_id"] = real_ids
                          ? Ids(s.eos_token_ids)
                          : (tok.eos_id ? Json(*tok.eos_id) : Json(nullptr));
  j["head_dim"] = s.head_dim;
  j["hidden_act"] = "silu";
  j["hidden_size"] = s.hidden;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = s.intermediate;
  j["max_position_embeddings"] = s.context;
  j["model_type"] = s.hf_model_type;
  j["num_attention_heads"] = s.heads;
  j["num_hidden_layers"] = s.layers;
  j["num_key_value_heads"] = s.kv_heads;
  j["rms_norm_eps"] = s.rms_eps;
  j["rope_theta"] = s.rope_theta;
  j["tie_word_embeddings"] = s.tied_embeddings;
  j["torch_dtype"] = torch_dtype;
  j["transformers_version"] = s.transformers_version;
  j["use_cache"] = true;
  j["vocab_size"] = s.vocab;
  if (s.rope_llama3) {
    j["rope_scaling"] = {{"factor", s.rope_llama3->factor},
                         {"high_freq_factor", s.rope_llama3->high_freq_factor},
                         {"low_freq_factor", s.rope_llama3->low_freq_factor},
                         {"original_max_position_embeddings",
                          s.rope_llama3->original_max_position_embeddings},
                         {"rope_type", "llama3"}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  if (s.family == Family::kLlama) {
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  } else {  // Qwen3's config carries the (unused) sliding-window fields
    j["max_window_layers"] = s.layers;
    j["sliding_window"] = nullptr;
    j["use_sliding_window"] = false;
  }
  return Dump(j);
}

Result<std::string> HfGenerationConfigJson(const ArchShape& s,
                                           const TokenizerData& tok) {
  const bool real_ids = TokenizerHasRealIds(s, tok);
  Json j;
  if (real_ids) {
    j["bos_token_id"] = s.bos_token_id;
    j["eos_token_id"] = Ids(s.gen_eos_token_ids);
    if (s.gen_pad_token_id) j["pad_token_id"] = *s.gen_pad_token_id;
  } else {
    if (tok.bos_id) j["bos_token_id"] = *tok.bos_id;
    if (tok.eos_id) j["eos_token_id"] = *tok.eos_id;
    if (tok.pad_id) j["pad_token_id"] = *tok.pad_id;
  }
  j["do_sample"] = true;
  j["temperature"] = s.gen_temperature;
  j["top_p"] = s.gen_top_p;
  if (s.gen_top_k > 0) j["top_k"] = s.gen_top_k;
  j["transformers_version"] = s.transformers_version;
  return Dump(j);
}

Result<std::vector<std::string>> WriteSynthSafetensors(
    const ArchShape& shape, const TokenizerData& tok, DType dtype,
    uint64_t seed, uint64_t max_shard_bytes, const std::string& dir) {
  RETURN_IF_ERROR(TorchDtype(dtype).status());
  // Render every JSON file first, so an unsupported tokenizer fails before
  // gigabytes of weights are written.
  ASSIGN_OR_RETURN(const std::string config, HfConfigJson(shape, tok, dtype));
  ASSIGN_OR_RETURN(const std::string gen, HfGenerationConfigJson(shape, tok));
  ASSIGN_OR_RETURN(const std::string tok_json, HfTokenizerJson(tok));
  ASSIGN_OR_RETURN(const std::string tok_config,
                   HfTokenizerConfigJson(tok, shape.context));

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir + ": cannot create folder: " + ec.message());
  const std::filesystem::path root(dir);
  RETURN_IF_ERROR(RemoveOldWeights(root));

  std::vector<SafetensorsTensorToWrite> tensors;
  uint64_t total = 0;
  const uint64_t elem_bytes = GetDTypeInfo(dtype).block_bytes;
  for (const TensorSpec& t : TensorsOf(shape)) {
    if (t.hf_name.empty()) continue;
    SafetensorsTensorToWrite w;
    w.name = t.hf_name;
    w.dtype = dtype;
    w.shape = t.shape;
    w.fill = [shape, t, seed, dtype](std::span<uint8_t> out) {
      return FillTensorBytes(shape, t, seed, /*gguf_layout=*/false, dtype, out);
    };
    total += static_cast<uint64_t>(t.NumElements()) * elem_bytes;
    tensors.push_back(std::move(w));
  }
  // transformers refuses files whose metadata lacks a known "format".
  const SafetensorsMetadata metadata = {{"format", "pt"}};
  std::vector<std::string> files;
  if (total > max_shard_bytes) {
    ASSIGN_OR_RETURN(
        std::vector<std::string> shards,
        WriteShardedSafetensors(dir, tensors, max_shard_bytes, metadata));
    for (const std::string& s : shards) files.push_back((root / s).string());
    files.push_back((root / "model.safetensors.index.json").string());
  } else {
    const std::string path = (root / "model.safetensors").string();
    RETURN_IF_ERROR(WriteSafetensors(path, tensors, metadata));
    files.push_back(path);
  }
  const std::pair<const char*, const std::string*> texts[] = {
      {"config.json", &config},
      {"generation_config.json", &gen},
      {"tokenizer.json", &tok_json},
      {"tokenizer_config.json", &tok_config}};
  for (const auto& [name, text] : texts) {
    const std::string path = (root / name).string();
    RETURN_IF_ERROR(WriteTextFile(path, *text));
    files.push_back(path);
  }
  return files;
}

}  // namespace silica::synth
