// Qwen2 and Gemma 3 on tiny random models written here (silica synth makes
// Llama and Qwen3 only): the same weights as a GGUF file (llama.cpp names
// and metadata; Gemma norms stored as 1 + w, as llama.cpp's converter does)
// and as a Hugging Face folder (config.json + model.safetensors; Gemma norms
// as w) must give the same logits, and Gemma's sliding window must matter.
// The real-model semantics are checked against llama.cpp in logits_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/gguf_writer.h"
#include "io/safetensors_writer.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace silica {
namespace {

namespace fs = std::filesystem;

struct TinySpec {
  std::string arch;  // "qwen2" or "gemma3"
  int64_t vocab = 64, hidden = 32, ff = 64, layers = 6, heads = 2, kv_heads = 1,
          head_dim = 16;
  int64_t window = 4;  // gemma3
};

std::vector<uint8_t> Bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

class FamilyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("silica_family_" + std::string(info->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    backend_ = CreateCpuBackend({});
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the model both ways; returns {gguf path, hf folder}.
  std::pair<std::string, std::string> Write(const TinySpec& s) {
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 0.2f);
    const bool gemma = s.arch == "gemma3";
    const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
    struct Entry {
      std::string hf, gguf;
      std::vector<int64_t> shape;
      bool norm;
    };
    std::vector<Entry> entries = {
        {"model.embed_tokens.weight",
         "token_embd.weight",
         {s.vocab, s.hidden},
         false},
        {"model.norm.weight", "output_norm.weight", {s.hidden}, true},
    };
    if (!gemma) {
      entries.push_back(
          {"lm_head.weight", "output.weight", {s.vocab, s.hidden}, false});
    }
    for (int64_t l = 0; l < s.layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      const std::string g = "blk." + std::to_string(l) + ".";
      auto add = [&](const std::string& hf, const std::string& gg,
                     std::vector<int64_t> shape, bool norm) {
        entries.push_back({h + hf, g + gg, std::move(shape), norm});
      };
      add("input_layernorm.weight", "attn_norm.weight", {s.hidden}, true);
      add("self_attn.q_proj.weight", "attn_q.weight", {q, s.hidden}, false);
      add("self_attn.k_proj.weight", "attn_k.weight", {kv, s.hidden}, false);
      add("self_attn.v_proj.weight", "attn_v.weight", {kv, s.hidden}, false);
      add("self_attn.o_proj.weight", "attn_output.weight", {s.hidden, q},
          false);
      add("mlp.gate_proj.weight", "ffn_gate.weight", {s.ff, s.hidden}, false);
      add("mlp.up_proj.weight", "ffn_up.weight", {s.ff, s.hidden}, false);
      add("mlp.down_proj.weight", "ffn_down.weight", {s.hidden, s.ff}, false);
      if (gemma) {
        add("self_attn.q_norm.weight", "attn_q_norm.weight", {s.head_dim},
            true);
        add("self_attn.k_norm.weight", "attn_k_norm.weight", {s.head_dim},
            true);
        add("post_attention_layernorm.weight", "post_attention_norm.weight",
            {s.hidden}, true);
        add("pre_feedforward_layernorm.weight", "ffn_norm.weight", {s.hidden},
            true);
        add("post_feedforward_layernorm.weight", "post_ffw_norm.weight",
            {s.hidden}, true);
      } else {
        add("post_attention_layernorm.weight", "ffn_norm.weight", {s.hidden},
            true);
        add("self_attn.q_proj.bias", "attn_q.bias", {q}, false);
        add("self_attn.k_proj.bias", "attn_k.bias", {kv}, false);
        add("self_attn.v_proj.bias", "attn_v.bias", {kv}, false);
      }
    }

    GgufWriter w;
    const std::string a = s.arch;
    auto set = [&](const std::string& key, GgufValue v) {
      EXPECT_TRUE(w.Set(key, std::move(v)).ok()) << key;
    };
    set("general.architecture", GgufValue::String(a));
    set(a + ".block_count", GgufValue::U32(static_cast<uint32_t>(s.layers)));
    set(a + ".context_length", GgufValue::U32(64));
    set(a + ".embedding_length",
        GgufValue::U32(static_cast<uint32_t>(s.hidden)));
    set(a + ".feed_forward_length",
        GgufValue::U32(static_cast<uint32_t>(s.ff)));
    set(a + ".attention.head_count",
        GgufValue::U32(static_cast<uint32_t>(s.heads)));
    set(a + ".attention.head_count_kv",
        GgufValue::U32(static_cast<uint32_t>(s.kv_heads)));
    set(a + ".attention.key_length",
        GgufValue::U32(static_cast<uint32_t>(s.head_dim)));
    set(a + ".attention.value_length",
        GgufValue::U32(static_cast<uint32_t>(s.head_dim)));
    set(a + ".rope.freq_base", GgufValue::F32(1e6f));
    set(a + ".attention.layer_norm_rms_epsilon", GgufValue::F32(1e-6f));
    if (gemma) {
      set(a + ".attention.sliding_window",
          GgufValue::U32(static_cast<uint32_t>(s.window)));
    }

    std::vector<std::vector<uint8_t>> hf_bytes;
    std::vector<SafetensorsTensorToWrite> hf;
    for (const Entry& e : entries) {
      int64_t n = 1;
      for (int64_t d : e.shape) n *= d;
      std::vector<float> v(static_cast<size_t>(n));
      for (float& x : v) x = normal(rng);
      if (e.norm && !gemma) {
        for (float& x : v) x += 1.0f;  // Llama-style norms sit near 1
      }
      hf_bytes.push_back(Bytes(v));
      if (e.norm && gemma) {
        for (float& x : v) x += 1.0f;  // llama.cpp stores 1 + w
      }
      Shape shape;
      shape.rank = static_cast<int>(e.shape.size());
      for (size_t i = 0; i < e.shape.size(); ++i) shape.dims[i] = e.shape[i];
      EXPECT_TRUE(w.AddTensor(e.gguf, DType::kF32, shape, Bytes(v)).ok());
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      SafetensorsTensorToWrite t;
      t.name = entries[i].hf;
      t.dtype = DType::kF32;
      t.shape = entries[i].shape;
      t.data = hf_bytes[i];
      hf.push_back(std::move(t));
    }
    const std::string gguf = (dir_ / (a + ".gguf")).string();
    EXPECT_TRUE(w.WriteFile(gguf).ok());
    const fs::path folder = dir_ / (a + "-hf");
    fs::create_directories(folder);
    EXPECT_TRUE(WriteSafetensors((folder / "model.safetensors").string(), hf,
                                 {{"format", "pt"}})
                    .ok());
    std::ofstream(folder / "config.json") << Config(s);
    return {gguf, folder.string()};
  }

  static std::string Config(const TinySpec& s) {
    const bool gemma = s.arch == "gemma3";
    std::string c =
        "{\"architectures\": [\"" +
        std::string(gemma ? "Gemma3ForCausalLM" : "Qwen2ForCausalLM") +
        "\"], \"model_type\": \"" +
        std::string(gemma ? "gemma3_text" : "qwen2") + "\", ";
    c += "\"vocab_size\": " + std::to_string(s.vocab) +
         ", \"hidden_size\": " + std::to_string(s.hidden) +
         ", \"intermediate_size\": " + std::to_string(s.ff) +
         ", \"num_hidden_layers\": " + std::to_string(s.layers) +
         ", \"num_attention_heads\": " + std::to_string(s.heads) +
         ", \"num_key_value_heads\": " + std::to_string(s.kv_heads) +
         ", \"head_dim\": " + std::to_string(s.head_dim) +
         ", \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-6, "
         "\"rope_theta\": 1000000.0, ";
    if (gemma) {
      c += "\"hidden_activation\": \"gelu_pytorch_tanh\", "
           "\"rope_local_base_freq\": 10000.0, \"sliding_window\": " +
           std::to_string(s.window) +
           ", \"query_pre_attn_scalar\": " + std::to_string(s.head_dim) +
           ", \"layer_types\": [";
      for (int64_t l = 0; l < s.layers; ++l) {
        c +=
            std::string(l ? ", " : "") +
            ((l + 1) % 6 == 0 ? "\"full_attention\"" : "\"sliding_attention\"");
      }
      c += "]}";
    } else {
      c += "\"hidden_act\": \"silu\", \"tie_word_embeddings\": false}";
    }
    return c;
  }

  // Logits of every position of `ids`, as one prefill step.
  std::vector<float> Prefill(const std::string& path,
                             const std::vector<int32_t>& ids) {
    Result<std::unique_ptr<Model>> m = LoadModel(path, *backend_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return {};
    Model& model = **m;
    const int blocks = static_cast<int>(ids.size() + 3) / 4;
    auto kv = KVCacheTensors::Allocate(model.KVShape(blocks, 4, DType::kF32));
    EXPECT_TRUE(kv.ok());
    std::vector<int32_t> pos(ids.size()), table(static_cast<size_t>(blocks));
    for (size_t i = 0; i < ids.size(); ++i) pos[i] = static_cast<int32_t>(i);
    for (int b = 0; b < blocks; ++b) table[static_cast<size_t>(b)] = b;
    const int32_t qs[2] = {0, static_cast<int32_t>(ids.size())};
    const int32_t len = qs[1];
    BatchInputs in;
    in.token_ids = ids;
    in.positions = pos;
    in.slot_mapping = pos;
    in.attention = {1, qs, &len, table.data(), blocks};
    in.logits_rows = pos;
    std::vector<float> logits(ids.size() *
                              static_cast<size_t>(model.info().vocab_size));
    Status st = model.Forward(in, **kv, logits.data());
    EXPECT_TRUE(st.ok()) << st.ToString();
    return logits;
  }

  fs::path dir_;
  std::unique_ptr<Backend> backend_;
};

double RelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0.0, den = 1e-30;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    num = std::max(num, double{std::fabs(a[i] - b[i])});
    den = std::max(den, double{std::fabs(b[i])});
  }
  return num / den;
}

const std::vector<int32_t> kIds = {1, 5, 9, 33, 2, 60, 7, 7, 41, 12, 3, 50};

TEST_F(FamilyTest, Qwen2HfMatchesGguf) {
  TinySpec s;
  s.arch = "qwen2";
  auto [gguf, hf] = Write(s);
  const std::vector<float> a = Prefill(gguf, kIds);
  const std::vector<float> b = Prefill(hf, kIds);
  ASSERT_FALSE(a.empty());
  EXPECT_LT(RelDiff(a, b), 1e-4);
}

TEST_F(FamilyTest, Gemma3HfMatchesGguf) {
  TinySpec s;
  s.arch = "gemma3";
  auto [gguf, hf] = Write(s);
  const std::vector<float> a = Prefill(gguf, kIds);
  const std::vector<float> b = Prefill(hf, kIds);
  ASSERT_FALSE(a.empty());
  EXPECT_LT(RelDiff(a, b), 1e-4);
}

TEST_F(FamilyTest, Gemma3SlidingWindowMatters) {
  // With 12 tokens and a window of 4, the sliding layers must see a
  // different context than with a window wider than the prompt; positions
  // before the window fills agree.
  TinySpec narrow, wide;
  narrow.arch = wide.arch = "gemma3";
  wide.window = 64;
  const std::vector<float> a = Prefill(Write(narrow).first, kIds);
  fs::rename(dir_ / "gemma3.gguf", dir_ / "narrow.gguf");
  const std::vector<float> b = Prefill(Write(wide).first, kIds);
  ASSERT_FALSE(a.empty());
  const size_t v = static_cast<size_t>(narrow.vocab);
  const std::vector<float> a_head(a.begin(), a.begin() + 4 * v);
  const std::vector<float> b_head(b.begin(), b.begin() + 4 * v);
  EXPECT_LT(RelDiff(a_head, b_head), 1e-5);
  EXPECT_GT(RelDiff(a, b), 1e-3);
}

}  // namespace
}  // namespace silica
