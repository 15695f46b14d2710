// End-to-end LLM throughput of one model, single stream, llama-bench style.
//
//   llm_bench -m MODEL.gguf [--threads 2] [--pp 128,512] [--tg 128]
//             [--tg-prompt 16] [--reps 3] [--warmup 1] [--max-seconds S]
//             [--json]
//
// The model is loaded once. Then, per test:
//   ppN: one Forward of N prompt tokens as a single prefill batch on an
//        empty sequence (logits of the last row only), timed whole;
//   tgN: a short untimed prompt (--tg-prompt tokens), then N single-token
//        decode steps, timed together.
// Each test runs --warmup untimed reps, then --reps timed ones; the median
// tokens/s is reported. Tokens are a fixed pseudo-random sequence (the same
// generator bench/cpu_llm_compare.py feeds llama.cpp), so both engines see
// the same ids; for speed only the count matters.
//
// --max-seconds bounds a test on a machine too loaded to finish it: no new
// rep starts once the test has run that long (after at least one timed
// rep), and a tg rep stops decoding after a quarter of it, its rate taken
// from the steps that ran (marked "truncated").
//
// The sequence is the one `silica generate` runs: a paged F16 KV cache with
// block_size 16 and an identity block table (slot = position). The cache is
// allocated once for the longest test; a rep "starts fresh" by writing from
// position 0 again, which is all a new sequence is to the kernels (attention
// reads only the first seq_len slots).
//
// Output: a table, or with --json one JSON object per line: a "model" line,
// one "test" line per test (an "error" field instead of numbers when the
// forward fails, so a driver can report the cell and go on) and a final
// "summary" line with the peak RSS (getrusage ru_maxrss, the whole process:
// mapped weight pages touched + KV + scratch).
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/status.h"
#include "model/batch_inputs.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace silica {
namespace {

using nlohmann::json;

constexpr int kBlockSize = 16;

struct Options {
  std::string model;
  int threads = 2;
  std::vector<int> pp = {128, 512};
  std::vector<int> tg = {128};
  int tg_prompt = 16;
  int reps = 3;
  int warmup = 1;
  double max_seconds = 0;  // 0: no limit
  bool json = false;
};

// One timed run of a test: `tokens` processed in `seconds` (fewer than the
// test's n when a tg rep was cut short by --max-seconds).
struct Rep {
  int tokens = 0;
  double seconds = 0;
};

struct TestResult {
  std::string name;  // "pp512", "tg128"
  int n = 0;
  std::vector<Rep> reps;  // timed reps
  bool truncated = false;
  std::optional<Status> error;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

int64_t PeakRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // kilobytes on Linux
}

// The id sequence both engines are fed: a 64-bit LCG (Knuth's MMIX
// constants), id = high bits mod vocab. cpu_llm_compare.py has the same
// function; keep them identical.
std::vector<int32_t> BenchTokens(int n, int vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint64_t x = 0x5eed;
  for (int32_t& id : ids) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    id = static_cast<int32_t>((x >> 33) % static_cast<uint64_t>(vocab));
  }
  return ids;
}

// One sequence over a paged cache, fed in steps; mirrors
// tools/silica/generate_command.cc.
class Sequence {
 public:
  Sequence(Model& model, KVCacheTensors& kv, int num_blocks)
      : model_(model),
        kv_(kv),
        num_blocks_(num_blocks),
        block_table_(static_cast<size_t>(num_blocks)),
        logits_(static_cast<size_t>(model.info().vocab_size)) {
    // Blocks 0..num_blocks-1 in order, so slot = position.
    for (int b = 0; b < num_blocks; ++b) {
      block_table_[static_cast<size_t>(b)] = b;
    }
  }

  // Runs `ids` at positions [first, first + ids.size()); logits of the
  // last row, as generation needs.
  Status Step(int first, std::span<const int32_t> ids) {
    const int count = static_cast<int>(ids.size());
    if (first + count > num_blocks_ * kBlockSize) {
      return Internal("llm_bench: sequence longer than its KV cache");
    }
    positions_.resize(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      positions_[static_cast<size_t>(i)] = first + i;
    }
    query_start_[1] = count;
    seq_len_ = first + count;
    last_row_ = count - 1;
    BatchInputs in;
    in.token_ids = ids;
    in.positions = positions_;
    in.slot_mapping = positions_;  // identity block table
    in.attention.num_seqs = 1;
    in.attention.query_start = query_start_;
    in.attention.seq_lens = &seq_len_;
    in.attention.block_table = block_table_.data();
    in.attention.max_blocks_per_seq = num_blocks_;
    in.logits_rows = std::span<const int32_t>(&last_row_, 1);
    return model_.Forward(in, kv_, logits_.data());
  }

 private:
  Model& model_;
  KVCacheTensors& kv_;
  int num_blocks_;
  std::vector<int32_t> block_table_;
  std::vector<float> logits_;
  std::vector<int32_t> positions_;
  int32_t query_start_[2] = {0, 0};
  int32_t seq_len_ = 0;
  int32_t last_row_ = 0;
};

// Seconds for one rep of ppN: the whole prompt as one batch from position 0.
Result<Rep> RunPp(Sequence& seq, std::span<const int32_t> tokens, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(seq.Step(0, tokens.first(static_cast<size_t>(n))));
  return Rep{n, Seconds(std::chrono::steady_clock::now() - t0)};
}

// One rep of tgN: the prompt untimed, then n decode steps, or fewer when
// `limit_s` (> 0) runs out. The fed tokens are fixed, not sampled: sampling
// is not what is measured (and llama-bench does not sample either).
Result<Rep> RunTg(Sequence& seq, std::span<const int32_t> tokens, int prompt,
                  int n, double limit_s) {
  RETURN_IF_ERROR(seq.Step(0, tokens.first(static_cast<size_t>(prompt))));
  const auto t0 = std::chrono::steady_clock::now();
  int done = 0;
  while (done < n) {
    RETURN_IF_ERROR(seq.Step(
        prompt + done, tokens.subspan(static_cast<size_t>(prompt + done), 1)));
    ++done;
    if (limit_s > 0 &&
        Seconds(std::chrono::steady_clock::now() - t0) > limit_s) {
      break;
    }
  }
  return Rep{done, Seconds(std::chrono::steady_clock::now() - t0)};
}

json ModelLine(const Options& o, const ModelInfo& info, const Backend& backend,
               double load_s, uint64_t kv_bytes) {
  return json{{"type", "model"},
              {"path", o.model},
              {"architecture", info.architecture},
              {"name", info.name},
              {"vocab_size", info.vocab_size},
              {"num_layers", info.num_layers},
              {"hidden_size", info.hidden_size},
              {"backend", std::string(backend.name())},
              {"threads", o.threads},
              {"load_s", load_s},
              {"kv_bytes", kv_bytes},
              {"rss_after_load_kb", PeakRssKb()}};
}

json TestLine(const TestResult& r) {
  json j{{"type", "test"}, {"test", r.name}, {"n", r.n}};
  if (r.error) {
    j["error"] = r.error->ToString();
    return j;
  }
  std::vector<double> tok_s, seconds;
  std::vector<int> tokens;
  for (const Rep& rep : r.reps) {
    tok_s.push_back(rep.seconds > 0 ? rep.tokens / rep.seconds : 0.0);
    seconds.push_back(rep.seconds);
    tokens.push_back(rep.tokens);
  }
  j["seconds"] = seconds;
  j["tokens"] = tokens;
  j["tok_s"] = tok_s;
  if (r.truncated) j["truncated"] = true;
  j["tok_s_median"] = Median(tok_s);
  j["maxrss_kb"] = PeakRssKb();
  return j;
}

Status Run(const Options& o) {
  CpuBackendOptions bo;
  bo.num_threads = o.threads;
  std::unique_ptr<Backend> backend = CreateCpuBackend(bo);
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(o.model, *backend));
  const double load_s = Seconds(std::chrono::steady_clock::now() - t0);
  const ModelInfo& info = model->info();

  int max_len = 1;
  for (int n : o.pp) max_len = std::max(max_len, n);
  for (int n : o.tg) max_len = std::max(max_len, o.tg_prompt + n);
  if (info.context_length > 0 && max_len > info.context_length) {
    return InvalidArgument("llm_bench: a test is longer than the context");
  }
  const int num_blocks = (max_len + kBlockSize - 1) / kBlockSize;
  ASSIGN_OR_RETURN(std::unique_ptr<KVCacheTensors> kv,
                   KVCacheTensors::Allocate(
                       model->KVShape(num_blocks, kBlockSize, DType::kF16)));
  Sequence seq(*model, *kv, num_blocks);
  const std::vector<int32_t> tokens = BenchTokens(max_len, info.vocab_size);

  const json model_line = ModelLine(o, info, *backend, load_s, kv->bytes());
  if (o.json) {
    std::printf("%s\n", model_line.dump().c_str());
  } else {
    std::printf("model: %s (%s, %s), load %.2f s, backend %s\n",
                o.model.c_str(), info.architecture.c_str(), info.name.c_str(),
                load_s, std::string(backend->name()).c_str());
    std::printf(
        "| test | tok/s (median) | reps tok/s |\n| --- | --- | --- |\n");
  }
  std::fflush(stdout);

  auto run_test = [&](const std::string& name, int n, auto&& once) {
    TestResult r;
    r.name = name;
    r.n = n;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < o.warmup + o.reps; ++i) {
      Result<Rep> rep = once();
      if (!rep.ok()) {
        r.error = rep.status();
        break;
      }
      if (i >= o.warmup) {
        r.reps.push_back(*rep);
        r.truncated |= rep->tokens < n;
      }
      if (o.max_seconds > 0 && !r.reps.empty() &&
          Seconds(std::chrono::steady_clock::now() - start) > o.max_seconds) {
        break;
      }
    }
    const json line = TestLine(r);
    if (o.json) {
      std::printf("%s\n", line.dump().c_str());
    } else if (r.error) {
      std::printf("| %s | error: %s | |\n", name.c_str(),
                  r.error->ToString().c_str());
    } else {
      std::string reps;
      for (double t : line["tok_s"]) reps += fmt::format("{:.2f} ", t);
      std::printf("| %s | %.2f | %s|\n", name.c_str(),
                  line["tok_s_median"].get<double>(), reps.c_str());
    }
    std::fflush(stdout);
  };

  for (int n : o.pp) {
    if (n == 0) continue;  // "--pp 0": no prefill tests
    run_test("pp" + std::to_string(n), n,
             [&] { return RunPp(seq, tokens, n); });
  }
  for (int n : o.tg) {
    if (n == 0) continue;
    run_test("tg" + std::to_string(n), n, [&] {
      return RunTg(seq, tokens, o.tg_prompt, n, o.max_seconds / 4);
    });
  }

  if (o.json) {
    std::printf(
        "%s\n",
        json{{"type", "summary"}, {"peak_rss_kb", PeakRssKb()}}.dump().c_str());
  } else {
    std::printf("peak RSS: %.1f MB\n", PeakRssKb() / 1024.0);
  }
  return Status::Ok();
}

}  // namespace
}  // namespace silica

int main(int argc, char** argv) {
  silica::Options o;
  CLI::App app{"silica end-to-end LLM throughput (pp / tg, llama-bench style)"};
  app.add_option("-m,--model", o.model, "GGUF file or model folder")
      ->required();
  app.add_option("--threads", o.threads, "Worker threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--pp", o.pp, "Prefill sizes, one batch each (0: none)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  app.add_option("--tg", o.tg, "Decode step counts (0: none)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  app.add_option("--tg-prompt", o.tg_prompt,
                 "Untimed prompt tokens before a tg test")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--reps", o.reps, "Timed repetitions per test")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "Untimed repetitions per test")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--max-seconds", o.max_seconds,
                 "Per-test time budget on a loaded machine; 0 = none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--json", o.json, "One JSON object per line");
  CLI11_PARSE(app, argc, argv);
  const silica::Status st = silica::Run(o);
  if (!st.ok()) {
    if (o.json) {
      std::printf("%s\n", nlohmann::json{{"type", "error"},
                                         {"error", st.ToString()},
                                         {"peak_rss_kb", silica::PeakRssKb()}}
                              .dump()
                              .c_str());
    }
    std::fprintf(stderr, "llm_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
