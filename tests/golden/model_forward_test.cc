// The forward pass on tiny random-weight models written by `silica synth`
// (Llama with llama3 RoPE scaling, tied and untied, and Qwen3):
//  * a batch of two sequences gives the same logits as each run alone,
//    including a step that mixes one sequence's decode token with another's
//    prefill chunk;
//  * prefill in chunks / token by token equals prefill in one step;
//  * a GGUF F32 file and a Hugging Face F32 safetensors folder made with the
//    same seed (the same model; GGUF Llama q/k rows permuted for adjacent-
//    pair RoPE, HF in NeoX order, llama3 scaling as rope_freqs vs config)
//    give the same logits;
//  * unsupported architectures and weight dtypes fail with clear messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/gguf_writer.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "silica/synth/synth.h"

namespace silica {
namespace {

namespace fs = std::filesystem;

constexpr int kBlockSize = 4;  // small, so sequences span several blocks

class TinyModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("silica_model_" + std::string(info->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    backend_ = CreateCpuBackend({});
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Synth(const std::string& arch, synth::OutputFormat format,
                    const std::string& name, uint64_t seed = 7) {
    synth::SynthOptions o;
    o.arch = arch;
    o.format = format;
    o.dtype = DType::kF32;
    o.seed = seed;
    o.output = (dir_ / name).string();
    o.models_dir = (dir_ / "no-models").string();
    Result<synth::SynthReport> r = synth::Synthesize(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return o.output;
  }

  std::unique_ptr<Model> Load(const std::string& path) {
    Result<std::unique_ptr<Model>> m = LoadModel(path, *backend_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(m).value() : nullptr;
  }

  fs::path dir_;
  std::unique_ptr<Backend> backend_;
};

// Sequences over one paged cache; sequence s owns blocks
// [s * blocks_per_seq, (s + 1) * blocks_per_seq) in reverse order, so
// block tables are not the identity.
class Runner {
 public:
  Runner(Model& model, int num_seqs, int max_len)
      : model_(model),
        blocks_per_seq_((max_len + kBlockSize - 1) / kBlockSize),
        lens_(static_cast<size_t>(num_seqs), 0) {
    for (int s = 0; s < num_seqs; ++s) {
      for (int b = 0; b < blocks_per_seq_; ++b) {
        tables_.push_back((s + 1) * blocks_per_seq_ - 1 - b);
      }
    }
    auto kv = KVCacheTensors::Allocate(
        model.KVShape(num_seqs * blocks_per_seq_, kBlockSize, DType::kF32));
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(kv).value();
  }

  // Appends chunks[i] to sequence seqs[i]; returns the logits of every new
  // token, in batch order.
  std::vector<float> Step(const std::vector<int>& seqs,
                          const std::vector<std::vector<int32_t>>& chunks) {
    std::vector<int32_t> ids, pos, slots, qs = {0}, lens, table, rows;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const int s = seqs[i];
      for (int32_t id : chunks[i]) {
        const int p = lens_[static_cast<size_t>(s)]++;
        rows.push_back(static_cast<int32_t>(ids.size()));
        ids.push_back(id);
        pos.push_back(p);
        slots.push_back(
            tables_[static_cast<size_t>(s * blocks_per_seq_ + p / kBlockSize)] *
                kBlockSize +
            p % kBlockSize);
      }
      qs.push_back(static_cast<int32_t>(ids.size()));
      lens.push_back(lens_[static_cast<size_t>(s)]);
      table.insert(table.end(), tables_.begin() + s * blocks_per_seq_,
                   tables_.begin() + (s + 1) * blocks_per_seq_);
    }
    BatchInputs in;
    in.token_ids = ids;
    in.positions = pos;
    in.slot_mapping = slots;
    in.attention.num_seqs = static_cast<int>(seqs.size());
    in.attention.query_start = qs.data();
    in.attention.seq_lens = lens.data();
    in.attention.block_table = table.data();
    in.attention.max_blocks_per_seq = blocks_per_seq_;
    in.logits_rows = rows;
    std::vector<float> logits(rows.size() *
                              static_cast<size_t>(model_.info().vocab_size));
    Status st = model_.Forward(in, *kv_, logits.data());
    EXPECT_TRUE(st.ok()) << st.ToString();
    return logits;
  }

 private:
  Model& model_;
  int blocks_per_seq_;
  std::vector<int> lens_;
  std::vector<int32_t> tables_;
  std::unique_ptr<KVCacheTensors> kv_;
};

// Max |a - b| relative to max |b|.
double RelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double num = 0.0, den = 1e-30;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    num = std::max(num, double{std::fabs(a[i] - b[i])});
    den = std::max(den, double{std::fabs(b[i])});
  }
  return num / den;
}

std::vector<float> Slice(const std::vector<float>& v, size_t row, size_t rows,
                         int vocab) {
  return std::vector<float>(
      v.begin() + static_cast<int64_t>(row * vocab),
      v.begin() + static_cast<int64_t>((row + rows) * vocab));
}

const std::vector<int32_t> kPromptA = {5, 17, 42, 99, 3, 250, 7, 8, 300};
const std::vector<int32_t> kPromptB = {11, 12, 13, 200, 201, 1, 2,
                                       60, 61, 62, 63,  64,  65};

void CheckBatchEqualsAlone(Model& model) {
  const int vocab = model.info().vocab_size;
  // Alone: A then a decode token; B in two chunks.
  Runner alone_a(model, 1, 32), alone_b(model, 1, 32);
  std::vector<float> a_prefill = alone_a.Step({0}, {kPromptA});
  std::vector<float> a_decode = alone_a.Step({0}, {{77}});
  std::vector<float> b_first =
      alone_b.Step({0}, {{kPromptB.begin(), kPromptB.begin() + 5}});
  std::vector<float> b_rest =
      alone_b.Step({0}, {{kPromptB.begin() + 5, kPromptB.end()}});

  // Together: prefill A with B's first chunk, then A's decode token mixed
  // with B's second chunk.
  Runner both(model, 2, 32);
  std::vector<float> step1 =
      both.Step({0, 1}, {kPromptA, {kPromptB.begin(), kPromptB.begin() + 5}});
  std::vector<float> step2 =
      both.Step({1, 0}, {{kPromptB.begin() + 5, kPromptB.end()}, {77}});
  EXPECT_LT(RelDiff(Slice(step1, 0, kPromptA.size(), vocab), a_prefill), 1e-5);
  EXPECT_LT(RelDiff(Slice(step1, kPromptA.size(), 5, vocab), b_first), 1e-5);
  EXPECT_LT(RelDiff(Slice(step2, 0, kPromptB.size() - 5, vocab), b_rest), 1e-5);
  EXPECT_LT(RelDiff(Slice(step2, kPromptB.size() - 5, 1, vocab), a_decode),
            1e-5);
}

void CheckIncrementalEqualsPrefill(Model& model) {
  const int vocab = model.info().vocab_size;
  Runner full(model, 1, 32), inc(model, 1, 32);
  std::vector<float> all = full.Step({0}, {kPromptB});
  std::vector<float> got =
      inc.Step({0}, {{kPromptB.begin(), kPromptB.begin() + 3}});
  for (size_t i = 3; i < kPromptB.size(); ++i) {
    std::vector<float> one = inc.Step({0}, {{kPromptB[i]}});
    got.insert(got.end(), one.begin(), one.end());
  }
  EXPECT_LT(RelDiff(got, all), 1e-5);
  // Logits are not degenerate.
  float lo = all[0], hi = all[0];
  for (float x : Slice(all, kPromptB.size() - 1, 1, vocab)) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  EXPECT_GT(hi - lo, 1e-3);
}

TEST_F(TinyModelTest, LlamaBatchEqualsAlone) {
  auto m = Load(Synth("tiny-llama", synth::OutputFormat::kGguf, "l.gguf"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->info().architecture, "llama");
  CheckBatchEqualsAlone(*m);
  CheckIncrementalEqualsPrefill(*m);
}

TEST_F(TinyModelTest, Qwen3BatchEqualsAlone) {
  auto m = Load(Synth("tiny-qwen3", synth::OutputFormat::kGguf, "q.gguf"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->info().architecture, "qwen3");
  CheckBatchEqualsAlone(*m);
  CheckIncrementalEqualsPrefill(*m);
}

// GGUF and HF checkpoints of one model give the same logits.
void CheckFormatsAgree(Model& gguf, Model& hf) {
  ASSERT_EQ(gguf.info().vocab_size, hf.info().vocab_size);
  Runner rg(gguf, 1, 32), rh(hf, 1, 32);
  std::vector<float> a = rg.Step({0}, {kPromptB});
  std::vector<float> b = rh.Step({0}, {kPromptB});
  EXPECT_LT(RelDiff(a, b), 1e-4);
  a = rg.Step({0}, {{9}});
  b = rh.Step({0}, {{9}});
  EXPECT_LT(RelDiff(a, b), 1e-4);
}

TEST_F(TinyModelTest, LlamaHfMatchesGguf) {
  // Llama: GGUF q/k are permuted (adjacent-pair RoPE), HF are not (NeoX);
  // llama3 scaling comes from rope_freqs vs config.json rope_scaling.
  auto g = Load(Synth("tiny-llama", synth::OutputFormat::kGguf, "l.gguf"));
  auto h = Load(Synth("tiny-llama", synth::OutputFormat::kSafetensors, "l"));
  ASSERT_NE(g, nullptr);
  ASSERT_NE(h, nullptr);
  CheckFormatsAgree(*g, *h);
}

TEST_F(TinyModelTest, LlamaUntiedHfMatchesGguf) {
  auto g =
      Load(Synth("tiny-llama-untied", synth::OutputFormat::kGguf, "l.gguf"));
  auto h =
      Load(Synth("tiny-llama-untied", synth::OutputFormat::kSafetensors, "l"));
  ASSERT_NE(g, nullptr);
  ASSERT_NE(h, nullptr);
  CheckFormatsAgree(*g, *h);
}

TEST_F(TinyModelTest, Qwen3HfMatchesGguf) {
  auto g = Load(Synth("tiny-qwen3", synth::OutputFormat::kGguf, "q.gguf"));
  auto h = Load(Synth("tiny-qwen3", synth::OutputFormat::kSafetensors, "q"));
  ASSERT_NE(g, nullptr);
  ASSERT_NE(h, nullptr);
  CheckFormatsAgree(*g, *h);
}

TEST_F(TinyModelTest, DifferentSeedsDiffer) {
  // Guards the agreement tests against a loader that ignores weights.
  auto a = Load(Synth("tiny-qwen3", synth::OutputFormat::kGguf, "a.gguf", 1));
  auto b = Load(Synth("tiny-qwen3", synth::OutputFormat::kGguf, "b.gguf", 2));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Runner ra(*a, 1, 32), rb(*b, 1, 32);
  EXPECT_GT(RelDiff(ra.Step({0}, {kPromptA}), rb.Step({0}, {kPromptA})), 1e-2);
}

TEST_F(TinyModelTest, UnsupportedArchitectureIsNamed) {
  GgufWriter w;
  ASSERT_TRUE(w.Set("general.architecture", GgufValue::String("phi3")).ok());
  const std::string path = (dir_ / "phi3.gguf").string();
  ASSERT_TRUE(w.WriteFile(path).ok());
  Result<std::unique_ptr<Model>> m = LoadModel(path, *backend_);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("'phi3'"), std::string::npos)
      << m.status().ToString();
  EXPECT_NE(m.status().message().find("gemma3"), std::string::npos);
}

// The CPU backend, claiming no support for F32 matrices.
class NoF32Backend : public Backend, public OpTable {
 public:
  explicit NoF32Backend(Backend& inner) : inner_(inner) {}
  std::string_view name() const override { return "no-f32"; }
  Device device() const override { return Device::kCpu; }
  OpTable& ops() override { return *this; }
  bool Supports(Op op, DType dtype) const override {
    if (op == Op::kMatMul && dtype == DType::kF32) return false;
    return inner_.ops().Supports(op, dtype);
  }
  Status MatMul(const float* x, int64_t m, const TensorView& w,
                float* y) override {
    return inner_.ops().MatMul(x, m, w, y);
  }
  Status Embed(const TensorView& t, const int32_t* ids, int64_t n,
               float* out) override {
    return inner_.ops().Embed(t, ids, n, out);
  }
  void RmsNorm(const float* x, const float* w, int64_t rows, int64_t dim,
               float eps, bool one_plus_w, float* y) override {
    inner_.ops().RmsNorm(x, w, rows, dim, eps, one_plus_w, y);
  }
  void Rope(float* x, int64_t tokens, int heads, const int32_t* positions,
            const RopeParams& p) override {
    inner_.ops().Rope(x, tokens, heads, positions, p);
  }
  void SiluMul(const float* g, const float* u, int64_t n, float* out) override {
    inner_.ops().SiluMul(g, u, n, out);
  }
  void GeluTanhMul(const float* g, const float* u, int64_t n,
                   float* out) override {
    inner_.ops().GeluTanhMul(g, u, n, out);
  }
  void Softmax(float* x, int64_t rows, int64_t n) override {
    inner_.ops().Softmax(x, rows, n);
  }
  void Add(float* x, const float* y, int64_t n) override {
    inner_.ops().Add(x, y, n);
  }
  void StoreKV(const float* k, const float* v, int64_t tokens,
               const int32_t* slots, PagedKV& kv) override {
    inner_.ops().StoreKV(k, v, tokens, slots, kv);
  }
  void Attention(const float* q, const PagedKV& kv, const AttentionBatch& batch,
                 const AttentionParams& p, float* out) override {
    inner_.ops().Attention(q, kv, batch, p, out);
  }

 private:
  Backend& inner_;
};

TEST_F(TinyModelTest, UnsupportedWeightDtypeIsNamed) {
  const std::string path =
      Synth("tiny-llama", synth::OutputFormat::kGguf, "l.gguf");
  NoF32Backend backend(*backend_);
  Result<std::unique_ptr<Model>> m = LoadModel(path, backend);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(m.status().message().find("dtype f32"), std::string::npos)
      << m.status().ToString();
  EXPECT_NE(m.status().message().find("tensor 'token_embd.weight'"),
            std::string::npos)
      << m.status().ToString();
}

TEST_F(TinyModelTest, BadBatchIsRejected) {
  auto m = Load(Synth("tiny-qwen3", synth::OutputFormat::kGguf, "q.gguf"));
  ASSERT_NE(m, nullptr);
  auto kv = KVCacheTensors::Allocate(m->KVShape(2, kBlockSize, DType::kF32));
  ASSERT_TRUE(kv.ok());
  const std::vector<int32_t> ids = {1, 2}, pos = {0, 1}, slots = {0, 1};
  const int32_t qs[2] = {0, 2}, len = 2, table[2] = {0, 1}, bad_row = 5;
  BatchInputs in;
  in.token_ids = ids;
  in.positions = pos;
  in.slot_mapping = slots;
  in.attention = {1, qs, &len, table, 2};
  in.logits_rows = std::span<const int32_t>(&bad_row, 1);
  std::vector<float> logits(static_cast<size_t>(m->info().vocab_size));
  Status st = m->Forward(in, **kv, logits.data());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  const int32_t bad_id = 100000, row = 1;
  const std::vector<int32_t> bad_ids = {1, bad_id};
  in.token_ids = bad_ids;
  in.logits_rows = std::span<const int32_t>(&row, 1);
  st = m->Forward(in, **kv, logits.data());
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace silica
