#include "runtime/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace loom {

Status IoError(const std::string& call, const std::string& path, int err) {
  loom_code code = LOOM_CODE_UNKNOWN;
  switch (err) {
    case ENOENT: case ENOTDIR: code = LOOM_CODE_NOT_FOUND; break;
    case EACCES: case EPERM: case EROFS: code = LOOM_CODE_PERMISSION_DENIED; break;
    case ENOSPC: case EDQUOT: case EFBIG: case ENOMEM: code = LOOM_CODE_RESOURCE_EXHAUSTED; break;
    case EEXIST: code = LOOM_CODE_ALREADY_EXISTS; break;
    case EISDIR: case ENAMETOOLONG: case EINVAL: code = LOOM_CODE_INVALID_ARGUMENT; break;
    default: break;
  }
  return Status(code, StrCat(call, "('", path, "') failed: ", std::strerror(err)));
}

namespace {
std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace

AtomicFileWriter::~AtomicFileWriter() { Abandon(); }

void AtomicFileWriter::Abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!tmp_.empty()) {
    ::unlink(tmp_.c_str());
    tmp_.clear();
  }
}

Status AtomicFileWriter::Open(const std::string& path) {
  Abandon();
  if (path.empty()) return InvalidArgument("file path is empty");
  static std::atomic<uint64_t> counter{0};
  path_ = path;
  tmp_ = StrCat(path, ".tmp-", ::getpid(), "-", counter++);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int err = errno;
    tmp_.clear();
    return IoError("open", path + " (temporary file)", err);
  }
  return Status::OK();
}

Status AtomicFileWriter::Append(const void* data, size_t n) {
  if (fd_ < 0) return FailedPrecondition("AtomicFileWriter: not open");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write", tmp_, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return FailedPrecondition("AtomicFileWriter: not open");
  if (::fsync(fd_) != 0) return IoError("fsync", tmp_, errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return IoError("close", tmp_, errno);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return IoError("rename", tmp_ + " -> " + path_, errno);
  tmp_.clear();
  // Make the rename itself durable.
  std::string dir = DirName(path_);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  AtomicFileWriter w;
  RETURN_IF_ERROR(w.Open(path));
  RETURN_IF_ERROR(w.Append(contents.data(), contents.size()));
  return w.Commit();
}

RandomAccessFile::~RandomAccessFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status RandomAccessFile::Open(const std::string& path) {
  if (path.empty()) return InvalidArgument("file path is empty");
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return IoError("open", path, errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0) return IoError("fstat", path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument("'", path, "' is not a regular file");
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::OK();
}

Status RandomAccessFile::Read(uint64_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset)
    return OutOfRange("read of ", n, " bytes at offset ", offset, " is past the end of '", path_, "' (",
                      size_, " bytes)");
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("pread", path_, errno);
    }
    if (r == 0) return OutOfRange("'", path_, "' ended early (it shrank while being read)");
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

Status ReadFile(const std::string& path, uint64_t max_bytes, std::string* out) {
  RandomAccessFile f;
  RETURN_IF_ERROR(f.Open(path));
  if (f.size() > max_bytes)
    return InvalidArgument("'", path, "' is ", f.size(), " bytes, more than the limit of ", max_bytes);
  out->resize(f.size());
  return f.Read(0, f.size(), out->empty() ? nullptr : &(*out)[0]);
}

Status CreateDirs(const std::string& path) {
  if (path.empty()) return InvalidArgument("directory path is empty");
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return IoError("mkdir", cur, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("'", path, "' exists and is not a directory");
  return Status::OK();
}

}  // namespace loom
