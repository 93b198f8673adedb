// transport_host.h — a tiny host for transport plugins, for tests and benches.
//
// It implements loom_transport_host_api itself (statuses, logging, the
// registration of the interface) so that the plugin is exercised exactly as
// the runtime would, without linking libloom. It dlopens one plugin and wraps
// an endpoint into a small C++ class with a synchronous call helper.
#ifndef LOOM_TESTS_TRANSPORT_TRANSPORT_HOST_H_
#define LOOM_TESTS_TRANSPORT_TRANSPORT_HOST_H_

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "loom/loom_transport.h"

// The host's status object (opaque to plugins).
struct loom_status {
  loom_code code;
  std::string message;
};

namespace transport_host {

inline loom_status* StatusNew(loom_code code, const char* message) {
  return new loom_status{code, message != nullptr ? message : ""};
}
inline void StatusFree(loom_status* s) { delete s; }
inline loom_code StatusCode(const loom_status* s) { return s ? s->code : LOOM_CODE_OK; }
inline const char* StatusMessage(const loom_status* s) { return s ? s->message.c_str() : ""; }
inline void Log(int level, const char* plugin, const char* message) {
  static const bool verbose = std::getenv("LOOM_TRANSPORT_TEST_LOG") != nullptr;
  if (verbose || level >= 3) std::fprintf(stderr, "[%s:%d] %s\n", plugin, level, message);
}

struct Registry {
  std::deque<loom_transport_interface> transports;  // stable addresses
  std::string plugin_path;
  loom_transport_host_api api{};
};
inline Registry& GetRegistry() {
  static Registry r;
  return r;
}
inline loom_status* Register(const loom_transport_interface* t) {
  GetRegistry().transports.push_back(*t);
  return nullptr;
}

// The outcome of loading a plugin: init's status, what it reported, and the
// interfaces it registered.
struct Loaded {
  std::string error;  // dlopen/dlsym failure, or init's status message
  loom_code init_code = LOOM_CODE_OK;
  loom_transport_info info{};
  const loom_transport_interface* zmq = nullptr;
  const loom_transport_interface* last = nullptr;  // the last one registered
};

inline Loaded LoadPlugin(const std::string& path) {
  Loaded out;
  Registry& r = GetRegistry();
  r.plugin_path = path;
  r.api.struct_size = LOOM_TRANSPORT_HOST_API_STRUCT_SIZE;
  r.api.abi_major = LOOM_TRANSPORT_ABI_MAJOR;
  r.api.abi_minor = LOOM_TRANSPORT_ABI_MINOR;
  r.api.plugin_path = r.plugin_path.c_str();
  r.api.status_new = StatusNew;
  r.api.status_free = StatusFree;
  r.api.status_code = StatusCode;
  r.api.status_message = StatusMessage;
  r.api.log = Log;
  r.api.register_transport = Register;
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    out.error = dlerror();
    return out;
  }
  auto init = reinterpret_cast<loom_transport_init_fn>(dlsym(lib, LOOM_TRANSPORT_INIT_SYMBOL));
  if (init == nullptr) {
    out.error = "no " LOOM_TRANSPORT_INIT_SYMBOL " in " + path;
    return out;
  }
  out.info.struct_size = LOOM_TRANSPORT_INFO_STRUCT_SIZE;
  loom_status* s = init(&r.api, &out.info);
  if (s != nullptr) {
    out.init_code = s->code;
    out.error = s->message;
    delete s;
  }
  for (const loom_transport_interface& t : r.transports) {
    if (std::strcmp(t.scheme, "zmq") == 0) out.zmq = &t;
    out.last = &t;
  }
  return out;
}

#ifdef LOOM_TRANSPORT_ZMQ_PLUGIN
// The zmq interface of the build tree's plugin, loaded once per process.
inline const loom_transport_interface* Zmq() {
  static Loaded loaded = LoadPlugin(LOOM_TRANSPORT_ZMQ_PLUGIN);
  if (loaded.zmq == nullptr) {
    std::fprintf(stderr, "cannot load %s: %s\n", LOOM_TRANSPORT_ZMQ_PLUGIN, loaded.error.c_str());
    std::abort();
  }
  return loaded.zmq;
}

using Options = std::vector<std::pair<std::string, std::string>>;

// What a call ended with, its received buffers copied out (and released).
struct Result {
  loom_code code = LOOM_CODE_UNKNOWN;
  std::string message;
  std::string header;
  std::vector<std::string> payloads;
  int done_calls = 0;
};

// One completion, waited for by a host thread.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  Result result;
  bool done = false;

  static void Done(void* arg, loom_status* status, const loom_transport_message* response) {
    auto* w = static_cast<Waiter*>(arg);
    Result r;
    r.code = status ? status->code : LOOM_CODE_OK;
    r.message = status ? status->message : "";
    delete status;
    if (response != nullptr) {
      r.header.assign(static_cast<const char*>(response->header.data), response->header.size);
      if (response->header.release) response->header.release(response->header.release_arg);
      for (int i = 0; i < response->num_payloads; ++i) {
        const loom_transport_buffer& b = response->payloads[i];
        r.payloads.emplace_back(static_cast<const char*>(b.data), b.size);
        if (b.release) b.release(b.release_arg);
      }
    }
    std::lock_guard<std::mutex> lock(w->mu);
    r.done_calls = w->result.done_calls + 1;
    w->result = std::move(r);
    w->done = true;
    w->cv.notify_all();
  }
  // Waits up to `seconds`; false if the call did not complete in that time.
  bool Wait(double seconds) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return done; });
  }
};

inline void NoRelease(void*) {}

// A message that owns its bytes. Without `lend` they go without a release
// callback (the plugin copies them during call()); with it, with a no-op
// release (the plugin sends them zero-copy), so the message must outlive the
// call's completion.
struct OutMessage {
  loom_transport_message msg{};
  std::string header;
  std::vector<std::string> data;
  std::vector<loom_transport_buffer> payloads;
  OutMessage(uint32_t method, std::string header_in, std::vector<std::string> data_in,
             bool lend = false)
      : header(std::move(header_in)), data(std::move(data_in)) {
    void (*release)(void*) = lend ? NoRelease : nullptr;
    for (const std::string& p : data) payloads.push_back({p.data(), p.size(), release, nullptr});
    msg.struct_size = LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE;
    msg.method = method;
    msg.header = {header.data(), header.size(), release, nullptr};
    msg.payloads = payloads.data();
    msg.num_payloads = static_cast<int>(payloads.size());
  }
  OutMessage(const OutMessage&) = delete;  // msg points into this object
  OutMessage& operator=(const OutMessage&) = delete;
};

// An endpoint of the zmq transport with a std::function request handler.
class Endpoint {
 public:
  using Handler = std::function<void(Endpoint*, loom_transport_request*, const std::string& peer,
                                     const loom_transport_message*)>;

  explicit Endpoint(const Options& options = {}, Handler handler = nullptr)
      : handler_(std::move(handler)) {
    std::vector<loom_transport_option> opts;
    for (const auto& kv : options) opts.push_back({kv.first.c_str(), kv.second.c_str()});
    status_ = Zmq()->create(Zmq()->state, opts.data(), static_cast<int>(opts.size()),
                            handler_ ? &Endpoint::OnRequest : nullptr, this, &t_);
  }
  ~Endpoint() { Destroy(); }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  void Destroy() {
    if (t_ != nullptr) Zmq()->destroy(t_);
    t_ = nullptr;
    delete status_;
    status_ = nullptr;
  }
  // create()'s outcome (NULL: the endpoint is usable).
  const loom_status* status() const { return status_; }
  loom_transport* get() const { return t_; }

  // Listens on 127.0.0.1 (port 0: any) and returns "127.0.0.1:port".
  std::string Listen(const std::string& address = "127.0.0.1:0") {
    char bound[128] = {0};
    loom_status* s = Zmq()->listen(t_, address.c_str(), bound, sizeof(bound));
    if (s != nullptr) {
      std::fprintf(stderr, "listen %s: %s\n", address.c_str(), s->message.c_str());
      delete s;
      return "";
    }
    return bound;
  }
  loom_transport_peer* Connect(const std::string& address) {
    loom_transport_peer* p = nullptr;
    loom_status* s = Zmq()->connect(t_, address.c_str(), &p);
    delete s;
    return p;
  }
  // Calls and waits (up to `wait_s` seconds) for the outcome.
  Result Call(loom_transport_peer* peer, uint32_t method, const std::string& header,
              const std::vector<std::string>& payloads = {}, int64_t deadline_ms = 0,
              double wait_s = 30, bool lend = false) {
    OutMessage m(method, header, payloads, lend);
    Waiter w;
    loom_status* s = Zmq()->call(t_, peer, &m.msg, deadline_ms, &Waiter::Done, &w, nullptr);
    if (s != nullptr) {
      Result r;
      r.code = s->code;
      r.message = "call() returned: " + s->message;
      delete s;
      return r;
    }
    if (!w.Wait(wait_s)) {
      Result r;
      r.code = LOOM_CODE_UNKNOWN;
      r.message = "the call did not complete within the test's wait";
      // The Waiter lives on this stack: leave the process rather than let a
      // late completion write to it.
      std::fprintf(stderr, "call did not complete; aborting the test binary\n");
      std::abort();
    }
    std::lock_guard<std::mutex> lock(w.mu);
    return w.result;
  }
  int64_t Rejected() const {
    int64_t r = 0;
    Zmq()->stats(t_, &r, nullptr, nullptr);
    return r;
  }
  // Answers a request with code OK and `response`.
  void Respond(loom_transport_request* req, const loom_transport_message* response) {
    delete Zmq()->respond(t_, req, LOOM_CODE_OK, nullptr, response);
  }
  void RespondError(loom_transport_request* req, loom_code code, const char* message) {
    delete Zmq()->respond(t_, req, code, message, nullptr);
  }

 private:
  static void OnRequest(void* arg, loom_transport_request* req, const char* peer,
                        const loom_transport_message* message) {
    auto* e = static_cast<Endpoint*>(arg);
    e->handler_(e, req, peer, message);
  }

  Handler handler_;
  loom_transport* t_ = nullptr;
  loom_status* status_ = nullptr;
};

// Gives back every buffer of a received message.
inline void ReleaseAll(const loom_transport_message* m) {
  if (m->header.release) m->header.release(m->header.release_arg);
  for (int i = 0; i < m->num_payloads; ++i) {
    if (m->payloads[i].release) m->payloads[i].release(m->payloads[i].release_arg);
  }
}

// The echo service: the response is the request itself, its received
// buffers lent straight back (zero-copy both ways).
inline void EchoRespond(Endpoint* e, loom_transport_request* req, const loom_transport_message* m) {
  loom_transport_message r = *m;
  r.method = 0;
  e->Respond(req, &r);
}

#endif  // LOOM_TRANSPORT_ZMQ_PLUGIN

}  // namespace transport_host

#endif  // LOOM_TESTS_TRANSPORT_TRANSPORT_HOST_H_
