#include "core/thread_pool.h"

#include <atomic>
#include <vector>

#include <gtest/gtest.h>

namespace silica {
namespace {

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
      for (int64_t grain : {1, 4, 64}) {
        std::vector<std::atomic<int>> hits(n);
        pool.ParallelFor(
            n,
            [&](int64_t b, int64_t e, int t) {
              EXPECT_GE(t, 0);
              EXPECT_LT(t, threads);
              if (e < n) {
                EXPECT_EQ(e % grain, 0) << "chunk end off the grain";
              }
              for (int64_t i = b; i < e; ++i) hits[i]++;
            },
            grain);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
        }
      }
    }
  }
}

TEST(ThreadPoolTest, ReusableManyTimesAndUsesAllThreads) {
  ThreadPool pool(4);
  std::atomic<int> total{0};
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::atomic<int>> seen(4);
    pool.RunOnAll([&](int t) {
      seen[t]++;
      total++;
    });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
  }
  EXPECT_EQ(total.load(), 8000);
}

TEST(ThreadPoolTest, BlockingPathWithoutSpinning) {
  // spin_iterations = 0: every hand-off goes through the condition
  // variables, so a lost wake-up would hang this test.
  ThreadPool pool(3, /*spin_iterations=*/0);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 500; ++round) {
    pool.ParallelFor(300, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
  }
  EXPECT_EQ(sum.load(), 500 * (299 * 300 / 2));
}

}  // namespace
}  // namespace silica
