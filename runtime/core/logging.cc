#include "runtime/core/logging.h"

#include <cstdio>
#include <cstdlib>

namespace loom {

void LogMessage(loom_log_level level, const char* who, const std::string& msg) {
  static const int threshold = [] {
    const char* e = std::getenv("LOOM_LOG_LEVEL");
    return e ? std::atoi(e) : static_cast<int>(LOOM_LOG_WARNING);
  }();
  if (static_cast<int>(level) < threshold) return;
  static const char* kNames[] = {"D", "I", "W", "E"};
  std::fprintf(stderr, "[loom %s] %s: %s\n", kNames[level & 3], who ? who : "", msg.c_str());
}

}  // namespace loom
