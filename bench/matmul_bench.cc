// Matmul microbenchmark (Google Benchmark): Qwen3-0.6B-shaped projections
// (k=1024 n=3072: gate/up; k=3072 n=1024: down; k=1024 n=151936: the
// output head) at m=1 (decode) and m=512 (prefill), per weight dtype, on 1
// and 2 threads of a persistent pool.
//
// Counters: GFLOP/s = 2 m n k / t; GB/s = weight bytes / t; "roof" = GB/s
// as a fraction of the machine's read bandwidth as DESIGN.md §5 states it
// (16.7 GB/s on one thread, 32 on two; override with SILICA_ROOF_GBS1/2).
// StreamRead/threads:N measures that bandwidth in the same run: on a
// machine shared with other work it varies several-fold, so compare a
// matmul's GB/s with the StreamRead of the same run too.
// Decode cycles through enough copies of the weight (>= 256 MiB) that every
// call streams it from DRAM, as a real forward pass does; prefill reuses one
// copy (it is compute-bound).
//
//   matmul_bench --benchmark_filter="q8_0/m:1/"
//
// "best_*" counters come from the fastest single call: on a machine shared
// with other work, the call least disturbed (GB/s etc. average all calls).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/matmul_test_util.h"

namespace silica {
namespace {

double RoofGBs(int threads) {
  const char* env = std::getenv(threads == 1 ? "SILICA_ROOF_GBS1" : "SILICA_ROOF_GBS2");
  if (env != nullptr) return std::atof(env);
  return threads == 1 ? 16.7 : 32.0;
}

void BM_MatMul(benchmark::State& state, DType dtype, int64_t m, int64_t k,
               int64_t n, int threads) {
  ThreadPool pool(threads);
  const uint64_t bytes = *RowBytes(dtype, k) * n;
  const int copies =
      m == 1 ? static_cast<int>(std::max<uint64_t>(1, (256u << 20) / bytes + 1)) : 1;
  std::vector<std::vector<uint8_t>> w;
  w.push_back(testing::RandomWeights(dtype, n, k, 1));
  for (int c = 1; c < copies; ++c) w.push_back(w[0]);  // distinct memory
  // Read every copy once, in order, so the first timed calls find w[0]
  // (read by every copy above) evicted like the rest.
  uint64_t touch = 0;
  for (const auto& v : w) {
    for (size_t i = 0; i < v.size(); i += 64) touch += v[i];
  }
  benchmark::DoNotOptimize(touch);
  std::vector<float> x(static_cast<size_t>(m * k));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> val(-1.0f, 1.0f);
  for (float& v : x) v = val(rng);
  std::vector<float> y(static_cast<size_t>(m * n));
  int c = 0;
  double best = 1e30;
  for (auto _ : state) {
    const TensorView view = testing::WeightView(dtype, n, k, w[c]);
    const auto t0 = std::chrono::steady_clock::now();
    const Status s = cpu::MatMul(pool, x.data(), m, view, y.data());
    const auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(y.data());
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    c = (c + 1) % copies;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * n * k * iters * 1e-9, benchmark::Counter::kIsRate);
  const double gb = static_cast<double>(bytes) * iters * 1e-9;
  state.counters["GB/s"] = benchmark::Counter(gb, benchmark::Counter::kIsRate);
  // Rates are value / time, so dividing the value gives GB/s / roofline.
  state.counters["roof"] =
      benchmark::Counter(gb / RoofGBs(threads), benchmark::Counter::kIsRate);
  state.counters["best_GB/s"] = static_cast<double>(bytes) * 1e-9 / best;
  state.counters["best_GFLOP/s"] = 2.0 * m * n * k * 1e-9 / best;
  state.counters["best_roof"] =
      static_cast<double>(bytes) * 1e-9 / best / RoofGBs(threads);
  state.SetLabel(cpu::MatMulTargetName());
}

// The memory roofline measured in the same run: every thread of the pool
// streams its share of a 512 MiB buffer (wide loads, four accumulators).
void BM_StreamRead(benchmark::State& state, int threads) {
  ThreadPool pool(threads);
  const size_t words = (512u << 20) / sizeof(uint64_t);
  std::vector<uint64_t> buf(words, 1);
  double best = 1e30;
  uint64_t sink = 0;
  for (auto _ : state) {
    std::vector<uint64_t> part(threads, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pool.ParallelFor(
        static_cast<int64_t>(words),
        [&](int64_t b, int64_t e, int t) {
          uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          for (int64_t i = b; i + 4 <= e; i += 4) {
            a0 += buf[i];
            a1 += buf[i + 1];
            a2 += buf[i + 2];
            a3 += buf[i + 3];
          }
          part[t] = a0 + a1 + a2 + a3;
        },
        1024);
    const auto t1 = std::chrono::steady_clock::now();
    for (uint64_t p : part) sink += p;
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  benchmark::DoNotOptimize(sink);
  const double gb = static_cast<double>(words * sizeof(uint64_t)) * 1e-9;
  state.counters["GB/s"] = benchmark::Counter(
      gb * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["best_GB/s"] = gb / best;
}

}  // namespace
}  // namespace silica

int main(int argc, char** argv) {
  using silica::DType;
  for (int t : {1, 2}) {
    benchmark::RegisterBenchmark(
        ("StreamRead/threads:" + std::to_string(t)).c_str(),
        silica::BM_StreamRead, t)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(1.0);
  }
  for (DType d : {DType::kF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K,
                  DType::kQ6_K}) {
    for (int64_t m : {1, 512}) {
      for (auto [k, n] : {std::pair<int64_t, int64_t>{1024, 3072},
                          {3072, 1024},
                          {1024, 151936}}) {
        for (int t : {1, 2}) {
          const std::string name =
              "MatMul/" + std::string(silica::DTypeName(d)) + "/m:" +
              std::to_string(m) + "/k:" + std::to_string(k) + "/n:" +
              std::to_string(n) + "/threads:" + std::to_string(t);
          benchmark::RegisterBenchmark(name.c_str(), silica::BM_MatMul, d, m,
                                       k, n, t)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond)
              ->MinTime(0.3);
        }
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
