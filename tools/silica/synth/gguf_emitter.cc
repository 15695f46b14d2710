#include "silica/synth/gguf_emitter.h"

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/gguf_writer.h"
#include "silica/synth/tensor_fill.h"

namespace silica::synth {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION

Shape ToShape(const std::vector<int64_t>& dims) {
  Shape s;
  s.rank = static_cast<int>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) s.dims[i] = dims[i];
  return s;
}

bool IsQuantizedFileType(DType d) {
  return d == DType::kQ8_0 || d == DType::kQ4_0;
}

// Metadata as convert_hf_to_gguf.py writes it for the architecture (the
// keys llama.cpp's loader reads), then the tokenizer, then provenance.
Status AddMetadata(const ArchShape& s, const TokenizerData& tok,
                   DType file_dtype, uint64_t seed, GgufWriter* w) {
  const std::string& a = s.gguf_arch;
  auto u32 = [](int64_t v) { return GgufValue::U32(static_cast<uint32_t>(v)); };
  auto f32 = [](double v) { return GgufValue::F32(static_cast<float>(v)); };
  RETURN_IF_ERROR(w->Set("general.architecture", GgufValue::String(a)));
  RETURN_IF_ERROR(w->Set("general.type", GgufValue::String("model")));
  RETURN_IF_ERROR(
      w->Set("general.name", GgufValue::String("synthetic " + s.display_name)));
  RETURN_IF_ERROR(
      w->Set("general.size_label", GgufValue::String(s.size_label)));
  RETURN_IF_ERROR(w->Set(a + ".block_count", u32(s.layers)));
  RETURN_IF_ERROR(w->Set(a + ".context_length", u32(s.context)));
  RETURN_IF_ERROR(w->Set(a + ".embedding_length", u32(s.hidden)));
  RETURN_IF_ERROR(w->Set(a + ".feed_forward_length", u32(s.intermediate)));
  RETURN_IF_ERROR(w->Set(a + ".attention.head_count", u32(s.heads)));
  RETURN_IF_ERROR(w->Set(a + ".attention.head_count_kv", u32(s.kv_heads)));
  RETURN_IF_ERROR(w->Set(a + ".rope.freq_base", f32(s.rope_theta)));
  RETURN_IF_ERROR(
      w->Set(a + ".attention.layer_norm_rms_epsilon", f32(s.rms_eps)));
  // Both real configs name head_dim, so the converter writes these.
  RETURN_IF_ERROR(w->Set(a + ".attention.key_length", u32(s.head_dim)));
  RETURN_IF_ERROR(w->Set(a + ".attention.value_length", u32(s.head_dim)));
  if (s.family == Family::kLlama) {  // the converter's Llama class adds
    RETURN_IF_ERROR(w->Set(a + ".vocab_size", u32(s.vocab)));
    RETURN_IF_ERROR(w->Set(a + ".rope.dimension_count", u32(s.head_dim)));
  }
  ASSIGN_OR_RETURN(const uint32_t ftype, GgufFileType(file_dtype));
  RETURN_IF_ERROR(w->Set("general.file_type", GgufValue::U32(ftype)));
  RETURN_IF_ERROR(w->Set("general.quantization_version",
                         GgufValue::U32(kQuantizationVersion)));

  RETURN_IF_ERROR(w->Set("tokenizer.ggml.model", GgufValue::String(tok.model)));
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.pre", GgufValue::String(tok.pre)));
  RETURN_IF_ERROR(
      w->Set("tokenizer.ggml.tokens", GgufValue::StringArray(tok.tokens)));
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.token_type",
                         GgufValue::I32Array(tok.token_types)));
  RETURN_IF_ERROR(
      w->Set("tokenizer.ggml.merges", GgufValue::StringArray(tok.merges)));
  auto id = [&](const char* key, const std::optional<uint32_t>& v) {
    return v ? w->Set(key, GgufValue::U32(*v)) : Status::Ok();
  };
  RETURN_IF_ERROR(id("tokenizer.ggml.bos_token_id", tok.bos_id));
  RETURN_IF_ERROR(id("tokenizer.ggml.eos_token_id", tok.eos_id));
  RETURN_IF_ERROR(id("tokenizer.ggml.unknown_token_id", tok.unk_id));
  RETURN_IF_ERROR(id("tokenizer.ggml.padding_token_id", tok.pad_id));
  if (tok.add_bos) {
    RETURN_IF_ERROR(
        w->Set("tokenizer.ggml.add_bos_token", GgufValue::Bool(*tok.add_bos)));
  }
  if (tok.add_eos) {
    RETURN_IF_ERROR(
        w->Set("tokenizer.ggml.add_eos_token", GgufValue::Bool(*tok.add_eos)));
  }
  if (!tok.chat_template.empty()) {
    RETURN_IF_ERROR(w->Set("tokenizer.chat_template",
                           GgufValue::String(tok.chat_template)));
  }
  // Provenance, so a file says it is synthetic and how to make it again
  // (llama.cpp ignores keys it does not know).
  RETURN_IF_ERROR(w->Set("silica.synth.arch", GgufValue::String(s.name)));
  RETURN_IF_ERROR(w->Set("silica.synth.seed", GgufValue::U64(seed)));
  RETURN_IF_ERROR(
      w->Set("silica.synth.tokenizer_source", GgufValue::String(tok.source)));
  return Status::Ok();
}

}  // namespace

Result<uint32_t> GgufFileType(DType dtype) {
  switch (dtype) {  // llama_ftype values
    case DType::kF32:
      return 0u;
    case DType::kF16:
      return 1u;
    case DType::kQ4_0:
      return 2u;
    case DType::kQ8_0:
      return 7u;
    case DType::kBF16:
      return 32u;
    default:
      return InvalidArgument(
          "GGUF synth supports f32, f16, bf16, q8_0 and "
          "q4_0 files, not " +
          std::string(DTypeName(dtype)));
  }
}

Result<DType> GgufTensorType(DType file_dtype, const TensorSpec& t,
                             bool tied_embeddings) {
  RETURN_IF_ERROR(GgufFileType(file_dtype).status());
  if (t.shape.size() < 2) return DType::kF32;  // norms, rope_freqs
  const int64_t cols = t.Cols();
  DType type = file_dtype;
  const bool output_like =
      t.role == TensorRole::kOutput ||
      (tied_embeddings && t.role == TensorRole::kTokenEmbedding);
  if (IsQuantizedFileType(file_dtype) && output_like) {
    const int64_t block = GetDTypeInfo(file_dtype).block_elems;
    if (cols % block != 0) {
      type = DType::kQ8_0;
    } else if (file_dtype != DType::kQ8_0) {
      type = DType::kQ6_K;
    }
  }
  // llama-quantize's fallback for rows that are not whole blocks.
  if (type == DType::kQ6_K && cols % GetDTypeInfo(type).block_elems != 0) {
    type = DType::kQ8_0;
  }
  if (cols % GetDTypeInfo(type).block_elems != 0) {
    return InvalidArgument("tensor '" + t.gguf_name + "': rows of " +
                           std::to_string(cols) + " elements are not whole " +
                           std::string(DTypeName(type)) + " blocks");
  }
  return type;
}

Status WriteSynthGguf(const ArchShape& shape, const TokenizerData& tok,
                      DType file_dtype, uint64_t seed,
                      const std::string& path) {
  GgufWriter w;
  RETURN_IF_ERROR(AddMetadata(shape, tok, file_dtype, seed, &w));
  for (const TensorSpec& t : TensorsOf(shape)) {
    if (t.gguf_name.empty()) continue;
    ASSIGN_OR_RETURN(const DType type,
                     GgufTensorType(file_dtype, t, shape.tied_embeddings));
    // The writer keeps the fill function until WriteFile: capture by value.
    RETURN_IF_ERROR(
        w.AddTensorFn(t.gguf_name, type, ToShape(t.shape),
                      [shape, t, seed, type](std::span<uint8_t> out) {
                        return FillTensorBytes(shape, t, seed,
                                               /*gguf_layout=*/true, type, out);
                      }));
  }
  return w.WriteFile(path);
}

}  // namespace silica::synth
