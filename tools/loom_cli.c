/* loom — the command line: devices, plugins, ops, version. Uses only loom.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void usage(void) {
  fprintf(stderr,
          "usage: loom <command>\n"
          "  devices            list devices of the loaded plugins\n"
          "  plugins            list plugins found (path, version, ABI, status)\n"
          "  ops                list registered ops and the device types with kernels\n"
          "  load <plugin.so>   load a plugin and report the result\n"
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
