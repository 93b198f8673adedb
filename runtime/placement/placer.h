// The placer: chooses a device for every node of a pruned step. Explicit
// requests ("/job:ps/task:0/device:CPU:0", partial specs allowed) are
// honoured; an op that updates a variable runs where the variable lives;
// otherwise the highest-priority device with a kernel for the op and its
// dtypes wins. Errors name the op, what it asked for and what exists.
#ifndef LOOM_RUNTIME_PLACEMENT_PLACER_H_
#define LOOM_RUNTIME_PLACEMENT_PLACER_H_

#include <string>
#include <vector>

#include "runtime/plugin/registry.h"

namespace loom {

struct PlacementOptions {
  std::string default_device;       // for ops that request none
  bool allow_soft_placement = false;
  // Cluster placement: candidates are named "/job:J/replica:R/task:T/device:..."
  // and ops that name no job go to this task. Empty: one process (job localhost).
  std::string default_task;
};

// candidates: in priority order (kernels are looked up by their type in this
// process's registry, as TensorFlow's placer does). out: one device per node.
Status PlaceNodes(const std::vector<Node*>& nodes, int num_graph_nodes, const std::vector<Device*>& candidates,
                  const PlacementOptions& options, std::vector<Device*>* out);

}  // namespace loom

#endif  // LOOM_RUNTIME_PLACEMENT_PLACER_H_
