#include "runtime/core/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace loom {

size_t DataTypeSize(DataType dt) { return loom_dtype_size_inline(dt); }

const char* DataTypeName(DataType dt) { return loom_dtype_name_inline(dt); }

bool DataTypeFromName(const std::string& name_in, DataType* out) {
  std::string name = name_in;
  if (name.rfind("DT_", 0) == 0) {
    name = name.substr(3);
    for (auto& ch : name) ch = static_cast<char>(tolower(ch));
  }
  static const struct { const char* n; DataType t; } kNames[] = {
      {"float", LOOM_DTYPE_FLOAT},   {"float32", LOOM_DTYPE_FLOAT}, {"double", LOOM_DTYPE_DOUBLE},
      {"float64", LOOM_DTYPE_DOUBLE}, {"int32", LOOM_DTYPE_INT32},  {"uint8", LOOM_DTYPE_UINT8},
      {"int16", LOOM_DTYPE_INT16},   {"int8", LOOM_DTYPE_INT8},     {"string", LOOM_DTYPE_STRING},
      {"int64", LOOM_DTYPE_INT64},   {"bool", LOOM_DTYPE_BOOL},     {"bfloat16", LOOM_DTYPE_BFLOAT16},
      {"uint16", LOOM_DTYPE_UINT16}, {"half", LOOM_DTYPE_HALF},     {"float16", LOOM_DTYPE_HALF},
      {"uint32", LOOM_DTYPE_UINT32}, {"uint64", LOOM_DTYPE_UINT64},
  };
  for (const auto& e : kNames) {
    if (name == e.n) {
      *out = e.t;
      return true;
    }
  }
  return false;
}

bool DataTypeIsValid(DataType dt) { return DataTypeSize(dt) != 0; }

static std::string DimsToString(const std::vector<int64_t>& dims, bool partial) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += (partial && dims[i] < 0) ? std::string("?") : std::to_string(dims[i]);
  }
  return s + "]";
}

std::string TensorShape::ToString() const { return DimsToString(dims_, false); }

bool PartialShape::fully_defined() const {
  if (!known_) return false;
  for (int64_t d : dims_)
    if (d < 0) return false;
  return true;
}

bool PartialShape::IsCompatibleWith(const TensorShape& s) const {
  if (!known_) return true;
  if (rank() != s.rank()) return false;
  for (int i = 0; i < s.rank(); ++i)
    if (dims_[i] >= 0 && dims_[i] != s.dim(i)) return false;
  return true;
}

bool PartialShape::IsCompatibleWith(const PartialShape& s) const {
  PartialShape unused;
  return Merge(s, &unused).ok();
}

Status PartialShape::Merge(const PartialShape& o, PartialShape* out) const {
  if (!known_) {
    *out = o;
    return Status::OK();
  }
  if (!o.known_) {
    *out = *this;
    return Status::OK();
  }
  if (rank() != o.rank())
    return InvalidArgument("Shapes ", ToString(), " and ", o.ToString(), " must have the same rank");
  std::vector<int64_t> d(dims_.size());
  for (size_t i = 0; i < d.size(); ++i) {
    if (dims_[i] >= 0 && o.dims_[i] >= 0 && dims_[i] != o.dims_[i])
      return InvalidArgument("Shapes ", ToString(), " and ", o.ToString(), " are incompatible");
    d[i] = dims_[i] >= 0 ? dims_[i] : o.dims_[i];
  }
  *out = PartialShape(std::move(d));
  return Status::OK();
}

std::string PartialShape::ToString() const {
  return known_ ? DimsToString(dims_, true) : std::string("<unknown>");
}

namespace {

// Large host buffers are recycled instead of handed back to the C library.
// A training step allocates the same activation and gradient sizes every
// step, and glibc serves blocks this large with mmap and returns them with
// munmap, so every step faulted in and zeroed ~100 MB of fresh pages again
// (about 5% of the CPU time of the Fashion-MNIST CNN's step). Buffers of at
// least kMinCachedBytes go back to a free list for their size (rounded to
// pages), up to kMaxCachedBytes held in all; beyond that, and below the
// minimum (malloc keeps those in its own free lists), they are freed.
// Thread-safe; one short critical section per allocation and release.
#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every buffer goes back to the C library, so a use
// after release is still reported.
constexpr size_t kMinCachedBytes = ~size_t{0};
#else
constexpr size_t kMinCachedBytes = size_t{128} << 10;
#endif
constexpr size_t kMaxCachedBytes = size_t{256} << 20;
constexpr size_t kPage = 4096;

class HostBufferCache {
 public:
  void* Get(size_t rounded) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= rounded;
        return p;
      }
    }
    return std::aligned_alloc(64, rounded);
  }
  void Put(void* p, size_t rounded) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cached_ + rounded <= kMaxCachedBytes) {
        free_[rounded].push_back(p);
        cached_ += rounded;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

// Never destroyed: buffers may be released during static destruction.
HostBufferCache* Cache() {
  static HostBufferCache* cache = new HostBufferCache;
  return cache;
}

void FreeHostBuffer(Buffer* b) {
  const size_t rounded = reinterpret_cast<uintptr_t>(b->release_arg);
  if (rounded >= kMinCachedBytes) {
    Cache()->Put(b->data, rounded);
  } else {
    std::free(b->data);
  }
}

}  // namespace

std::shared_ptr<Buffer> AllocateHostBuffer(size_t bytes) {
  auto b = std::make_shared<Buffer>();
  size_t rounded = (bytes + 63) & ~static_cast<size_t>(63);
  if (rounded == 0) rounded = 64;
  if (rounded >= kMinCachedBytes) {
    rounded = (rounded + kPage - 1) & ~(kPage - 1);
    b->data = Cache()->Get(rounded);
  } else {
    b->data = std::aligned_alloc(64, rounded);
  }
  if (!b->data) return nullptr;
  b->size = bytes;
  b->release = FreeHostBuffer;
  b->release_arg = reinterpret_cast<void*>(static_cast<uintptr_t>(rounded));
  return b;
}

Status Tensor::Allocate(DataType dt, const TensorShape& shape, Tensor* out, bool zero) {
  if (!DataTypeIsValid(dt))
    return InvalidArgument("cannot allocate a tensor of dtype ", DataTypeName(dt));
  uint64_t n = 1;
  for (int64_t d : shape.dims()) {
    if (d < 0) return InvalidArgument("negative dimension in shape ", shape.ToString());
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / 16 / static_cast<uint64_t>(d))
      return InvalidArgument("shape ", shape.ToString(), " is too large");
    n *= static_cast<uint64_t>(d);
  }
  uint64_t bytes = n * DataTypeSize(dt);
  if (bytes > (uint64_t{1} << 46))
    return ResourceExhausted("tensor of shape ", shape.ToString(), " and dtype ", DataTypeName(dt),
                             " needs ", bytes, " bytes");
  auto buf = AllocateHostBuffer(bytes);
  if (!buf) return ResourceExhausted("out of memory allocating ", bytes, " bytes");
  if (zero && bytes) std::memset(buf->data, 0, bytes);
  *out = Tensor(dt, shape, std::move(buf));
  return Status::OK();
}

Tensor Tensor::DeepCopy() const {
  Tensor t;
  if (!Allocate(dtype_, shape_, &t).ok()) return Tensor();
  if (byte_size()) std::memcpy(t.data(), data(), byte_size());
  return t;
}

template <typename T>
static void AppendValues(std::string* s, const void* data, int64_t n) {
  const T* p = static_cast<const T*>(data);
  for (int64_t i = 0; i < n; ++i) {
    if (i) *s += ", ";
    *s += std::to_string(p[i]);
  }
}

std::string Tensor::DebugString(int max_elements) const {
  std::string s = StrCat("Tensor<", DataTypeName(dtype_), " ", shape_.ToString(), ">");
  if (!valid() || !on_host()) return s;
  int64_t n = std::min<int64_t>(num_elements(), max_elements);
  s += " {";
  switch (dtype_) {
    case LOOM_DTYPE_FLOAT: AppendValues<float>(&s, data(), n); break;
    case LOOM_DTYPE_DOUBLE: AppendValues<double>(&s, data(), n); break;
    case LOOM_DTYPE_INT32: AppendValues<int32_t>(&s, data(), n); break;
    case LOOM_DTYPE_INT64: AppendValues<int64_t>(&s, data(), n); break;
    case LOOM_DTYPE_BOOL: AppendValues<uint8_t>(&s, data(), n); break;
    default: s += "..."; break;
  }
  if (n < num_elements()) s += ", ...";
  return s + "}";
}

}  // namespace loom
