// Real TensorFlow graphs (tests/fixtures/tf, made by make_tf_fixtures.py):
// each imports through loom.h and reproduces the outputs TensorFlow computed,
// or -- for ops Loom lacks -- fails naming every missing op.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using loomtest::Take;
using loomtest::TensorPtr;

struct TensorFile {
  std::string name, dtype, file;
  std::vector<int64_t> dims;
  double atol = 0, rtol = 0;
};

struct Fixture {
  std::string name, graph, format;
  std::vector<TensorFile> inputs, outputs;
  std::string error_code;
  std::vector<std::string> error_parts;
  bool optional = false;  // skip where Loom lacks one of its ops or kernels
};

void PrintTo(const Fixture& f, std::ostream* os) { *os << f.name; }

const std::string kDir = LOOM_FIXTURES_DIR "/tf";

std::vector<int64_t> ParseDims(const std::string& s) {
  std::vector<int64_t> dims;
  if (s == "-") return dims;
  std::stringstream ss(s);
  std::string d;
  while (std::getline(ss, d, ',')) dims.push_back(std::stoll(d));
  return dims;
}

std::vector<Fixture> LoadManifest() {
  std::vector<Fixture> out;
  std::ifstream f(kDir + "/manifest.txt");
  std::string line;
  Fixture cur;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string kind;
    ss >> kind;
    if (kind == "fixture") {
      cur = Fixture();
      ss >> cur.name >> cur.graph >> cur.format;
    } else if (kind == "input" || kind == "output") {
      TensorFile t;
      std::string dims;
      ss >> t.name >> t.dtype >> dims >> t.file;
      t.dims = ParseDims(dims);
      if (kind == "output") ss >> t.atol >> t.rtol;
      (kind == "input" ? cur.inputs : cur.outputs).push_back(t);
    } else if (kind == "error") {
      ss >> cur.error_code;
      std::string part;
      while (ss >> part) cur.error_parts.push_back(part);
    } else if (kind == "optional") {
      cur.optional = true;
    } else if (kind == "end") {
      out.push_back(cur);
    }
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

loom_dtype DtypeOf(const std::string& name) {
  if (name == "float32") return LOOM_DTYPE_FLOAT;
  if (name == "float64") return LOOM_DTYPE_DOUBLE;
  if (name == "int32") return LOOM_DTYPE_INT32;
  if (name == "int64") return LOOM_DTYPE_INT64;
  if (name == "bool") return LOOM_DTYPE_BOOL;
  if (name == "uint8") return LOOM_DTYPE_UINT8;
  return LOOM_DTYPE_INVALID;
}

// The op and output index of "name:index" in g.
loom_output Find(loom_graph* g, const std::string& tensor) {
  size_t colon = tensor.rfind(':');
  std::string op = tensor.substr(0, colon);
  int index = colon == std::string::npos ? 0 : std::stoi(tensor.substr(colon + 1));
  return loom_output{loom_graph_op_by_name(g, op.c_str()), index};
}

template <typename T>
void ExpectClose(const TensorFile& want, const std::string& bytes, const loom_tensor* got) {
  const T* w = reinterpret_cast<const T*>(bytes.data());
  const T* g = static_cast<const T*>(loom_tensor_data(got));
  size_t n = bytes.size() / sizeof(T);
  int bad = 0;
  for (size_t i = 0; i < n && bad < 5; ++i) {
    double wi = static_cast<double>(w[i]), gi = static_cast<double>(g[i]);
    // Float outputs: |got - want| <= atol + rtol * |want| (TensorFlow and Loom
    // may sum in different orders); integer outputs must match exactly.
    double tol = want.atol + want.rtol * std::fabs(wi);
    bool ok = std::is_floating_point<T>::value ? std::fabs(gi - wi) <= tol : gi == wi;
    if (!ok) {
      ++bad;
      ADD_FAILURE() << want.name << "[" << i << "]: Loom " << gi << ", TensorFlow " << wi;
    }
  }
}

class TfFixture : public ::testing::TestWithParam<Fixture> {};

TEST_P(TfFixture, ImportsAndReproducesTensorFlowsOutputs) {
  const Fixture& fx = GetParam();
  std::string graph = ReadFile(kDir + "/" + fx.graph);
  ASSERT_FALSE(graph.empty()) << fx.graph;
  loom_graph* g = loom_graph_new();
  loom_import_options* o = loom_import_options_new();
  loom_import_options_set_format(o, fx.format == "text" ? LOOM_GRAPHDEF_TEXT : LOOM_GRAPHDEF_BINARY);
  std::string err = Take(loom_graph_import_graphdef(g, graph.data(), graph.size(), o));
  loom_import_options_free(o);
  if (!fx.error_code.empty()) {
    EXPECT_EQ(err.rfind(fx.error_code, 0), 0u) << err;
    for (const auto& part : fx.error_parts) EXPECT_NE(err.find(part), std::string::npos) << part << " in " << err;
    EXPECT_EQ(loom_graph_num_ops(g), 0);
    loom_graph_free(g);
    return;
  }
  if (fx.optional && err.rfind("NOT_FOUND", 0) == 0) {
    loom_graph_free(g);
    GTEST_SKIP() << "Loom lacks an op of this graph: " << err;
  }
  ASSERT_EQ(err, "");

  std::vector<loom_output> feeds, fetches;
  std::vector<TensorPtr> values;
  std::vector<loom_tensor*> raw_values;
  for (const auto& in : fx.inputs) {
    feeds.push_back(Find(g, in.name));
    ASSERT_NE(feeds.back().op, nullptr) << in.name;
    std::string bytes = ReadFile(kDir + "/" + in.file);
    loom_tensor* t = nullptr;
    ASSERT_EQ(Take(loom_tensor_new(DtypeOf(in.dtype), in.dims.data(), static_cast<int>(in.dims.size()), &t)), "");
    ASSERT_EQ(loom_tensor_byte_size(t), bytes.size()) << in.file;
    std::memcpy(loom_tensor_data(t), bytes.data(), bytes.size());
    values.emplace_back(t);
    raw_values.push_back(t);
  }
  for (const auto& out : fx.outputs) {
    fetches.push_back(Find(g, out.name));
    ASSERT_NE(fetches.back().op, nullptr) << out.name;
  }
  loom_session* s = nullptr;
  ASSERT_EQ(Take(loom_session_new(g, nullptr, &s)), "");
  std::vector<loom_tensor*> results(fetches.size(), nullptr);
  err = Take(loom_session_run(s, feeds.data(), raw_values.data(), static_cast<int>(feeds.size()), fetches.data(),
                              static_cast<int>(fetches.size()), nullptr, 0, results.data()));
  if (err.empty()) {
    for (size_t i = 0; i < fetches.size(); ++i) {
      const TensorFile& want = fx.outputs[i];
      TensorPtr got(results[i]);
      SCOPED_TRACE(want.name);
      EXPECT_EQ(loom_tensor_dtype(got.get()), DtypeOf(want.dtype));
      EXPECT_EQ(got.shape(), want.dims);
      std::string bytes = ReadFile(kDir + "/" + want.file);
      if (loom_tensor_byte_size(got.get()) != bytes.size() || loom_tensor_dtype(got.get()) != DtypeOf(want.dtype))
        continue;
      switch (DtypeOf(want.dtype)) {
        case LOOM_DTYPE_FLOAT: ExpectClose<float>(want, bytes, got.get()); break;
        case LOOM_DTYPE_DOUBLE: ExpectClose<double>(want, bytes, got.get()); break;
        case LOOM_DTYPE_INT32: ExpectClose<int32_t>(want, bytes, got.get()); break;
        case LOOM_DTYPE_INT64: ExpectClose<int64_t>(want, bytes, got.get()); break;
        default: ExpectClose<uint8_t>(want, bytes, got.get()); break;
      }
    }
  } else if (fx.optional && err.find("no kernel") != std::string::npos) {
    loom_session_free(s);
    loom_graph_free(g);
    GTEST_SKIP() << "Loom has no kernel for an op of this graph yet: " << err;
  } else {
    ADD_FAILURE() << err;
  }
  loom_session_free(s);
  loom_graph_free(g);
}

INSTANTIATE_TEST_SUITE_P(TensorFlow, TfFixture, ::testing::ValuesIn(LoadManifest()),
                         [](const ::testing::TestParamInfo<Fixture>& info) { return info.param.name; });

TEST(TfFixtures, ManifestIsPresent) { EXPECT_GE(LoadManifest().size(), 5u); }

}  // namespace
