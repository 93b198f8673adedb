// Partitioning: splits a placed step into one graph per device. Every data edge
// that crosses devices becomes one _Send in the producer's partition and one
// _Recv in the consumer's, per (tensor, destination device, memory type); a
// control edge that crosses becomes a dummy scalar sent the same way. Fed
// outputs appear in each partition that reads them as a stub placeholder fed
// directly. The partitions' executors meet in one rendezvous per step
// (runtime/exec/executor.h, PartitionedParams).
#ifndef LOOM_RUNTIME_PARTITION_PARTITION_H_
#define LOOM_RUNTIME_PARTITION_PARTITION_H_

#include <vector>

#include "runtime/exec/executor.h"

namespace loom {

// nodes/devices: the pruned step and its placement (same order, nodes sorted
// by id); feeds/fetches: the step's signature, outputs of the nodes' graph.
// Fills out.graphs, out.parts (nodes, devices, feeds, fetches of each
// partition), out.feed_index, out.fetch_index, out.feeds and out.fetches; the
// caller sets the pools, threads and resources of each part.
Status PartitionByDevice(const std::vector<Node*>& nodes, const std::vector<Device*>& devices,
                         const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                         PartitionedParams* out);

}  // namespace loom

#endif  // LOOM_RUNTIME_PARTITION_PARTITION_H_
