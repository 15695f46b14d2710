// Minimal leveled logging to stderr. The level is passed in by the caller
// that owns the process (the CLI); there is no global mutable logger state
// beyond an atomic threshold.
#pragma once

#include <string_view>

namespace silica {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

void SetLogLevel(LogLevel level);
void Log(LogLevel level, std::string_view message);

}  // namespace silica

#define SILICA_CHECK(cond)                                              \
  do {                                                                  \
    if (!(cond)) ::silica::CheckFailed(#cond, __FILE__, __LINE__);      \
  } while (0)

namespace silica {
[[noreturn]] void CheckFailed(const char* what, const char* file, int line);
}
