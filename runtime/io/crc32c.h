// CRC32C (Castagnoli), the checksum of checkpoint headers and tensors.
#ifndef LOOM_RUNTIME_IO_CRC32C_H_
#define LOOM_RUNTIME_IO_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace loom {
namespace crc32c {

// The CRC32C of data[0, n) appended to a running crc (0 to start).
uint32_t Extend(uint32_t crc, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// Stored checksums are masked (as LevelDB and TensorFlow do), so a CRC of
// data that itself contains CRCs does not degenerate.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace crc32c
}  // namespace loom

#endif  // LOOM_RUNTIME_IO_CRC32C_H_
