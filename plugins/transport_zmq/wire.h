// wire.h — the zmq transport's wire format (version 2), shared by the plugin
// and its tests. Self-contained: no Loom and no ZeroMQ types.
//
// Every request and every response is one ZeroMQ multipart message:
//
//   frame 0   preamble, kPreambleBytes bytes, little-endian:
//               off  0  u32 magic        "LMZT" (0x545A4D4C)
//               off  4  u16 version      kWireVersion
//               off  6  u8  kind         1 request, 2 response
//               off  7  u8  flags        0, or kFlagInline (receivers refuse others)
//               off  8  u64 call id      the caller's; echoed in the response
//               off 16  u32 method       the host's method number (0 in responses)
//               off 20  u32 code         loom_code of a response (0 in requests)
//               off 24  u32 num_payloads frames after the header
//               off 28  u32 reserved     0
//               off 32  u64 body bytes   the sizes of frames 1.. added up
//   frame 1   the header (opaque host bytes), or the error message of a
//             response whose code is not OK (then num_payloads is 0)
//   frame 2.. the payloads, one frame each (zero-copy on both ends)
//
// Small messages (body up to kInlineMaxBody bytes, up to kMaxInlinePayloads
// payloads) travel as ONE frame instead, flagged kFlagInline: the preamble,
// then u32 header size and one u32 size per payload, then the header and the
// payloads back to back (the sender copies them; the receiver hands out
// views into the one frame): one message through ZeroMQ's pipes and codecs
// instead of three, and one allocation on receipt instead of three.
//
// A ROUTER sees the sender's routing id in front of frame 0 (ZeroMQ's own
// envelope). A message that breaks any rule above — frame count, magic,
// version, kind, flags, a body that does not add up, more than
// kMaxPayloads payloads, an inline size table that does not add up to the
// frame, more than max_message_bytes in all — is dropped
// and counted; nothing in it is interpreted.
#ifndef LOOM_PLUGINS_TRANSPORT_ZMQ_WIRE_H_
#define LOOM_PLUGINS_TRANSPORT_ZMQ_WIRE_H_

#include <cstddef>
#include <cstdint>

namespace loom_zmq {

constexpr uint32_t kMagic = 0x545A4D4Cu;  // "LMZT" in memory order
// 2: inline frames (version 1, without them, was never released; its
// receivers drop version 2 messages and log "wire version").
constexpr uint16_t kWireVersion = 2;
constexpr size_t kPreambleBytes = 40;
constexpr uint32_t kMaxPayloads = 1u << 16;
constexpr uint8_t kFlagInline = 1;
constexpr size_t kInlineMaxBody = 8192;
constexpr uint32_t kMaxInlinePayloads = 64;
// Bytes of an inline frame before the header: preamble + size table.
inline size_t InlineTableEnd(uint32_t num_payloads) {
  return kPreambleBytes + 4 * (1 + static_cast<size_t>(num_payloads));
}

enum Kind : uint8_t { kKindRequest = 1, kKindResponse = 2 };

struct Preamble {
  uint8_t kind = 0;
  uint8_t flags = 0;
  uint64_t call_id = 0;
  uint32_t method = 0;
  uint32_t code = 0;
  uint32_t num_payloads = 0;
  uint64_t body_bytes = 0;
};

inline void PutLe(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t GetLe(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Writes `pre` into out[kPreambleBytes].
inline void EncodePreamble(const Preamble& pre, uint8_t* out) {
  PutLe(out + 0, kMagic, 4);
  PutLe(out + 4, kWireVersion, 2);
  out[6] = pre.kind;
  out[7] = pre.flags;
  PutLe(out + 8, pre.call_id, 8);
  PutLe(out + 16, pre.method, 4);
  PutLe(out + 20, pre.code, 4);
  PutLe(out + 24, pre.num_payloads, 4);
  PutLe(out + 28, 0, 4);
  PutLe(out + 32, pre.body_bytes, 8);
}

// What is wrong with frame 0's fixed fields, or NULL if they are ours.
// Frame counts, and an inline frame's size table, are checked by the caller.
inline const char* PreambleError(const uint8_t* p, size_t size) {
  if (size < kPreambleBytes) return "preamble size";
  if (GetLe(p, 4) != kMagic) return "magic";
  if (GetLe(p + 4, 2) != kWireVersion) return "wire version";
  if (p[6] != kKindRequest && p[6] != kKindResponse) return "kind";
  if ((p[7] & ~kFlagInline) != 0 || GetLe(p + 28, 4) != 0) return "reserved bits";
  const uint64_t n = GetLe(p + 24, 4), body = GetLe(p + 32, 8);
  if (n > kMaxPayloads) return "payload count";
  if ((p[7] & kFlagInline) == 0) return size == kPreambleBytes ? nullptr : "preamble size";
  if (n > kMaxInlinePayloads || body > kInlineMaxBody) return "inline message too large";
  if (size != InlineTableEnd(static_cast<uint32_t>(n)) + body) return "inline size";
  return nullptr;
}

// Reads a preamble; false (and *why set) if it is not ours.
inline bool DecodePreamble(const void* data, size_t size, Preamble* out, const char** why) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  if ((*why = PreambleError(p, size)) != nullptr) return false;
  out->kind = p[6];
  out->flags = p[7];
  out->call_id = GetLe(p + 8, 8);
  out->method = static_cast<uint32_t>(GetLe(p + 16, 4));
  out->code = static_cast<uint32_t>(GetLe(p + 20, 4));
  out->num_payloads = static_cast<uint32_t>(GetLe(p + 24, 4));
  out->body_bytes = GetLe(p + 32, 8);
  return true;
}

}  // namespace loom_zmq

#endif  // LOOM_PLUGINS_TRANSPORT_ZMQ_WIRE_H_
