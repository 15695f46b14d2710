// Model: a loaded checkpoint (GGUF file, HF safetensors folder, MLX folder)
// of one supported family, able to run one forward step over a flat batch.
// Weights stay zero-copy views into the mapped files wherever the kernel can
// read that layout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/status.h"
#include "model/batch_inputs.h"
#include "model/kv_cache.h"

namespace silica {

// What callers outside the model need to know (shapes for the KV cache,
// vocabulary size for logits, stop tokens).
struct ModelInfo {
  std::string architecture;  // "llama", "qwen2", "qwen3", "gemma3"
  std::string name;
  int vocab_size = 0;  // rows of the output head (= logits per row)
  int num_layers = 0;
  int hidden_size = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int context_length = 0;
  std::vector<int32_t> eos_token_ids;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;

  // The KV cache shape this model needs for `num_blocks` blocks.
  KVCacheShape KVShape(int num_blocks, int block_size, DType dtype) const;

  // One step: embeds inputs.token_ids, runs every layer (writing this
  // step's K/V into `kv`), and writes logits for inputs.logits_rows to
  // `logits` ([logits_rows.size(), vocab_size]).
  virtual Status Forward(const BatchInputs& inputs, KVCacheTensors& kv,
                         float* logits) = 0;
};

// Opens a GGUF file or a model folder and builds the model of its family.
// Unsupported architectures or weight dtypes fail with a message naming
// them.
Result<std::unique_ptr<Model>> LoadModel(const std::string& path,
                                         Backend& backend);

}  // namespace silica
