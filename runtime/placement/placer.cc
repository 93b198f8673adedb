#include "runtime/placement/placer.h"

#include "runtime/core/logging.h"
#include "runtime/exec/intrinsic.h"
#include "runtime/placement/device_name.h"

namespace loom {

Status PlaceNodes(const std::vector<Node*>& nodes, int num_graph_nodes, const std::vector<Device*>& all,
                  const PlacementOptions& options_, std::vector<Device*>* out) {
  Registry* reg = Registry::Get();
  if (all.empty())
    return FailedPrecondition("no devices: no device plugin is loaded (looked in <libdir>/loom/plugins and "
                              "$LOOM_PLUGIN_PATH; see `loom plugins`)");
  DeviceName default_req;
  RETURN_IF_ERROR(ParseDeviceName(options_.default_device, &default_req).WithPrefix("default device: "));
  const bool cluster = !options_.default_task.empty();
  DeviceName default_task;
  if (cluster) RETURN_IF_ERROR(ParseDeviceName(options_.default_task, &default_task));
  // Each candidate's name, parsed once.
  std::vector<DeviceName> names(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    if (cluster) {
      RETURN_IF_ERROR(ParseDeviceName(all[i]->name, &names[i]));
    } else {
      names[i].has_type = names[i].has_id = true;
      names[i].type = all[i]->type;
      names[i].id = all[i]->ordinal;
    }
  }
  std::vector<Device*> placed(num_graph_nodes, nullptr);
  out->clear();
  // Nodes arrive sorted by id, which is a topological order (inputs exist before use).
  for (Node* n : nodes) {
    DeviceName req;
    RETURN_IF_ERROR(ParseDeviceName(n->requested_device(), &req).WithPrefix(n->DebugString() + ": "));
    if (!n->requested_device().empty() && default_req.has_type && !req.has_type) {
      req.has_type = true;
      req.type = default_req.type;
      req.has_id = default_req.has_id;
      req.id = default_req.id;
    } else if (n->requested_device().empty()) {
      req = default_req;
    }
    if (cluster) {
      // An op that names no task runs on the session's own task.
      if (!req.has_job) {
        req.has_job = req.has_replica = req.has_task = true;
        req.job = default_task.job;
        req.replica = default_task.replica;
        req.task = default_task.task;
      }
    } else {
      if (req.has_job && req.job != "localhost")
        return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": it requests ",
                               n->requested_device(),
                               " but this session runs in one process (job localhost); give tf.Session the "
                               "target of a server of the cluster");
      req.has_job = req.has_replica = req.has_task = false;
    }
    const bool intrinsic = IsIntrinsicOp(n->type());
    auto has_kernel = [&](Device* d) {
      return intrinsic || reg->FindKernel(n->type(), d->type, n->attrs()) != nullptr;
    };
    Device* chosen = nullptr;
    // Ops that update a variable run where the variable lives.
    for (int i = 0; i < n->num_inputs() && !chosen; ++i)
      if (n->input_is_ref(i)) chosen = placed[n->input(i).node->id()];
    if (chosen && !has_kernel(chosen))
      return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": it updates variable '",
                             n->input(0).node->name(), "' on ", chosen->name, ", which has no kernel for ",
                             n->type(), " with ", n->TypeAttrsString());
    if (!chosen) {
      std::string tried;
      for (size_t i = 0; i < all.size(); ++i) {
        Device* d = all[i];
        if (!req.Matches(names[i])) continue;
        tried += StrCat(tried.empty() ? "" : ", ", d->name);
        if (has_kernel(d)) {
          chosen = d;
          break;
        }
      }
      if (!chosen) {
        std::vector<std::string> types = reg->KernelDeviceTypes(n->type());
        std::string have;
        for (const auto& t : types) have += StrCat(have.empty() ? "" : ", ", t);
        bool soft_ok = options_.allow_soft_placement && !n->requested_device().empty();
        if (soft_ok) {
          // Soft placement keeps the requested task where there is one.
          DeviceName task_only = req;
          task_only.has_type = task_only.has_id = false;
          for (size_t i = 0; i < all.size() && !chosen; ++i)
            if (task_only.Matches(names[i]) && has_kernel(all[i])) chosen = all[i];
          if (chosen)
            LogMessage(LOOM_LOG_INFO, "placement",
                       StrCat(n->DebugString(), " requested ", n->requested_device(), "; placed on ",
                              chosen->name, " (soft placement)"));
        }
        if (!chosen) {
          if (tried.empty())
            return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": no device matches '",
                                   n->requested_device().empty() ? options_.default_device : n->requested_device(),
                                   "'; available devices: ", [&] {
                                     std::string s;
                                     for (Device* d : all) s += StrCat(s.empty() ? "" : ", ", d->name);
                                     return s;
                                   }());
          return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": no kernel for ",
                                 n->type(), " with ", n->TypeAttrsString(), " on the devices tried (", tried,
                                 "); device types with kernels for ", n->type(), ": ",
                                 have.empty() ? std::string("none") : have);
        }
      }
    }
    placed[n->id()] = chosen;
    out->push_back(chosen);
  }
  return Status::OK();
}

}  // namespace loom
