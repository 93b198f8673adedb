// libFuzzer target: what a peer sends a worker — each RPC's header, the
// tensors its metas describe over its payloads, a RegisterGraph's GraphDef —
// must decode to OK or a status, never a crash, a sanitizer report or an
// unbounded allocation.
//
// Input: byte 0 picks the method (1..6), byte 1 the number of payloads (0..3),
// the next 3 x 2 bytes their sizes, the rest is the header.
//
// Build and run (clang from Debian):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//     -DLOOM_SANITIZE=address -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DLOOM_BUILD_FUZZERS=ON
//   ninja -C build-fuzz fuzz_worker_decoders
//   build-fuzz/bin/fuzz_worker_decoders -runs=1000000 -max_len=4096
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "proto/worker.pb.h"
#include "runtime/dist/wire.h"
#include "runtime/graph/graphdef.h"

namespace {

void DecodeAll(const loom::pb::TensorMeta& m, const std::vector<std::shared_ptr<loom::Buffer>>& payloads) {
  loom::Tensor t;
  loom::Status s = loom::DecodeTensor(m, payloads, "fuzz", &t);
  if (s.ok() && t.byte_size() != payloads[m.payload()]->size) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint32_t method = data[0] % 7;
  const int num_payloads = data[1] % 4;
  std::vector<std::shared_ptr<loom::Buffer>> payloads;
  for (int i = 0; i < num_payloads; ++i) {
    size_t n = (static_cast<size_t>(data[2 + 2 * i]) << 8 | data[3 + 2 * i]) % 4096;
    auto b = loom::AllocateHostBuffer(n);
    std::memset(b->data, 0x5a, n);
    payloads.push_back(b);
  }
  const std::string header(reinterpret_cast<const char*>(data + 8), size - 8);
  switch (method) {
    case loom::kRegisterGraph: {
      loom::pb::RegisterGraphRequest r;
      if (!loom::DecodeHeader(header, &r, "fuzz").ok()) return 0;
      loom::ImportOptions io;
      io.max_tensor_bytes = 1 << 20;
      loom::Graph g;
      (void)loom::ImportGraphDef(r.graph_def().data(), r.graph_def().size(), io, &g);
      return 0;
    }
    case loom::kRunGraph: {
      loom::pb::RunGraphRequest r;
      if (!loom::DecodeHeader(header, &r, "fuzz").ok()) return 0;
      for (const auto& m : r.feeds()) DecodeAll(m, payloads);
      return 0;
    }
    case loom::kRecvTensor: {
      loom::pb::RecvTensorResponse r;
      if (!loom::DecodeHeader(header, &r, "fuzz").ok()) return 0;
      DecodeAll(r.tensor(), payloads);
      return 0;
    }
    case loom::kGetStatus: {
      loom::pb::GetStatusResponse r;
      (void)loom::DecodeHeader(header, &r, "fuzz");
      return 0;
    }
    case loom::kCleanupGraph: {
      loom::pb::CleanupGraphRequest r;
      (void)loom::DecodeHeader(header, &r, "fuzz");
      return 0;
    }
    default: {
      loom::pb::EndStepRequest r;
      (void)loom::DecodeHeader(header, &r, "fuzz");
      return 0;
    }
  }
}
