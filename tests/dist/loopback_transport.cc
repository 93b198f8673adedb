// A transport plugin that moves messages between endpoints of one process
// (scheme "loopback"): a test fixture for the distributed runtime, so its
// tests run without a network, deterministic and sanitizer-friendly. Each
// endpoint has a dispatcher thread; a call is handed to the callee's thread,
// a response to the caller's; payloads are copied, as a network would.
// Includes only loom_transport.h, like any transport plugin.
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loom/loom_transport.h"

namespace {

const loom_transport_host_api* g_host = nullptr;

struct Copied {
  std::string header;
  std::vector<std::unique_ptr<std::string>> payloads;
};

}  // namespace

struct loom_transport_request {
  loom_transport* caller;
  uint64_t call_id;
};
struct loom_transport_peer {
  std::string address;
};

struct loom_transport {
  std::string address;  // "" until listen
  loom_transport_request_fn handler;
  void* handler_arg;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stop = false;
  std::thread thread;
  std::map<std::string, std::unique_ptr<loom_transport_peer>> peers;
  struct Pending {
    loom_transport_call_done_fn done;
    void* arg;
  };
  std::map<uint64_t, Pending> pending;
  uint64_t next_call = 1;
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu);
    queue.push_back(std::move(fn));
    cv.notify_one();
  }
  void Run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        fn = std::move(queue.front());
        queue.pop_front();
      }
      fn();
    }
  }
};

namespace {

std::mutex g_mu;
std::map<std::string, loom_transport*> g_listening;
std::map<loom_transport*, bool> g_live;  // responses to a destroyed caller are dropped
int g_next_port = 40000;

std::shared_ptr<Copied> Copy(const loom_transport_message* m) {
  auto c = std::make_shared<Copied>();
  if (m->header.size) c->header.assign(static_cast<const char*>(m->header.data), m->header.size);
  if (m->header.release) m->header.release(m->header.release_arg);
  for (int i = 0; i < m->num_payloads; ++i) {
    const loom_transport_buffer& b = m->payloads[i];
    c->payloads.push_back(std::make_unique<std::string>(static_cast<const char*>(b.data), b.size));
    if (b.release) b.release(b.release_arg);
  }
  return c;
}
void FreeString(void* s) { delete static_cast<std::string*>(s); }

// Hands a copied message to fn as the ABI's struct; the receiver owns the buffers.
void Deliver(const std::shared_ptr<Copied>& c, uint32_t method,
             const std::function<void(const loom_transport_message*)>& fn) {
  std::vector<loom_transport_buffer> bufs;
  for (auto& p : c->payloads) {
    std::string* s = p.release();
    bufs.push_back(loom_transport_buffer{s->data(), s->size(), FreeString, s});
  }
  auto* h = new std::string(std::move(c->header));
  loom_transport_message m;
  std::memset(&m, 0, sizeof(m));
  m.struct_size = LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE;
  m.method = method;
  m.header = loom_transport_buffer{h->data(), h->size(), FreeString, h};
  m.payloads = bufs.data();
  m.num_payloads = static_cast<int>(bufs.size());
  fn(&m);
}

void Complete(loom_transport* t, uint64_t id, loom_code code, const std::string& error, std::shared_ptr<Copied> c) {
  std::lock_guard<std::mutex> live(g_mu);
  if (!g_live.count(t)) return;
  t->Post([t, id, code, error, c] {
    loom_transport::Pending p;
    {
      std::lock_guard<std::mutex> l(t->mu);
      auto it = t->pending.find(id);
      if (it == t->pending.end()) return;
      p = it->second;
      t->pending.erase(it);
    }
    if (code != LOOM_CODE_OK) {
      p.done(p.arg, g_host->status_new(code, error.c_str()), nullptr);
      return;
    }
    Deliver(c, 0, [&](const loom_transport_message* m) { p.done(p.arg, nullptr, m); });
  });
}

loom_status* Create(void*, const loom_transport_option*, int, loom_transport_request_fn handler, void* arg,
                    loom_transport** out) {
  auto* t = new loom_transport();
  t->handler = handler;
  t->handler_arg = arg;
  t->thread = std::thread([t] { t->Run(); });
  {
    std::lock_guard<std::mutex> l(g_mu);
    g_live[t] = true;
  }
  *out = t;
  return nullptr;
}

void Destroy(loom_transport* t) {
  {
    std::lock_guard<std::mutex> l(g_mu);
    if (!t->address.empty()) g_listening.erase(t->address);
    g_live.erase(t);
  }
  std::map<uint64_t, loom_transport::Pending> left;
  {
    std::lock_guard<std::mutex> l(t->mu);
    t->stop = true;
    t->cv.notify_all();
  }
  t->thread.join();
  left.swap(t->pending);
  for (auto& p : left) p.second.done(p.second.arg, g_host->status_new(LOOM_CODE_CANCELLED, "endpoint destroyed"), nullptr);
  delete t;
}

loom_status* Listen(loom_transport* t, const char* address, char* out, size_t out_size) {
  std::string a = address;
  std::lock_guard<std::mutex> l(g_mu);
  if (a.size() > 2 && a.compare(a.size() - 2, 2, ":0") == 0) a = a.substr(0, a.size() - 1) + std::to_string(g_next_port++);
  if (g_listening.count(a)) return g_host->status_new(LOOM_CODE_UNAVAILABLE, ("address in use: " + a).c_str());
  g_listening[a] = t;
  t->address = a;
  std::snprintf(out, out_size, "%s", a.c_str());
  return nullptr;
}

loom_status* Connect(loom_transport* t, const char* address, loom_transport_peer** out) {
  std::lock_guard<std::mutex> l(t->mu);
  auto& p = t->peers[address];
  if (!p) p.reset(new loom_transport_peer{address});
  *out = p.get();
  return nullptr;
}

loom_status* Call(loom_transport* t, loom_transport_peer* peer, const loom_transport_message* req, int64_t,
                  loom_transport_call_done_fn done, void* arg, loom_transport_call** out_call) {
  auto c = Copy(req);
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(t->mu);
    id = t->next_call++;
    t->pending[id] = loom_transport::Pending{done, arg};
  }
  if (out_call) *out_call = reinterpret_cast<loom_transport_call*>(id);
  loom_transport* callee = nullptr;
  {
    std::lock_guard<std::mutex> l(g_mu);
    auto it = g_listening.find(peer->address);
    if (it != g_listening.end()) callee = it->second;
  }
  if (!callee) {
    Complete(t, id, LOOM_CODE_UNAVAILABLE, "nobody listens at " + peer->address, nullptr);
    return nullptr;
  }
  const uint32_t method = req->method;
  callee->Post([callee, t, id, c, method] {
    auto* r = new loom_transport_request{t, id};
    Deliver(c, method, [&](const loom_transport_message* m) { callee->handler(callee->handler_arg, r, "loopback", m); });
  });
  return nullptr;
}

void Cancel(loom_transport* t, loom_transport_call* call) {
  Complete(t, reinterpret_cast<uint64_t>(call), LOOM_CODE_CANCELLED, "cancelled", nullptr);
}

loom_status* Respond(loom_transport*, loom_transport_request* r, loom_code code, const char* error,
                     const loom_transport_message* resp) {
  auto c = Copy(resp);
  Complete(r->caller, r->call_id, code, error ? error : "", c);
  delete r;
  return nullptr;
}

}  // namespace

extern "C" LOOM_PLUGIN_EXPORT loom_status* loom_transport_init(const loom_transport_host_api* host,
                                                               loom_transport_info* info) {
  g_host = host;
  info->abi_major = LOOM_TRANSPORT_ABI_MAJOR;
  info->abi_minor = LOOM_TRANSPORT_ABI_MINOR;
  info->name = "loopback";
  info->version = "1";
  loom_transport_interface t;
  std::memset(&t, 0, sizeof(t));
  t.struct_size = LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE;
  t.scheme = "loopback";
  t.create = Create;
  t.destroy = Destroy;
  t.listen = Listen;
  t.connect = Connect;
  t.call = Call;
  t.cancel = Cancel;
  t.respond = Respond;
  return host->register_transport(&t);
}
