// Saving and restoring a session's variables (the VariableV2 ops of its
// graph, named by op name) to and from checkpoint files.
#ifndef LOOM_RUNTIME_IO_SAVER_H_
#define LOOM_RUNTIME_IO_SAVER_H_

#include <string>
#include <vector>

#include "runtime/session/session.h"

namespace loom {

// Writes the named variables (empty: every variable of the graph) to `path`
// atomically. NOT_FOUND for a name that is no variable of the graph,
// FAILED_PRECONDITION for a variable that is not initialized.
Status SaveVariables(Session* session, const std::string& path, const std::vector<std::string>& names);

// Restores the named variables (empty: every variable of the graph) from
// `path`. All tensors are read and verified before any variable changes, so
// a failed restore leaves every variable as it was. NOT_FOUND if the
// checkpoint lacks a variable, INVALID_ARGUMENT if its dtype or shape does
// not fit the graph's, DATA_LOSS (naming the variable) for damaged data.
Status RestoreVariables(Session* session, const std::string& path, const std::vector<std::string>& names);

// The graph's variables (VariableV2 ops) by name, sorted.
std::vector<Node*> GraphVariables(const Graph& g);

}  // namespace loom

#endif  // LOOM_RUNTIME_IO_SAVER_H_
