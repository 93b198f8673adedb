#include "runtime/dist/transport.h"

#include <algorithm>
#include <cstring>

#include "runtime/core/c_status.h"
#include "runtime/plugin/registry.h"

namespace loom {

namespace {

// A received buffer the plugin gave us: handed back through its release.
struct Adopted {
  void (*release)(void*);
  void* arg;
};
void ReleaseAdopted(Buffer* b) {
  auto* a = static_cast<Adopted*>(b->release_arg);
  if (a->release) a->release(a->arg);
  delete a;
}
std::shared_ptr<Buffer> Adopt(const loom_transport_buffer& tb) {
  auto b = std::make_shared<Buffer>();
  b->data = const_cast<void*>(tb.data);
  b->size = tb.size;
  b->release_arg = new Adopted{tb.release, tb.release_arg};
  b->release = ReleaseAdopted;
  return b;
}

WireMessage AdoptMessage(const loom_transport_message* m) {
  WireMessage w;
  if (!m) return w;
  w.method = m->method;
  if (m->header.size) w.header.assign(static_cast<const char*>(m->header.data), m->header.size);
  if (m->header.release) m->header.release(m->header.release_arg);
  for (int i = 0; i < m->num_payloads; ++i) w.payloads.push_back(Adopt(m->payloads[i]));
  return w;
}

// Buffers we lend: the header string and the payload tensors stay alive
// until the plugin releases each.
void ReleaseString(void* arg) { delete static_cast<std::string*>(arg); }
void ReleaseTensor(void* arg) { delete static_cast<Tensor*>(arg); }

struct Lent {
  loom_transport_message msg;
  std::vector<loom_transport_buffer> payloads;
};
void Lend(uint32_t method, std::string header, const std::vector<Tensor>& payloads, Lent* out) {
  std::memset(&out->msg, 0, sizeof(out->msg));
  out->msg.struct_size = LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE;
  out->msg.method = method;
  auto* h = new std::string(std::move(header));
  out->msg.header = loom_transport_buffer{h->data(), h->size(), ReleaseString, h};
  out->payloads.reserve(payloads.size());
  for (const Tensor& t : payloads) {
    auto* held = new Tensor(t);
    out->payloads.push_back(loom_transport_buffer{held->data(), held->byte_size(), ReleaseTensor, held});
  }
  out->msg.payloads = out->payloads.data();
  out->msg.num_payloads = static_cast<int>(out->payloads.size());
}

void OnCallDone(void* arg, loom_status* status, const loom_transport_message* response) {
  std::unique_ptr<Endpoint::Done> done(static_cast<Endpoint::Done*>(arg));
  Status s = TakeStatus(status);
  (*done)(s, s.ok() ? AdoptMessage(response) : WireMessage());
}

}  // namespace

Status ParseTarget(const std::string& target, std::string* scheme, std::string* address) {
  size_t sep = target.find("://");
  if (sep == std::string::npos) {
    *scheme = "";
    *address = target;
  } else {
    *scheme = target.substr(0, sep);
    *address = target.substr(sep + 3);
    if (*scheme == "grpc" || *scheme == "grpc+loom") *scheme = "";
  }
  size_t colon = address->rfind(':');
  if (address->empty() || colon == std::string::npos || colon == 0 || colon + 1 == address->size())
    return InvalidArgument("target '", target, "' is not of the form [scheme://]host:port");
  return Status::OK();
}

Status Endpoint::Create(const std::string& scheme_in, const TransportOptions& options, Handler handler,
                        std::unique_ptr<Endpoint>* out) {
  Registry* reg = Registry::Get();
  std::string scheme = scheme_in;
  if (scheme.empty()) {
    std::vector<std::string> all = reg->TransportSchemes();
    if (all.empty())
      return FailedPrecondition("no transport plugin is loaded (looked in <libdir>/loom/plugins and "
                                "$LOOM_PLUGIN_PATH for libloom_transport_*.so; see `loom plugins`)");
    scheme = std::find(all.begin(), all.end(), "zmq") != all.end() ? "zmq" : all.front();
  }
  const TransportDef* def = reg->FindTransport(scheme);
  if (!def) {
    std::string have;
    for (const auto& s : reg->TransportSchemes()) have += StrCat(have.empty() ? "" : ", ", s);
    return NotFound("no transport plugin serves scheme '", scheme, "' (loaded: ",
                    have.empty() ? std::string("none") : have, ")");
  }
  std::unique_ptr<Endpoint> ep(new Endpoint());
  ep->iface_ = &def->iface;
  ep->scheme_ = scheme;
  ep->handler_ = std::move(handler);
  std::vector<loom_transport_option> opts;
  for (const auto& kv : options) opts.push_back(loom_transport_option{kv.first.c_str(), kv.second.c_str()});
  RETURN_IF_ERROR(TakeStatus(def->iface.create(def->iface.state, opts.data(), static_cast<int>(opts.size()),
                                               &Endpoint::OnRequest, ep.get(), &ep->t_))
                      .WithPrefix(StrCat("creating a '", scheme, "' transport endpoint: ")));
  *out = std::move(ep);
  return Status::OK();
}

Endpoint::~Endpoint() {
  if (t_) iface_->destroy(t_);
}

void Endpoint::OnRequest(void* arg, loom_transport_request* request, const char* peer,
                         const loom_transport_message* message) {
  auto* ep = static_cast<Endpoint*>(arg);
  WireMessage m = AdoptMessage(message);
  if (!ep->handler_) {
    ep->Respond(request, Unimplemented("this endpoint serves no requests"), "", {});
    return;
  }
  ep->handler_(request, peer ? peer : "", std::move(m));
}

Status Endpoint::Listen(const std::string& address, std::string* bound) {
  char buf[512] = {0};
  RETURN_IF_ERROR(TakeStatus(iface_->listen(t_, address.c_str(), buf, sizeof(buf)))
                      .WithPrefix(StrCat("listening on ", address, ": ")));
  *bound = buf;
  return Status::OK();
}

Status Endpoint::Peer(const std::string& address, loom_transport_peer** out) {
  return TakeStatus(iface_->connect(t_, address.c_str(), out)).WithPrefix(StrCat("connecting to ", address, ": "));
}

void Endpoint::Call(loom_transport_peer* peer, uint32_t method, std::string header,
                    const std::vector<Tensor>& payloads, int64_t deadline_ms, Done done,
                    loom_transport_call** out_call) {
  Lent lent;
  Lend(method, std::move(header), payloads, &lent);
  auto* d = new Done(std::move(done));
  loom_status* s = iface_->call(t_, peer, &lent.msg, deadline_ms, OnCallDone, d, out_call);
  // A returned error means the plugin refused the call and never runs done.
  if (s) {
    std::unique_ptr<Done> refused(d);
    (*refused)(TakeStatus(s), WireMessage());
  }
}

void Endpoint::Cancel(loom_transport_call* call) {
  if (call) iface_->cancel(t_, call);
}

void Endpoint::Respond(loom_transport_request* request, const Status& status, std::string header,
                       const std::vector<Tensor>& payloads) {
  Lent lent;
  Lend(0, status.ok() ? std::move(header) : std::string(), status.ok() ? payloads : std::vector<Tensor>(), &lent);
  loom_status* s = iface_->respond(t_, request, status.code(), status.ok() ? "" : status.message().c_str(),
                                   &lent.msg);
  if (s) delete s;
}

void Endpoint::Stats(int64_t* rejected, int64_t* sent, int64_t* received) const {
  *rejected = *sent = *received = 0;
  if (iface_->stats) iface_->stats(t_, rejected, sent, received);
}

}  // namespace loom
