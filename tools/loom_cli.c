/* loom — the command line: devices, plugins, ops, version. Uses only loom.h. */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loom/loom.h"

static int cmd_devices(void) {
  int n = loom_device_count();
  if (n == 0) {
    printf("no devices (no device plugin loaded; see `loom plugins`)\n");
    return 1;
  }
  for (int i = 0; i < n; ++i) printf("%s\t%s\n", loom_device_name(i), loom_device_type(i));
  return 0;
}

static int cmd_plugins(void) {
  int n = loom_plugin_count();
  printf("%-10s %-9s %-5s %-8s %s\n", "NAME", "VERSION", "ABI", "STATUS", "PATH");
  for (int i = 0; i < n; ++i) {
    loom_plugin_record r;
    memset(&r, 0, sizeof(r));
    r.struct_size = sizeof(r);
    loom_status* s = loom_plugin_get(i, &r);
    if (s) {
      fprintf(stderr, "%s\n", loom_status_message(s));
      loom_status_free(s);
      continue;
    }
    char abi[32];
    snprintf(abi, sizeof(abi), "%d.%d", r.abi_major, r.abi_minor);
    printf("%-10s %-9s %-5s %-8s %s\n", r.name[0] ? r.name : "-", r.version[0] ? r.version : "-", abi,
           r.loaded ? "loaded" : "refused", r.path);
    if (!r.loaded) printf("           reason: %s\n", r.error);
  }
  if (n == 0) printf("(no plugins found in <libdir>/loom/plugins or $LOOM_PLUGIN_PATH)\n");
  return 0;
}

static int cmd_ops(void) {
  int n = loom_op_type_count();
  for (int i = 0; i < n; ++i) {
    const char* op = loom_op_type_at(i);
    char* devs = loom_op_type_kernel_devices(op);
    printf("%-40s %s\n", op, devs && devs[0] ? devs : "(core)");
    loom_string_free(devs);
  }
  return 0;
}

/* The conformance runner (tools/conformance), installed next to this program
 * at LOOM_CONFORMANCE_RUNNER_REL from its directory; $LOOM_CONFORMANCE_RUNNER
 * overrides. Writes the path into out[n]; 0 if not found. */
static int find_conformance_runner(char* out, size_t n) {
  snprintf(out, n, "%s", "<prefix>/libexec/loom/loom-conformance");
  const char* env = getenv("LOOM_CONFORMANCE_RUNNER");
  if (env && env[0]) {
    snprintf(out, n, "%s", env);
    return access(out, X_OK) == 0;
  }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 0;
  self[len] = '\0';
  char* slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  snprintf(out, n, "%s/%s", self, LOOM_CONFORMANCE_RUNNER_REL);
  return access(out, X_OK) == 0;
}

/* Loads a plugin, prints what it registered, and with --conformance execs the
 * conformance runner on it: every op case of the suite for each kernel it
 * registers, against the CPU plugin, and its device interface. */
static int cmd_plugin_check(int argc, char** argv) {
  const char* path = NULL;
  int conformance = 0;
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "--conformance") == 0) {
      conformance = 1;
    } else if (!path) {
      path = argv[i];
    } else {
      fprintf(stderr, "plugin-check: unexpected argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: loom plugin-check [--conformance] <plugin.so>\n");
    return 2;
  }
  loom_status* s = loom_plugin_load(path);
  if (s) {
    fprintf(stderr, "refused: %s: %s\n", loom_code_name(loom_status_code(s)), loom_status_message(s));
    loom_status_free(s);
    return 1;
  }
  char resolved[4096];
  const char* real = realpath(path, resolved) ? resolved : path;
  for (int i = 0; i < loom_plugin_count(); ++i) {
    loom_plugin_record r;
    memset(&r, 0, sizeof(r));
    r.struct_size = sizeof(r);
    if ((s = loom_plugin_get(i, &r))) {
      loom_status_free(s);
      continue;
    }
    if (strcmp(r.path, real) == 0)
      printf("plugin %s version %s, built for plugin ABI %d.%d (this Loom: %s)\n", r.name, r.version,
             r.abi_major, r.abi_minor, loom_version());
  }
  printf("devices:\n");
  for (int i = 0; i < loom_device_count(); ++i) {
    const char* owner = loom_device_plugin_path(i);
    if (!owner || strcmp(owner, real) != 0) continue;
    printf("  %s\n", loom_device_name(i));
  }
  printf("kernels:\n");
  int nk = 0;
  for (int i = 0; i < loom_kernel_count(); ++i) {
    loom_kernel_record k;
    memset(&k, 0, sizeof(k));
    k.struct_size = sizeof(k);
    if ((s = loom_kernel_get(i, &k))) {
      loom_status_free(s);
      continue;
    }
    if (strcmp(k.plugin_path, real) != 0) continue;
    printf("  %-32s on %-10s priority %d\n", k.op_type, k.device_type, k.priority);
    nk++;
  }
  printf("%d kernels\n", nk);
  if (conformance) {
    char runner[PATH_MAX + 64];
    if (!find_conformance_runner(runner, sizeof(runner))) {
      fprintf(stderr, "plugin-check: the conformance runner is missing (looked for %s)\n", runner);
      return 2;
    }
    printf("\nconformance (%s):\n", runner);
    fflush(stdout);
    execl(runner, runner, real, (char*)NULL);
    perror("plugin-check: exec of the conformance runner failed");
    return 2;
  }
  return 0;
}

int loom_cmd_serve(int argc, char** argv);   /* loom_serve.c */
int loom_cmd_keygen(int argc, char** argv);

static void usage(void) {
  fprintf(stderr,
          "usage: loom <command>\n"
          "  devices            list devices of the loaded plugins\n"
          "  plugins            list plugins found (path, version, ABI, status)\n"
          "  ops                list registered ops and the device types with kernels\n"
          "  load <plugin.so>   load a plugin and report the result\n"
          "  plugin-check [--conformance] <plugin.so>\n"
          "                     load a plugin, list its devices and kernels; --conformance: check its\n"
          "                     device interface and every op case against the CPU (exit 1 on failure)\n"
          "  serve [--cluster JSON --job J --task N | TF_CONFIG] [--insecure] ...\n"
          "                     run one task of a cluster (docs/distributed.md)\n"
          "  keygen [zmq]       print a fresh CURVE key pair for secure clusters\n"
          "  version            print the library version\n");
}

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  const char* cmd = argv[1];
  if (strcmp(cmd, "devices") == 0) return cmd_devices();
  if (strcmp(cmd, "plugins") == 0) return cmd_plugins();
  if (strcmp(cmd, "ops") == 0) return cmd_ops();
  if (strcmp(cmd, "version") == 0) {
    printf("%s\n", loom_version());
    return 0;
  }
  if (strcmp(cmd, "plugin-check") == 0 && argc >= 3) return cmd_plugin_check(argc, argv);
  if (strcmp(cmd, "serve") == 0) return loom_cmd_serve(argc, argv);
  if (strcmp(cmd, "keygen") == 0) return loom_cmd_keygen(argc, argv);
  if (strcmp(cmd, "load") == 0 && argc == 3) {
    loom_status* s = loom_plugin_load(argv[2]);
    if (s) {
      fprintf(stderr, "error: %s: %s\n", loom_code_name(loom_status_code(s)), loom_status_message(s));
      loom_status_free(s);
      return 1;
    }
    printf("loaded %s\n", argv[2]);
    return cmd_devices();
  }
  usage();
  return 2;
}
