// The distributed runtime's wire helpers: method numbers, tensors <-> their
// TensorMeta + payload buffer, and decoding a peer's header with limits.
// Everything here treats its input as hostile: a bad message is an
// INVALID_ARGUMENT naming what was wrong, never a crash or an unbounded
// allocation.
#ifndef LOOM_RUNTIME_DIST_WIRE_H_
#define LOOM_RUNTIME_DIST_WIRE_H_

#include <string>
#include <vector>

#include "runtime/dist/transport.h"

namespace google {
namespace protobuf {
class MessageLite;
}
}  // namespace google

namespace loom {
namespace pb {
class TensorMeta;
}

enum WireMethod : uint32_t {
  kGetStatus = 1,
  kRegisterGraph = 2,
  kRunGraph = 3,
  kCleanupGraph = 4,
  kRecvTensor = 5,
  kEndStep = 6,
};
const char* WireMethodName(uint32_t m);

// Limits on what a peer may send.
constexpr size_t kMaxHeaderBytes = 256u << 20;   // a RegisterGraph's GraphDef
constexpr int kMaxTensorsPerMessage = 1 << 16;
constexpr int kMaxTensorRank = 32;

// Parses header bytes into msg; INVALID_ARGUMENT naming `what` if malformed.
Status DecodeHeader(const std::string& bytes, google::protobuf::MessageLite* msg, const char* what);
std::string EncodeHeader(const google::protobuf::MessageLite& msg);

// Describes t (copied to host memory first if it lives on a device) as meta,
// appending its host tensor to payloads.
Status EncodeTensor(const Tensor& t, const std::string& name, pb::TensorMeta* meta, std::vector<Tensor>* payloads);
// The tensor meta describes, over the message's payloads: dtype valid, dims
// non-negative and at most kMaxTensorRank of them, byte size equal to the
// payload's. Shares the payload's buffer when it is aligned for the dtype,
// else copies into aligned memory.
Status DecodeTensor(const pb::TensorMeta& meta, const std::vector<std::shared_ptr<Buffer>>& payloads,
                    const std::string& what, Tensor* out);

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_WIRE_H_
