// ThreadPool: a fixed set of worker threads created once, reused for every
// parallel region (no thread creation per step). The calling thread takes
// part as worker 0, so a pool of N threads starts N-1 workers.
//
// ParallelFor splits [0, n) into contiguous chunks, one per thread, so a
// matmul over output rows keeps each thread on its own rows (and cache
// lines). Regions are not reentrant: a task must not call ParallelFor on the
// same pool.
//
// A decode step runs hundreds of short regions, so waking a blocked thread
// (tens of microseconds) would dominate. Workers and the caller therefore
// spin on atomics for a bounded time before blocking on a condition
// variable; the bound keeps an idle pool from burning CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace silica {

class ThreadPool {
 public:
  // fn(begin, end, thread_index) handles [begin, end).
  using RangeFn = std::function<void(int64_t, int64_t, int)>;

  // `spin_iterations`: how long (in CPU pause instructions, roughly 30-140
  // cycles each) a thread polls for work or completion before it blocks.
  explicit ThreadPool(int num_threads, int spin_iterations = 4000);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs fn over [0, n) split into num_threads() chunks whose sizes are
  // multiples of `grain` (except the last); returns when all are done.
  void ParallelFor(int64_t n, const RangeFn& fn, int64_t grain = 1);

  // Runs fn(thread_index) once on every thread.
  void RunOnAll(const std::function<void(int)>& fn);

 private:
  void WorkerLoop(int index);

  int num_threads_;
  int spin_iterations_;
  std::vector<std::thread> workers_;
  // Blocking fallback; the fast path uses only the atomics below.
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // Published before generation_ is bumped (release), read after the bump
  // is seen (acquire).
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

// Threads to use when the user does not say: the CPUs this process may run
// on (sched_getaffinity), at least 1.
int DefaultThreadCount();

}  // namespace silica
