// Server: one task of a cluster (`loom serve`, tf.train.Server). It listens on
// the task's address with a transport endpoint, serves the WorkerService, and
// runs a libuv loop for housekeeping: a timer that drops steps and graphs of
// masters that went away, the wake-up that stops it, and (for `loom serve`)
// SIGTERM/SIGINT, which stop it gracefully.
#ifndef LOOM_RUNTIME_DIST_SERVER_H_
#define LOOM_RUNTIME_DIST_SERVER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "runtime/dist/worker.h"

namespace loom {

struct ServerOptions {
  ClusterSpec cluster;
  std::string job;
  int task = 0;
  std::string protocol;            // transport scheme; "" or "grpc": the default
  TransportOptions transport;      // secret_key/public_key (CURVE), heartbeats, ...
  bool insecure = false;           // allow a non-loopback address without keys
  bool handle_signals = false;     // stop on SIGTERM/SIGINT (loom serve)
  int threads = 0;
  int gc_interval_ms = 10000;
};

class Server {
 public:
  // Checks the options (the task exists, keys or loopback); does not listen.
  static Status Create(ServerOptions options, std::unique_ptr<Server>* out);
  ~Server();  // Stop() + Join()

  // Listens and serves; a second call is a no-op.
  Status Start();
  // Stops serving (idempotent, any thread, also from a signal via the loop).
  void Stop();
  // Blocks until the server is stopped.
  void Join();
  // "zmq://127.0.0.1:2222" (the bound address once started).
  const std::string& target() const { return target_; }
  WorkerService* worker() { return worker_.get(); }
  Endpoint* endpoint() { return endpoint_.get(); }

 private:
  Server() = default;
  void Loop();

  ServerOptions options_;
  std::string address_, target_;
  std::unique_ptr<Endpoint> endpoint_;
  std::shared_mutex worker_mu_;  // requests read worker_; shutdown clears it first
  std::unique_ptr<WorkerService> worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, stopped_ = false;
  std::thread loop_thread_;
  void* loop_ = nullptr;   // uv_loop_t*
  void* wakeup_ = nullptr; // uv_async_t*
};

// The cluster's keys into transport options: a server's key pair (given, or
// from LOOM_CLUSTER_SECRET_KEY/LOOM_CLUSTER_PUBLIC_KEY), and server_key — the
// cluster's public key that peers must prove — for servers and clients alike.
void AddClusterKeys(TransportOptions* options, bool server);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_SERVER_H_
