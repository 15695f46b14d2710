// Backend: a device plus the OpTable that runs on it. The CPU backend owns
// the one persistent thread pool its kernels split work over.
#pragma once

#include <memory>
#include <string_view>

#include "backend/op_table.h"
#include "core/tensor_view.h"

namespace silica {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;  // "cpu (avx512-vnni, 2 threads)"
  virtual Device device() const = 0;
  virtual OpTable& ops() = 0;
};

struct CpuBackendOptions {
  int num_threads = 0;  // 0: DefaultThreadCount()
};

std::unique_ptr<Backend> CreateCpuBackend(const CpuBackendOptions& options);

}  // namespace silica
