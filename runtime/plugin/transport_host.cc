// Loading transport plugins (loom_transport.h): the host table handed to
// loom_transport_init, ABI negotiation, and the registry of schemes.
#include <algorithm>
#include <cstring>

#include "runtime/core/c_status.h"
#include "runtime/core/logging.h"
#include "runtime/plugin/registry.h"

namespace loom {

namespace {

// Registrations of the plugin being initialised (init runs under the registry's lock).
struct PendingTransports {
  std::vector<std::unique_ptr<TransportDef>> defs;
  Status first_error;
};
thread_local PendingTransports* g_pending_transports = nullptr;

loom_status* NewStatus(loom_code code, const char* msg) {
  return new loom_status{code == LOOM_CODE_OK ? LOOM_CODE_UNKNOWN : code, msg ? msg : ""};
}
void FreeStatus(loom_status* s) { delete s; }
loom_code StatusCodeOf(const loom_status* s) { return s ? s->code : LOOM_CODE_OK; }
const char* StatusMessageOf(const loom_status* s) { return s ? s->message.c_str() : ""; }
void LogFromTransport(int level, const char* who, const char* msg) {
  if (level < LOOM_LOG_DEBUG) level = LOOM_LOG_DEBUG;
  if (level > LOOM_LOG_ERROR) level = LOOM_LOG_ERROR;
  LogMessage(static_cast<loom_log_level>(level), who ? who : "transport", msg ? msg : "");
}

loom_status* RegisterTransport(const loom_transport_interface* t) {
  PendingTransports* p = g_pending_transports;
  auto fail = [&](Status s) -> loom_status* {
    if (p && p->first_error.ok()) p->first_error = s;
    return ToCStatus(s);
  };
  if (!p) return fail(FailedPrecondition("register_transport called outside loom_transport_init"));
  if (!t) return fail(InvalidArgument("register_transport: interface is NULL"));
  if (t->struct_size < LOOM_STRUCT_SIZE(loom_transport_interface, respond))
    return fail(InvalidArgument("register_transport: struct_size ", t->struct_size, " is smaller than ABI 1.0's ",
                                LOOM_STRUCT_SIZE(loom_transport_interface, respond)));
  if (!t->scheme || !*t->scheme) return fail(InvalidArgument("register_transport: scheme is empty"));
  auto def = std::make_unique<TransportDef>();
  std::memset(&def->iface, 0, sizeof(def->iface));
  std::memcpy(&def->iface, t, std::min(t->struct_size, sizeof(def->iface)));
  def->iface.struct_size = sizeof(def->iface);
  const char* missing = nullptr;
  if (!def->iface.create) missing = "create";
  else if (!def->iface.destroy) missing = "destroy";
  else if (!def->iface.listen) missing = "listen";
  else if (!def->iface.connect) missing = "connect";
  else if (!def->iface.call) missing = "call";
  else if (!def->iface.cancel) missing = "cancel";
  else if (!def->iface.respond) missing = "respond";
  if (missing)
    return fail(InvalidArgument("transport '", t->scheme, "' lacks the required function ", missing));
  p->defs.push_back(std::move(def));
  return nullptr;
}

}  // namespace

Status Registry::LoadTransportPlugin(loom_transport_init_fn init, PluginRecord* rec) {
  auto* host = new loom_transport_host_api;
  std::memset(host, 0, sizeof(*host));
  host->struct_size = LOOM_TRANSPORT_HOST_API_STRUCT_SIZE;
  host->abi_major = LOOM_TRANSPORT_ABI_MAJOR;
  host->abi_minor = LOOM_TRANSPORT_ABI_MINOR;
  host->plugin_path = rec->path.c_str();
  host->status_new = NewStatus;
  host->status_free = FreeStatus;
  host->status_code = StatusCodeOf;
  host->status_message = StatusMessageOf;
  host->log = LogFromTransport;
  host->register_transport = RegisterTransport;
  rec->transport_host.reset(host);

  loom_transport_info info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = LOOM_TRANSPORT_INFO_STRUCT_SIZE;
  PendingTransports pending;
  g_pending_transports = &pending;
  Status init_status = TakeStatus(init(host, &info));
  g_pending_transports = nullptr;
  if (info.struct_size >= LOOM_STRUCT_SIZE(loom_transport_info, abi_minor)) {
    rec->abi_major = info.abi_major;
    rec->abi_minor = info.abi_minor;
  }
  if (info.struct_size >= LOOM_STRUCT_SIZE(loom_transport_info, version)) {
    rec->name = info.name ? info.name : "";
    rec->version = info.version ? info.version : "";
  }
  if (rec->abi_major != LOOM_TRANSPORT_ABI_MAJOR)
    return FailedPrecondition("transport plugin ", rec->path, " was built for transport ABI ", rec->abi_major, ".",
                              rec->abi_minor, " but this Loom provides ABI ", LOOM_TRANSPORT_ABI_MAJOR, ".",
                              LOOM_TRANSPORT_ABI_MINOR,
                              " (major versions must match); rebuild it against this Loom's loom_transport.h");
  if (!init_status.ok()) return init_status.WithPrefix(StrCat("transport plugin ", rec->path, ": init failed: "));
  if (!pending.first_error.ok()) return pending.first_error.WithPrefix(StrCat("transport plugin ", rec->path, ": "));
  if (pending.defs.empty())
    return InvalidArgument("transport plugin ", rec->path, " registered no transport");
  for (const auto& d : pending.defs)
    for (const auto& have : transports_)
      if (std::string(have->iface.scheme) == d->iface.scheme)
        return AlreadyExists("transport plugin ", rec->path, " registers scheme '", d->iface.scheme,
                             "', which ", have->plugin->path, " already provides");
  for (auto& d : pending.defs) {
    d->plugin = rec;
    transports_.push_back(std::move(d));
  }
  rec->loaded = true;
  return Status::OK();
}

const TransportDef* Registry::FindTransport(const std::string& scheme) const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  for (const auto& t : transports_)
    if (scheme == t->iface.scheme) return t.get();
  return nullptr;
}

std::vector<std::string> Registry::TransportSchemes() const {
  std::lock_guard<std::recursive_mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& t : transports_) out.push_back(t->iface.scheme);
  return out;
}

}  // namespace loom
