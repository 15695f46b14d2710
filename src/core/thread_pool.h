// ThreadPool: a fixed set of worker threads created once, reused for every
// parallel region (no thread creation per step). The calling thread takes
// part as worker 0, so a pool of N threads starts N-1 workers.
//
// ParallelFor splits [0, n) into contiguous chunks, one per thread, so a
// matmul over output rows keeps each thread on its own rows (and cache
// lines). Regions are not reentrant: a task must not call ParallelFor on the
// same pool.
#pragma once

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

  explicit ThreadPool(int num_threads);
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
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// Threads to use when the user does not say: the CPUs this process may run
// on (sched_getaffinity), at least 1.
int DefaultThreadCount();

}  // namespace silica
