// ClusterSpec: the jobs of a cluster and their tasks' addresses, as given on
// `loom serve --cluster`, in TensorFlow's TF_CONFIG variable or by
// tf.train.ClusterSpec: {"ps": ["h:2222"], "worker": ["h:2223", "h:2224"]}
// (a job may also map task indices to addresses: {"worker": {"1": "h:2224"}}).
#ifndef LOOM_RUNTIME_DIST_CLUSTER_H_
#define LOOM_RUNTIME_DIST_CLUSTER_H_

#include <map>
#include <string>
#include <vector>

#include "runtime/core/status.h"

namespace loom {

struct ClusterSpec {
  // job -> task index -> address ("" for an index a sparse job skips).
  std::map<std::string, std::vector<std::string>> jobs;

  // INVALID_ARGUMENT naming the position and what was expected.
  static Status FromJson(const std::string& json, ClusterSpec* out);
  std::string ToJson() const;
  // NOT_FOUND naming the job and task (and the jobs there are) if absent.
  Status Address(const std::string& job, int task, std::string* out) const;
};

// TF_CONFIG: {"cluster": {...}, "task": {"type": "worker", "index": 0}}.
Status ParseTfConfig(const std::string& json, ClusterSpec* cluster, std::string* job, int* task);

// "/job:ps/replica:0/task:1".
std::string TaskName(const std::string& job, int task);

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_CLUSTER_H_
