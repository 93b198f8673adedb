// The ZeroMQ transport plugin next to raw ZeroMQ, in one binary and one run.
// Not a test: it asserts nothing.
//
// Each side's server is a second process (this binary re-executed with
// --serve-plugin / --serve-raw) on TCP loopback, so both pay the same kernel
// and ZeroMQ I/O-thread hops:
//
//   Pull/<bytes>      the plugin: a call whose response carries <bytes> of
//                     payload, lent zero-copy by the server (RecvTensor's shape)
//   RawZeroCopy/<bytes>  a DEALER asks, the ROUTER answers with zmq_msg_init_data
//   RawCopy/<bytes>   the same with zmq_send (a copy of the bytes per message)
//   Latency64         a 64-byte request echoed back, the caller's thread waiting
//   Latency64Chained  the same, each call issued from the previous one's done
//                     callback (what a host does when it pipelines on the
//                     transport's thread)
//   RawLatency64/1    a 64-byte DEALER/ROUTER round trip, blocking calls
//   RawLatency64/3    the same in three frames (preamble, header, payload): what
//                     a frame costs; the plugin sends messages of up to 8 KiB
//                     as one frame for this reason (wire.h)
//
// cpu_per_op: CPU time of client and server together (every thread) per
// round trip, a figure that other load on the machine barely moves.
//
// Run (compare the _min rows):
//   build/bin/transport_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "transport_host.h"

using namespace transport_host;  // NOLINT

namespace {

constexpr size_t kMaxBytes = size_t{64} << 20;
constexpr uint32_t kPull = 1, kEcho = 2;

// The bytes every server sends: allocated once, never freed, lent zero-copy.
char* ServerBuffer() {
  static char* buf = [] {
    auto* b = static_cast<char*>(std::malloc(kMaxBytes));
    for (size_t i = 0; i < kMaxBytes; ++i) b[i] = static_cast<char>(i * 131);
    return b;
  }();
  return buf;
}
void NoRelease(void*) {}
void NoFree(void*, void*) {}

uint64_t ReadSize(const void* data, size_t size) {
  uint64_t n = 0;
  std::memcpy(&n, data, size < sizeof(n) ? size : sizeof(n));
  return n > kMaxBytes ? kMaxBytes : n;
}

// ---------------------------------------------------------------- servers

[[noreturn]] void ServePlugin() {
  ServerBuffer();
  Endpoint server({}, [](Endpoint* e, loom_transport_request* req, const std::string&,
                         const loom_transport_message* m) {
    if (m->method == kEcho) {
      EchoRespond(e, req, m);
      return;
    }
    uint64_t n = ReadSize(m->header.data, m->header.size);
    ReleaseAll(m);
    loom_transport_buffer payload{ServerBuffer(), n, NoRelease, nullptr};
    loom_transport_message r{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, 0, {}, &payload, 1, nullptr};
    e->Respond(req, &r);
  });
  std::printf("%s\n", server.Listen().c_str());
  std::fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  _exit(0);
}

// Raw ROUTER: a request [8-byte size][1 byte mode] gets `size` bytes back,
// zero-copy (mode 0) or copied (mode 1); mode 2 echoes the request.
[[noreturn]] void ServeRaw() {
  char* buf = ServerBuffer();
  void* ctx = zmq_ctx_new();
  void* router = zmq_socket(ctx, ZMQ_ROUTER);
  int zero = 0;
  zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
  zmq_bind(router, "tcp://127.0.0.1:*");
  char ep[128];
  size_t len = sizeof(ep);
  zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &len);
  std::printf("%s\n", ep + 6);
  std::fflush(stdout);
  zmq_pollitem_t items[2] = {{router, 0, ZMQ_POLLIN, 0}, {nullptr, 0, ZMQ_POLLIN, 0}};
  for (;;) {
    zmq_poll(items, 2, -1);
    if (items[1].revents) {
      char c;
      if (read(0, &c, 1) <= 0) _exit(0);
    }
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    zmq_msg_t id, req;
    zmq_msg_init(&id);
    zmq_msg_init(&req);
    zmq_msg_recv(&id, router, 0);
    zmq_msg_recv(&req, router, 0);
    zmq_msg_send(&id, router, ZMQ_SNDMORE);
    const auto* r = static_cast<const unsigned char*>(zmq_msg_data(&req));
    int mode = zmq_msg_size(&req) == 9 ? r[8] : 2;
    if (mode == 2) {  // echo every frame of the request
      while (zmq_msg_more(&req)) {
        zmq_msg_send(&req, router, ZMQ_SNDMORE);
        zmq_msg_recv(&req, router, 0);
      }
      zmq_msg_send(&req, router, 0);
      continue;
    }
    uint64_t n = ReadSize(r, zmq_msg_size(&req));
    zmq_msg_close(&req);
    if (mode == 0) {
      zmq_msg_t m;
      zmq_msg_init_data(&m, buf, n, NoFree, nullptr);
      zmq_msg_send(&m, router, 0);
    } else {
      zmq_send(router, buf, n, 0);
    }
  }
}

// A server process, killed by PID at exit (and by the kernel if we die).
struct Child {
  pid_t pid = -1;
  int in = -1;
  std::string address;
  explicit Child(const char* mode) {
    int out[2], inp[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(inp, O_CLOEXEC) != 0) std::abort();
    pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(out[1], 1);
      dup2(inp[0], 0);
      execl("/proc/self/exe", "transport_bench", mode, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    close(inp[0]);
    in = inp[1];
    char line[256] = {0};
    size_t got = 0;
    pollfd p{out[0], POLLIN, 0};
    while (got < sizeof(line) - 1 && std::strchr(line, '\n') == nullptr && poll(&p, 1, 10000) > 0) {
      ssize_t n = read(out[0], line + got, sizeof(line) - 1 - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    close(out[0]);
    if (char* nl = std::strchr(line, '\n')) *nl = '\0';
    address = line;
    if (address.empty()) {
      std::fprintf(stderr, "the %s server did not start\n", mode);
      std::exit(1);
    }
  }
  ~Child() {
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    close(in);
  }
};

Child& PluginServer() {
  static Child c("--serve-plugin");
  return c;
}
Child& RawServer() {
  static Child c("--serve-raw");
  return c;
}

// CPU time both processes spent (every thread), in ns: unlike wall time it
// barely moves with other load on a shared machine, so it shows the
// plugin's own cost next to raw ZeroMQ's even when the timings are noise.
int64_t ProcessCpuNs(pid_t pid) {
  if (pid == 0) {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
  int64_t total = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      FILE* f = std::fopen((dir + "/" + e->d_name + "/schedstat").c_str(), "r");
      if (f == nullptr) continue;
      long long ns = 0;
      if (std::fscanf(f, "%lld", &ns) == 1) total += ns;
      std::fclose(f);
    }
    closedir(d);
  }
  return total;
}

struct CpuMeter {
  pid_t server;
  int64_t start;
  explicit CpuMeter(pid_t server_pid)
      : server(server_pid), start(ProcessCpuNs(0) + ProcessCpuNs(server_pid)) {}
  // Sets the "cpu_per_op" counter (seconds of CPU, client + server, per op).
  void Report(benchmark::State& state, double ops) {
    double ns = static_cast<double>(ProcessCpuNs(0) + ProcessCpuNs(server) - start);
    state.counters["cpu_per_op"] = ops > 0 ? ns * 1e-9 / ops : 0;
  }
};

// ---------------------------------------------------------------- the plugin

struct PluginClient {
  Endpoint ep;
  loom_transport_peer* peer;
  PluginClient() { peer = ep.Connect(PluginServer().address); }
};
PluginClient& Client() {
  static PluginClient c;
  return c;
}

// One call, waited for on this thread; the payload is released unread (as a
// host would wrap it into a tensor without touching it).
struct Wait {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;
  static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
    auto* w = static_cast<Wait*>(arg);
    bool ok = st == nullptr;
    delete st;
    if (r != nullptr) ReleaseAll(r);
    std::lock_guard<std::mutex> lock(w->mu);
    w->ok = ok;
    w->done = true;
    w->cv.notify_one();
  }
};

bool PluginCall(PluginClient& c, const loom_transport_message* m) {
  Wait w;
  delete Zmq()->call(c.ep.get(), c.peer, m, 0, &Wait::Done, &w, nullptr);
  std::unique_lock<std::mutex> lock(w.mu);
  w.cv.wait(lock, [&] { return w.done; });
  return w.ok;
}

void Pull(benchmark::State& state) {
  PluginClient& c = Client();
  uint64_t n = static_cast<uint64_t>(state.range(0));
  loom_transport_message m{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE,
                           kPull,
                           {&n, sizeof(n), nullptr, nullptr},
                           nullptr,
                           0,
                           nullptr};
  CpuMeter cpu(PluginServer().pid);
  for (auto _ : state) {
    if (!PluginCall(c, &m)) state.SkipWithError("call failed");
  }
  cpu.Report(state, static_cast<double>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void Latency64(benchmark::State& state) {
  PluginClient& c = Client();
  std::string bytes(64, 'x');
  loom_transport_buffer p{bytes.data(), bytes.size(), nullptr, nullptr};
  loom_transport_message m{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, kEcho, {}, &p, 1, nullptr};
  CpuMeter cpu(PluginServer().pid);
  for (auto _ : state) {
    if (!PluginCall(c, &m)) state.SkipWithError("call failed");
  }
  cpu.Report(state, static_cast<double>(state.iterations()));
}

// kChain round trips per iteration, each issued from the previous done.
constexpr int kChain = 100;
struct Chain {
  PluginClient* c;
  loom_transport_message m{};
  int left = 0;
  bool ok = true;
  Wait finished;
  static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
    auto* ch = static_cast<Chain*>(arg);
    if (st != nullptr) ch->ok = false;
    delete st;
    if (r != nullptr) ReleaseAll(r);
    if (--ch->left > 0) {
      delete Zmq()->call(ch->c->ep.get(), ch->c->peer, &ch->m, 0, &Chain::Done, ch, nullptr);
    } else {
      Wait::Done(&ch->finished, nullptr, nullptr);
    }
  }
};

void Latency64Chained(benchmark::State& state) {
  std::string bytes(64, 'x');
  loom_transport_buffer p{bytes.data(), bytes.size(), nullptr, nullptr};
  Chain ch;
  ch.c = &Client();
  ch.m = {LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE, kEcho, {}, &p, 1, nullptr};
  CpuMeter cpu(PluginServer().pid);
  for (auto _ : state) {
    ch.left = kChain;
    ch.finished.done = false;
    delete Zmq()->call(ch.c->ep.get(), ch.c->peer, &ch.m, 0, &Chain::Done, &ch, nullptr);
    std::unique_lock<std::mutex> lock(ch.finished.mu);
    ch.finished.cv.wait(lock, [&] { return ch.finished.done; });
  }
  if (!ch.ok) state.SkipWithError("call failed");
  cpu.Report(state, static_cast<double>(state.iterations()) * kChain);
  state.counters["per_rtt"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kChain,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------- raw ZeroMQ

struct RawClient {
  void* ctx;
  void* dealer;
  RawClient() {
    ctx = zmq_ctx_new();
    dealer = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_connect(dealer, ("tcp://" + RawServer().address).c_str());
  }
};
RawClient& Raw() {
  static RawClient r;
  return r;
}

void RawPull(benchmark::State& state, int mode) {
  RawClient& r = Raw();
  unsigned char req[9];
  uint64_t n = static_cast<uint64_t>(state.range(0));
  std::memcpy(req, &n, 8);
  req[8] = static_cast<unsigned char>(mode);
  CpuMeter cpu(RawServer().pid);
  for (auto _ : state) {
    zmq_send(r.dealer, req, sizeof(req), 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, r.dealer, 0);
    if (zmq_msg_size(&m) != n) state.SkipWithError("short reply");
    zmq_msg_close(&m);
  }
  cpu.Report(state, static_cast<double>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
void RawZeroCopy(benchmark::State& state) { RawPull(state, 0); }
void RawCopy(benchmark::State& state) { RawPull(state, 1); }

// A 64-byte echo in one frame, or (frames = 3) as a 40-byte preamble, an
// empty header and the payload: the cost of frames alone, without the plugin.
void RawLatency64(benchmark::State& state) {
  RawClient& r = Raw();
  const int frames = static_cast<int>(state.range(0));
  std::string bytes(64, 'x'), preamble(40, 'p');
  CpuMeter cpu(RawServer().pid);
  for (auto _ : state) {
    if (frames == 3) {
      zmq_send(r.dealer, preamble.data(), preamble.size(), ZMQ_SNDMORE);
      zmq_send(r.dealer, "", 0, ZMQ_SNDMORE);
    }
    zmq_send(r.dealer, bytes.data(), bytes.size(), 0);
    int more = 1;
    while (more) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      zmq_msg_recv(&m, r.dealer, 0);
      more = zmq_msg_more(&m);
      zmq_msg_close(&m);
    }
  }
  cpu.Report(state, static_cast<double>(state.iterations()));
}

// With --benchmark_repetitions, "min" is the repetition least disturbed by
// other load on a shared machine (the figure to compare).
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

void Timed(benchmark::internal::Benchmark* b) { b->UseRealTime()->ComputeStatistics("min", Min); }
void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n = 4 << 10; n <= static_cast<int64_t>(kMaxBytes); n *= 4) b->Arg(n);
  Timed(b);
}

BENCHMARK(Pull)->Apply(Sizes);
BENCHMARK(RawZeroCopy)->Apply(Sizes);
BENCHMARK(RawCopy)->Apply(Sizes);
BENCHMARK(Latency64)->Apply(Timed);
BENCHMARK(Latency64Chained)->Apply(Timed);
BENCHMARK(RawLatency64)->Arg(1)->Arg(3)->Apply(Timed);

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--serve-plugin") == 0) ServePlugin();
  if (argc >= 2 && std::strcmp(argv[1], "--serve-raw") == 0) ServeRaw();
  signal(SIGPIPE, SIG_IGN);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
