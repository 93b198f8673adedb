// The C API of clusters: session targets, servers, transport keys
// (runtime/dist). Conversion and status only.
#include <cstring>

#include "capi/src/c_api_internal.h"
#include "runtime/core/c_status.h"
#include "runtime/dist/server.h"
#include "runtime/plugin/registry.h"

using namespace loom;  // NOLINT

struct loom_server_options {
  ServerOptions o;
};
struct loom_server {
  std::unique_ptr<Server> s;
};

extern "C" {

void loom_session_options_set_target(loom_session_options* o, const char* target) {
  if (o) o->o.target = target ? target : "";
}
void loom_session_options_set_operation_timeout(loom_session_options* o, int64_t ms) {
  if (o) o->o.operation_timeout_ms = ms > 0 ? ms : 0;
}
void loom_session_options_set_transport_option(loom_session_options* o, const char* key, const char* value) {
  if (o && key) o->o.transport.emplace_back(key, value ? value : "");
}

loom_server_options* loom_server_options_new(void) { return new loom_server_options(); }
void loom_server_options_free(loom_server_options* o) { delete o; }

loom_status* loom_server_options_set_cluster(loom_server_options* o, const char* json) {
  if (!o || !json) return ToCStatus(InvalidArgument("loom_server_options_set_cluster: NULL argument"));
  return ToCStatus(ClusterSpec::FromJson(json, &o->o.cluster));
}
void loom_server_options_set_task(loom_server_options* o, const char* job, int task) {
  if (!o) return;
  o->o.job = job ? job : "";
  o->o.task = task;
}
loom_status* loom_server_options_set_tf_config(loom_server_options* o, const char* json) {
  if (!o || !json) return ToCStatus(InvalidArgument("loom_server_options_set_tf_config: NULL argument"));
  return ToCStatus(ParseTfConfig(json, &o->o.cluster, &o->o.job, &o->o.task));
}
void loom_server_options_set_protocol(loom_server_options* o, const char* protocol) {
  if (o) o->o.protocol = protocol ? protocol : "";
}
void loom_server_options_set_transport_option(loom_server_options* o, const char* key, const char* value) {
  if (o && key) o->o.transport.emplace_back(key, value ? value : "");
}
void loom_server_options_set_insecure(loom_server_options* o, int v) {
  if (o) o->o.insecure = v != 0;
}
void loom_server_options_set_handle_signals(loom_server_options* o, int v) {
  if (o) o->o.handle_signals = v != 0;
}
void loom_server_options_set_threads(loom_server_options* o, int n) {
  if (o) o->o.threads = n;
}

loom_status* loom_server_new(const loom_server_options* o, loom_server** out) {
  return Guard([&]() -> loom_status* {
    if (!o || !out) return ToCStatus(InvalidArgument("loom_server_new: options or out_server is NULL"));
    Registry::Get();
    std::unique_ptr<Server> s;
    Status st = Server::Create(o->o, &s);
    if (!st.ok()) return ToCStatus(st);
    *out = new loom_server{std::move(s)};
    return nullptr;
  });
}
loom_status* loom_server_start(loom_server* s) {
  return Guard([&]() -> loom_status* {
    if (!s) return ToCStatus(InvalidArgument("loom_server_start: server is NULL"));
    return ToCStatus(s->s->Start());
  });
}
void loom_server_stop(loom_server* s) {
  if (s) s->s->Stop();
}
void loom_server_join(loom_server* s) {
  if (s) s->s->Join();
}
const char* loom_server_target(const loom_server* s) { return s ? s->s->target().c_str() : ""; }
void loom_server_free(loom_server* s) { delete s; }

loom_status* loom_transport_keygen(const char* scheme, char* out_public, size_t public_size, char* out_secret,
                                   size_t secret_size) {
  return Guard([&]() -> loom_status* {
    if (!out_public || !out_secret) return ToCStatus(InvalidArgument("loom_transport_keygen: NULL buffer"));
    Registry* reg = Registry::Get();
    std::string sch = scheme && *scheme ? scheme : "zmq";
    const TransportDef* t = reg->FindTransport(sch);
    if (!t) return ToCStatus(NotFound("no transport plugin serves scheme '", sch, "'"));
    if (!t->iface.keygen)
      return ToCStatus(Unimplemented("transport '", sch, "' (", t->plugin->path, ") cannot make keys"));
    return ToCStatus(TakeStatus(t->iface.keygen(t->iface.state, out_public, public_size, out_secret, secret_size)));
  });
}

}  // extern "C"
