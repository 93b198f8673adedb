// The OpenCL side of the plugin: the devices the ICD loader offers, their
// contexts, in-order queues, the program (built once per context and cached
// on disk), kernel launches, buffers, and cl_int -> loom_status conversion.
//
// What a device "pointer" is. Loom hands a device plugin opaque void*s for
// device memory. Here a device pointer IS a cl_mem handle (a buffer object
// created by clCreateBuffer in the device's context), cast to void*. A
// tensor's elements start at byte 0 of its buffer: the runtime never does
// arithmetic on device pointers (it cannot — memory_is_host is 0), so no
// sub-buffers are needed; kernels that address part of a buffer take an
// explicit element offset argument instead. Host-memory kernel arguments
// (shapes, axes, labels) are plain host pointers, as on the CPU.
//
// Ordering. Each device has one in-order command queue; every kernel, copy
// and fill of that device goes through it, so work enqueued by one op is
// complete, as far as any later command can observe, before the next op's
// commands run. Host-visible results need a blocking read (the copies to the
// host block). Releasing a cl_mem with commands still queued on it is safe:
// OpenCL frees it when they finish.
#ifndef LOOM_PLUGINS_OPENCL_CL_DEVICE_H_
#define LOOM_PLUGINS_OPENCL_CL_DEVICE_H_

#include <CL/cl.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "loom/loom_plugin.h"
#include "loom/plugin/kit.hpp"

namespace loom_opencl {

using loom::kit::Error;
using loom::kit::g_host;
using loom::kit::InvalidArgument;
using loom::kit::StrCat;
using loom::kit::Unimplemented;

// "CL_OUT_OF_RESOURCES"; "CL_ERROR(-9999)" for codes not in the 1.2 headers.
std::string ClErrorName(cl_int err);
// A status for a failed cl call: "<call> failed with <CL_NAME> (<code>) <context>".
// The code is RESOURCE_EXHAUSTED for allocation failures, else INTERNAL (or
// UNAVAILABLE when the device is lost).
loom_status* ClError(cl_int err, const char* call, const std::string& context);
#define LOOM_CL_CHECK(call_expr, call_name, context)                          \
  do {                                                                    \
    cl_int _loom_cl_err = (call_expr);                                    \
    if (_loom_cl_err != CL_SUCCESS) return ClError(_loom_cl_err, call_name, context); \
  } while (0)

// One kernel argument: a pointer to the value and its size. The value must
// outlive the Launch call (temporaries in the argument list do).
struct KernelArg {
  size_t size;
  const void* value;
  template <typename T>
  KernelArg(const T& v) : size(sizeof(T)), value(&v) {}  // NOLINT: implicit on purpose
};

// A cl_kernel with the lock that guards its arguments: clSetKernelArg is not
// thread-safe on one kernel object, and ops run concurrently.
struct ClKernel {
  cl_kernel kernel = nullptr;
  std::mutex mu;
  size_t max_work_group_size = 1;
};

// One OpenCL device: everything the plugin keeps about device `ordinal`.
class ClDevice {
 public:
  ClDevice(int ordinal, cl_platform_id platform, cl_device_id device);
  ~ClDevice() = default;

  int ordinal() const { return ordinal_; }
  const std::string& name() const { return name_; }  // "pthread-haswell-AMD EPYC (Portable ...)"
  const std::string& loom_name() const { return loom_name_; }  // "/device:OPENCL:0"
  cl_device_id id() const { return device_; }
  int64_t global_mem_size() const { return global_mem_size_; }
  size_t max_work_group_size() const { return max_wg_size_; }

  // The context and queue, created on first use (so a process that never
  // touches the device pays only for enumeration). Thread-safe.
  loom_status* EnsureContext();
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }

  // The kernel `name` of the device's program (built on first use, from the
  // disk cache when possible). Thread-safe; *out lives as long as the device.
  loom_status* Kernel(const char* name, ClKernel** out);

  // Enqueues kernel `name` over `global` work-items (rank = global.size(),
  // each rounded up to a multiple of `local`; local empty: the driver picks).
  // `op` names the Loom op for messages.
  loom_status* Launch(const char* name, const char* op, std::initializer_list<size_t> global,
                      std::initializer_list<size_t> local,
                      std::initializer_list<KernelArg> args);

  // Memory. Buffers are cl_mem handles (see the file comment). Freed
  // buffers are kept in a pool by (rounded) size and handed out again: a
  // buffer still used by queued commands is safe to reuse, since everything
  // that touches it later is queued behind them on the same in-order queue.
  // This saves clCreateBuffer and, on CPU devices, the page faults of fresh
  // memory on every op output. The pool holds at most kPoolLimit bytes and is
  // emptied when an allocation fails.
  loom_status* Allocate(size_t bytes, cl_mem* out);
  void Free(cl_mem mem);
  static size_t RoundSize(size_t bytes);
  loom_status* Write(cl_mem dst, size_t offset, const void* src, size_t bytes, const char* what);
  // Like Write, but without waiting for the queue when bytes <= 1 MiB: src is
  // copied into a private block (freed when the write completes) and the
  // write is enqueued. Later commands see the data; src may be reused at once.
  loom_status* WriteStaged(cl_mem dst, const void* src, size_t bytes, const char* what);
  loom_status* Read(void* dst, cl_mem src, size_t offset, size_t bytes, const char* what);
  loom_status* Copy(cl_mem dst, size_t dst_offset, cl_mem src, size_t src_offset, size_t bytes,
                    const char* what);
  // Fills `bytes` of dst with a repeated pattern of pattern_size (1, 2, 4, 8) bytes.
  loom_status* Fill(cl_mem dst, const void* pattern, size_t pattern_size, size_t bytes,
                    const char* what);
  loom_status* Finish(const char* what);

  int64_t bytes_in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int64_t peak_bytes_in_use() const { return peak_.load(std::memory_order_relaxed); }

 private:
  loom_status* BuildProgram();

  const int ordinal_;
  cl_platform_id platform_;
  cl_device_id device_;
  std::string name_, loom_name_, driver_version_, platform_version_;
  int64_t global_mem_size_ = 0;
  size_t max_wg_size_ = 1;

  std::once_flag context_once_;
  std::string context_error_;  // set if creating the context failed
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;

  std::once_flag program_once_;
  std::string program_error_;
  cl_program program_ = nullptr;
  std::mutex kernels_mu_;
  std::unordered_map<std::string, std::unique_ptr<ClKernel>> kernels_;

  std::atomic<int64_t> in_use_{0}, peak_{0};

  std::mutex pool_mu_;
  std::unordered_map<size_t, std::vector<cl_mem>> pool_;  // rounded size -> free buffers
  size_t pool_bytes_ = 0;
  size_t pool_limit_ = 0;  // min(global memory / 4, 1 GiB)
  void EmptyPool();
};

// Enumerates every GPU, CPU and accelerator device of every platform.
// UNAVAILABLE "no OpenCL platform found ..." when there is none.
loom_status* DiscoverDevices(std::vector<std::unique_ptr<ClDevice>>* out);

// The devices, in ordinal order; filled by loom_plugin_init.
extern std::vector<std::unique_ptr<ClDevice>> g_devices;

// The program's source: every file of cl/, in order (embedded at build time).
const char* ProgramSource();
// "-cl-std=CL1.2 ..." — part of the cache key.
const char* BuildOptions();

// The directory for cached program binaries: $LOOM_OPENCL_CACHE_DIR, else
// $XDG_CACHE_HOME/loom/opencl, else $HOME/.cache/loom/opencl; "" if none.
std::string CacheDir();

}  // namespace loom_opencl

#endif  // LOOM_PLUGINS_OPENCL_CL_DEVICE_H_
