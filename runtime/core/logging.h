// Minimal logging to stderr, filtered by $LOOM_LOG_LEVEL (0 debug .. 3 error;
// default 2 = warnings and errors).
#ifndef LOOM_RUNTIME_CORE_LOGGING_H_
#define LOOM_RUNTIME_CORE_LOGGING_H_

#include <string>

#include "loom/loom_plugin.h"

namespace loom {
void LogMessage(loom_log_level level, const char* who, const std::string& msg);
}  // namespace loom

#endif  // LOOM_RUNTIME_CORE_LOGGING_H_
