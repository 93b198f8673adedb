// Files for checkpoints and model directories: atomic whole-file writes and
// bounded random-access reads. errno is turned into a Status naming the call
// and the path where it happens.
#ifndef LOOM_RUNTIME_IO_FILE_H_
#define LOOM_RUNTIME_IO_FILE_H_

#include <cstdint>
#include <string>

#include "runtime/core/status.h"

namespace loom {

// The Status for a failed system call (ENOENT -> NOT_FOUND, EACCES ->
// PERMISSION_DENIED, ENOSPC -> RESOURCE_EXHAUSTED, else UNKNOWN).
Status IoError(const std::string& call, const std::string& path, int err);

// Writes a file under a temporary name in the same directory; Commit fsyncs
// it, renames it over `path` and fsyncs the directory, so readers (and a
// machine that crashes at any instant) see either the old file or the
// complete new one. Destroying an uncommitted writer removes the temp file.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();
  Status Open(const std::string& path);
  Status Append(const void* data, size_t n);
  Status Commit();

 private:
  void Abandon();
  std::string path_, tmp_;
  int fd_ = -1;
};

// Writes `contents` to `path` atomically (AtomicFileWriter).
Status WriteFileAtomically(const std::string& path, const std::string& contents);

// A read-only file with its size fixed at Open.
class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  ~RandomAccessFile();
  Status Open(const std::string& path);
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Reads exactly n bytes at offset; OUT_OF_RANGE if the file is shorter.
  Status Read(uint64_t offset, size_t n, void* dst) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Reads a whole file of at most max_bytes (INVALID_ARGUMENT if larger).
Status ReadFile(const std::string& path, uint64_t max_bytes, std::string* out);

// Creates a directory (and missing parents); OK if it exists.
Status CreateDirs(const std::string& path);

}  // namespace loom

#endif  // LOOM_RUNTIME_IO_FILE_H_
