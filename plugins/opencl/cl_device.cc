#include "cl_device.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace loom_opencl {

std::vector<std::unique_ptr<ClDevice>> g_devices;

namespace {

const char kProgramSource[] =
#include "opencl_sources.inc"
    ;

void Log(loom_log_level level, const std::string& msg) {
  if (g_host && g_host->log) g_host->log(level, "opencl", msg.c_str());
}

std::string DeviceInfoString(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  if (clGetDeviceInfo(d, what, n, &s[0], nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::string PlatformInfoString(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return "";
  std::string s(n, '\0');
  if (clGetPlatformInfo(p, what, n, &s[0], nullptr) != CL_SUCCESS) return "";
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// Two independent 64-bit FNV-1a hashes: a 128-bit key for the cache file name.
struct Hash128 {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  void Add(const void* data, size_t n) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      a = (a ^ p[i]) * 0x100000001b3ULL;
      b = (b ^ p[i]) * 0x00000100000001b3ULL + 0x9e3779b97f4a7c15ULL;
    }
  }
  void Add(const std::string& s) {
    Add(s.data(), s.size());
    Add("\0", 1);
  }
  std::string Hex() const {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a),
                  static_cast<unsigned long long>(b));
    return buf;
  }
};

bool MakeDirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return false;
    }
    if (i < path.size()) cur.push_back(path[i]);
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::string data;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  if (ok) *out = std::move(data);
  return ok;
}

// Writes atomically: a temporary file in the same directory, then rename, so
// a concurrent reader sees the old file, the new one, or none.
bool WriteFileAtomically(const std::string& path, const std::string& data) {
  std::string tmp = StrCat(path, ".tmp.", getpid(), ".", reinterpret_cast<uintptr_t>(&data));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = (std::fclose(f) == 0) && ok;
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) std::remove(tmp.c_str());
  return ok;
}

constexpr char kCacheMagic[] = "LOOMCLBIN2\n";

}  // namespace

const char* ProgramSource() { return kProgramSource; }
const char* BuildOptions() { return "-cl-std=CL1.2"; }

std::string CacheDir() {
  if (const char* d = std::getenv("LOOM_OPENCL_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return StrCat(x, "/loom/opencl");
  if (const char* h = std::getenv("HOME"); h && *h) return StrCat(h, "/.cache/loom/opencl");
  return "";
}

std::string ClErrorName(cl_int err) {
  switch (err) {
#define LOOM_CL_ERR(x) \
  case x:              \
    return #x;
    LOOM_CL_ERR(CL_SUCCESS)
    LOOM_CL_ERR(CL_DEVICE_NOT_FOUND)
    LOOM_CL_ERR(CL_DEVICE_NOT_AVAILABLE)
    LOOM_CL_ERR(CL_COMPILER_NOT_AVAILABLE)
    LOOM_CL_ERR(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    LOOM_CL_ERR(CL_OUT_OF_RESOURCES)
    LOOM_CL_ERR(CL_OUT_OF_HOST_MEMORY)
    LOOM_CL_ERR(CL_PROFILING_INFO_NOT_AVAILABLE)
    LOOM_CL_ERR(CL_MEM_COPY_OVERLAP)
    LOOM_CL_ERR(CL_IMAGE_FORMAT_MISMATCH)
    LOOM_CL_ERR(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    LOOM_CL_ERR(CL_BUILD_PROGRAM_FAILURE)
    LOOM_CL_ERR(CL_MAP_FAILURE)
    LOOM_CL_ERR(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    LOOM_CL_ERR(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    LOOM_CL_ERR(CL_COMPILE_PROGRAM_FAILURE)
    LOOM_CL_ERR(CL_LINKER_NOT_AVAILABLE)
    LOOM_CL_ERR(CL_LINK_PROGRAM_FAILURE)
    LOOM_CL_ERR(CL_DEVICE_PARTITION_FAILED)
    LOOM_CL_ERR(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    LOOM_CL_ERR(CL_INVALID_VALUE)
    LOOM_CL_ERR(CL_INVALID_DEVICE_TYPE)
    LOOM_CL_ERR(CL_INVALID_PLATFORM)
    LOOM_CL_ERR(CL_INVALID_DEVICE)
    LOOM_CL_ERR(CL_INVALID_CONTEXT)
    LOOM_CL_ERR(CL_INVALID_QUEUE_PROPERTIES)
    LOOM_CL_ERR(CL_INVALID_COMMAND_QUEUE)
    LOOM_CL_ERR(CL_INVALID_HOST_PTR)
    LOOM_CL_ERR(CL_INVALID_MEM_OBJECT)
    LOOM_CL_ERR(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    LOOM_CL_ERR(CL_INVALID_IMAGE_SIZE)
    LOOM_CL_ERR(CL_INVALID_SAMPLER)
    LOOM_CL_ERR(CL_INVALID_BINARY)
    LOOM_CL_ERR(CL_INVALID_BUILD_OPTIONS)
    LOOM_CL_ERR(CL_INVALID_PROGRAM)
    LOOM_CL_ERR(CL_INVALID_PROGRAM_EXECUTABLE)
    LOOM_CL_ERR(CL_INVALID_KERNEL_NAME)
    LOOM_CL_ERR(CL_INVALID_KERNEL_DEFINITION)
    LOOM_CL_ERR(CL_INVALID_KERNEL)
    LOOM_CL_ERR(CL_INVALID_ARG_INDEX)
    LOOM_CL_ERR(CL_INVALID_ARG_VALUE)
    LOOM_CL_ERR(CL_INVALID_ARG_SIZE)
    LOOM_CL_ERR(CL_INVALID_KERNEL_ARGS)
    LOOM_CL_ERR(CL_INVALID_WORK_DIMENSION)
    LOOM_CL_ERR(CL_INVALID_WORK_GROUP_SIZE)
    LOOM_CL_ERR(CL_INVALID_WORK_ITEM_SIZE)
    LOOM_CL_ERR(CL_INVALID_GLOBAL_OFFSET)
    LOOM_CL_ERR(CL_INVALID_EVENT_WAIT_LIST)
    LOOM_CL_ERR(CL_INVALID_EVENT)
    LOOM_CL_ERR(CL_INVALID_OPERATION)
    LOOM_CL_ERR(CL_INVALID_GL_OBJECT)
    LOOM_CL_ERR(CL_INVALID_BUFFER_SIZE)
    LOOM_CL_ERR(CL_INVALID_MIP_LEVEL)
    LOOM_CL_ERR(CL_INVALID_GLOBAL_WORK_SIZE)
    LOOM_CL_ERR(CL_INVALID_PROPERTY)
    LOOM_CL_ERR(CL_INVALID_IMAGE_DESCRIPTOR)
    LOOM_CL_ERR(CL_INVALID_COMPILER_OPTIONS)
    LOOM_CL_ERR(CL_INVALID_LINKER_OPTIONS)
    LOOM_CL_ERR(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef LOOM_CL_ERR
    case -1001:
      return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
      return StrCat("CL_ERROR(", err, ")");
  }
}

loom_status* ClError(cl_int err, const char* call, const std::string& context) {
  loom_code code = LOOM_CODE_INTERNAL;
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
      err == CL_OUT_OF_RESOURCES || err == CL_INVALID_BUFFER_SIZE) {
    code = LOOM_CODE_RESOURCE_EXHAUSTED;
  } else if (err == CL_DEVICE_NOT_AVAILABLE || err == -1001) {
    code = LOOM_CODE_UNAVAILABLE;
  }
  return Error(code, StrCat(call, " failed with ", ClErrorName(err), " (", err, ")",
                            context.empty() ? "" : " ", context));
}

// ---------------------------------------------------------------- discovery

loom_status* DiscoverDevices(std::vector<std::unique_ptr<ClDevice>>* out) {
  cl_uint num_platforms = 0;
  cl_int err = clGetPlatformIDs(0, nullptr, &num_platforms);
  if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the loader found no ICD */ ||
      (err == CL_SUCCESS && num_platforms == 0)) {
    return Error(LOOM_CODE_UNAVAILABLE,
                 "no OpenCL platform found (install pocl-opencl-icd, or a vendor ICD under "
                 "/etc/OpenCL/vendors)");
  }
  if (err != CL_SUCCESS) return ClError(err, "clGetPlatformIDs", "while listing OpenCL platforms");
  std::vector<cl_platform_id> platforms(num_platforms);
  LOOM_CL_CHECK(clGetPlatformIDs(num_platforms, platforms.data(), nullptr), "clGetPlatformIDs",
                "while listing OpenCL platforms");
  const cl_device_type kinds =
      CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_ACCELERATOR;
  for (cl_platform_id p : platforms) {
    cl_uint n = 0;
    err = clGetDeviceIDs(p, kinds, 0, nullptr, &n);
    if (err == CL_DEVICE_NOT_FOUND || n == 0) continue;
    if (err != CL_SUCCESS) {
      Log(LOOM_LOG_WARNING, StrCat("skipping platform '", PlatformInfoString(p, CL_PLATFORM_NAME),
                                   "': clGetDeviceIDs failed with ", ClErrorName(err)));
      continue;
    }
    std::vector<cl_device_id> ids(n);
    if (clGetDeviceIDs(p, kinds, n, ids.data(), nullptr) != CL_SUCCESS) continue;
    for (cl_device_id d : ids) {
      cl_bool available = CL_FALSE;
      clGetDeviceInfo(d, CL_DEVICE_AVAILABLE, sizeof available, &available, nullptr);
      if (!available) continue;
      out->push_back(std::make_unique<ClDevice>(static_cast<int>(out->size()), p, d));
    }
  }
  if (out->empty()) {
    return Error(LOOM_CODE_UNAVAILABLE,
                 StrCat("no OpenCL device found on ", num_platforms,
                        " platform(s) (install pocl-opencl-icd for a CPU device)"));
  }
  return nullptr;
}

// ---------------------------------------------------------------- ClDevice

ClDevice::ClDevice(int ordinal, cl_platform_id platform, cl_device_id device)
    : ordinal_(ordinal), platform_(platform), device_(device) {
  name_ = StrCat(DeviceInfoString(device, CL_DEVICE_NAME), " (",
                 PlatformInfoString(platform, CL_PLATFORM_NAME), ")");
  loom_name_ = StrCat("/device:OPENCL:", ordinal);
  driver_version_ = DeviceInfoString(device, CL_DRIVER_VERSION);
  platform_version_ = PlatformInfoString(platform, CL_PLATFORM_VERSION);
  cl_ulong mem = 0;
  clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, nullptr);
  global_mem_size_ = static_cast<int64_t>(mem);
  clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg_size_, &max_wg_size_,
                  nullptr);
  if (max_wg_size_ == 0) max_wg_size_ = 1;
  pool_limit_ = static_cast<size_t>(std::min<int64_t>(global_mem_size_ / 4, int64_t{1} << 30));
}

loom_status* ClDevice::EnsureContext() {
  std::call_once(context_once_, [this] {
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                     reinterpret_cast<cl_context_properties>(platform_), 0};
    context_ = clCreateContext(props, 1, &device_, nullptr, nullptr, &err);
    if (err != CL_SUCCESS) {
      context_error_ = StrCat("clCreateContext failed with ", ClErrorName(err), " on ", name_);
      context_ = nullptr;
      return;
    }
    queue_ = clCreateCommandQueue(context_, device_, 0, &err);  // in order, no profiling
    if (err != CL_SUCCESS) {
      context_error_ =
          StrCat("clCreateCommandQueue failed with ", ClErrorName(err), " on ", name_);
      queue_ = nullptr;
    }
  });
  if (!context_error_.empty()) return Error(LOOM_CODE_UNAVAILABLE, context_error_);
  return nullptr;
}

loom_status* ClDevice::BuildProgram() {
  // The cache key: everything that changes the binary.
  Hash128 h;
  h.Add(std::string(kProgramSource));
  h.Add(DeviceInfoString(device_, CL_DEVICE_NAME));
  h.Add(DeviceInfoString(device_, CL_DEVICE_VENDOR));
  h.Add(driver_version_);
  h.Add(platform_version_);
  h.Add(std::string(BuildOptions()));
  const std::string dir = CacheDir();
  const std::string path = dir.empty() ? "" : StrCat(dir, "/", h.Hex(), ".bin");
  const std::string header = StrCat(kCacheMagic, h.Hex(), "\n");

  // File: header (magic and key), the payload's hash (33 bytes), the payload.
  // Drivers do not validate binaries, so a damaged file is caught here.
  const size_t kHashLine = 33;
  cl_int err = CL_SUCCESS;
  std::string cached;
  bool usable = !path.empty() && ReadFile(path, &cached) &&
                cached.size() > header.size() + kHashLine &&
                cached.compare(0, header.size(), header) == 0;
  if (usable) {
    Hash128 ph;
    ph.Add(cached.data() + header.size() + kHashLine, cached.size() - header.size() - kHashLine);
    if (cached.compare(header.size(), kHashLine, ph.Hex() + "\n") != 0) {
      Log(LOOM_LOG_WARNING, StrCat("ignoring the damaged cached program ", path,
                                   " (checksum mismatch); compiling from source"));
      usable = false;
    }
  } else if (!cached.empty()) {
    Log(LOOM_LOG_WARNING, StrCat("ignoring the cached program ", path,
                                 " (truncated or not a Loom OpenCL cache file); compiling from source"));
  }
  if (usable) {
    const unsigned char* bin =
        reinterpret_cast<const unsigned char*>(cached.data()) + header.size() + kHashLine;
    size_t len = cached.size() - header.size() - kHashLine;
    cl_int bin_status = CL_SUCCESS;
    cl_program p =
        clCreateProgramWithBinary(context_, 1, &device_, &len, &bin, &bin_status, &err);
    if (err == CL_SUCCESS && bin_status == CL_SUCCESS &&
        clBuildProgram(p, 1, &device_, BuildOptions(), nullptr, nullptr) == CL_SUCCESS) {
      program_ = p;
      Log(LOOM_LOG_DEBUG, StrCat("program for ", name_, " loaded from ", path));
      return nullptr;
    }
    if (p) clReleaseProgram(p);
    Log(LOOM_LOG_WARNING, StrCat("ignoring the cached program ", path, " (the driver refused it: ",
                                 ClErrorName(err != CL_SUCCESS ? err : bin_status),
                                 "); compiling from source"));
  }

  const char* src = kProgramSource;
  size_t len = sizeof(kProgramSource) - 1;
  cl_program p = clCreateProgramWithSource(context_, 1, &src, &len, &err);
  if (err != CL_SUCCESS) return ClError(err, "clCreateProgramWithSource", StrCat("on ", name_));
  err = clBuildProgram(p, 1, &device_, BuildOptions(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    size_t n = 0;
    clGetProgramBuildInfo(p, device_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n);
    std::string log(n, '\0');
    if (n) clGetProgramBuildInfo(p, device_, CL_PROGRAM_BUILD_LOG, n, &log[0], nullptr);
    if (log.size() > 4000) log = log.substr(0, 4000) + "\n[... build log truncated]";
    clReleaseProgram(p);
    return ClError(err, "clBuildProgram",
                   StrCat("building the Loom kernels for ", name_, "; build log:\n", log));
  }
  program_ = p;

  // Save the binary for the next process. Failing to is not an error.
  size_t bin_size = 0;
  if (!path.empty() &&
      clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof bin_size, &bin_size, nullptr) ==
          CL_SUCCESS &&
      bin_size > 0) {
    std::string bin(bin_size, '\0');
    unsigned char* dst = reinterpret_cast<unsigned char*>(&bin[0]);
    if (clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof dst, &dst, nullptr) == CL_SUCCESS) {
      Hash128 ph;
      ph.Add(bin.data(), bin.size());
      const std::string data = header + ph.Hex() + "\n" + bin;
      if (!MakeDirs(dir) || !WriteFileAtomically(path, data)) {
        Log(LOOM_LOG_DEBUG, StrCat("could not write the program cache ", path, ": ",
                                   std::strerror(errno)));
      }
    }
  }
  return nullptr;
}

loom_status* ClDevice::Kernel(const char* name, ClKernel** out) {
  LOOM_RETURN_IF_ERROR(EnsureContext());
  std::call_once(program_once_, [this] {
    loom_status* s = BuildProgram();
    if (s) {
      program_error_ = g_host->status_message(s);
      g_host->status_free(s);
    }
  });
  if (!program_error_.empty()) return Error(LOOM_CODE_INTERNAL, program_error_);
  std::lock_guard<std::mutex> l(kernels_mu_);
  auto it = kernels_.find(name);
  if (it != kernels_.end()) {
    *out = it->second.get();
    return nullptr;
  }
  cl_int err = CL_SUCCESS;
  auto k = std::make_unique<ClKernel>();
  k->kernel = clCreateKernel(program_, name, &err);
  if (err != CL_SUCCESS) return ClError(err, "clCreateKernel", StrCat("for kernel ", name));
  clGetKernelWorkGroupInfo(k->kernel, device_, CL_KERNEL_WORK_GROUP_SIZE,
                           sizeof k->max_work_group_size, &k->max_work_group_size, nullptr);
  if (k->max_work_group_size == 0) k->max_work_group_size = 1;
  *out = k.get();
  kernels_.emplace(name, std::move(k));
  return nullptr;
}

loom_status* ClDevice::Launch(const char* name, const char* op,
                              std::initializer_list<size_t> global,
                              std::initializer_list<size_t> local,
                              std::initializer_list<KernelArg> args) {
  const cl_uint dims = static_cast<cl_uint>(global.size());
  size_t g[3] = {1, 1, 1}, l[3] = {1, 1, 1};
  const bool has_local = local.size() == global.size();
  size_t total = 1;
  for (cl_uint i = 0; i < dims; ++i) {
    g[i] = global.begin()[i];
    if (has_local) {
      l[i] = local.begin()[i];
      g[i] = (g[i] + l[i] - 1) / l[i] * l[i];
    }
    total *= g[i];
  }
  if (total == 0) return nullptr;  // nothing to do (an empty tensor)
  ClKernel* k = nullptr;
  LOOM_RETURN_IF_ERROR(Kernel(name, &k));
  if (has_local && dims == 1 && l[0] > k->max_work_group_size) {
    // A 1-D group size is only a preference: shrink it to what the device
    // allows for this kernel (a power of two) and round the range again.
    size_t fit = 1;
    while (fit * 2 <= k->max_work_group_size) fit *= 2;
    l[0] = fit;
    g[0] = (global.begin()[0] + fit - 1) / fit * fit;
  }
  std::lock_guard<std::mutex> lock(k->mu);
  cl_uint i = 0;
  for (const KernelArg& a : args) {
    cl_int err = clSetKernelArg(k->kernel, i, a.size, a.value);
    if (err != CL_SUCCESS) {
      return ClError(err, "clSetKernelArg",
                     StrCat("(argument ", i, " of kernel ", name, ") in op '", op, "' on ",
                            loom_name_));
    }
    ++i;
  }
  LOOM_CL_CHECK(clEnqueueNDRangeKernel(queue_, k->kernel, dims, nullptr, g,
                                       has_local ? l : nullptr, 0, nullptr, nullptr),
                "clEnqueueNDRangeKernel",
                StrCat("(kernel ", name, ", global ", g[0], "x", g[1], "x", g[2], ", local ",
                       has_local ? StrCat(l[0], "x", l[1], "x", l[2]) : std::string("auto"),
                       ") in op '", op, "' on ", loom_name_));
  return nullptr;
}

// Sizes are rounded up to 256 bytes, then to 1/4 steps between powers of
// two (at most 25% waste), so pooled buffers fit many nearby sizes.
size_t ClDevice::RoundSize(size_t bytes) {
  if (bytes <= 256) return 256;
  size_t pow2 = 256;
  while (pow2 * 2 < bytes) pow2 *= 2;  // pow2 < bytes <= 2 * pow2
  const size_t step = pow2 / 4;
  return (bytes + step - 1) / step * step;
}

void ClDevice::EmptyPool() {
  std::lock_guard<std::mutex> l(pool_mu_);
  for (auto& kv : pool_)
    for (cl_mem m : kv.second) clReleaseMemObject(m);
  pool_.clear();
  pool_bytes_ = 0;
}

loom_status* ClDevice::Allocate(size_t bytes, cl_mem* out) {
  LOOM_RETURN_IF_ERROR(EnsureContext());
  const size_t size = RoundSize(bytes);
  cl_mem m = nullptr;
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    auto it = pool_.find(size);
    if (it != pool_.end() && !it->second.empty()) {
      m = it->second.back();
      it->second.pop_back();
      pool_bytes_ -= size;
    }
  }
  if (!m) {
    cl_int err = CL_SUCCESS;
    m = clCreateBuffer(context_, CL_MEM_READ_WRITE, size, nullptr, &err);
    if (err != CL_SUCCESS) {  // give the pool back and retry once
      EmptyPool();
      m = clCreateBuffer(context_, CL_MEM_READ_WRITE, size, nullptr, &err);
    }
    if (err != CL_SUCCESS) {
      // The runtime's prefix already says what was being allocated where.
      return ClError(err, "clCreateBuffer",
                     StrCat("(", size, " bytes requested; ", bytes_in_use(), " bytes in use of ",
                            global_mem_size_, " on ", loom_name_, ")"));
    }
  }
  const int64_t now = in_use_.fetch_add(static_cast<int64_t>(size)) + static_cast<int64_t>(size);
  int64_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  *out = m;
  return nullptr;
}

void ClDevice::Free(cl_mem mem) {
  if (!mem) return;
  size_t size = 0;
  if (clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, nullptr) != CL_SUCCESS) {
    clReleaseMemObject(mem);
    return;
  }
  in_use_.fetch_sub(static_cast<int64_t>(size), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (pool_bytes_ + size <= pool_limit_) {
      pool_[size].push_back(mem);
      pool_bytes_ += size;
      return;
    }
  }
  clReleaseMemObject(mem);
}

loom_status* ClDevice::Write(cl_mem dst, size_t offset, const void* src, size_t bytes,
                             const char* what) {
  if (bytes == 0) return nullptr;
  LOOM_CL_CHECK(clEnqueueWriteBuffer(queue_, dst, CL_TRUE, offset, bytes, src, 0, nullptr, nullptr),
                "clEnqueueWriteBuffer", StrCat("(", bytes, " bytes, ", what, ") on ", loom_name_));
  return nullptr;
}

namespace {
void CL_CALLBACK FreeStaging(cl_event, cl_int, void* block) { std::free(block); }
// Measured on PoCL: staging 4 MiB cost more than waiting for the queue.
constexpr size_t kStagedCopyLimit = 1 << 20;
}  // namespace

loom_status* ClDevice::WriteStaged(cl_mem dst, const void* src, size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  if (bytes > kStagedCopyLimit) return Write(dst, 0, src, bytes, what);
  void* block = std::malloc(bytes);
  if (!block) return Write(dst, 0, src, bytes, what);
  std::memcpy(block, src, bytes);
  cl_event done = nullptr;
  cl_int err = clEnqueueWriteBuffer(queue_, dst, CL_FALSE, 0, bytes, block, 0, nullptr, &done);
  if (err != CL_SUCCESS) {
    std::free(block);
    return ClError(err, "clEnqueueWriteBuffer", StrCat("(", bytes, " bytes, ", what, ") on ", loom_name_));
  }
  if (clSetEventCallback(done, CL_COMPLETE, FreeStaging, block) != CL_SUCCESS) {
    clWaitForEvents(1, &done);  // cannot free it later: wait, then free now
    std::free(block);
  }
  clReleaseEvent(done);
  clFlush(queue_);
  return nullptr;
}

loom_status* ClDevice::Read(void* dst, cl_mem src, size_t offset, size_t bytes,
                            const char* what) {
  if (bytes == 0) return nullptr;
  LOOM_CL_CHECK(clEnqueueReadBuffer(queue_, src, CL_TRUE, offset, bytes, dst, 0, nullptr, nullptr),
                "clEnqueueReadBuffer", StrCat("(", bytes, " bytes, ", what, ") on ", loom_name_));
  return nullptr;
}

loom_status* ClDevice::Copy(cl_mem dst, size_t dst_offset, cl_mem src, size_t src_offset,
                            size_t bytes, const char* what) {
  if (bytes == 0) return nullptr;
  LOOM_CL_CHECK(clEnqueueCopyBuffer(queue_, src, dst, src_offset, dst_offset, bytes, 0, nullptr,
                                    nullptr),
                "clEnqueueCopyBuffer", StrCat("(", bytes, " bytes, ", what, ") on ", loom_name_));
  return nullptr;
}

loom_status* ClDevice::Fill(cl_mem dst, const void* pattern, size_t pattern_size, size_t bytes,
                            const char* what) {
  if (bytes == 0) return nullptr;
  LOOM_CL_CHECK(clEnqueueFillBuffer(queue_, dst, pattern, pattern_size, 0, bytes, 0, nullptr,
                                    nullptr),
                "clEnqueueFillBuffer", StrCat("(", bytes, " bytes, ", what, ") on ", loom_name_));
  return nullptr;
}

loom_status* ClDevice::Finish(const char* what) {
  if (!queue_) return nullptr;
  LOOM_CL_CHECK(clFinish(queue_), "clFinish", StrCat("(", what, ") on ", loom_name_));
  return nullptr;
}

}  // namespace loom_opencl
