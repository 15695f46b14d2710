#include "core/logging.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace silica {
namespace {
// The one process-wide setting: a threshold, read lock-free.
std::atomic<int> g_threshold{static_cast<int>(LogLevel::kInfo)};
const char* LevelTag(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "D";
    case LogLevel::kInfo: return "I";
    case LogLevel::kWarning: return "W";
    case LogLevel::kError: return "E";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_threshold = static_cast<int>(level); }

void Log(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < g_threshold.load(std::memory_order_relaxed)) {
    return;
  }
  std::fprintf(stderr, "[%s] %.*s\n", LevelTag(level),
               static_cast<int>(message.size()), message.data());
}

void CheckFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", what, file, line);
  std::abort();
}

}  // namespace silica
