#include "core/thread_pool.h"

#include <sched.h>

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace silica {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `done` up to `iterations` times; true once it holds.
template <typename Pred>
bool SpinUntil(int iterations, Pred done) {
  for (int i = 0; i < iterations; ++i) {
    if (done()) return true;
    CpuRelax();
  }
  return done();
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, int spin_iterations)
    : num_threads_(std::max(1, num_threads)),
      spin_iterations_(std::max(0, spin_iterations)) {
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto has_work = [&] {
      return stop_.load(std::memory_order_acquire) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    if (!SpinUntil(spin_iterations_, has_work)) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, has_work);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    (*task_)(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Last one out wakes the caller in case it stopped spinning. Taking
      // the mutex orders this against the caller's predicate check.
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::RunOnAll(const std::function<void(int)>& fn) {
  if (num_threads_ == 1) {
    fn(0);
    return;
  }
  task_ = &fn;
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  {
    // Wakes workers that gave up spinning; they re-check the generation
    // under the mutex, so no wake-up is lost.
    std::lock_guard<std::mutex> lock(mu_);
  }
  start_cv_.notify_all();
  fn(0);
  auto all_done = [&] {
    return pending_.load(std::memory_order_acquire) == 0;
  };
  if (!SpinUntil(spin_iterations_, all_done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, all_done);
  }
}

void ThreadPool::ParallelFor(int64_t n, const RangeFn& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (n + grain - 1) / grain;
  const int threads =
      static_cast<int>(std::min<int64_t>(num_threads_, units));
  if (threads <= 1) {
    fn(0, n, 0);
    return;
  }
  RunOnAll([&](int t) {
    if (t >= threads) return;
    const int64_t begin_unit = units * t / threads;
    const int64_t end_unit = units * (t + 1) / threads;
    const int64_t begin = begin_unit * grain;
    const int64_t end = std::min(n, end_unit * grain);
    if (begin < end) fn(begin, end, t);
  });
}

int DefaultThreadCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max(1, CPU_COUNT(&set));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace silica
