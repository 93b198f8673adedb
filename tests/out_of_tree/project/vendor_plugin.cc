// A vendor device "VENDORX" with one op, VendorNegate, built out of tree on
// the installed plugin kit: the kit's context and tensor views in the kernel,
// its registration loop and its loom_plugin_init (LOOM_KIT_PLUGIN).
#include <cstdlib>

#include <loom/plugin/kit.hpp>

namespace {

using loom::kit::KernelContext;
using loom::kit::Tensor;

loom_status* Allocate(void*, int, size_t bytes, size_t, void** out) {
  *out = std::malloc(bytes ? bytes : 1);
  if (*out == nullptr) {
    return loom::kit::Error(LOOM_CODE_RESOURCE_EXHAUSTED,
                            loom::kit::StrCat("VENDORX: out of memory allocating ", bytes,
                                              " bytes"));
  }
  return nullptr;
}
void Deallocate(void*, int, void* p) { std::free(p); }

loom_status* Negate(void*, loom_kernel_context* ctx) {
  KernelContext k(ctx);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  const float* in = x.as<const float>();
  float* out = y.as<float>();
  for (int64_t i = 0; i < x.size; ++i) out[i] = -in[i];
  return nullptr;
}

const loom::kit::KernelRow kKernels[] = {
    {"VendorNegate", Negate, {}, {}},
};

loom_status* RegisterAll(const loom_host_api* host) {
  loom_device_interface d = {};
  d.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d.type = "VENDORX";
  d.count = 1;
  d.memory_is_host = 1;
  d.allocate = Allocate;
  d.deallocate = Deallocate;
  LOOM_RETURN_IF_ERROR(host->register_device(&d));

  static const char* inputs[] = {"x: float"};
  static const char* outputs[] = {"y: float"};
  loom_op_def op = {};
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "VendorNegate";
  op.inputs = inputs;
  op.num_inputs = 1;
  op.outputs = outputs;
  op.num_outputs = 1;
  LOOM_RETURN_IF_ERROR(host->register_op(&op));
  return loom::kit::RegisterKernels(host, "VENDORX", kKernels);
}

}  // namespace

LOOM_KIT_PLUGIN("vendorx", "1.0", RegisterAll)
