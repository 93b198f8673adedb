// Checkpoint files: named host tensors in Loom's format (proto/checkpoint.proto
// describes the layout), written atomically, every byte checked on read.
#ifndef LOOM_RUNTIME_IO_CHECKPOINT_H_
#define LOOM_RUNTIME_IO_CHECKPOINT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/core/tensor.h"
#include "runtime/io/file.h"

namespace loom {

constexpr char kCheckpointMagic[8] = {'L', 'O', 'O', 'M', 'C', 'K', 'P', 'T'};
constexpr uint32_t kCheckpointFormatVersion = 1;
// Bytes before the header: magic, format version, header length.
constexpr size_t kCheckpointPrefixBytes = 8 + 4 + 8;

// Writes `tensors` (host tensors, unique names) to `path` atomically: the old
// file, if any, stays in place until the new one is complete and on disk.
Status WriteCheckpoint(const std::string& path, std::vector<std::pair<std::string, Tensor>> tensors);

class CheckpointReader {
 public:
  struct Entry {
    std::string name;
    DataType dtype = LOOM_DTYPE_INVALID;
    TensorShape shape;
    uint64_t offset = 0, size = 0;
    uint32_t masked_crc = 0;
  };

  // Opens the file and checks its structure: magic, version, header checksum,
  // entries (valid dtypes and shapes, sizes that match, data inside the file,
  // in order without gaps or overlap, and nothing after the last one).
  // DATA_LOSS for a damaged or truncated file (naming the variable whose
  // data is missing where one is), NOT_FOUND if it does not exist.
  static Status Open(const std::string& path, std::unique_ptr<CheckpointReader>* out);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(const std::string& name) const;
  // Reads one tensor and verifies its checksum: DATA_LOSS naming the variable
  // on a mismatch, NOT_FOUND if the checkpoint has no such name.
  Status Read(const std::string& name, Tensor* out) const;
  const std::string& path() const { return file_.path(); }

 private:
  RandomAccessFile file_;
  std::vector<Entry> entries_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_IO_CHECKPOINT_H_
