#include "runtime/plugin/c_gradient.h"

#include "runtime/core/c_status.h"

namespace loom {

GradFn MakeCGradFn(loom_gradient_fn fn, void* user_data) {
  if (!fn) return nullptr;
  return [fn, user_data](Graph* g, Node* op, const std::vector<Output>& dy,
                         std::vector<Output>* dx) -> Status {
    std::vector<loom_output> c_dy(dy.size());
    for (size_t i = 0; i < dy.size(); ++i) c_dy[i] = ToC(dy[i]);
    std::vector<loom_output> c_dx(dx->size(), loom_output{nullptr, 0});
    Status s = TakeStatus(fn(user_data, ToC(g), ToC(op), c_dy.data(), static_cast<int>(c_dy.size()),
                             c_dx.data(), static_cast<int>(c_dx.size())));
    if (!s.ok()) return s.WithPrefix(StrCat("gradient function for ", op->DebugString(), ": "));
    for (size_t i = 0; i < c_dx.size(); ++i) {
      (*dx)[i] = FromC(c_dx[i]);
      if (c_dx[i].op && (c_dx[i].index < 0 || c_dx[i].index >= (*dx)[i].node->num_outputs()))
        return InvalidArgument("gradient function for ", op->DebugString(), " returned output ",
                               c_dx[i].index, " of ", (*dx)[i].node->name(), ", which does not exist");
    }
    return Status::OK();
  };
}

}  // namespace loom
