// Transport ABI stability: the frozen v1.0 headers (transport_v1_0/, never
// edited) and the current loom_transport.h agree on every struct's size and
// field offsets, and a plugin built against the frozen headers loads and runs
// under a host built against the current ones.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "transport_host.h"

extern "C" {
typedef struct transport_layout_entry {
  const char* name;
  size_t value;
} transport_layout_entry;
const transport_layout_entry* transport_layout_frozen(size_t* out_count);
const transport_layout_entry* transport_layout_current(size_t* out_count);
}

namespace {

TEST(AbiTransportV10, EveryStructKeepsItsSizeAndOffsets) {
  size_t nf = 0, nc = 0;
  const transport_layout_entry* frozen = transport_layout_frozen(&nf);
  const transport_layout_entry* current = transport_layout_current(&nc);
  ASSERT_EQ(nf, nc);
  for (size_t i = 0; i < nf; ++i) {
    ASSERT_STREQ(frozen[i].name, current[i].name);
    EXPECT_EQ(frozen[i].value, current[i].value) << frozen[i].name;
  }
}

struct Echo {
  std::string header, payload;
  int done = 0;
  static void Done(void* arg, loom_status* st, const loom_transport_message* r) {
    auto* e = static_cast<Echo*>(arg);
    ++e->done;
    delete st;
    e->header.assign(static_cast<const char*>(r->header.data), r->header.size);
    e->payload.assign(static_cast<const char*>(r->payloads[0].data), r->payloads[0].size);
  }
};

TEST(AbiTransportV10, AFrozenHeaderPluginLoadsAndRuns) {
  transport_host::Loaded l = transport_host::LoadPlugin(LOOM_TEST_FROZEN_TRANSPORT);
  ASSERT_EQ(l.error, "");
  EXPECT_EQ(l.info.abi_major, 1);
  ASSERT_NE(l.last, nullptr);
  const loom_transport_interface* t = l.last;
  EXPECT_STREQ(t->scheme, "frozen10");
  EXPECT_EQ(t->struct_size, LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE);

  loom_transport_option opt{"colour", "blue"};
  loom_transport* ep = nullptr;
  loom_status* s = t->create(t->state, &opt, 1, nullptr, nullptr, &ep);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, LOOM_CODE_INVALID_ARGUMENT);
  delete s;
  ASSERT_EQ(t->create(t->state, nullptr, 0, nullptr, nullptr, &ep), nullptr);
  loom_transport_peer* peer = nullptr;
  ASSERT_EQ(t->connect(ep, "x:1", &peer), nullptr);
  std::string header = "header", payload = "payload";
  loom_transport_buffer p{payload.data(), payload.size(), nullptr, nullptr};
  loom_transport_message m{LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE,
                           5,
                           {header.data(), header.size(), nullptr, nullptr},
                           &p,
                           1,
                           nullptr};
  Echo echo;
  ASSERT_EQ(t->call(ep, peer, &m, 0, &Echo::Done, &echo, nullptr), nullptr);
  EXPECT_EQ(echo.done, 1);
  EXPECT_EQ(echo.header, "header");
  EXPECT_EQ(echo.payload, "payload");
  int64_t calls = 0;
  t->stats(ep, &calls, nullptr, nullptr);
  EXPECT_EQ(calls, 1);
  char pub[8], sec[8];
  ASSERT_EQ(t->keygen(t->state, pub, sizeof(pub), sec, sizeof(sec)), nullptr);
  EXPECT_STREQ(pub, "public");
  t->destroy(ep);
}

}  // namespace
