// libFuzzer target: GraphDef import must turn any input into OK or a status,
// never a crash, a sanitizer report, or an unbounded allocation. The first
// byte picks binary or text; the rest is the GraphDef.
//
// Build (clang from Debian; see tests/graphdef/CMakeLists.txt):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
//     -DLOOM_SANITIZE=address -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DLOOM_BUILD_FUZZERS=ON
//   ninja -C build-fuzz fuzz_graphdef_import
//   build-fuzz/bin/fuzz_graphdef_import -runs=1000000 tests/fixtures/tf
#include <cstddef>
#include <cstdint>

#include "runtime/graph/graphdef.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  loom::ImportOptions opts;
  opts.format = (data[0] & 1) ? loom::GraphDefFormat::kText : loom::GraphDefFormat::kBinary;
  opts.max_tensor_bytes = 1 << 20;  // keep each input's allocations small
  loom::Graph g;
  std::vector<loom::Node*> added;
  loom::Status s = loom::ImportGraphDef(data + 1, size - 1, opts, &g, &added);
  if (s.ok() && static_cast<int>(added.size()) != g.num_nodes()) __builtin_trap();
  if (!s.ok() && g.num_nodes() != 0) __builtin_trap();  // a failed import changes nothing
  return 0;
}
