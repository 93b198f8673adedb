#include "runtime/dist/server.h"

#include <uv.h>

#include <cstdlib>

#include "runtime/core/logging.h"

namespace loom {

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace {
const std::string* FindKey(const TransportOptions& o, const char* key) {
  for (const auto& kv : o)
    if (kv.first == key && !kv.second.empty()) return &kv.second;
  return nullptr;
}
bool HasKey(const TransportOptions& o, const char* key) { return FindKey(o, key) != nullptr; }
}  // namespace

void AddClusterKeys(TransportOptions* o, bool server) {
  // A secure cluster shares one key pair: servers hold both halves (from
  // the options or LOOM_CLUSTER_SECRET_KEY/LOOM_CLUSTER_PUBLIC_KEY), and
  // every endpoint proves its peers with the public half (server_key).
  const char* env_secret = std::getenv("LOOM_CLUSTER_SECRET_KEY");
  const char* env_public = std::getenv("LOOM_CLUSTER_PUBLIC_KEY");
  if (server && !HasKey(*o, "secret_key") && env_secret && *env_secret && env_public && *env_public) {
    o->emplace_back("secret_key", env_secret);
    o->emplace_back("public_key", env_public);
  }
  if (HasKey(*o, "server_key")) return;
  const std::string* pub = FindKey(*o, "public_key");
  if (server && pub) {
    o->emplace_back("server_key", *pub);
  } else if (env_public && *env_public) {
    o->emplace_back("server_key", env_public);
  }
}

Status Server::Create(ServerOptions options, std::unique_ptr<Server>* out) {
  std::unique_ptr<Server> s(new Server());
  if (options.job.empty()) return InvalidArgument("server: no job name");
  RETURN_IF_ERROR(options.cluster.Address(options.job, options.task, &s->address_).WithPrefix("server: "));
  size_t colon = s->address_.rfind(':');
  std::string host = s->address_.substr(0, colon);
  if (host == "localhost") s->address_ = "127.0.0.1" + s->address_.substr(colon);
  if (!IsLoopbackHost(host) && !options.insecure && !HasKey(options.transport, "secret_key") &&
      !(std::getenv("LOOM_CLUSTER_SECRET_KEY") && *std::getenv("LOOM_CLUSTER_SECRET_KEY")))
    return FailedPrecondition("server ", TaskName(options.job, options.task), ": refusing to listen on ", s->address_,
                              ", which is not a loopback address, without CURVE keys (anyone who can reach it could "
                              "run graphs). Give the server a key pair (`loom keygen`; --secret-key/--public-key) or "
                              "accept the risk with --insecure");
  AddClusterKeys(&options.transport, /*server=*/true);
  std::string scheme = options.protocol == "grpc" ? "" : options.protocol;
  s->options_ = std::move(options);
  Server* raw = s.get();
  RETURN_IF_ERROR(Endpoint::Create(scheme, s->options_.transport,
                                   [raw](loom_transport_request* r, const std::string& peer, WireMessage m) {
                                     std::shared_lock<std::shared_mutex> l(raw->worker_mu_);
                                     if (raw->worker_) {
                                       raw->worker_->Handle(r, peer, std::move(m));
                                     } else {
                                       raw->endpoint_->Respond(r, Unavailable("the server is starting or shutting down"), "",
                                                               {});
                                     }
                                   },
                                   &s->endpoint_));
  *out = std::move(s);
  return Status::OK();
}

Server::~Server() {
  Stop();
  Join();
  if (loop_thread_.joinable()) loop_thread_.join();
  // New requests are turned away, then the worker ends its steps (answering
  // through the endpoint), then the endpoint goes.
  std::unique_ptr<WorkerService> worker;
  {
    std::unique_lock<std::shared_mutex> l(worker_mu_);
    worker = std::move(worker_);
  }
  worker.reset();
  endpoint_.reset();
}

Status Server::Start() {
  std::unique_lock<std::mutex> l(mu_);
  if (started_) return Status::OK();
  if (stopped_) return FailedPrecondition("server was stopped; servers do not restart");
  std::string bound;
  RETURN_IF_ERROR(endpoint_->Listen(address_, &bound).WithPrefix(
      StrCat("server ", TaskName(options_.job, options_.task), ": ")));
  // Port 0 asked for any free port: peers learn the real one from GetStatus.
  ClusterSpec cluster = options_.cluster;
  cluster.jobs[options_.job][options_.task] = bound;
  WorkerOptions wo;
  wo.job = options_.job;
  wo.task = options_.task;
  wo.cluster = std::move(cluster);
  wo.threads = options_.threads;
  {
    std::unique_lock<std::shared_mutex> wl(worker_mu_);
    worker_ = std::make_unique<WorkerService>(std::move(wo), endpoint_.get());
  }
  target_ = StrCat(endpoint_->scheme(), "://", bound);
  started_ = true;
  loop_thread_ = std::thread([this] { Loop(); });
  // Signal handlers are in place before Start returns (a SIGTERM right after
  // "serving" must stop the server, not kill it).
  cv_.wait(l, [&] { return loop_ != nullptr || stopped_; });
  LogMessage(LOOM_LOG_INFO, "server", StrCat("started ", worker_->task_name(), " at ", target_));
  return Status::OK();
}

void Server::Loop() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_async_t wakeup;
  uv_timer_t gc;
  uv_signal_t sigterm, sigint;
  {
    std::lock_guard<std::mutex> l(mu_);
    loop_ = &loop;
    wakeup_ = &wakeup;
    loop.data = this;
    uv_async_init(&loop, &wakeup, [](uv_async_t* a) {
      Server* s = static_cast<Server*>(a->loop->data);
      std::lock_guard<std::mutex> l(s->mu_);
      if (s->stopped_) uv_stop(a->loop);
    });
    uv_timer_init(&loop, &gc);
    uv_timer_start(
        &gc, [](uv_timer_t* t) { static_cast<Server*>(t->loop->data)->worker_->CollectGarbage(); },
        options_.gc_interval_ms, options_.gc_interval_ms);
    if (options_.handle_signals) {
      auto on_signal = [](uv_signal_t* sig, int signum) {
        LogMessage(LOOM_LOG_INFO, "server", StrCat("signal ", signum, ": stopping"));
        static_cast<Server*>(sig->loop->data)->Stop();
      };
      uv_signal_init(&loop, &sigterm);
      uv_signal_init(&loop, &sigint);
      uv_signal_start(&sigterm, on_signal, SIGTERM);
      uv_signal_start(&sigint, on_signal, SIGINT);
    }
    if (stopped_) uv_stop(&loop);
    cv_.notify_all();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  {
    std::lock_guard<std::mutex> l(mu_);
    loop_ = nullptr;
    wakeup_ = nullptr;
  }
  // Close every handle, then let the loop run their close callbacks.
  uv_walk(&loop, [](uv_handle_t* h, void*) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }, nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

void Server::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  if (stopped_) return;
  stopped_ = true;
  if (wakeup_) uv_async_send(static_cast<uv_async_t*>(wakeup_));
  cv_.notify_all();
}

void Server::Join() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return stopped_; });
}

}  // namespace loom
