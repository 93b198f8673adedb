// null_plugin.cc — a device plugin that does nothing, completely.
//
// Copy this file to start a device plugin for new hardware. It shows every
// piece a device plugin has, in the order the host needs them:
//
//   1. loom_plugin_init: the one exported symbol. LOOM_KIT_PLUGIN (from the
//      SDK's plugin kit, loom/plugin/kit.hpp) writes it: it checks the ABI,
//      describes the plugin, keeps the host's table, then calls RegisterAll,
//      which registers a device type and its kernels.
//   2. The device interface: memory (allocate/free), copies between host and
//      device memory, synchronisation, statistics. Streams and events are
//      optional; a synchronous device leaves them NULL.
//   3. Kernels: (op, device type, dtype constraints) -> compute function.
//
// The "NULL" device keeps its "device memory" in ordinary host memory but
// says memory_is_host = 0, so the runtime really calls the copy functions
// below: tensors move host -> NULL -> host exactly as they would to an
// accelerator, which lets the runtime's transfer paths be tested without one.
// Its only kernel, Add(float), returns UNIMPLEMENTED: the error path of a
// plugin kernel, end to end.
//
// Rules every plugin follows (the runtime enforces the first two):
//  - Include only Loom's public headers (loom/loom_plugin.h and the header-only
//    kit, loom/plugin/*.hpp), link nothing of Loom's: the host hands you its
//    function table at init (the kit keeps it in loom::kit::g_host).
//  - Export only loom_plugin_init (build with -fvisibility=hidden, which
//    loom_add_plugin does).
//  - Never throw across the C boundary; return a loom_status* made with
//    host->status_new or the kit's Error/InvalidArgument (NULL means OK). The
//    host owns statuses you return.
#include <cstdlib>
#include <cstring>

#include "loom/loom_version.h"
#include "loom/plugin/kit.hpp"

namespace {

using loom::kit::g_host;  // the host's function table, valid for the life of the process

// ---------------------------------------------------------------- device memory

// Devices of one type share the `state` pointer given at registration; the
// ordinal says which device (0 .. count-1). This device keeps no state.
loom_status* NullAllocate(void* /*state*/, int /*ordinal*/, size_t bytes, size_t alignment,
                          void** out_ptr) {
  // A real device would call its driver's allocator here. aligned_alloc needs
  // a power-of-two alignment (at least sizeof(void*)) and a size multiple of it.
  size_t align = alignment < 64 ? 64 : alignment;
  if ((align & (align - 1)) != 0) {
    return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT,
                              "null device: alignment is not a power of two");
  }
  size_t size = (bytes + align - 1) / align * align;
  if (size == 0) size = align;  // a valid, unique pointer even for 0 bytes
  void* p = std::aligned_alloc(align, size);
  if (p == nullptr) {
    // Convert the vendor's error into a Loom status where it happens.
    return g_host->status_new(LOOM_CODE_RESOURCE_EXHAUSTED, "null device: out of memory");
  }
  *out_ptr = p;  // out_* parameters are written only on success
  return nullptr;
}

void NullDeallocate(void* /*state*/, int /*ordinal*/, void* ptr) { std::free(ptr); }

// Copies. With a non-NULL stream they may complete asynchronously (ordered
// on that stream); this device has no streams, so the host passes NULL and
// every copy completes before returning.
loom_status* NullCopy(void* /*state*/, int /*ordinal*/, loom_stream* /*stream*/, void* dst,
                      const void* src, size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
  return nullptr;
}

// Waits for all work queued on the device: nothing is ever queued here.
loom_status* NullSynchronize(void* /*state*/, int /*ordinal*/) { return nullptr; }

// ---------------------------------------------------------------- kernels

// A kernel's compute runs once per execution of a node. It reads inputs with
// host->kernel_input, allocates outputs with host->kernel_allocate_output,
// and returns NULL or an error. The runtime prefixes errors with the op's
// name and device, so the message need only say what went wrong.
loom_status* NullAddCompute(void* /*state*/, loom_kernel_context* /*ctx*/) {
  return g_host->status_new(LOOM_CODE_UNIMPLEMENTED, "null device: Add is not implemented");
}

// ---------------------------------------------------------------- registration

// Kernels: one row per (op, device type), restricted to the dtypes it handles
// through constraints on the op's type attributes. Inputs that hold shapes or
// axes would be listed as host-memory arguments (the fourth entry); a kernel
// with per-node state gives create/destroy functions (see kit::KernelRow).
const loom::kit::KernelRow kKernels[] = {
    {"Add", NullAddCompute, {{"T", LOOM_DTYPE_BIT(LOOM_DTYPE_FLOAT)}}, {}},
};

// What init does after the kit's prologue has checked the ABI and described
// the plugin.
loom_status* RegisterAll(const loom_host_api* host) {
  // 3. The device type. Fill every field, NULL for optional functions you do
  //    not provide; struct_size tells the host which fields exist.
  loom_device_interface dev;
  std::memset(&dev, 0, sizeof(dev));
  dev.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  dev.type = "NULL";           /* [A-Z0-9_]+; ops ask for "/device:NULL:0" */
  dev.count = 1;               /* devices of this type */
  dev.priority = 0;            /* below CPU (100): never chosen unless asked for */
  dev.memory_is_host = 0;      /* 0: the runtime copies tensors in and out */
  dev.state = nullptr;
  /* (required) */ dev.allocate = NullAllocate;
  /* (required) */ dev.deallocate = NullDeallocate;
  /* (optional) */ dev.allocate_host_pinned = nullptr;
  /* (optional) */ dev.deallocate_host_pinned = nullptr;
  /* (required unless memory_is_host) */ dev.memcpy_host_to_device = NullCopy;
  /* (required unless memory_is_host) */ dev.memcpy_device_to_host = NullCopy;
  /* (required unless memory_is_host) */ dev.memcpy_device_to_device = NullCopy;
  /* (optional) streams and events: none, a synchronous device */
  dev.stream_create = nullptr;
  dev.stream_destroy = nullptr;
  dev.event_create = nullptr;
  dev.event_destroy = nullptr;
  dev.event_record = nullptr;
  dev.stream_wait_event = nullptr;
  dev.event_synchronize = nullptr;
  /* (optional) */ dev.synchronize = NullSynchronize;
  /* (optional) */ dev.memory_stats = nullptr;
  dev.ext = nullptr;
  LOOM_RETURN_IF_ERROR(host->register_device(&dev));  // the host copies the struct

  // 4. The kernel table above.
  return loom::kit::RegisterKernels(host, "NULL", kKernels);
}

}  // namespace

// 1. + 2. The exported entry point: ABI check, plugin description ("null",
//    version; strings with static lifetime), then RegisterAll.
// Built with Loom, it reports Loom's version; your plugin gives its own.
LOOM_KIT_PLUGIN("null", LOOM_VERSION_STRING, RegisterAll)
