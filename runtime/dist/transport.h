// Endpoint: the runtime's side of a transport plugin (loom_transport.h) — one
// per server or master. It turns the plugin's C callbacks into
// std::function, lends tensors' buffers for sending (a reference is held
// until the plugin releases them) and adopts received buffers without copying.
#ifndef LOOM_RUNTIME_DIST_TRANSPORT_H_
#define LOOM_RUNTIME_DIST_TRANSPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loom/loom_transport.h"
#include "runtime/core/tensor.h"

namespace loom {

// A message as the runtime sees it: the header bytes (a worker.proto message)
// and the payload buffers (host memory) it describes.
struct WireMessage {
  uint32_t method = 0;
  std::string header;
  std::vector<std::shared_ptr<Buffer>> payloads;
};

using TransportOptions = std::vector<std::pair<std::string, std::string>>;

// "zmq://host:port" -> ("zmq", "host:port"). "grpc://" (TensorFlow programs'
// targets) and a bare "host:port" mean the default transport.
Status ParseTarget(const std::string& target, std::string* scheme, std::string* address);

class Endpoint {
 public:
  using Handler = std::function<void(loom_transport_request* request, const std::string& peer, WireMessage msg)>;
  using Done = std::function<void(const Status& status, WireMessage response)>;

  // scheme "" picks the default transport. handler may be empty for an
  // endpoint that never listens.
  static Status Create(const std::string& scheme, const TransportOptions& options, Handler handler,
                       std::unique_ptr<Endpoint>* out);
  ~Endpoint();  // completes pending calls with CANCELLED first

  const std::string& scheme() const { return scheme_; }
  // address "host:port" (port 0: any); *bound gets the real one.
  Status Listen(const std::string& address, std::string* bound);
  // The transport's peer for an address (one per address, made on first use).
  Status Peer(const std::string& address, loom_transport_peer** out);
  // Sends a request; done runs exactly once, on a transport thread (or in
  // here if the request cannot be sent). Payload tensors must be in host
  // memory; their buffers are shared, not copied. out_call (may be null) is
  // valid until done starts.
  void Call(loom_transport_peer* peer, uint32_t method, std::string header, const std::vector<Tensor>& payloads,
            int64_t deadline_ms, Done done, loom_transport_call** out_call = nullptr);
  void Cancel(loom_transport_call* call);
  // Answers a request (consumes it); a non-OK status is what the caller gets.
  void Respond(loom_transport_request* request, const Status& status, std::string header,
               const std::vector<Tensor>& payloads);
  void Stats(int64_t* rejected, int64_t* sent, int64_t* received) const;

 private:
  Endpoint() = default;
  static void OnRequest(void* arg, loom_transport_request* request, const char* peer,
                        const loom_transport_message* message);
  const loom_transport_interface* iface_ = nullptr;
  loom_transport* t_ = nullptr;
  std::string scheme_;
  Handler handler_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_TRANSPORT_H_
