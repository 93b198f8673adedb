// loom-conformance <plugin.so>: holds a device plugin to Loom's conformance
// suite, from an installed Loom (`loom plugin-check --conformance` execs it).
//
//  1. The device interface (device_checks.h): the plugin is loaded by a
//     minimal host in a child process — before this process loads any plugin,
//     so the plugin's init runs once per process — and every device it
//     registers goes through allocation, copies both ways, live buffers,
//     memory statistics, and streams and events if it offers them.
//  2. The ops (runner.h): the plugin is loaded into Loom; for every device type
//     it registers and every op it has a kernel for there, each case of the
//     suite's tables for that op runs on the device and on the CPU plugin (the
//     reference) and must agree within the case's argued tolerance, or fail
//     with the same error code.
//
// Prints a per-op table (cases, passed, failed, skipped: no kernel for the
// case's dtypes), every skip with its reason, every failure with its values,
// the kernels no case covers, and a per-check table for the device interface. Exit status: 0 all passed,
// 1 a check failed, 2 the plugin or the reference could not be loaded.
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "conformance.h"
#include "device_checks.h"
#include "loom/loom.h"
#include "runner.h"

namespace {

using conformance::Verdict;

std::string RealPath(const char* p) {
  char buf[PATH_MAX];
  return realpath(p, buf) ? std::string(buf) : std::string(p);
}

// Runs in the child: 0 if every check of every device passed.
int CheckDeviceInterfaces(const std::string& path) {
  std::vector<conformance::PluginDevice> devices;
  std::string err = conformance::LoadPluginDevices(path, &devices);
  std::printf("== device interface (%s)\n", path.c_str());
  if (!err.empty()) {
    std::printf("FAILED to load with a minimal host: %s\n", err.c_str());
    return 1;
  }
  if (devices.empty()) {
    std::printf("the plugin registers no device\n");
    return 0;
  }
  int failed = 0;
  std::printf("%-12s %-42s %s\n", "DEVICE", "CHECK", "RESULT");
  for (const auto& d : devices) {
    for (int ord = 0; ord < d.iface.count; ++ord) {
      const std::string dev = std::string(d.iface.type) + ":" + std::to_string(ord);
      for (const auto& c : conformance::DeviceChecks()) {
        const std::string r = c.run(d.iface, ord);
        const bool skip = r.rfind("SKIP: ", 0) == 0;
        if (!r.empty() && !skip) ++failed;
        std::printf("%-12s %-42s %s\n", dev.c_str(), c.name,
                    r.empty() ? "pass"
                    : skip    ? ("skip (" + r.substr(6) + ")").c_str()
                              : ("FAIL: " + r).c_str());
      }
    }
  }
  std::fflush(stdout);
  return failed ? 1 : 0;
}

struct OpTally {
  int cases = 0, pass = 0, fail = 0, skip = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: loom-conformance <plugin.so>\n"
                 "  runs Loom's conformance suite on a device plugin: its device interface, and\n"
                 "  every op case of the suite for each kernel it registers, against the CPU plugin\n");
    return 2;
  }
  const std::string path = RealPath(argv[1]);

  // 1. The device interface, in a child: no plugin is loaded here yet.
  std::fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    return 2;
  }
  if (child == 0) {
    const int rc = CheckDeviceInterfaces(path);
    std::fflush(stdout);
    _exit(rc);
  }
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  const bool device_ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
  if (!WIFEXITED(wstatus)) std::printf("FAIL: the device checks crashed (signal %d)\n", WTERMSIG(wstatus));

  // 2. The ops.
  std::printf("\n== ops (%s)\n", path.c_str());
  if (loom_status* s = loom_plugin_load(path.c_str())) {
    std::printf("FAILED to load: %s: %s\n", loom_code_name(loom_status_code(s)), loom_status_message(s));
    loom_status_free(s);
    return 2;
  }
  if (!conformance::DevicePresent("CPU")) {
    std::printf("no CPU device, the reference: is the CPU plugin installed? plugins seen:%s\n",
                conformance::PluginReport().c_str());
    return 2;
  }
  std::set<std::string> types;
  for (int i = 0; i < loom_device_count(); ++i) {
    const char* owner = loom_device_plugin_path(i);
    if (owner && path == owner) types.insert(loom_device_type(i));
  }
  std::map<std::string, std::set<std::string>> kernels;  // device type -> op types
  for (int i = 0; i < loom_kernel_count(); ++i) {
    loom_kernel_record k;
    std::memset(&k, 0, sizeof k);
    k.struct_size = sizeof k;
    if (loom_status* s = loom_kernel_get(i, &k)) {
      loom_status_free(s);
      continue;
    }
    if (path == k.plugin_path && types.count(k.device_type)) kernels[k.device_type].insert(k.op_type);
  }
  if (types.empty()) std::printf("the plugin registers no device: no op cases to run\n");

  const std::vector<conformance::Case> cases = conformance::AllCases();
  int failed = 0;
  std::vector<std::string> failures, skips;
  for (const std::string& type : types) {
    std::map<std::string, OpTally> table;
    std::set<std::string> covered;
    for (const auto& c : cases) {
      if (!kernels[type].count(c.op)) continue;
      covered.insert(c.op);
      const conformance::Result r = conformance::CheckCase(c, type);
      OpTally& t = table[c.op];
      ++t.cases;
      if (r.verdict == Verdict::kPass) ++t.pass;
      if (r.verdict == Verdict::kSkip) {
        ++t.skip;
        skips.push_back(type + " " + c.op + "." + c.name + ": " + r.detail);
      }
      if (r.verdict == Verdict::kFail) {
        ++t.fail;
        std::string detail = r.detail;
        for (size_t p = 0; (p = detail.find('\n', p)) != std::string::npos; p += 5)
          detail.replace(p, 1, "\n    ");
        failures.push_back(type + " " + c.op + "." + c.name + ":\n    " + detail);
      }
    }
    std::printf("device %s, reference CPU: %zu ops with kernels, %zu with conformance cases\n", type.c_str(),
                kernels[type].size(), covered.size());
    std::printf("%-36s %6s %6s %6s %6s  %s\n", "OP", "CASES", "PASS", "FAIL", "SKIP", "RESULT");
    for (const auto& [op, t] : table) {
      failed += t.fail;
      std::printf("%-36s %6d %6d %6d %6d  %s\n", op.c_str(), t.cases, t.pass, t.fail, t.skip,
                  t.fail   ? "FAIL"
                  : t.pass ? "pass"
                           : "skipped");
    }
    std::string uncovered;
    for (const auto& op : kernels[type])
      if (!covered.count(op)) uncovered += (uncovered.empty() ? "" : ", ") + op;
    if (!uncovered.empty()) std::printf("kernels without a conformance case: %s\n", uncovered.c_str());
  }
  if (!skips.empty()) {
    std::printf(
        "\nskipped (the device has no kernel for the case's dtypes, or it answered UNIMPLEMENTED):\n");
    for (const auto& k : skips) std::printf("  %s\n", k.c_str());
  }
  if (!failures.empty()) {
    std::printf("\nfailures:\n");
    for (const auto& f : failures) std::printf("  %s\n", f.c_str());
  }
  std::printf("\n%s: %d op case(s) failed; device interface %s\n", failed || !device_ok ? "FAIL" : "PASS",
              failed, device_ok ? "passed" : "FAILED");
  return failed || !device_ok ? 1 : 0;
}
