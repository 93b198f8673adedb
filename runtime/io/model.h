// The model directory (proto/model.proto): a graph, its variables and named
// signatures, so a model trained in one language runs or keeps training in
// another.
#ifndef LOOM_RUNTIME_IO_MODEL_H_
#define LOOM_RUNTIME_IO_MODEL_H_

#include <map>
#include <string>
#include <vector>

#include "runtime/session/session.h"

namespace loom {

constexpr char kModelFile[] = "model.pb";
constexpr char kModelCheckpointFile[] = "variables.ckpt";

// One way of running a model: keys to tensor names ("op:index") and target
// op names.
struct Signature {
  std::map<std::string, std::string> inputs, outputs;
  std::vector<std::string> targets;
};
using Signatures = std::map<std::string, Signature>;

// Writes session's graph, all its variables (each must be initialized) and
// the signatures (every name must resolve in the graph) to dir, creating it.
Status SaveModel(Session* session, const std::string& dir, const Signatures& signatures);

// Reads dir/model.pb and imports its graph into g (which must not already
// have ops of the same names). *checkpoint receives the checkpoint's path
// ("" if the model has no variables); restore it into a session over g with
// RestoreVariables.
Status LoadModel(const std::string& dir, Graph* g, Signatures* signatures, std::string* checkpoint);

// Parses a tensor name "op" or "op:index" and finds it in g.
Status ResolveTensorName(const Graph& g, const std::string& name, Output* out);

}  // namespace loom

#endif  // LOOM_RUNTIME_IO_MODEL_H_
