// zmq_transport.cc — the ZeroMQ transport plugin (scheme "zmq").
//
// One loom_transport is one ZeroMQ context and one I/O thread that owns every
// socket of that transport (ZeroMQ sockets are not thread-safe):
//
//   - a ROUTER, created by listen(), that receives requests and sends
//     responses (ZMQ_ROUTER_MANDATORY: a response to a peer that went away is
//     dropped, not queued forever);
//   - one DEALER per peer address (connect()), with ZMQ_IMMEDIATE so that a
//     message is only queued to a connection that finished its handshake, and
//     a socket monitor whose events tell the I/O thread when the peer is up
//     and when it went away (closed connection, heartbeat timeout).
//
// The ABI functions (call, respond, cancel, connect) run on the host's
// threads: they build the outgoing frames (zero-copy for lent buffers), push a
// command onto a mutex-guarded queue and wake the I/O thread through an
// eventfd. Host callbacks (request handler, call completion) run on the I/O
// thread with no plugin lock held, so they may call back into the transport;
// what they ask for is queued and done when the callback returns.
//
// Bounded memory: ZeroMQ's high-water marks bound its pipes; messages that
// ZeroMQ cannot take yet wait in this plugin up to max_queued_bytes /
// max_queued_messages per transport, beyond which calls fail with
// RESOURCE_EXHAUSTED. Incoming frames are bounded by ZMQ_MAXMSGSIZE and whole
// messages by max_message_bytes; see wire.h for what is refused.
//
// Options (loom_transport.h lists the common ones):
//   identity, heartbeat_ms (default 1000), heartbeat_timeout_ms (3000),
//   connect_timeout_ms (3000), max_message_bytes (1 GiB + 16 MiB),
//   secret_key / public_key (Z85; listen() then serves CURVE), server_key
//   (Z85; peers must prove it; this endpoint's own pair, or a fresh one)
//   and this plugin's own:
//   authorized_keys      comma-separated Z85 client keys a CURVE server admits
//                        (default: any client that knows the server's key)
//   hwm                  ZeroMQ send/receive high-water mark, messages (1000)
//   max_queued_bytes     bytes waiting in the plugin for ZeroMQ (1 GiB)
//   max_queued_messages  messages waiting in the plugin for ZeroMQ (65536)
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "loom/loom_transport.h"
#include "loom/loom_version.h"
#include "wire.h"

namespace {

using namespace loom_zmq;  // NOLINT: the wire format is this plugin's own

const loom_transport_host_api* g_host = nullptr;
constexpr const char* kPluginName = "transport_zmq";

// Buffers up to this size are copied into the frame (and given back at
// once): a copy is cheaper than a zero-copy frame's bookkeeping.
constexpr size_t kCopyBelow = 1024;

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

loom_status* Status(loom_code code, const std::string& message) {
  return g_host->status_new(code, message.c_str());
}

void Log(int level, const std::string& message) {
  if (g_host->log != nullptr) g_host->log(level, kPluginName, message.c_str());
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------- options

struct Options {
  std::string identity = "loom";
  int64_t heartbeat_ms = 1000;
  int64_t heartbeat_timeout_ms = 3000;
  int64_t connect_timeout_ms = 3000;
  int64_t max_message_bytes = (int64_t{1} << 30) + (int64_t{16} << 20);
  std::string secret_key, public_key, server_key;
  std::set<std::string> authorized_keys;  // Z85 client keys a CURVE server admits (empty: any)
  int64_t hwm = 1000;
  int64_t max_queued_bytes = int64_t{1} << 30;
  int64_t max_queued_messages = 65536;
};

loom_status* ParseInt(const char* key, const char* value, int64_t min, int64_t max, int64_t* out) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: option %s='%s' is not an integer in [%lld, %lld]", key, value,
                      static_cast<long long>(min), static_cast<long long>(max)));
  }
  *out = v;
  return nullptr;
}

loom_status* CheckZ85Key(const char* key, const std::string& value) {
  uint8_t raw[32];
  if (value.size() != 40 || zmq_z85_decode(raw, value.c_str()) == nullptr) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: option %s is not a Z85 CURVE key (40 printable "
                      "characters, as `loom keygen` writes; got %zu characters)",
                      key, value.size()));
  }
  return nullptr;
}

loom_status* ParseOptions(const loom_transport_option* options, int num_options, Options* o) {
  if (num_options < 0 || (num_options > 0 && options == nullptr)) {
    return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: options is NULL");
  }
  constexpr int64_t kMaxMs = int64_t{1} << 40;
  for (int i = 0; i < num_options; ++i) {
    const char* k = options[i].key;
    const char* v = options[i].value;
    if (k == nullptr || v == nullptr) {
      return Status(LOOM_CODE_INVALID_ARGUMENT,
                    Fmt("zmq transport: option %d has a NULL key or value", i));
    }
    std::string key = k;
    loom_status* s = nullptr;
    int64_t n = 0;
    if (key == "identity") {
      o->identity = v;
    } else if (key == "heartbeat_ms") {
      s = ParseInt(k, v, 0, 6553500, &n);
      if (!s && n > 0) o->heartbeat_ms = n;
    } else if (key == "heartbeat_timeout_ms") {
      s = ParseInt(k, v, 0, 6553500, &n);
      if (!s && n > 0) o->heartbeat_timeout_ms = n;
    } else if (key == "connect_timeout_ms") {
      s = ParseInt(k, v, 0, kMaxMs, &n);
      if (!s && n > 0) o->connect_timeout_ms = n;
    } else if (key == "max_message_bytes") {
      s = ParseInt(k, v, 0, INT64_MAX, &n);
      if (!s && n > 0) o->max_message_bytes = n;
    } else if (key == "secret_key") {
      o->secret_key = v;
      s = CheckZ85Key(k, o->secret_key);
    } else if (key == "public_key") {
      o->public_key = v;
      s = CheckZ85Key(k, o->public_key);
    } else if (key == "server_key") {
      o->server_key = v;
      s = CheckZ85Key(k, o->server_key);
    } else if (key == "authorized_keys") {
      // Comma-separated Z85 public keys.
      std::string list = v;
      for (size_t start = 0; start <= list.size();) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string one = list.substr(start, comma - start);
        if (!one.empty()) {
          if ((s = CheckZ85Key(k, one)) != nullptr) break;
          o->authorized_keys.insert(one);
        }
        start = comma + 1;
      }
    } else if (key == "hwm") {
      s = ParseInt(k, v, 1, INT32_MAX, &o->hwm);
    } else if (key == "max_queued_bytes") {
      s = ParseInt(k, v, 0, INT64_MAX, &o->max_queued_bytes);
    } else if (key == "max_queued_messages") {
      s = ParseInt(k, v, 0, INT64_MAX, &o->max_queued_messages);
    } else {
      return Status(LOOM_CODE_INVALID_ARGUMENT,
                    Fmt("zmq transport: unknown option '%s' (known: identity, heartbeat_ms, "
                        "heartbeat_timeout_ms, connect_timeout_ms, max_message_bytes, "
                        "secret_key, public_key, server_key, authorized_keys, hwm, "
                        "max_queued_bytes, max_queued_messages)",
                        k));
    }
    if (s != nullptr) return s;
  }
  if (o->secret_key.empty() != o->public_key.empty()) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  "zmq transport: secret_key and public_key go together (a key pair from "
                  "`loom keygen`); only one was given");
  }
  if (!o->authorized_keys.empty() && o->secret_key.empty()) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  "zmq transport: authorized_keys needs this endpoint's own secret_key/public_key "
                  "(only a CURVE server checks its clients' keys)");
  }
  bool curve = !o->secret_key.empty() || !o->server_key.empty();
  if (curve && !zmq_has("curve")) {
    return Status(LOOM_CODE_UNIMPLEMENTED,
                  "zmq transport: keys were given but this libzmq was built without CURVE");
  }
  if (o->identity.empty() || o->identity.size() > 200) {
    return Status(
        LOOM_CODE_INVALID_ARGUMENT,
        Fmt("zmq transport: identity must have 1..200 bytes (got %zu)", o->identity.size()));
  }
  return nullptr;
}

// "host:port", "zmq://host:port" or "tcp://host:port" -> "host:port".
loom_status* ParseAddress(const char* what, const char* address, std::string* out) {
  if (address == nullptr) {
    return Status(LOOM_CODE_INVALID_ARGUMENT, Fmt("zmq transport: %s: address is NULL", what));
  }
  std::string a = address;
  for (const char* prefix : {"zmq://", "tcp://"}) {
    if (a.compare(0, std::strlen(prefix), prefix) == 0) a.erase(0, std::strlen(prefix));
  }
  size_t colon = a.rfind(':');
  bool ok =
      colon != std::string::npos && colon > 0 && colon + 1 < a.size() && colon + 6 >= a.size();
  for (size_t i = colon + 1; ok && i < a.size(); ++i) ok = a[i] >= '0' && a[i] <= '9';
  if (ok && std::atoi(a.c_str() + colon + 1) > 65535) ok = false;
  if (!ok) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: %s: address '%s' is not host:port", what, address));
  }
  *out = a;
  return nullptr;
}

// A routing id as printable text: bytes outside [0x21, 0x7e] as \xNN.
std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += Fmt("\\x%02x", c);
    }
  }
  return out;
}

// ---------------------------------------------------------------- frames

// A lent buffer riding in a zero-copy frame: given back when ZeroMQ frees it.
struct Lent {
  void (*release)(void*);
  void* arg;
};
void FreeLent(void* /*data*/, void* hint) {
  auto* lent = static_cast<Lent*>(hint);
  lent->release(lent->arg);
  delete lent;
}

// A received frame handed to the host: its release frees the zmq_msg_t.
void ReleaseFrame(void* arg) {
  auto* m = static_cast<zmq_msg_t*>(arg);
  zmq_msg_close(m);
  delete m;
}

// An outgoing message: its frames, built on the caller's thread. Frames
// ZeroMQ took are empty; destroying the message closes the rest, which gives
// lent buffers back exactly once whatever happened.
class OutMsg {
 public:
  OutMsg(size_t frames, std::atomic<int64_t>* queued_bytes, std::atomic<int64_t>* queued_msgs)
      : queued_bytes_(queued_bytes), queued_msgs_(queued_msgs) {
    frames_.reserve(frames);  // never reallocated: zmq_msg_t is not moved
  }
  ~OutMsg() {
    for (zmq_msg_t& f : frames_) zmq_msg_close(&f);
    if (counted_) {
      queued_bytes_->fetch_sub(bytes_, std::memory_order_relaxed);
      queued_msgs_->fetch_sub(1, std::memory_order_relaxed);
    }
  }
  OutMsg(const OutMsg&) = delete;
  OutMsg& operator=(const OutMsg&) = delete;

  // A new frame of `size` bytes for the caller to fill.
  uint8_t* AddFrame(size_t size) {
    frames_.emplace_back();
    zmq_msg_init_size(&frames_.back(), size);
    bytes_ += static_cast<int64_t>(size);
    return static_cast<uint8_t*>(zmq_msg_data(&frames_.back()));
  }
  void AddCopy(const void* data, size_t size) {
    frames_.emplace_back();
    zmq_msg_init_size(&frames_.back(), size);
    if (size > 0) std::memcpy(zmq_msg_data(&frames_.back()), data, size);
    bytes_ += static_cast<int64_t>(size);
  }
  // Lends b to ZeroMQ (zero-copy) or copies it and gives it back now.
  void AddBuffer(const loom_transport_buffer& b) {
    if (b.release == nullptr || b.size < kCopyBelow || b.data == nullptr) {
      // No release: the data lives only as long as the call that passed it.
      AddCopy(b.data, b.data == nullptr ? 0 : b.size);
      if (b.release != nullptr) b.release(b.release_arg);
      return;
    }
    frames_.emplace_back();
    zmq_msg_init_data(&frames_.back(), const_cast<void*>(b.data), b.size, FreeLent,
                      new Lent{b.release, b.release_arg});
    bytes_ += static_cast<int64_t>(b.size);
  }
  // Counts this message against the transport's queue bound from now on.
  void Count() {
    counted_ = true;
    queued_bytes_->fetch_add(bytes_, std::memory_order_relaxed);
    queued_msgs_->fetch_add(1, std::memory_order_relaxed);
  }

  // Sends every frame (after `routing_id` if not NULL) without blocking.
  // Returns 0, or the errno of the first frame (EAGAIN: try later).
  int Send(void* socket, const std::string* routing_id) {
    if (routing_id != nullptr &&
        zmq_send(socket, routing_id->data(), routing_id->size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
      return zmq_errno();
    }
    for (size_t i = 0; i < frames_.size(); ++i) {
      int flags = ZMQ_DONTWAIT | (i + 1 < frames_.size() ? ZMQ_SNDMORE : 0);
      if (zmq_msg_send(&frames_[i], socket, flags) < 0) return zmq_errno();
    }
    return 0;
  }

  int64_t bytes() const { return bytes_; }

 private:
  std::vector<zmq_msg_t> frames_;
  int64_t bytes_ = 0;
  bool counted_ = false;
  std::atomic<int64_t>* queued_bytes_;
  std::atomic<int64_t>* queued_msgs_;
};

// Frames of one incoming message, owned until handed to the host.
struct InMsg {
  std::string routing_id;
  std::vector<zmq_msg_t*> frames;
  bool refused = false;  // too many frames or bytes: frames were discarded
  int64_t bytes = 0;
  ~InMsg() {
    for (zmq_msg_t* m : frames) {
      if (m != nullptr) ReleaseFrame(m);
    }
  }
};

// The header and payload sizes of an inline frame (already checked to hold
// its size table) added up.
uint64_t InlineSizes(zmq_msg_t* frame, const Preamble& pre) {
  const uint8_t* table = static_cast<const uint8_t*>(zmq_msg_data(frame)) + kPreambleBytes;
  uint64_t sum = 0;
  for (uint32_t i = 0; i <= pre.num_payloads; ++i) sum += GetLe(table + 4 * i, 4);
  return sum;
}

// One inline frame shared by the buffers handed out of it.
struct SharedFrame {
  zmq_msg_t* msg;
  std::atomic<int> refs;
};
void ReleaseShared(void* arg) {
  auto* s = static_cast<SharedFrame*>(arg);
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    ReleaseFrame(s->msg);
    delete s;
  }
}

// Received payloads up to this size that libzmq left at an address that is
// not a multiple of kAlignment are copied to one that is, so a host can wrap
// any of them into a tensor. libzmq places frames of up to its 8 KiB batch
// at any offset of its receive buffer; larger ones get their own block (8
// bytes into it on glibc), which is handed over as it is: copying those
// would cost what zero-copy saves.
constexpr size_t kAlignment = 64;
constexpr size_t kAlignCopyMax = 64 * 1024;

void FreeAligned(void* p) { std::free(p); }

// `data` as a payload buffer: a copy at a kAlignment boundary when it is a
// small misaligned one (`release` then runs at once), else as it is.
loom_transport_buffer Payload(const void* data, size_t size, void (*release)(void*), void* arg) {
  if (size <= kAlignCopyMax && reinterpret_cast<uintptr_t>(data) % kAlignment != 0) {
    void* p = std::aligned_alloc(kAlignment, (size + kAlignment - 1) / kAlignment * kAlignment +
                                                 (size == 0 ? kAlignment : 0));
    if (p != nullptr) {
      if (size > 0) std::memcpy(p, data, size);
      release(arg);
      return {p, size, FreeAligned, p};
    }
  }
  return {data, size, release, arg};
}

// Hands a parsed message's header and payloads over as buffers the host
// releases (one per frame, or views into the one inline frame).
void TakeBuffers(InMsg* in, const Preamble& pre, loom_transport_buffer* header,
                 std::vector<loom_transport_buffer>* payloads) {
  payloads->resize(pre.num_payloads);
  if ((pre.flags & kFlagInline) != 0) {
    zmq_msg_t* m = in->frames[0];
    in->frames[0] = nullptr;
    const uint8_t* d = static_cast<const uint8_t*>(zmq_msg_data(m));
    auto* shared = new SharedFrame{m, {1 + static_cast<int>(pre.num_payloads)}};
    const uint8_t* at = d + InlineTableEnd(pre.num_payloads);
    for (uint32_t i = 0; i <= pre.num_payloads; ++i) {
      size_t size = GetLe(d + kPreambleBytes + 4 * i, 4);
      if (i == 0) {
        *header = {at, size, ReleaseShared, shared};
      } else {
        (*payloads)[i - 1] = Payload(at, size, ReleaseShared, shared);
      }
      at += size;
    }
    return;
  }
  for (uint32_t i = 0; i < pre.num_payloads; ++i) {
    zmq_msg_t* m = in->frames[2 + i];
    (*payloads)[i] = Payload(zmq_msg_data(m), zmq_msg_size(m), ReleaseFrame, m);
    in->frames[2 + i] = nullptr;
  }
  zmq_msg_t* h = in->frames[1];
  in->frames[1] = nullptr;
  *header = {zmq_msg_data(h), zmq_msg_size(h), ReleaseFrame, h};
}

// ---------------------------------------------------------------- objects

struct Peer;

struct Call {
  uint64_t id = 0;
  Peer* peer = nullptr;
  uint32_t method = 0;
  loom_transport_call_done_fn done = nullptr;
  void* done_arg = nullptr;
  int64_t deadline_ms = 0;
  int64_t deadline_ns = 0;        // 0: none
  int64_t connect_ns = 0;         // 0: none; else fail UNAVAILABLE if still unsent and peer down
  std::unique_ptr<OutMsg> out;    // until ZeroMQ takes it
  loom_status* failed = nullptr;  // complete at once with this status
};

struct Peer {
  std::string address;  // host:port
  std::string name;     // zmq://host:port, for messages
  // The I/O thread's only:
  void* socket = nullptr;
  void* monitor = nullptr;
  std::string socket_error;  // why the DEALER could not be made
  bool up = false;           // handshake done, not disconnected since
  std::deque<uint64_t> unsent;
  std::unordered_set<uint64_t> inflight;
  std::string last_error;  // the most recent connection trouble, for messages
};

struct Response {
  std::string routing_id;
  std::unique_ptr<OutMsg> out;
};

struct PendingRequest {
  std::string routing_id;
  uint64_t call_id = 0;
};

struct Command {
  enum Kind { kCall, kRespond, kCancel, kConnect, kJob, kStop } kind;
  std::unique_ptr<Call> call;
  std::unique_ptr<Response> response;
  uint64_t id = 0;
  Peer* peer = nullptr;
  std::function<void()> job;  // kJob: run on the I/O thread (listen)
};

enum TimerKind : int { kTimerDeadline = 0, kTimerConnect = 1 };

}  // namespace

// ---------------------------------------------------------------- transport

struct loom_transport {
 public:
  loom_transport(Options options, loom_transport_request_fn handler, void* handler_arg)
      : opt_(std::move(options)), handler_(handler), handler_arg_(handler_arg) {}

  loom_status* Start();
  void Destroy();

  loom_status* Listen(const char* address, char* out_address, size_t out_size);
  loom_status* Connect(const char* address, loom_transport_peer** out_peer);
  loom_status* StartCall(Peer* peer, const loom_transport_message* request, int64_t deadline_ms,
                         loom_transport_call_done_fn done, void* done_arg,
                         loom_transport_call** out_call);
  void Cancel(uint64_t id);
  loom_status* Respond(uint64_t request_id, loom_code code, const char* error_message,
                       const loom_transport_message* response);
  void Stats(int64_t* rejected, int64_t* sent, int64_t* received) {
    if (rejected) *rejected = rejected_.load();
    if (sent) *sent = bytes_sent_.load();
    if (received) *received = bytes_received_.load();
  }

 private:
  bool OnIoThread() const;
  void Push(Command cmd);
  std::unique_ptr<OutMsg> BuildOut(const Preamble& pre, const loom_transport_buffer* header,
                                   const loom_transport_buffer* payloads, int num_payloads);

  // The I/O thread.
  static void ThreadMain(loom_transport* t);
  void Run();
  bool DrainCommands();
  void Shutdown();
  loom_status* DoListen(const std::string& address, std::string* bound);
  void SetCommonOptions(void* socket, bool ipv6);
  void EnsureSocket(Peer* p);
  void BeginCall(std::unique_ptr<Call> c);
  void FlushPeer(Peer* p);
  void FlushRouter();
  void Finish(uint64_t id, loom_status* status, const loom_transport_message* response);
  void FailPeer(Peer* p, loom_code code, const std::string& why);
  bool Receive(void* socket, bool routed, InMsg* in);
  bool Parse(InMsg* in, uint8_t kind, Preamble* pre);
  void ReadDealer(Peer* p, int budget);
  void ReadRouter(int budget);
  void ReadMonitor(Peer* p);
  void AnswerZap();
  void FireTimers();
  int NextTimeoutMs();
  void AddTimer(int64_t at, uint64_t id, int kind) { timers_.emplace(at, id, kind); }
  void EraseTimer(int64_t at, uint64_t id, int kind) {
    if (at != 0) timers_.erase(std::make_tuple(at, id, kind));
  }

  const Options opt_;
  const loom_transport_request_fn handler_;
  void* const handler_arg_;
  std::string routing_id_;  // identity#<random>, as peers see this endpoint

  void* ctx_ = nullptr;
  int wake_fd_ = -1;
  std::thread io_;
  bool self_delete_ = false;

  // Shared with the host's threads, under mu_.
  std::mutex mu_;
  std::vector<Command> commands_;
  bool wake_pending_ = false;
  bool closing_ = false;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  std::unordered_map<uint64_t, PendingRequest> requests_;
  uint64_t next_request_id_ = 1;

  std::atomic<uint64_t> next_call_id_{1};
  std::atomic<int64_t> queued_bytes_{0}, queued_msgs_{0};
  std::atomic<int64_t> rejected_{0}, bytes_sent_{0}, bytes_received_{0};

  // The I/O thread's only.
  void* router_ = nullptr;
  void* zap_ = nullptr;  // the ZAP handler (authorized_keys) of this context
  std::vector<Peer*> io_peers_;
  std::unordered_map<uint64_t, std::unique_ptr<Call>> calls_;
  std::set<std::tuple<int64_t, uint64_t, int>> timers_;
  std::list<std::unique_ptr<Response>> router_queue_;
  int64_t router_retry_ns_ = 0;  // no POLLOUT on the ROUTER before this
  int monitor_count_ = 0;
};

namespace {

// The transport whose I/O thread this is (NULL on the host's threads).
thread_local const loom_transport* tls_io_transport = nullptr;

loom_transport_call* CallHandle(uint64_t id) {
  return reinterpret_cast<loom_transport_call*>(static_cast<uintptr_t>(id));
}
loom_transport_request* RequestHandle(uint64_t id) {
  return reinterpret_cast<loom_transport_request*>(static_cast<uintptr_t>(id));
}

}  // namespace

loom_status* loom_transport::Start() {
  // A routing id that is new for every endpoint: a restarted task is a new
  // peer, and responses meant for its previous life find nobody.
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(NowNs()) ^
               (static_cast<uint64_t>(getpid()) << 16);
  routing_id_ = opt_.identity + Fmt("#%016llx", static_cast<unsigned long long>(r));

  ctx_ = zmq_ctx_new();
  if (ctx_ == nullptr) {
    return Status(LOOM_CODE_INTERNAL,
                  Fmt("zmq transport: zmq_ctx_new failed: %s", zmq_strerror(zmq_errno())));
  }
  zmq_ctx_set(ctx_, ZMQ_IO_THREADS, 1);
  zmq_ctx_set(ctx_, ZMQ_BLOCKY, 0);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    int err = errno;
    zmq_ctx_term(ctx_);
    return Status(LOOM_CODE_INTERNAL, Fmt("zmq transport: eventfd failed: %s", strerror(err)));
  }
  io_ = std::thread(ThreadMain, this);
  return nullptr;
}

bool loom_transport::OnIoThread() const { return tls_io_transport == this; }

void loom_transport::Destroy() {
  if (OnIoThread()) {
    // From inside a callback: the I/O thread cannot join itself. It stops
    // when the callback returns, cancels what is pending and frees itself.
    Log(3,
        "zmq transport: destroy() called from a transport callback; the endpoint stops "
        "after the callback returns");
    std::lock_guard<std::mutex> lock(mu_);
    self_delete_ = true;
    commands_.push_back(Command{Command::kStop, nullptr, nullptr, 0, nullptr, nullptr});
    io_.detach();
    return;
  }
  Push(Command{Command::kStop, nullptr, nullptr, 0, nullptr, nullptr});
  io_.join();
  zmq_ctx_term(ctx_);
  close(wake_fd_);
  delete this;
}

void loom_transport::ThreadMain(loom_transport* t) {
  tls_io_transport = t;
  t->Run();
  bool self_delete;
  {
    std::lock_guard<std::mutex> lock(t->mu_);
    self_delete = t->self_delete_;
  }
  if (self_delete) {
    zmq_ctx_term(t->ctx_);
    close(t->wake_fd_);
    delete t;
  }
}

void loom_transport::Push(Command cmd) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands_.push_back(std::move(cmd));
    if (!wake_pending_ && !OnIoThread()) {
      wake_pending_ = true;
      wake = true;
    }
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;  // EAGAIN: the counter is already non-zero, the thread wakes anyway
  }
}

std::unique_ptr<OutMsg> loom_transport::BuildOut(const Preamble& pre,
                                                 const loom_transport_buffer* header,
                                                 const loom_transport_buffer* payloads,
                                                 int num_payloads) {
  auto out = std::make_unique<OutMsg>(2 + static_cast<size_t>(num_payloads), &queued_bytes_,
                                      &queued_msgs_);
  Preamble p = pre;
  p.num_payloads = static_cast<uint32_t>(num_payloads);
  p.body_bytes = header != nullptr && header->data != nullptr ? header->size : 0;
  for (int i = 0; i < num_payloads; ++i) {
    if (payloads[i].data != nullptr) p.body_bytes += payloads[i].size;
  }
  if (p.body_bytes <= kInlineMaxBody && p.num_payloads <= kMaxInlinePayloads) {
    // One frame: preamble, size table, header, payloads (see wire.h).
    p.flags = kFlagInline;
    uint8_t* d = out->AddFrame(InlineTableEnd(p.num_payloads) + p.body_bytes);
    EncodePreamble(p, d);
    uint8_t* table = d + kPreambleBytes;
    uint8_t* at = d + InlineTableEnd(p.num_payloads);
    auto put = [&](const loom_transport_buffer* b, int slot) {
      size_t size = b != nullptr && b->data != nullptr ? b->size : 0;
      PutLe(table + 4 * slot, size, 4);
      if (size > 0) std::memcpy(at, b->data, size);
      at += size;
      if (b != nullptr && b->release != nullptr) b->release(b->release_arg);
    };
    put(header, 0);
    for (int i = 0; i < num_payloads; ++i) put(&payloads[i], 1 + i);
    return out;
  }
  uint8_t bytes[kPreambleBytes];
  EncodePreamble(p, bytes);
  out->AddCopy(bytes, sizeof(bytes));
  if (header != nullptr) {
    out->AddBuffer(*header);
  } else {
    out->AddCopy(nullptr, 0);
  }
  for (int i = 0; i < num_payloads; ++i) out->AddBuffer(payloads[i]);
  return out;
}

namespace {

// Gives back every lent buffer of a message the plugin will not send.
void ReleaseMessage(const loom_transport_message* m) {
  if (m == nullptr || m->struct_size < LOOM_STRUCT_SIZE(loom_transport_message, num_payloads)) {
    return;
  }
  if (m->header.release != nullptr) m->header.release(m->header.release_arg);
  for (int i = 0; m->payloads != nullptr && i < m->num_payloads; ++i) {
    if (m->payloads[i].release != nullptr) m->payloads[i].release(m->payloads[i].release_arg);
  }
}

loom_status* CheckMessage(const char* what, const loom_transport_message* m) {
  if (m->struct_size < LOOM_STRUCT_SIZE(loom_transport_message, num_payloads)) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: %s: message struct_size %zu is smaller than v1.0's %zu", what,
                      m->struct_size, LOOM_STRUCT_SIZE(loom_transport_message, num_payloads)));
  }
  if (m->num_payloads < 0 || static_cast<uint32_t>(m->num_payloads) > kMaxPayloads ||
      (m->num_payloads > 0 && m->payloads == nullptr)) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: %s: %d payloads (0..%u, payloads non-NULL)", what,
                      m->num_payloads, kMaxPayloads));
  }
  return nullptr;
}

}  // namespace

loom_status* loom_transport::Listen(const char* address, char* out_address, size_t out_size) {
  std::string addr;
  if (loom_status* s = ParseAddress("listen", address, &addr)) return s;
  std::string bound;
  loom_status* status = nullptr;
  if (OnIoThread()) {
    status = DoListen(addr, &bound);
  } else {
    // The ROUTER belongs to the I/O thread: bind there and wait for it.
    struct Wait {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    } wait;
    Command cmd{Command::kJob, nullptr, nullptr, 0, nullptr, [&] {
                  status = DoListen(addr, &bound);
                  std::lock_guard<std::mutex> lock(wait.mu);
                  wait.done = true;
                  wait.cv.notify_one();
                }};
    Push(std::move(cmd));
    std::unique_lock<std::mutex> lock(wait.mu);
    wait.cv.wait(lock, [&] { return wait.done; });
  }
  if (status != nullptr) return status;
  if (out_address != nullptr && out_size > 0) {
    if (bound.size() + 1 > out_size) {
      return Status(LOOM_CODE_INVALID_ARGUMENT,
                    Fmt("zmq transport: listening on %s, but out_address_size %zu cannot hold it",
                        bound.c_str(), out_size));
    }
    std::memcpy(out_address, bound.c_str(), bound.size() + 1);
  }
  return nullptr;
}

loom_status* loom_transport::Connect(const char* address, loom_transport_peer** out_peer) {
  std::string addr;
  if (loom_status* s = ParseAddress("connect", address, &addr)) return s;
  Peer* peer = nullptr;
  bool created = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<Peer>& slot = peers_[addr];
    if (!slot) {
      slot = std::make_unique<Peer>();
      slot->address = addr;
      slot->name = "zmq://" + addr;
      created = true;
    }
    peer = slot.get();
  }
  // Start connecting now, so the first call does not wait for it.
  if (created) Push(Command{Command::kConnect, nullptr, nullptr, 0, peer, nullptr});
  if (out_peer != nullptr) *out_peer = reinterpret_cast<loom_transport_peer*>(peer);
  return nullptr;
}

loom_status* loom_transport::StartCall(Peer* peer, const loom_transport_message* request,
                                       int64_t deadline_ms, loom_transport_call_done_fn done,
                                       void* done_arg, loom_transport_call** out_call) {
  if (peer == nullptr || request == nullptr || done == nullptr) {
    ReleaseMessage(request);
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  "zmq transport: call needs a peer, a request and a done callback");
  }
  if (loom_status* s = CheckMessage("call", request)) {
    ReleaseMessage(request);
    return s;
  }
  auto c = std::make_unique<Call>();
  c->id = next_call_id_.fetch_add(1, std::memory_order_relaxed);
  c->peer = peer;
  c->method = request->method;
  c->done = done;
  c->done_arg = done_arg;
  c->deadline_ms = deadline_ms;
  if (deadline_ms > 0) c->deadline_ns = NowNs() + deadline_ms * 1000000;
  Preamble pre;
  pre.kind = kKindRequest;
  pre.call_id = c->id;
  pre.method = request->method;
  c->out = BuildOut(pre, &request->header, request->payloads, request->num_payloads);
  int64_t bytes = c->out->bytes();
  if (queued_bytes_.load(std::memory_order_relaxed) + bytes > opt_.max_queued_bytes ||
      queued_msgs_.load(std::memory_order_relaxed) + 1 > opt_.max_queued_messages) {
    c->failed =
        Status(LOOM_CODE_RESOURCE_EXHAUSTED,
               Fmt("%s: call of %lld bytes refused: %lld bytes in %lld messages already wait to be "
                   "sent (max_queued_bytes %lld, max_queued_messages %lld)",
                   peer->name.c_str(), static_cast<long long>(bytes),
                   static_cast<long long>(queued_bytes_.load()),
                   static_cast<long long>(queued_msgs_.load()),
                   static_cast<long long>(opt_.max_queued_bytes),
                   static_cast<long long>(opt_.max_queued_messages)));
    c->out.reset();  // gives the lent buffers back now
  } else {
    c->out->Count();
  }
  if (out_call != nullptr) *out_call = CallHandle(c->id);
  Command cmd{Command::kCall, std::move(c), nullptr, 0, peer, nullptr};
  Push(std::move(cmd));
  return nullptr;
}

void loom_transport::Cancel(uint64_t id) {
  if (id == 0) return;
  Push(Command{Command::kCancel, nullptr, nullptr, id, nullptr, nullptr});
}

loom_status* loom_transport::Respond(uint64_t request_id, loom_code code, const char* error_message,
                                     const loom_transport_message* response) {
  PendingRequest req;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = requests_.find(request_id);
    if (it != requests_.end()) {
      req = std::move(it->second);
      requests_.erase(it);
      found = true;
    }
  }
  if (!found) {
    ReleaseMessage(response);
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  Fmt("zmq transport: respond: request %llu is unknown or already answered",
                      static_cast<unsigned long long>(request_id)));
  }
  Preamble pre;
  pre.kind = kKindResponse;
  pre.call_id = req.call_id;
  pre.code = static_cast<uint32_t>(code);
  std::unique_ptr<OutMsg> out;
  loom_status* status = nullptr;
  if (code == LOOM_CODE_OK && response != nullptr) {
    status = CheckMessage("respond", response);
    if (status != nullptr) {
      ReleaseMessage(response);
      pre.code = LOOM_CODE_INTERNAL;
      std::string text = Fmt("zmq transport: the server's response was malformed: %s",
                             g_host->status_message(status));
      loom_transport_buffer b{text.data(), text.size(), nullptr, nullptr};
      out = BuildOut(pre, &b, nullptr, 0);
    } else {
      out = BuildOut(pre, &response->header, response->payloads, response->num_payloads);
    }
  } else {
    ReleaseMessage(response);
    const char* text = error_message != nullptr ? error_message : "";
    loom_transport_buffer b{text, std::strlen(text), nullptr, nullptr};
    out = BuildOut(pre, &b, nullptr, 0);
  }
  if (queued_bytes_.load(std::memory_order_relaxed) + out->bytes() > opt_.max_queued_bytes ||
      queued_msgs_.load(std::memory_order_relaxed) + 1 > opt_.max_queued_messages) {
    // Too much waits already: answer with a small error instead, so the
    // caller learns why rather than timing out.
    std::string text =
        Fmt("zmq transport: a response of %lld bytes was dropped by the server: %lld bytes "
            "already wait to be sent (max_queued_bytes %lld)",
            static_cast<long long>(out->bytes()), static_cast<long long>(queued_bytes_.load()),
            static_cast<long long>(opt_.max_queued_bytes));
    if (status == nullptr) status = Status(LOOM_CODE_RESOURCE_EXHAUSTED, text);
    pre.code = LOOM_CODE_RESOURCE_EXHAUSTED;
    loom_transport_buffer b{text.data(), text.size(), nullptr, nullptr};
    out = BuildOut(pre, &b, nullptr, 0);
  }
  out->Count();
  auto r = std::make_unique<Response>();
  r->routing_id = std::move(req.routing_id);
  r->out = std::move(out);
  Push(Command{Command::kRespond, nullptr, std::move(r), 0, nullptr, nullptr});
  return status;
}

// ---------------------------------------------------------------- I/O thread

void loom_transport::SetCommonOptions(void* s, bool ipv6) {
  int zero = 0, one = 1;
  int hwm = static_cast<int>(opt_.hwm);
  int ivl = static_cast<int>(opt_.heartbeat_ms);
  int timeout = static_cast<int>(opt_.heartbeat_timeout_ms);
  int64_t maxmsg = opt_.max_message_bytes;
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
  zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
  zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
  zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
  zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof(timeout));
  zmq_setsockopt(s, ZMQ_HEARTBEAT_TTL, &timeout, sizeof(timeout));
  if (ipv6) zmq_setsockopt(s, ZMQ_IPV6, &one, sizeof(one));
}

loom_status* loom_transport::DoListen(const std::string& address, std::string* bound) {
  if (router_ == nullptr) {
    router_ = zmq_socket(ctx_, ZMQ_ROUTER);
    if (router_ == nullptr) {
      return Status(LOOM_CODE_INTERNAL, Fmt("zmq transport: listen on %s: zmq_socket: %s",
                                            address.c_str(), zmq_strerror(zmq_errno())));
    }
    SetCommonOptions(router_, address[0] == '[');
    int one = 1;
    zmq_setsockopt(router_, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    if (!opt_.authorized_keys.empty() && zap_ == nullptr) {
      // libzmq asks this context's "inproc://zeromq.zap.01" about every
      // client a CURVE server meets; the I/O thread answers (AnswerZap).
      zap_ = zmq_socket(ctx_, ZMQ_REP);
      int zero = 0;
      if (zap_ != nullptr) zmq_setsockopt(zap_, ZMQ_LINGER, &zero, sizeof(zero));
      if (zap_ == nullptr || zmq_bind(zap_, "inproc://zeromq.zap.01") != 0) {
        return Status(LOOM_CODE_INTERNAL,
                      Fmt("zmq transport: listen on %s: cannot start the key check: %s",
                          address.c_str(), zmq_strerror(zmq_errno())));
      }
    }
    if (!opt_.secret_key.empty()) {
      zmq_setsockopt(router_, ZMQ_CURVE_SERVER, &one, sizeof(one));
      zmq_setsockopt(router_, ZMQ_CURVE_SECRETKEY, opt_.secret_key.c_str(), 40);
    }
  }
  std::string endpoint = "tcp://" + address;
  if (zmq_bind(router_, endpoint.c_str()) != 0) {
    int err = zmq_errno();
    return Status(
        err == EADDRINUSE ? LOOM_CODE_UNAVAILABLE : LOOM_CODE_INVALID_ARGUMENT,
        Fmt("zmq transport: cannot listen on %s: %s", address.c_str(), zmq_strerror(err)));
  }
  char last[256] = {0};
  size_t size = sizeof(last);
  zmq_getsockopt(router_, ZMQ_LAST_ENDPOINT, last, &size);
  *bound = last;
  if (bound->compare(0, 6, "tcp://") == 0) bound->erase(0, 6);
  return nullptr;
}

void loom_transport::EnsureSocket(Peer* p) {
  if (p->socket != nullptr || !p->socket_error.empty()) return;
  void* s = zmq_socket(ctx_, ZMQ_DEALER);
  if (s == nullptr) {
    p->socket_error = Fmt("zmq_socket: %s", zmq_strerror(zmq_errno()));
    return;
  }
  SetCommonOptions(s, p->address[0] == '[');
  int one = 1, reconnect = 100, reconnect_max = 1000;
  zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof(one));
  zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &reconnect, sizeof(reconnect));
  zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof(reconnect_max));
  zmq_setsockopt(s, ZMQ_ROUTING_ID, routing_id_.data(), routing_id_.size());
  if (!opt_.server_key.empty()) {
    std::string pub = opt_.public_key, sec = opt_.secret_key;
    if (pub.empty()) {
      char pk[41], sk[41];
      zmq_curve_keypair(pk, sk);  // an ephemeral client pair
      pub = pk;
      sec = sk;
    }
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, opt_.server_key.c_str(), 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub.c_str(), 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec.c_str(), 40);
  }
  std::string mon = Fmt("inproc://loom-zmq-monitor-%d", monitor_count_++);
  int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_CONNECT_RETRIED;
  void* m = nullptr;
  if (zmq_socket_monitor(s, mon.c_str(), events) == 0) {
    m = zmq_socket(ctx_, ZMQ_PAIR);
    int zero = 0;
    if (m != nullptr) zmq_setsockopt(m, ZMQ_LINGER, &zero, sizeof(zero));
    if (m != nullptr && zmq_connect(m, mon.c_str()) != 0) {
      zmq_close(m);
      m = nullptr;
    }
  }
  if (m == nullptr) {
    p->socket_error = Fmt("cannot monitor the connection: %s", zmq_strerror(zmq_errno()));
    zmq_close(s);
    return;
  }
  std::string endpoint = "tcp://" + p->address;
  if (zmq_connect(s, endpoint.c_str()) != 0) {
    p->socket_error = Fmt("cannot connect: %s", zmq_strerror(zmq_errno()));
    zmq_socket_monitor(s, nullptr, 0);
    zmq_close(m);
    zmq_close(s);
    return;
  }
  p->socket = s;
  p->monitor = m;
  io_peers_.push_back(p);
}

void loom_transport::BeginCall(std::unique_ptr<Call> c) {
  if (c->failed != nullptr) {
    loom_status* s = c->failed;
    c->failed = nullptr;
    c->done(c->done_arg, s, nullptr);
    return;
  }
  Peer* p = c->peer;
  EnsureSocket(p);
  if (p->socket == nullptr) {
    c->out.reset();
    c->done(c->done_arg,
            Status(LOOM_CODE_UNAVAILABLE, Fmt("%s: %s", p->name.c_str(), p->socket_error.c_str())),
            nullptr);
    return;
  }
  uint64_t id = c->id;
  if (c->deadline_ns != 0) AddTimer(c->deadline_ns, id, kTimerDeadline);
  if (!p->up) {
    c->connect_ns = NowNs() + opt_.connect_timeout_ms * 1000000;
    AddTimer(c->connect_ns, id, kTimerConnect);
  }
  calls_.emplace(id, std::move(c));
  p->unsent.push_back(id);
  FlushPeer(p);
}

void loom_transport::FlushPeer(Peer* p) {
  while (!p->unsent.empty()) {
    uint64_t id = p->unsent.front();
    auto it = calls_.find(id);
    if (it == calls_.end() || !it->second->out) {
      p->unsent.pop_front();  // completed meanwhile (deadline, cancel)
      continue;
    }
    Call* c = it->second.get();
    int err = c->out->Send(p->socket, nullptr);
    if (err == EAGAIN) return;  // not connected yet, or the high-water mark: POLLOUT
    p->unsent.pop_front();
    if (err != 0) {
      Finish(id,
             Status(LOOM_CODE_INTERNAL,
                    Fmt("%s: sending failed: %s", p->name.c_str(), zmq_strerror(err))),
             nullptr);
      continue;
    }
    bytes_sent_.fetch_add(c->out->bytes(), std::memory_order_relaxed);
    c->out.reset();
    EraseTimer(c->connect_ns, id, kTimerConnect);
    c->connect_ns = 0;
    p->inflight.insert(id);
  }
}

void loom_transport::FlushRouter() {
  std::unordered_set<std::string> blocked;
  bool progress = false;
  for (auto it = router_queue_.begin(); it != router_queue_.end();) {
    Response* r = it->get();
    if (router_ == nullptr) {
      it = router_queue_.erase(it);
      continue;
    }
    if (!blocked.empty() && blocked.count(r->routing_id) != 0) {
      ++it;  // keep this caller's responses in order
      continue;
    }
    int err = r->out->Send(router_, &r->routing_id);
    if (err == EAGAIN) {
      blocked.insert(r->routing_id);
      ++it;
      continue;
    }
    if (err == 0) {
      progress = true;
      bytes_sent_.fetch_add(r->out->bytes(), std::memory_order_relaxed);
    } else if (err == EHOSTUNREACH) {
      Log(0, Fmt("zmq transport: response to %s dropped: it is no longer connected",
                 Printable(r->routing_id).c_str()));
    } else {
      Log(2, Fmt("zmq transport: response to %s dropped: %s", Printable(r->routing_id).c_str(),
                 zmq_strerror(err)));
    }
    it = router_queue_.erase(it);
  }
  // A blocked caller keeps the ROUTER writable for the others; without
  // progress, retry after a millisecond rather than spin on POLLOUT.
  router_retry_ns_ = router_queue_.empty() || progress ? 0 : NowNs() + 1000000;
}

void loom_transport::Finish(uint64_t id, loom_status* status,
                            const loom_transport_message* response) {
  auto it = calls_.find(id);
  if (it == calls_.end()) {
    if (status != nullptr) g_host->status_free(status);
    return;
  }
  std::unique_ptr<Call> c = std::move(it->second);
  calls_.erase(it);
  EraseTimer(c->deadline_ns, id, kTimerDeadline);
  EraseTimer(c->connect_ns, id, kTimerConnect);
  c->peer->inflight.erase(id);
  c->out.reset();  // an unsent request gives its lent buffers back
  c->done(c->done_arg, status, status == nullptr ? response : nullptr);
}

void loom_transport::FailPeer(Peer* p, loom_code code, const std::string& why) {
  std::vector<uint64_t> ids(p->inflight.begin(), p->inflight.end());
  ids.insert(ids.end(), p->unsent.begin(), p->unsent.end());
  p->inflight.clear();
  p->unsent.clear();
  for (uint64_t id : ids) {
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Finish(
        id,
        Status(code, Fmt("%s: %s (method %u)", p->name.c_str(), why.c_str(), it->second->method)),
        nullptr);
  }
}

bool loom_transport::Receive(void* socket, bool routed, InMsg* in) {
  const int64_t max_frames = 2 + kMaxPayloads + (routed ? 1 : 0);
  int64_t count = 0;
  for (;;) {
    auto* m = new zmq_msg_t;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, socket, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(m);
      delete m;
      return count > 0;  // EAGAIN before the first frame: nothing to read
    }
    ++count;
    bool more = zmq_msg_more(m) != 0;
    size_t size = zmq_msg_size(m);
    if (routed && count == 1) {
      in->routing_id.assign(static_cast<const char*>(zmq_msg_data(m)), size);
      ReleaseFrame(m);
    } else {
      in->bytes += static_cast<int64_t>(size);
      if (count > max_frames || in->bytes > opt_.max_message_bytes) in->refused = true;
      if (in->refused) {
        ReleaseFrame(m);  // keep draining this message, hold none of it
      } else {
        in->frames.push_back(m);
      }
    }
    if (!more) return true;
  }
}

bool loom_transport::Parse(InMsg* in, uint8_t kind, Preamble* pre) {
  const char* why = nullptr;
  if (in->refused) {
    why = "too large";
  } else if (in->frames.empty()) {
    why = "frame count";
  } else if (DecodePreamble(zmq_msg_data(in->frames[0]), zmq_msg_size(in->frames[0]), pre, &why)) {
    const bool inline_body = (pre->flags & kFlagInline) != 0;
    if (pre->kind != kind) {
      why = "kind";
    } else if (in->frames.size() !=
               (inline_body ? 1 : 2 + static_cast<size_t>(pre->num_payloads))) {
      why = "frame count";
    } else if (inline_body ? InlineSizes(in->frames[0], *pre) != pre->body_bytes
                           : pre->body_bytes !=
                                 static_cast<uint64_t>(in->bytes) - zmq_msg_size(in->frames[0])) {
      why = "body size";
    } else if (pre->kind == kKindResponse && pre->code != 0 && pre->num_payloads != 0) {
      why = "payloads in an error response";
    } else {
      bytes_received_.fetch_add(in->bytes, std::memory_order_relaxed);
      return true;
    }
  }
  rejected_.fetch_add(1, std::memory_order_relaxed);
  Log(0, Fmt("zmq transport: dropped a malformed message (%s, %zu frames, %lld bytes)%s%s", why,
             in->frames.size(), static_cast<long long>(in->bytes),
             in->routing_id.empty() ? "" : " from ", Printable(in->routing_id).c_str()));
  return false;
}

void loom_transport::ReadDealer(Peer* p, int budget) {
  for (int n = 0; n < budget; ++n) {
    InMsg in;
    if (!Receive(p->socket, false, &in)) return;
    Preamble pre;
    if (!Parse(&in, kKindResponse, &pre)) continue;
    auto it = calls_.find(pre.call_id);
    if (it == calls_.end() || it->second->peer != p) continue;  // late: already completed
    loom_transport_buffer header;
    std::vector<loom_transport_buffer> payloads;
    TakeBuffers(&in, pre, &header, &payloads);
    if (pre.code != LOOM_CODE_OK) {
      std::string text(static_cast<const char*>(header.data), header.size);
      header.release(header.release_arg);  // an error response has no payloads
      loom_code code = pre.code <= LOOM_CODE_UNAUTHENTICATED ? static_cast<loom_code>(pre.code)
                                                             : LOOM_CODE_UNKNOWN;
      Finish(pre.call_id, Status(code, text), nullptr);
      continue;
    }
    loom_transport_message msg{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, 0,      header, payloads.data(),
                               static_cast<int>(pre.num_payloads), nullptr};
    Finish(pre.call_id, nullptr, &msg);
  }
}

void loom_transport::ReadRouter(int budget) {
  for (int n = 0; n < budget && router_ != nullptr; ++n) {
    InMsg in;
    if (!Receive(router_, true, &in)) return;
    Preamble pre;
    if (!Parse(&in, kKindRequest, &pre)) continue;
    uint64_t rid;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rid = next_request_id_++;
      requests_[rid] = PendingRequest{in.routing_id, pre.call_id};
    }
    if (handler_ == nullptr) {
      loom_status* s =
          Respond(rid, LOOM_CODE_UNIMPLEMENTED, "this endpoint serves no requests", nullptr);
      if (s != nullptr) g_host->status_free(s);
      continue;
    }
    loom_transport_buffer header;
    std::vector<loom_transport_buffer> payloads;
    TakeBuffers(&in, pre, &header, &payloads);
    loom_transport_message msg{
        LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, pre.method, header, payloads.data(),
        static_cast<int>(pre.num_payloads), nullptr};
    std::string identity = Printable(in.routing_id);
    handler_(handler_arg_, RequestHandle(rid), identity.c_str(), &msg);
  }
}

namespace {

const char* ProtocolError(uint32_t value) {
  switch (value) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "security mechanism mismatch (one side uses CURVE keys, the other not)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      return "CURVE cryptographic error (wrong server key?)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
      return "CURVE key exchange failed";
    default:
      return "ZMTP protocol error";
  }
}

}  // namespace

void loom_transport::ReadMonitor(Peer* p) {
  for (;;) {
    zmq_msg_t head, addr;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, p->monitor, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&head);
      return;
    }
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&head) >= 6) {
      const uint8_t* d = static_cast<const uint8_t*>(zmq_msg_data(&head));
      event = static_cast<uint16_t>(GetLe(d, 2));
      value = static_cast<uint32_t>(GetLe(d + 2, 4));
    }
    bool more = zmq_msg_more(&head) != 0;
    zmq_msg_close(&head);
    if (more) {
      zmq_msg_init(&addr);
      zmq_msg_recv(&addr, p->monitor, 0);  // the endpoint frame always follows
      zmq_msg_close(&addr);
    }
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        p->up = true;
        p->last_error.clear();
        FlushPeer(p);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        if (p->up) {
          p->up = false;
          // Responses that arrived before the connection closed still count.
          ReadDealer(p, 1 << 30);
          FailPeer(p, LOOM_CODE_UNAVAILABLE,
                   Fmt("connection lost (the peer closed it, or sent nothing for "
                       "heartbeat_timeout_ms=%lld)",
                       static_cast<long long>(opt_.heartbeat_timeout_ms)));
        } else {
          p->last_error = opt_.server_key.empty()
                              ? "the connection closed during the handshake"
                              : "the server closed the connection during the CURVE handshake: "
                                "is server_key its public key?";
        }
        break;
      case ZMQ_EVENT_CONNECT_RETRIED:
        if (p->last_error.empty()) p->last_error = "connection refused or unreachable";
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        p->last_error = Fmt("handshake failed: %s", zmq_strerror(static_cast<int>(value)));
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
        // A security misconfiguration does not heal by retrying: fail now.
        p->last_error = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                            ? Fmt("the server refused our credentials (ZAP status %u)", value)
                            : Fmt("handshake failed: %s", ProtocolError(value));
        std::vector<uint64_t> ids(p->unsent.begin(), p->unsent.end());
        p->unsent.clear();
        for (uint64_t id : ids) {
          auto it = calls_.find(id);
          if (it == calls_.end()) continue;
          Finish(id,
                 Status(LOOM_CODE_UNAVAILABLE, Fmt("%s: %s (method %u)", p->name.c_str(),
                                                   p->last_error.c_str(), it->second->method)),
                 nullptr);
        }
        break;
      }
      default:
        break;
    }
  }
}

// One ZAP request (RFC 27): version, request id, domain, address, routing
// id, mechanism, credentials (CURVE: the client's 32-byte public key).
void loom_transport::AnswerZap() {
  for (;;) {
    std::vector<std::string> f;
    int more = 1;
    while (more) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      if (zmq_msg_recv(&m, zap_, f.empty() ? ZMQ_DONTWAIT : 0) < 0) {
        zmq_msg_close(&m);
        return;
      }
      f.emplace_back(static_cast<const char*>(zmq_msg_data(&m)), zmq_msg_size(&m));
      more = zmq_msg_more(&m);
      zmq_msg_close(&m);
    }
    bool ok = false;
    std::string client = "?";
    if (f.size() >= 7 && f[5] == "CURVE" && f[6].size() == 32) {
      char z85[41];
      if (zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(f[6].data()), 32) != nullptr) {
        client = z85;
        ok = opt_.authorized_keys.count(client) != 0;
      }
    }
    if (!ok) {
      Log(2, Fmt("zmq transport: refused a client with CURVE key %s from %s (not in "
                 "authorized_keys)",
                 client.c_str(), f.size() > 3 ? f[3].c_str() : "?"));
    }
    std::string version = "1.0", id = f.size() > 1 ? f[1] : "", code = ok ? "200" : "400";
    std::string text = ok ? "OK" : "key not authorized";
    const std::string* reply[] = {&version, &id, &code, &text};
    for (const std::string* r : reply) zmq_send(zap_, r->data(), r->size(), ZMQ_SNDMORE);
    zmq_send(zap_, client.data(), ok ? client.size() : 0, ZMQ_SNDMORE);  // user id
    zmq_send(zap_, "", 0, 0);                                            // metadata
  }
}

void loom_transport::FireTimers() {
  int64_t now = NowNs();
  while (!timers_.empty() && std::get<0>(*timers_.begin()) <= now) {
    auto [at, id, kind] = *timers_.begin();
    timers_.erase(timers_.begin());
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    Call* c = it->second.get();
    if (kind == kTimerDeadline) {
      c->deadline_ns = 0;
      Finish(id,
             Status(LOOM_CODE_DEADLINE_EXCEEDED,
                    Fmt("%s: no response within the deadline of %lld ms (method %u)",
                        c->peer->name.c_str(), static_cast<long long>(c->deadline_ms), c->method)),
             nullptr);
    } else {
      c->connect_ns = 0;
      if (c->out && !c->peer->up) {
        Peer* p = c->peer;
        Finish(
            id,
            Status(LOOM_CODE_UNAVAILABLE,
                   Fmt("%s: not reachable within connect_timeout_ms=%lld (%s; method %u)",
                       p->name.c_str(), static_cast<long long>(opt_.connect_timeout_ms),
                       p->last_error.empty() ? "no connection" : p->last_error.c_str(), c->method)),
            nullptr);
      }
    }
    (void)at;
  }
}

int loom_transport::NextTimeoutMs() {
  int64_t next = timers_.empty() ? 0 : std::get<0>(*timers_.begin());
  if (router_retry_ns_ != 0 && (next == 0 || router_retry_ns_ < next)) next = router_retry_ns_;
  if (next == 0) return -1;
  int64_t wait = next - NowNs();
  if (wait <= 0) return 0;
  return static_cast<int>(std::min<int64_t>((wait + 999999) / 1000000, 1 << 30));
}

bool loom_transport::DrainCommands() {
  std::vector<Command> cmds;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cmds.swap(commands_);
    wake_pending_ = false;
  }
  bool stop = false;
  bool respond = false;
  for (Command& cmd : cmds) {
    switch (cmd.kind) {
      case Command::kCall:
        BeginCall(std::move(cmd.call));
        break;
      case Command::kRespond:
        router_queue_.push_back(std::move(cmd.response));
        respond = true;
        break;
      case Command::kCancel: {
        auto it = calls_.find(cmd.id);
        if (it != calls_.end()) {
          Call* c = it->second.get();
          Finish(cmd.id,
                 Status(LOOM_CODE_CANCELLED,
                        Fmt("%s: call cancelled (method %u)", c->peer->name.c_str(), c->method)),
                 nullptr);
        }
        break;
      }
      case Command::kConnect:
        EnsureSocket(cmd.peer);
        break;
      case Command::kJob:
        cmd.job();
        break;
      case Command::kStop:
        stop = true;
        break;
    }
  }
  if (respond) FlushRouter();
  return stop;
}

void loom_transport::Run() {
  std::vector<zmq_pollitem_t> items;
  std::vector<Peer*> owners;  // the peer of each DEALER/monitor item
  for (;;) {
    if (DrainCommands()) break;
    items.clear();
    owners.clear();
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    owners.push_back(nullptr);
    if (router_ != nullptr) {
      short ev = ZMQ_POLLIN;
      if (!router_queue_.empty() && (router_retry_ns_ == 0 || NowNs() >= router_retry_ns_)) {
        ev |= ZMQ_POLLOUT;
      }
      items.push_back({router_, 0, ev, 0});
      owners.push_back(nullptr);
    }
    if (zap_ != nullptr) {
      items.push_back({zap_, 0, ZMQ_POLLIN, 0});
      owners.push_back(nullptr);
    }
    size_t first_peer = items.size();
    for (Peer* p : io_peers_) {
      short ev = ZMQ_POLLIN;
      if (!p->unsent.empty()) ev |= ZMQ_POLLOUT;
      items.push_back({p->socket, 0, ev, 0});
      owners.push_back(p);
      items.push_back({p->monitor, 0, ZMQ_POLLIN, 0});
      owners.push_back(p);
    }
    int rc = zmq_poll(items.data(), static_cast<int>(items.size()), NextTimeoutMs());
    if (rc < 0) {
      if (zmq_errno() == EINTR) continue;
      Log(3, Fmt("zmq transport: zmq_poll failed: %s", zmq_strerror(zmq_errno())));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (items[0].revents & ZMQ_POLLIN) {
      uint64_t n;
      ssize_t r = read(wake_fd_, &n, sizeof(n));
      (void)r;
    }
    if (zap_ != nullptr && items[first_peer - 1].socket == zap_ &&
        (items[first_peer - 1].revents & ZMQ_POLLIN)) {
      AnswerZap();
    }
    if (router_ != nullptr && items.size() > 1 && items[1].socket == router_) {
      if (items[1].revents & ZMQ_POLLIN) ReadRouter(256);
      if ((items[1].revents & ZMQ_POLLOUT) ||
          (router_retry_ns_ != 0 && NowNs() >= router_retry_ns_)) {
        FlushRouter();
      }
    }
    for (size_t i = first_peer; i < items.size(); i += 2) {
      Peer* p = owners[i];
      if (items[i].revents & ZMQ_POLLIN) ReadDealer(p, 256);
      if (items[i + 1].revents & ZMQ_POLLIN) ReadMonitor(p);
      if (items[i].revents & ZMQ_POLLOUT) FlushPeer(p);
    }
    FireTimers();
  }
  Shutdown();
}

void loom_transport::Shutdown() {
  // Callbacks below may call call()/respond(): keep draining until nothing
  // is left, failing every call with CANCELLED.
  for (;;) {
    std::vector<Command> cmds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cmds.swap(commands_);
      closing_ = true;
    }
    for (Command& cmd : cmds) {
      if (cmd.kind == Command::kCall) {
        Call* c = cmd.call.get();
        loom_status* s =
            c->failed != nullptr
                ? c->failed
                : Status(LOOM_CODE_CANCELLED, Fmt("%s: the transport was destroyed (method %u)",
                                                  c->peer->name.c_str(), c->method));
        c->failed = nullptr;
        c->out.reset();
        c->done(c->done_arg, s, nullptr);
      } else if (cmd.kind == Command::kJob) {
        cmd.job();  // a listen() waits for its answer
      }
    }
    if (calls_.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (commands_.empty()) break;
      continue;
    }
    uint64_t id = calls_.begin()->first;
    Call* c = calls_.begin()->second.get();
    Finish(id,
           Status(LOOM_CODE_CANCELLED, Fmt("%s: the transport was destroyed (method %u)",
                                           c->peer->name.c_str(), c->method)),
           nullptr);
  }
  router_queue_.clear();
  for (Peer* p : io_peers_) {
    zmq_socket_monitor(p->socket, nullptr, 0);
    zmq_close(p->monitor);
    zmq_close(p->socket);
    p->socket = p->monitor = nullptr;
  }
  if (router_ != nullptr) zmq_close(router_);
  router_ = nullptr;
  if (zap_ != nullptr) zmq_close(zap_);
  zap_ = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  requests_.clear();
}

// ---------------------------------------------------------------- the ABI table

namespace {

loom_status* ZmqCreate(void* /*state*/, const loom_transport_option* options, int num_options,
                       loom_transport_request_fn handler, void* handler_arg,
                       loom_transport** out_transport) {
  if (out_transport == nullptr) {
    return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: create: out_transport is NULL");
  }
  Options o;
  if (loom_status* s = ParseOptions(options, num_options, &o)) return s;
  auto* t = new loom_transport(std::move(o), handler, handler_arg);
  if (loom_status* s = t->Start()) {
    delete t;
    return s;
  }
  *out_transport = t;
  return nullptr;
}

void ZmqDestroy(loom_transport* t) {
  if (t != nullptr) t->Destroy();
}

loom_status* ZmqListen(loom_transport* t, const char* address, char* out_address,
                       size_t out_address_size) {
  if (t == nullptr) return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: listen: NULL");
  return t->Listen(address, out_address, out_address_size);
}

loom_status* ZmqConnect(loom_transport* t, const char* address, loom_transport_peer** out_peer) {
  if (t == nullptr) return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: connect: NULL");
  return t->Connect(address, out_peer);
}

loom_status* ZmqCall(loom_transport* t, loom_transport_peer* peer,
                     const loom_transport_message* request, int64_t deadline_ms,
                     loom_transport_call_done_fn done, void* done_arg,
                     loom_transport_call** out_call) {
  if (t == nullptr) {
    ReleaseMessage(request);
    return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: call: transport is NULL");
  }
  return t->StartCall(reinterpret_cast<Peer*>(peer), request, deadline_ms, done, done_arg,
                      out_call);
}

void ZmqCancel(loom_transport* t, loom_transport_call* call) {
  if (t != nullptr) t->Cancel(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(call)));
}

loom_status* ZmqRespond(loom_transport* t, loom_transport_request* request, loom_code code,
                        const char* error_message, const loom_transport_message* response) {
  if (t == nullptr) {
    ReleaseMessage(response);
    return Status(LOOM_CODE_INVALID_ARGUMENT, "zmq transport: respond: transport is NULL");
  }
  return t->Respond(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(request)), code,
                    error_message, response);
}

void ZmqStats(loom_transport* t, int64_t* out_rejected, int64_t* out_bytes_sent,
              int64_t* out_bytes_received) {
  if (t != nullptr) t->Stats(out_rejected, out_bytes_sent, out_bytes_received);
}

loom_status* ZmqKeygen(void* /*state*/, char* out_public, size_t public_size, char* out_secret,
                       size_t secret_size) {
  if (!zmq_has("curve")) {
    return Status(LOOM_CODE_UNIMPLEMENTED,
                  "zmq transport: keygen: this libzmq was built without CURVE");
  }
  if (out_public == nullptr || out_secret == nullptr || public_size < 41 || secret_size < 41) {
    return Status(LOOM_CODE_INVALID_ARGUMENT,
                  "zmq transport: keygen needs two buffers of at least 41 bytes (Z85 keys)");
  }
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status(LOOM_CODE_INTERNAL,
                  Fmt("zmq transport: zmq_curve_keypair failed: %s", zmq_strerror(zmq_errno())));
  }
  std::memcpy(out_public, pub, 41);
  std::memcpy(out_secret, sec, 41);
  return nullptr;
}

char g_version[64];

}  // namespace

extern "C" LOOM_PLUGIN_EXPORT loom_status* loom_transport_init(const loom_transport_host_api* host,
                                                               loom_transport_info* out_info) {
  if (host == nullptr || out_info == nullptr ||
      host->struct_size < LOOM_STRUCT_SIZE(loom_transport_host_api, register_transport) ||
      host->status_new == nullptr || host->register_transport == nullptr) {
    // Without a usable host table there is no way to make a status.
    return nullptr;
  }
  g_host = host;
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  snprintf(g_version, sizeof(g_version), "%s (libzmq %d.%d.%d)", LOOM_VERSION_STRING, major, minor, patch);
  out_info->struct_size = LOOM_TRANSPORT_INFO_STRUCT_SIZE;
  out_info->abi_major = LOOM_TRANSPORT_ABI_MAJOR;
  out_info->abi_minor = LOOM_TRANSPORT_ABI_MINOR;
  out_info->name = kPluginName;
  out_info->version = g_version;
  out_info->ext = nullptr;
  if (host->abi_major != LOOM_TRANSPORT_ABI_MAJOR) {
    return Status(LOOM_CODE_FAILED_PRECONDITION,
                  Fmt("transport_zmq was built for transport ABI %d.%d; the host speaks %d.%d (%s)",
                      LOOM_TRANSPORT_ABI_MAJOR, LOOM_TRANSPORT_ABI_MINOR, host->abi_major,
                      host->abi_minor, host->plugin_path ? host->plugin_path : "?"));
  }
  static const loom_transport_interface iface = {
      /* .struct_size = */ LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE,
      /* .scheme      = */ "zmq",
      /* .state       = */ nullptr,
      /* .create      = */ ZmqCreate,
      /* .destroy     = */ ZmqDestroy,
      /* .listen      = */ ZmqListen,
      /* .connect     = */ ZmqConnect,
      /* .call        = */ ZmqCall,
      /* .cancel      = */ ZmqCancel,
      /* .respond     = */ ZmqRespond,
      /* .stats       = */ ZmqStats,
      /* .keygen      = */ ZmqKeygen,
      /* .ext         = */ nullptr,
  };
  return host->register_transport(&iface);
}
