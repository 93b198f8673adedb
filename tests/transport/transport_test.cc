// The ZeroMQ transport plugin, through its C ABI only (loom_transport.h), with
// a host implemented by the test (transport_host.h). Servers in other
// processes are this binary re-executed in --serve mode; every test stops what
// it started, by PID, on every exit path.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "transport_host.h"
#include "wire.h"

using namespace transport_host;  // NOLINT: the test's own helpers

namespace {

constexpr uint32_t kEcho = 1;  // respond with the request
constexpr uint32_t kHold = 2;  // never respond (until the server goes)
constexpr uint32_t kFail = 3;  // respond NOT_FOUND with the header as message

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Bytes that differ at every offset (catch shifted or reordered chunks).
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// A TCP port on 127.0.0.1 that nobody listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A server endpoint in this process: echo, hold and fail methods.
class Server {
 public:
  explicit Server(const Options& options = {})
      : ep_(options, [this](Endpoint* e, loom_transport_request* req, const std::string& peer,
                            const loom_transport_message* m) { Handle(e, req, peer, m); }) {
    address_ = ep_.Listen();
  }
  const std::string& address() const { return address_; }
  Endpoint& endpoint() { return ep_; }
  int delivered() const { return delivered_.load(); }
  std::string last_peer() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_peer_;
  }
  std::vector<loom_transport_request*> TakeHeld() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(held_);
  }

 private:
  void Handle(Endpoint* e, loom_transport_request* req, const std::string& peer,
              const loom_transport_message* m) {
    delivered_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_peer_ = peer;
    }
    if (m->method == kEcho) {
      EchoRespond(e, req, m);
    } else if (m->method == kFail) {
      std::string text(static_cast<const char*>(m->header.data), m->header.size);
      ReleaseAll(m);
      e->RespondError(req, LOOM_CODE_NOT_FOUND, text.c_str());
    } else {
      ReleaseAll(m);
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(req);
    }
  }

  std::mutex mu_;
  std::vector<loom_transport_request*> held_;
  std::string last_peer_;
  std::atomic<int> delivered_{0};
  Endpoint ep_;
  std::string address_;
};

// ---------------------------------------------------------------- child servers

// This binary as a server process: `--serve k=v ...` listens on 127.0.0.1:0,
// prints the bound address on stdout, serves until stdin closes.
int ServeMain(int argc, char** argv) {
  alarm(120);  // bounded even if the parent forgets it
  Options options;
  for (int i = 2; i < argc; ++i) {
    std::string kv = argv[i];
    size_t eq = kv.find('=');
    options.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  Server server(options);
  std::printf("%s\n", server.address().c_str());
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  _exit(0);
}

// A server process started by a test and killed (SIGKILL) and reaped by PID
// when the object goes, whatever path the test takes.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& options) {
    int out[2], in[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) return;
    std::vector<std::string> args = {"/proc/self/exe", "--serve"};
    args.insert(args.end(), options.begin(), options.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], 1);
      dup2(in[0], 0);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    close(in[0]);
    stdin_ = in[1];
    // The address line, within 10 s.
    pollfd p{out[0], POLLIN, 0};
    std::string line;
    auto start = std::chrono::steady_clock::now();
    while (line.find('\n') == std::string::npos && Seconds(start) < 10) {
      if (poll(&p, 1, 100) > 0) {
        char buf[128];
        ssize_t n = read(out[0], buf, sizeof(buf));
        if (n <= 0) break;
        line.append(buf, static_cast<size_t>(n));
      }
    }
    close(out[0]);
    if (line.find('\n') != std::string::npos) address_ = line.substr(0, line.find('\n'));
  }
  ~ServerProcess() { Kill(); }
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  void Signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int st;
      waitpid(pid_, &st, 0);
      pid_ = -1;
    }
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string address_;
};

// ---------------------------------------------------------------- plugin and options

TEST(TransportZmqPlugin, InitRegistersZmqAndRefusesNothing) {
  Loaded l = LoadPlugin(LOOM_TRANSPORT_ZMQ_PLUGIN);
  ASSERT_EQ(l.error, "");
  EXPECT_EQ(l.init_code, LOOM_CODE_OK);
  EXPECT_EQ(l.info.abi_major, LOOM_TRANSPORT_ABI_MAJOR);
  EXPECT_EQ(l.info.abi_minor, LOOM_TRANSPORT_ABI_MINOR);
  EXPECT_STREQ(l.info.name, "transport_zmq");
  ASSERT_NE(l.zmq, nullptr);
  EXPECT_EQ(l.zmq->struct_size, LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE);
  for (auto fn : {reinterpret_cast<void*>(l.zmq->create), reinterpret_cast<void*>(l.zmq->destroy),
                  reinterpret_cast<void*>(l.zmq->listen), reinterpret_cast<void*>(l.zmq->connect),
                  reinterpret_cast<void*>(l.zmq->call), reinterpret_cast<void*>(l.zmq->cancel),
                  reinterpret_cast<void*>(l.zmq->respond), reinterpret_cast<void*>(l.zmq->stats),
                  reinterpret_cast<void*>(l.zmq->keygen)}) {
    EXPECT_NE(fn, nullptr);
  }
}

TEST(TransportZmqPlugin, ExportsOnlyItsEntrySymbol) {
  void* lib = dlopen(LOOM_TRANSPORT_ZMQ_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr);
  EXPECT_NE(dlsym(lib, "loom_transport_init"), nullptr);
  EXPECT_EQ(dlsym(lib, "loom_plugin_init"), nullptr);
}

TEST(TransportZmqOptions, UnknownKeyIsInvalidArgumentNamingIt) {
  Endpoint e(Options{{"heartbeat_ms", "500"}, {"colour", "blue"}});
  ASSERT_NE(e.status(), nullptr);
  EXPECT_EQ(e.status()->code, LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_NE(e.status()->message.find("'colour'"), std::string::npos) << e.status()->message;
}

TEST(TransportZmqOptions, MalformedValuesAreInvalidArgumentNamingTheKey) {
  for (const auto& kv :
       std::vector<std::pair<std::string, std::string>>{{"heartbeat_ms", "soon"},
                                                        {"connect_timeout_ms", "-5"},
                                                        {"hwm", "0"},
                                                        {"server_key", "short"},
                                                        {"secret_key", std::string(40, '\x01')}}) {
    Endpoint e({kv});
    ASSERT_NE(e.status(), nullptr) << kv.first;
    EXPECT_EQ(e.status()->code, LOOM_CODE_INVALID_ARGUMENT);
    EXPECT_NE(e.status()->message.find(kv.first), std::string::npos) << e.status()->message;
  }
}

TEST(TransportZmqOptions, AKeyPairNeedsBothHalves) {
  char pub[41], sec[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  Endpoint e(Options{{"public_key", pub}});
  ASSERT_NE(e.status(), nullptr);
  EXPECT_EQ(e.status()->code, LOOM_CODE_INVALID_ARGUMENT);
}

TEST(TransportZmqListen, PortZeroReportsTheBoundPort) {
  Server s;
  ASSERT_EQ(s.address().rfind("127.0.0.1:", 0), 0u) << s.address();
  EXPECT_NE(s.address(), "127.0.0.1:0");
}

TEST(TransportZmqListen, NotAnAddressIsInvalidArgument) {
  Endpoint e;
  char out[64];
  for (const char* bad : {"127.0.0.1", "127.0.0.1:http", ":5", "127.0.0.1:99999"}) {
    loom_status* s = Zmq()->listen(e.get(), bad, out, sizeof(out));
    ASSERT_NE(s, nullptr) << bad;
    EXPECT_EQ(s->code, LOOM_CODE_INVALID_ARGUMENT);
    EXPECT_NE(s->message.find(bad), std::string::npos) << s->message;
    delete s;
  }
}

TEST(TransportZmqConnect, TheSameAddressIsTheSamePeer) {
  Endpoint e;
  loom_transport_peer* a = e.Connect("127.0.0.1:5");
  EXPECT_NE(a, nullptr);
  EXPECT_EQ(e.Connect("127.0.0.1:5"), a);
  EXPECT_EQ(e.Connect("zmq://127.0.0.1:5"), a);
  EXPECT_NE(e.Connect("127.0.0.1:6"), a);
}

// ---------------------------------------------------------------- round trips

TEST(TransportZmqRoundTrip, HeadersAndPayloadsFrom0BytesTo64MiBAreBitIdentical) {
  Server s;
  Endpoint c;
  loom_transport_peer* peer = c.Connect(s.address());
  // Copied (no release callback) and lent zero-copy (with one).
  for (bool lend : {false, true}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{1023}, size_t{1024}, size_t{4096},
                     size_t{1} << 20, size_t{64} << 20}) {
      std::string header = Pattern(n % 4096, 7);
      std::string payload = Pattern(n, static_cast<uint32_t>(n));
      Result r = c.Call(peer, kEcho, header, {payload, "", Pattern(33, 3)}, 0, 30, lend);
      ASSERT_EQ(r.code, LOOM_CODE_OK) << n << ": " << r.message;
      EXPECT_EQ(r.header, header) << n;
      ASSERT_EQ(r.payloads.size(), 3u);
      EXPECT_TRUE(r.payloads[0] == payload) << "payload of " << n << " bytes differs";
      EXPECT_EQ(r.payloads[1], "");
      EXPECT_EQ(r.payloads[2], Pattern(33, 3));
    }
  }
}

// A host wraps received payloads into tensors without copying: those up to
// 64 KiB arrive 64-byte aligned (the plugin copies them when libzmq left
// them elsewhere), larger ones at least 8-byte aligned (libzmq's block).
TEST(TransportZmqRoundTrip, ReceivedPayloadsAreAlignedForTensors) {
  Server s;
  Endpoint c;
  struct Seen {
    std::vector<std::pair<size_t, uintptr_t>> payloads;  // (size, address)
    std::vector<std::string> bytes;
    Waiter w;
    static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
      auto* k = static_cast<Seen*>(arg);
      delete st;
      if (r != nullptr) {
        for (int i = 0; i < r->num_payloads; ++i) {
          k->payloads.emplace_back(r->payloads[i].size,
                                   reinterpret_cast<uintptr_t>(r->payloads[i].data));
          k->bytes.emplace_back(static_cast<const char*>(r->payloads[i].data), r->payloads[i].size);
        }
        ReleaseAll(r);
      }
      Waiter::Done(&k->w, nullptr, nullptr);
    }
  };
  // An inline message (small), and one in frames (a 1 MiB payload among small ones).
  for (const std::vector<size_t>& sizes :
       std::vector<std::vector<size_t>>{{1, 3, 100, 4000}, {1, 3, 100, 9000, 65536, 1 << 20}}) {
    std::vector<std::string> data;
    for (size_t n : sizes) data.push_back(Pattern(n, static_cast<uint32_t>(n)));
    OutMessage m(kEcho, "hdr", data);
    Seen seen;
    delete Zmq()->call(c.get(), c.Connect(s.address()), &m.msg, 0, &Seen::Done, &seen, nullptr);
    ASSERT_TRUE(seen.w.Wait(10));
    ASSERT_EQ(seen.payloads.size(), sizes.size());
    EXPECT_EQ(seen.bytes, data);
    for (const auto& [size, address] : seen.payloads) {
      EXPECT_EQ(address % (size <= 64 * 1024 ? 64 : 8), 0u) << size << " bytes at " << address;
    }
  }
}

TEST(TransportZmqRoundTrip, ManyPayloadsKeepTheirOrder) {
  Server s;
  Endpoint c;
  std::vector<std::string> payloads;
  for (int i = 0; i < 300; ++i) payloads.push_back(Pattern(static_cast<size_t>(i * 37), i));
  Result r = c.Call(c.Connect(s.address()), kEcho, "h", payloads);
  ASSERT_EQ(r.code, LOOM_CODE_OK) << r.message;
  EXPECT_EQ(r.payloads, payloads);
}

// Lent buffers are given back exactly once, whatever the call's fate.
struct LentCounter {
  std::atomic<int> released{0};
  static void Release(void* arg) { static_cast<LentCounter*>(arg)->released.fetch_add(1); }
};

TEST(TransportZmqRoundTrip, LentBuffersAreReleasedExactlyOnceOnEveryPath) {
  Server s;
  Endpoint c(Options{{"connect_timeout_ms", "300"}});
  std::string big = Pattern(1 << 20, 1), small = "tiny";
  auto call = [&](loom_transport_peer* peer, uint32_t method, int64_t deadline, bool cancel) {
    LentCounter counter;
    loom_transport_buffer payloads[2] = {
        {big.data(), big.size(), LentCounter::Release, &counter},
        {small.data(), small.size(), LentCounter::Release, &counter}};
    loom_transport_message m{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE,
                             method,
                             {small.data(), small.size(), LentCounter::Release, &counter},
                             payloads,
                             2,
                             nullptr};
    Waiter w;
    loom_transport_call* handle = nullptr;
    loom_status* st = Zmq()->call(c.get(), peer, &m, deadline, &Waiter::Done, &w, &handle);
    EXPECT_EQ(st, nullptr);
    if (cancel) Zmq()->cancel(c.get(), handle);
    EXPECT_TRUE(w.Wait(10));
    // Zero-copy frames are freed by ZeroMQ's own thread shortly after the send.
    auto start = std::chrono::steady_clock::now();
    while (counter.released.load() < 3 && Seconds(start) < 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(counter.released.load(), 3) << "method " << method;
    std::lock_guard<std::mutex> lock(w.mu);
    return w.result;
  };
  EXPECT_EQ(call(c.Connect(s.address()), kEcho, 0, false).code, LOOM_CODE_OK);
  EXPECT_EQ(call(c.Connect(s.address()), kHold, 100, false).code, LOOM_CODE_DEADLINE_EXCEEDED);
  EXPECT_EQ(call(c.Connect(s.address()), kHold, 0, true).code, LOOM_CODE_CANCELLED);
  std::string closed = "127.0.0.1:" + std::to_string(ClosedPort());
  EXPECT_EQ(call(c.Connect(closed), kEcho, 0, false).code, LOOM_CODE_UNAVAILABLE);
}

TEST(TransportZmqRoundTrip, ManyConcurrentCallsFromSeveralThreads) {
  Server s;
  Endpoint c;
  loom_transport_peer* peer = c.Connect(s.address());
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> threads;
  constexpr int kThreads = 4, kCalls = 192, kWindow = 16;  // kCalls: a multiple of kWindow
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // kWindow calls in flight per thread at a time.
      for (int base = 0; base < kCalls; base += kWindow) {
        std::vector<std::unique_ptr<Waiter>> waiters;
        std::vector<std::string> expect;
        std::vector<std::unique_ptr<OutMessage>> msgs;
        std::vector<std::string> keep;
        keep.reserve(kWindow * 2);
        for (int i = base; i < base + kWindow; ++i) {
          keep.push_back(Pattern(static_cast<size_t>(100 + i * 13), t * 1000 + i));
          keep.push_back(std::to_string(t) + "/" + std::to_string(i));
          msgs.push_back(std::make_unique<OutMessage>(
              kEcho, keep.back(), std::vector<std::string>{keep[keep.size() - 2]}));
          waiters.push_back(std::make_unique<Waiter>());
          delete Zmq()->call(c.get(), peer, &msgs.back()->msg, 0, &Waiter::Done,
                             waiters.back().get(), nullptr);
        }
        for (int k = 0; k < kWindow; ++k) {
          ASSERT_TRUE(waiters[k]->Wait(30));
          const Result& r = waiters[k]->result;
          bool good = r.code == LOOM_CODE_OK && r.header == keep[2 * k + 1] &&
                      r.payloads.size() == 1 && r.payloads[0] == keep[2 * k] && r.done_calls == 1;
          (good ? ok : wrong).fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(s.delivered(), kThreads * kCalls);
}

TEST(TransportZmqRoundTrip, AnErrorResponseArrivesWithItsCodeAndMessage) {
  Server s;
  Endpoint c;
  Result r = c.Call(c.Connect(s.address()), kFail, "no tensor 'w:0' in step 7");
  EXPECT_EQ(r.code, LOOM_CODE_NOT_FOUND);
  EXPECT_EQ(r.message, "no tensor 'w:0' in step 7");
  EXPECT_TRUE(r.payloads.empty());
}

TEST(TransportZmqRoundTrip, TheServerSeesTheCallersIdentity) {
  Server s;
  Endpoint c(Options{{"identity", "/job:worker/replica:0/task:1"}});
  ASSERT_EQ(c.Call(c.Connect(s.address()), kEcho, "x").code, LOOM_CODE_OK);
  std::string peer = s.last_peer();
  EXPECT_EQ(peer.rfind("/job:worker/replica:0/task:1#", 0), 0u) << peer;
  // A second endpoint with the same identity is another incarnation.
  Endpoint c2(Options{{"identity", "/job:worker/replica:0/task:1"}});
  ASSERT_EQ(c2.Call(c2.Connect(s.address()), kEcho, "x").code, LOOM_CODE_OK);
  EXPECT_NE(s.last_peer(), peer);
}

TEST(TransportZmqRoundTrip, RespondingTwiceIsRefused) {
  std::atomic<int> second{-1};
  Endpoint server({}, [&](Endpoint* e, loom_transport_request* req, const std::string&,
                          const loom_transport_message* m) {
    ReleaseAll(m);
    e->RespondError(req, LOOM_CODE_ABORTED, "first");
    loom_status* s = Zmq()->respond(e->get(), req, LOOM_CODE_OK, nullptr, nullptr);
    second = s ? s->code : LOOM_CODE_OK;
    delete s;
  });
  std::string addr = server.Listen();
  Endpoint c;
  EXPECT_EQ(c.Call(c.Connect(addr), kEcho, "").code, LOOM_CODE_ABORTED);
  EXPECT_EQ(second.load(), LOOM_CODE_INVALID_ARGUMENT);
}

// Callbacks run on the transport's thread with no lock held: a done callback
// may issue the next call, a handler may respond at once.
TEST(TransportZmqRoundTrip, DoneCallbacksMayCallAgain) {
  Server s;
  Endpoint c;
  struct Chain {
    Endpoint* c;
    loom_transport_peer* peer;
    std::string header = "chain";
    loom_transport_message msg{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, kEcho, {}, nullptr, 0, nullptr};
    int left = 100, ok = 0;
    Waiter finished;
    static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
      auto* ch = static_cast<Chain*>(arg);
      if (st == nullptr && r->header.size == 5) ++ch->ok;
      delete st;
      if (r != nullptr) ReleaseAll(r);
      if (--ch->left > 0) {
        delete Zmq()->call(ch->c->get(), ch->peer, &ch->msg, 0, &Chain::Done, ch, nullptr);
      } else {
        Waiter::Done(&ch->finished, nullptr, nullptr);
      }
    }
  } chain;
  chain.c = &c;
  chain.peer = c.Connect(s.address());
  chain.msg.header = {chain.header.data(), chain.header.size(), nullptr, nullptr};
  delete Zmq()->call(c.get(), chain.peer, &chain.msg, 0, &Chain::Done, &chain, nullptr);
  ASSERT_TRUE(chain.finished.Wait(30));
  EXPECT_EQ(chain.ok, 100);
}

// ---------------------------------------------------------------- deadlines, cancel, destroy

TEST(TransportZmqDeadline, ACallWithoutAnswerEndsDeadlineExceededNamingThePeer) {
  Server s;
  Endpoint c;
  auto start = std::chrono::steady_clock::now();
  Result r = c.Call(c.Connect(s.address()), kHold, "", {}, 200);
  double took = Seconds(start);
  EXPECT_EQ(r.code, LOOM_CODE_DEADLINE_EXCEEDED);
  EXPECT_NE(r.message.find(s.address()), std::string::npos) << r.message;
  EXPECT_GE(took, 0.19);
  EXPECT_LT(took, 5.0);
}

TEST(TransportZmqDeadline, ALateResponseIsDroppedAndTheNextCallWorks) {
  Server s;
  Endpoint c;
  loom_transport_peer* peer = c.Connect(s.address());
  Waiter w;
  OutMessage m(kHold, "late", {});
  delete Zmq()->call(c.get(), peer, &m.msg, 100, &Waiter::Done, &w, nullptr);
  ASSERT_TRUE(w.Wait(10));
  EXPECT_EQ(w.result.code, LOOM_CODE_DEADLINE_EXCEEDED);
  // The server answers now; the caller already gave up.
  for (loom_transport_request* req : s.TakeHeld()) {
    std::string h = "too late";
    loom_transport_message r{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE,
                             0,
                             {h.data(), h.size(), nullptr, nullptr},
                             nullptr,
                             0,
                             nullptr};
    s.endpoint().Respond(req, &r);
  }
  Result next = c.Call(peer, kEcho, "next");
  EXPECT_EQ(next.code, LOOM_CODE_OK);
  EXPECT_EQ(next.header, "next");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> lock(w.mu);
  EXPECT_EQ(w.result.done_calls, 1);
}

TEST(TransportZmqCancel, CancelEndsThePendingCallCancelledOnce) {
  Server s;
  Endpoint c;
  Waiter w;
  OutMessage m(kHold, "", {});
  loom_transport_call* call = nullptr;
  delete Zmq()->call(c.get(), c.Connect(s.address()), &m.msg, 0, &Waiter::Done, &w, &call);
  ASSERT_NE(call, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Zmq()->cancel(c.get(), call);
  ASSERT_TRUE(w.Wait(10));
  EXPECT_EQ(w.result.code, LOOM_CODE_CANCELLED);
  Zmq()->cancel(c.get(), call);  // after done: a no-op
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> lock(w.mu);
  EXPECT_EQ(w.result.done_calls, 1);
}

TEST(TransportZmqDestroy, PendingCallsEndCancelledBeforeDestroyReturns) {
  Server s;
  auto c = std::make_unique<Endpoint>();
  loom_transport_peer* peer = c->Connect(s.address());
  std::vector<std::unique_ptr<Waiter>> waiters;
  OutMessage m(kHold, "", {Pattern(1 << 16, 5)});
  for (int i = 0; i < 10; ++i) {
    waiters.push_back(std::make_unique<Waiter>());
    delete Zmq()->call(c->get(), peer, &m.msg, 0, &Waiter::Done, waiters.back().get(), nullptr);
  }
  c.reset();
  for (auto& w : waiters) {
    std::lock_guard<std::mutex> lock(w->mu);
    EXPECT_TRUE(w->done);
    EXPECT_EQ(w->result.code, LOOM_CODE_CANCELLED);
    EXPECT_EQ(w->result.done_calls, 1);
  }
}

TEST(TransportZmqDestroy, ReceivedBuffersOutliveTheirEndpoint) {
  Server s;
  const loom_transport_buffer* kept = nullptr;
  struct Keep {
    std::vector<loom_transport_buffer> bufs;
    Waiter w;
    static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
      auto* k = static_cast<Keep*>(arg);
      delete st;
      if (r != nullptr) {
        k->bufs.push_back(r->header);
        for (int i = 0; i < r->num_payloads; ++i) k->bufs.push_back(r->payloads[i]);
      }
      Waiter::Done(&k->w, nullptr, nullptr);
    }
  } keep;
  std::string payload = Pattern(1 << 20, 9);
  {
    Endpoint c;
    OutMessage m(kEcho, "hdr", {payload});
    delete Zmq()->call(c.get(), c.Connect(s.address()), &m.msg, 0, &Keep::Done, &keep, nullptr);
    ASSERT_TRUE(keep.w.Wait(10));
  }
  ASSERT_EQ(keep.bufs.size(), 2u);
  kept = &keep.bufs[1];
  EXPECT_EQ(std::string(static_cast<const char*>(kept->data), kept->size), payload);
  for (auto& b : keep.bufs) b.release(b.release_arg);
}

// The header forbids it, but a host that destroys an endpoint from inside its
// own callback must not crash or hang: the endpoint stops when the callback
// returns and still completes what was pending.
TEST(TransportZmqDestroy, DestroyFromACallbackStopsTheEndpointAfterwards) {
  Server s;
  loom_transport* t = nullptr;
  ASSERT_EQ(Zmq()->create(Zmq()->state, nullptr, 0, nullptr, nullptr, &t), nullptr);
  loom_transport_peer* peer = nullptr;
  delete Zmq()->connect(t, s.address().c_str(), &peer);
  struct Killer {
    loom_transport* t;
    Waiter w;
    static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
      auto* k = static_cast<Killer*>(arg);
      if (r != nullptr) ReleaseAll(r);
      Zmq()->destroy(k->t);
      Waiter::Done(&k->w, st, nullptr);
    }
  } killer{t, {}};
  Waiter held;
  OutMessage hold(kHold, "", {});
  delete Zmq()->call(t, peer, &hold.msg, 0, &Waiter::Done, &held, nullptr);
  OutMessage echo(kEcho, "bye", {});
  delete Zmq()->call(t, peer, &echo.msg, 0, &Killer::Done, &killer, nullptr);
  ASSERT_TRUE(killer.w.Wait(10));
  EXPECT_EQ(killer.w.result.code, LOOM_CODE_OK);
  ASSERT_TRUE(held.Wait(10));
  EXPECT_EQ(held.result.code, LOOM_CODE_CANCELLED);
  // The endpoint's thread frees itself; give it a moment before the test's
  // objects go (ASan/TSan see it finish).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

// ---------------------------------------------------------------- unreachable and dead peers

TEST(TransportZmqFailure, NobodyListeningIsUnavailableAfterTheConnectTimeout) {
  Endpoint c(Options{{"connect_timeout_ms", "400"}});
  std::string addr = "127.0.0.1:" + std::to_string(ClosedPort());
  auto start = std::chrono::steady_clock::now();
  Result r = c.Call(c.Connect(addr), kEcho, "x");
  double took = Seconds(start);
  EXPECT_EQ(r.code, LOOM_CODE_UNAVAILABLE);
  EXPECT_NE(r.message.find("zmq://" + addr), std::string::npos) << r.message;
  EXPECT_GE(took, 0.39);
  EXPECT_LT(took, 5.0);
}

TEST(TransportZmqFailure, AKilledServerFailsThePendingCallUnavailableWithin2xHeartbeatTimeout) {
  ServerProcess server({"heartbeat_ms=200", "heartbeat_timeout_ms=600"});
  ASSERT_NE(server.address(), "") << "the server process did not start";
  Endpoint c(Options{{"heartbeat_ms", "200"}, {"heartbeat_timeout_ms", "600"}});
  loom_transport_peer* peer = c.Connect(server.address());
  ASSERT_EQ(c.Call(peer, kEcho, "alive").code, LOOM_CODE_OK);
  Waiter w;
  OutMessage m(kHold, "", {Pattern(4096, 1)});
  delete Zmq()->call(c.get(), peer, &m.msg, 0, &Waiter::Done, &w, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  server.Kill();  // SIGKILL and reap
  ASSERT_TRUE(w.Wait(10));
  double took = Seconds(start);
  EXPECT_EQ(w.result.code, LOOM_CODE_UNAVAILABLE);
  EXPECT_NE(w.result.message.find("zmq://" + server.address()), std::string::npos)
      << w.result.message;
  EXPECT_LT(took, 1.2) << "2 x heartbeat_timeout_ms";
}

TEST(TransportZmqFailure, ASilentServerIsDeclaredGoneByHeartbeats) {
  ServerProcess server({"heartbeat_ms=200", "heartbeat_timeout_ms=600"});
  ASSERT_NE(server.address(), "");
  Endpoint c(Options{{"heartbeat_ms", "200"}, {"heartbeat_timeout_ms", "600"}});
  loom_transport_peer* peer = c.Connect(server.address());
  ASSERT_EQ(c.Call(peer, kEcho, "alive").code, LOOM_CODE_OK);
  Waiter w;
  OutMessage m(kHold, "", {});
  delete Zmq()->call(c.get(), peer, &m.msg, 0, &Waiter::Done, &w, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  server.Signal(SIGSTOP);  // the connection stays open, the peer says nothing
  ASSERT_TRUE(w.Wait(10));
  double took = Seconds(start);
  EXPECT_EQ(w.result.code, LOOM_CODE_UNAVAILABLE);
  EXPECT_NE(w.result.message.find("heartbeat"), std::string::npos) << w.result.message;
  EXPECT_LT(took, 1.2) << "2 x heartbeat_timeout_ms";
}

TEST(TransportZmqFailure, ARestartedServerIsReachableAgain) {
  auto server = std::make_unique<ServerProcess>(std::vector<std::string>{});
  std::string addr = server->address();
  ASSERT_NE(addr, "");
  Endpoint c(Options{{"heartbeat_ms", "200"}, {"heartbeat_timeout_ms", "600"}});
  loom_transport_peer* peer = c.Connect(addr);
  ASSERT_EQ(c.Call(peer, kEcho, "1").code, LOOM_CODE_OK);
  server.reset();
  // Another server on the same port (ephemeral ports are rarely reused at once).
  Server again;
  Endpoint& e = again.endpoint();
  char bound[64];
  loom_status* st = Zmq()->listen(e.get(), addr.c_str(), bound, sizeof(bound));
  if (st != nullptr) {
    std::string why = st->message;
    delete st;
    GTEST_SKIP() << "the port was taken meanwhile: " << why;
  }
  Result r = c.Call(peer, kEcho, "2", {}, 0, 30);
  EXPECT_EQ(r.code, LOOM_CODE_OK) << r.message;
}

TEST(TransportZmqBackpressure, CallsBeyondTheQueueBoundAreResourceExhausted) {
  // Nobody listens: every call waits in the plugin's queue.
  Endpoint c(Options{{"max_queued_messages", "4"}, {"connect_timeout_ms", "500"}});
  loom_transport_peer* peer = c.Connect("127.0.0.1:" + std::to_string(ClosedPort()));
  std::vector<std::unique_ptr<Waiter>> waiters;
  OutMessage m(kEcho, "", {});
  for (int i = 0; i < 6; ++i) {
    waiters.push_back(std::make_unique<Waiter>());
    delete Zmq()->call(c.get(), peer, &m.msg, 0, &Waiter::Done, waiters.back().get(), nullptr);
  }
  std::map<loom_code, int> codes;
  for (auto& w : waiters) {
    ASSERT_TRUE(w->Wait(10));
    codes[w->result.code]++;
  }
  EXPECT_EQ(codes[LOOM_CODE_UNAVAILABLE], 4);
  EXPECT_EQ(codes[LOOM_CODE_RESOURCE_EXHAUSTED], 2);
}

// ---------------------------------------------------------------- hostile input

// Sends raw multipart messages from a plain DEALER, as an attacker would.
class RawDealer {
 public:
  explicit RawDealer(const std::string& address) {
    ctx_ = zmq_ctx_new();
    s_ = zmq_socket(ctx_, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s_, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_connect(s_, ("tcp://" + address).c_str());
  }
  ~RawDealer() {
    zmq_close(s_);
    zmq_ctx_term(ctx_);
  }
  void Send(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq_send(s_, frames[i].data(), frames[i].size(), i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
    }
  }
  // The next message's frames (empty after `timeout_ms`).
  std::vector<std::string> Receive(int timeout_ms) {
    std::vector<std::string> out;
    zmq_pollitem_t item{s_, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0) return out;
    int more = 1;
    while (more) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      zmq_msg_recv(&m, s_, 0);
      out.emplace_back(static_cast<const char*>(zmq_msg_data(&m)), zmq_msg_size(&m));
      more = zmq_msg_more(&m);
      zmq_msg_close(&m);
    }
    return out;
  }

 private:
  void* ctx_;
  void* s_;
};

std::string Preamble(uint8_t kind, uint64_t call_id, uint32_t method, uint32_t n, uint64_t body) {
  loom_zmq::Preamble p;
  p.kind = kind;
  p.call_id = call_id;
  p.method = method;
  p.num_payloads = n;
  p.body_bytes = body;
  std::string out(loom_zmq::kPreambleBytes, '\0');
  loom_zmq::EncodePreamble(p, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

// One inline frame (wire.h): preamble, size table, header, payloads.
std::string Inline(uint8_t kind, uint64_t call_id, uint32_t method, const std::string& header,
                   const std::vector<std::string>& payloads) {
  loom_zmq::Preamble p;
  p.kind = kind;
  p.flags = loom_zmq::kFlagInline;
  p.call_id = call_id;
  p.method = method;
  p.num_payloads = static_cast<uint32_t>(payloads.size());
  std::string body = header, table(4 * (1 + payloads.size()), '\0');
  loom_zmq::PutLe(reinterpret_cast<uint8_t*>(table.data()), header.size(), 4);
  for (size_t i = 0; i < payloads.size(); ++i) {
    loom_zmq::PutLe(reinterpret_cast<uint8_t*>(table.data()) + 4 * (1 + i), payloads[i].size(), 4);
    body += payloads[i];
  }
  p.body_bytes = body.size();
  std::string out(loom_zmq::kPreambleBytes, '\0');
  loom_zmq::EncodePreamble(p, reinterpret_cast<uint8_t*>(out.data()));
  return out + table + body;
}

TEST(TransportZmqHostile, HandWrittenRequestsFollowingTheWireFormatAreAnswered) {
  Server s;
  RawDealer raw(s.address());
  // Frames, and the inline form; the small answer comes back inline.
  raw.Send({Preamble(loom_zmq::kKindRequest, 42, kEcho, 1, 5 + 3), "hello", "abc"});
  raw.Send({Inline(loom_zmq::kKindRequest, 43, kEcho, "hello", {"abc"})});
  for (uint64_t id : {42u, 43u}) {
    std::vector<std::string> r = raw.Receive(5000);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0], Inline(loom_zmq::kKindResponse, id, 0, "hello", {"abc"}));
  }
  // A large one comes back in frames.
  std::string big(100000, 'b');
  raw.Send({Preamble(loom_zmq::kKindRequest, 44, kEcho, 1, 5 + big.size()), "hello", big});
  std::vector<std::string> r = raw.Receive(5000);
  ASSERT_EQ(r.size(), 3u);
  loom_zmq::Preamble p;
  const char* why = nullptr;
  ASSERT_TRUE(loom_zmq::DecodePreamble(r[0].data(), r[0].size(), &p, &why)) << why;
  EXPECT_EQ(p.kind, loom_zmq::kKindResponse);
  EXPECT_EQ(p.flags, 0);
  EXPECT_EQ(p.call_id, 44u);
  EXPECT_EQ(p.code, 0u);
  EXPECT_EQ(r[1], "hello");
  EXPECT_TRUE(r[2] == big);
}

TEST(TransportZmqHostile, MalformedMessagesAreCountedAndTheServerKeepsServing) {
  Server s(Options{{"max_message_bytes", "1000000"}});
  {
    RawDealer raw(s.address());
    std::string good = Preamble(loom_zmq::kKindRequest, 1, kEcho, 1, 2 + 3);
    std::string bad_magic = good;
    bad_magic[0] ^= 0x55;
    std::string bad_version = good;
    bad_version[4] = 9;
    std::string bad_kind = Preamble(loom_zmq::kKindResponse, 1, kEcho, 1, 5);
    std::string many = Preamble(loom_zmq::kKindRequest, 1, kEcho, 1u << 30, 5);
    std::string inl = Inline(loom_zmq::kKindRequest, 1, kEcho, "hh", {"ppp"});
    std::string inl_lie = inl;
    inl_lie[loom_zmq::kPreambleBytes] = 3;  // the header's size: 3 instead of 2
    std::vector<std::vector<std::string>> attacks = {
        {"garbage"},                        // one frame
        {good.substr(0, 17), "hh", "ppp"},  // truncated preamble
        {bad_magic, "hh", "ppp"},           // wrong magic
        {bad_version, "hh", "ppp"},         // wrong wire version
        {bad_kind, "hh", "ppp"},            // a response to a server
        {good, "hh"},                       // a payload missing
        {good, "hh", "ppp", "extra"},       // a frame too many
        {Preamble(loom_zmq::kKindRequest, 1, kEcho, 1, 999), "hh", "ppp"},  // body size lies
        {many, "hh", "ppp"},                                                // absurd payload count
        {Preamble(loom_zmq::kKindRequest, 1, kEcho, 2, 1200002),  // over max_message_bytes
         "hh", std::string(600000, 'a'), std::string(600000, 'b')},
        {std::string(1, '\0'), std::string(), std::string()},  // tiny junk
        {inl_lie},                                             // inline sizes lie
        {inl.substr(0, inl.size() - 1)},                       // inline, truncated
        {inl, "extra"},                                        // inline plus a frame
    };
    for (const auto& a : attacks) raw.Send(a);
    auto start = std::chrono::steady_clock::now();
    while (s.endpoint().Rejected() < static_cast<int64_t>(attacks.size()) && Seconds(start) < 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(s.endpoint().Rejected(), static_cast<int64_t>(attacks.size()));
    EXPECT_EQ(s.delivered(), 0);
    // A single frame over the limit: ZeroMQ drops that connection (bounded
    // memory); the server goes on.
    raw.Send({good, "hh", std::string(2000000, 'x')});
  }
  Endpoint c;
  Result r = c.Call(c.Connect(s.address()), kEcho, "still here", {"p"});
  EXPECT_EQ(r.code, LOOM_CODE_OK) << r.message;
  EXPECT_EQ(r.header, "still here");
  EXPECT_EQ(s.delivered(), 1);
}

TEST(TransportZmqHostile, GarbageFromAServerIsCountedByTheCaller) {
  // A ROUTER that answers every request with junk, then a proper response.
  void* ctx = zmq_ctx_new();
  void* router = zmq_socket(ctx, ZMQ_ROUTER);
  int zero = 0;
  zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
  ASSERT_EQ(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
  char ep[128];
  size_t len = sizeof(ep);
  zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len);
  std::string addr = std::string(ep).substr(6);
  std::thread fake([&] {
    zmq_pollitem_t item{router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 10000) <= 0) return;
    std::vector<std::string> frames;
    int more = 1;
    while (more) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      zmq_msg_recv(&m, router, 0);
      frames.emplace_back(static_cast<const char*>(zmq_msg_data(&m)), zmq_msg_size(&m));
      more = zmq_msg_more(&m);
      zmq_msg_close(&m);
    }
    loom_zmq::Preamble p;
    const char* why;
    loom_zmq::DecodePreamble(frames[1].data(), frames[1].size(), &p, &why);
    auto send = [&](const std::vector<std::string>& f) {
      zmq_send(router, frames[0].data(), frames[0].size(), ZMQ_SNDMORE);
      for (size_t i = 0; i < f.size(); ++i) {
        zmq_send(router, f[i].data(), f[i].size(), i + 1 < f.size() ? ZMQ_SNDMORE : 0);
      }
    };
    send({"junk"});
    send({Preamble(loom_zmq::kKindResponse, p.call_id, 0, 0, 77), "x"});  // size lies
    send({Preamble(loom_zmq::kKindResponse, p.call_id, 0, 0, 2), "ok"});
  });
  {
    Endpoint c;
    Result r = c.Call(c.Connect(addr), kEcho, "q", {}, 5000);
    EXPECT_EQ(r.code, LOOM_CODE_OK) << r.message;
    EXPECT_EQ(r.header, "ok");
    EXPECT_EQ(c.Rejected(), 2);
  }
  fake.join();
  zmq_close(router);
  zmq_ctx_term(ctx);
}

// ---------------------------------------------------------------- CURVE

struct KeyPair {
  std::string pub, sec;
};
KeyPair Keygen() {
  char pub[64], sec[64];
  loom_status* s = Zmq()->keygen(Zmq()->state, pub, sizeof(pub), sec, sizeof(sec));
  EXPECT_EQ(s, nullptr);
  delete s;
  return {pub, sec};
}

TEST(TransportZmqCurve, KeygenWritesZ85Keys) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  KeyPair k = Keygen();
  EXPECT_EQ(k.pub.size(), 40u);
  EXPECT_EQ(k.sec.size(), 40u);
  EXPECT_NE(k.pub, k.sec);
  char small[10];
  char big[64];
  loom_status* s = Zmq()->keygen(Zmq()->state, small, sizeof(small), big, sizeof(big));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, LOOM_CODE_INVALID_ARGUMENT);
  delete s;
}

TEST(TransportZmqCurve, TheRightServerKeyGetsThroughWithOrWithoutOwnKeys) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  KeyPair server_keys = Keygen(), client_keys = Keygen();
  Server s(Options{{"secret_key", server_keys.sec}, {"public_key", server_keys.pub}});
  Endpoint ephemeral(Options{{"server_key", server_keys.pub}});
  Result r = ephemeral.Call(ephemeral.Connect(s.address()), kEcho, "secret", {"tensor"});
  EXPECT_EQ(r.code, LOOM_CODE_OK) << r.message;
  EXPECT_EQ(r.payloads, std::vector<std::string>{"tensor"});
  Endpoint own(Options{{"server_key", server_keys.pub},
                       {"secret_key", client_keys.sec},
                       {"public_key", client_keys.pub}});
  EXPECT_EQ(own.Call(own.Connect(s.address()), kEcho, "x").code, LOOM_CODE_OK);
  EXPECT_EQ(s.delivered(), 2);
}

TEST(TransportZmqCurve, AClientWithoutTheKeyOrWithAWrongKeyDoesNotGetThrough) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  KeyPair server_keys = Keygen(), other = Keygen();
  Server s(Options{{"secret_key", server_keys.sec}, {"public_key", server_keys.pub}});
  for (const Options& o :
       std::vector<Options>{{{"connect_timeout_ms", "500"}},
                            {{"connect_timeout_ms", "500"}, {"server_key", other.pub}}}) {
    Endpoint c(o);
    Result r = c.Call(c.Connect(s.address()), kEcho, "let me in", {}, 3000);
    EXPECT_TRUE(r.code == LOOM_CODE_UNAVAILABLE || r.code == LOOM_CODE_DEADLINE_EXCEEDED)
        << r.code << ": " << r.message;
    EXPECT_NE(r.message.find(s.address()), std::string::npos) << r.message;
  }
  EXPECT_EQ(s.delivered(), 0);
}

TEST(TransportZmqCurve, AuthorizedKeysAdmitOnlyTheListedClients) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  KeyPair server_keys = Keygen(), alice = Keygen(), mallory = Keygen();
  Server s(Options{{"secret_key", server_keys.sec},
                   {"public_key", server_keys.pub},
                   {"authorized_keys", Keygen().pub + "," + alice.pub}});
  Endpoint a(Options{
      {"server_key", server_keys.pub}, {"secret_key", alice.sec}, {"public_key", alice.pub}});
  Result ra = a.Call(a.Connect(s.address()), kEcho, "alice", {}, 5000);
  EXPECT_EQ(ra.code, LOOM_CODE_OK) << ra.message;
  for (const Options& o : std::vector<Options>{
           {{"server_key", server_keys.pub}, {"connect_timeout_ms", "500"}},  // ephemeral
           {{"server_key", server_keys.pub},
            {"secret_key", mallory.sec},
            {"public_key", mallory.pub},
            {"connect_timeout_ms", "500"}}}) {
    Endpoint m(o);
    Result rm = m.Call(m.Connect(s.address()), kEcho, "mallory", {}, 3000);
    EXPECT_EQ(rm.code, LOOM_CODE_UNAVAILABLE) << rm.message;
    EXPECT_NE(rm.message.find(s.address()), std::string::npos) << rm.message;
  }
  EXPECT_EQ(s.delivered(), 1);
}

TEST(TransportZmqCurve, AuthorizedKeysNeedAServerKeyPair) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  Endpoint e(Options{{"authorized_keys", Keygen().pub}});
  ASSERT_NE(e.status(), nullptr);
  EXPECT_EQ(e.status()->code, LOOM_CODE_INVALID_ARGUMENT);
  Endpoint bad(Options{{"authorized_keys", "not-a-key"}});
  ASSERT_NE(bad.status(), nullptr);
  EXPECT_NE(bad.status()->message.find("authorized_keys"), std::string::npos);
}

// A TCP relay between a client and a server that records every byte it
// forwards, to look at what travels on the wire.
class Relay {
 public:
  explicit Relay(int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listen_fd_, 8);
    socklen_t len = sizeof(a);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Relay() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::string recorded() {
    std::lock_guard<std::mutex> lock(mu_);
    return recorded_;
  }

 private:
  void Loop() {
    while (!stop_) {
      std::vector<pollfd> p{{listen_fd_, POLLIN, 0}};
      for (int fd : fds_) p.push_back({fd, POLLIN, 0});
      if (poll(p.data(), p.size(), 20) <= 0) continue;
      if (p[0].revents & POLLIN) {
        int a = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in t{};
        t.sin_family = AF_INET;
        t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t.sin_port = htons(static_cast<uint16_t>(target_port_));
        if (connect(b, reinterpret_cast<sockaddr*>(&t), sizeof(t)) == 0) {
          fds_.push_back(a);
          fds_.push_back(b);
        } else {
          close(a);
          close(b);
        }
      }
      for (size_t i = 1; i < p.size(); ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        int from = p[i].fd;
        size_t k = i - 1;
        int to = fds_[k ^ 1];
        char buf[65536];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0) {
          // One side closed: close it and tell the other (poll skips fd -1).
          close(from);
          fds_[k] = -1;
          if (to >= 0) shutdown(to, SHUT_RDWR);
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          recorded_.append(buf, static_cast<size_t>(n));
        }
        for (ssize_t off = 0; to >= 0 && off < n;) {
          ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
    }
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> fds_;  // (client, server) pairs
  std::mutex mu_;
  std::string recorded_;
  std::thread thread_;
};

TEST(TransportZmqCurve, TensorBytesAreReadableOnTheWireWithoutCurveAndNotWithIt) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  std::string secret;
  for (int i = 0; i < 2000; ++i) secret += "LOOM-TENSOR-0xC0FFEE-";
  const std::string needle = "LOOM-TENSOR-0xC0FFEE-LOOM-TENSOR";
  KeyPair keys = Keygen();
  for (bool curve : {false, true}) {
    Options server_opts, client_opts;
    if (curve) {
      server_opts = {{"secret_key", keys.sec}, {"public_key", keys.pub}};
      client_opts = {{"server_key", keys.pub}};
    }
    Server s(server_opts);
    int port = std::stoi(s.address().substr(s.address().rfind(':') + 1));
    Relay relay(port);
    Endpoint c(client_opts);
    Result r =
        c.Call(c.Connect("127.0.0.1:" + std::to_string(relay.port())), kEcho, "h", {secret}, 10000);
    ASSERT_EQ(r.code, LOOM_CODE_OK) << r.message;
    ASSERT_EQ(r.payloads, std::vector<std::string>{secret});
    std::string wire = relay.recorded();
    EXPECT_GT(wire.size(), 2 * secret.size());  // both directions went through the relay
    if (curve) {
      EXPECT_EQ(wire.find(needle), std::string::npos) << "plaintext on a CURVE connection";
    } else {
      EXPECT_NE(wire.find(needle), std::string::npos) << "the relay saw no plaintext";
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) return ServeMain(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
