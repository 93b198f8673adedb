// Tensor: dtype + shape + a reference-counted buffer. Copying a Tensor shares
// the buffer. The buffer may live in a device's memory (Buffer::device).
#ifndef LOOM_RUNTIME_CORE_TENSOR_H_
#define LOOM_RUNTIME_CORE_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/loom_base.h"
#include "runtime/core/status.h"

namespace loom {

using DataType = loom_dtype;

size_t DataTypeSize(DataType dt);
const char* DataTypeName(DataType dt);     // "float", "int32", ...
bool DataTypeFromName(const std::string& name, DataType* out);  // accepts "float32" too
bool DataTypeIsValid(DataType dt);          // a dtype tensors may have (not STRING)

// A concrete shape. Dims are non-negative.
class TensorShape {
 public:
  TensorShape() = default;
  TensorShape(std::initializer_list<int64_t> d) : dims_(d) {}
  explicit TensorShape(std::vector<int64_t> d) : dims_(std::move(d)) {}
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  std::vector<int64_t>& mutable_dims() { return dims_; }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int64_t d : dims_) n *= d;
    return n;
  }
  bool operator==(const TensorShape& o) const { return dims_ == o.dims_; }
  bool operator!=(const TensorShape& o) const { return dims_ != o.dims_; }
  std::string ToString() const;  // "[2,3]"

 private:
  std::vector<int64_t> dims_;
};

// A shape known in part: rank -1 = unknown rank; a dim of -1 = unknown dim.
class PartialShape {
 public:
  PartialShape() = default;  // unknown rank
  explicit PartialShape(std::vector<int64_t> d) : known_(true), dims_(std::move(d)) {}
  PartialShape(std::initializer_list<int64_t> d) : known_(true), dims_(d) {}
  explicit PartialShape(const TensorShape& s) : known_(true), dims_(s.dims()) {}
  static PartialShape Unknown() { return PartialShape(); }
  static PartialShape UnknownOfRank(int rank) {
    return PartialShape(std::vector<int64_t>(rank, -1));
  }
  bool rank_known() const { return known_; }
  int rank() const { return known_ ? static_cast<int>(dims_.size()) : -1; }
  int64_t dim(int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  bool fully_defined() const;
  // True if a tensor of shape `s` could have this partial shape.
  bool IsCompatibleWith(const TensorShape& s) const;
  bool IsCompatibleWith(const PartialShape& s) const;
  // Combines two partial shapes; INVALID_ARGUMENT if incompatible.
  Status Merge(const PartialShape& other, PartialShape* out) const;
  std::string ToString() const;  // "[?,3]" or "<unknown>"

 private:
  bool known_ = false;
  std::vector<int64_t> dims_;
};

struct Device;  // runtime/plugin/registry.h

// Reference-counted storage. Freed through `release` when the last Tensor
// sharing it goes away.
struct Buffer {
  void* data = nullptr;
  size_t size = 0;
  Device* device = nullptr;  // nullptr: plain host memory
  void (*release)(Buffer* self) = nullptr;
  void* release_arg = nullptr;
  void* release_arg2 = nullptr;
  ~Buffer() {
    if (release) release(this);
  }
};

// Allocates aligned host memory (64 bytes) for `bytes` (0 allowed).
std::shared_ptr<Buffer> AllocateHostBuffer(size_t bytes);

class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType dt, TensorShape shape, std::shared_ptr<Buffer> buf)
      : dtype_(dt), shape_(std::move(shape)), buf_(std::move(buf)) {}
  // Allocates host memory (uninitialised unless zero is true).
  static Status Allocate(DataType dt, const TensorShape& shape, Tensor* out,
                         bool zero = false);

  bool valid() const { return buf_ != nullptr; }
  DataType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int64_t num_elements() const { return shape_.num_elements(); }
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * DataTypeSize(dtype_); }
  void* data() const { return buf_ ? buf_->data : nullptr; }
  template <typename T>
  T* data_as() const { return static_cast<T*>(data()); }
  const std::shared_ptr<Buffer>& buffer() const { return buf_; }
  bool on_host() const;  // buffer is host-addressable
  // Same buffer, new shape (same number of elements).
  Tensor Reshaped(const TensorShape& s) const { return Tensor(dtype_, s, buf_); }
  // Deep copy into fresh host memory (the source must be host-addressable).
  Tensor DeepCopy() const;
  std::string DebugString(int max_elements = 8) const;

 private:
  DataType dtype_ = LOOM_DTYPE_INVALID;
  TensorShape shape_;
  std::shared_ptr<Buffer> buf_;
};

}  // namespace loom

// The C handle is a heap-allocated Tensor.
struct loom_tensor {
  loom::Tensor t;
};

#endif  // LOOM_RUNTIME_CORE_TENSOR_H_
