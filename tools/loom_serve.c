/* `loom serve` and `loom keygen`: run one task of a cluster, make CURVE keys.
 * Only loom.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom/loom.h"

static int fail(loom_status* s, const char* what) {
  fprintf(stderr, "loom %s: %s: %s\n", what, loom_code_name(loom_status_code(s)), loom_status_message(s));
  loom_status_free(s);
  return 1;
}

static void serve_usage(void) {
  fprintf(stderr,
          "usage: loom serve [--cluster JSON] [--job NAME] [--task N] [--protocol zmq]\n"
          "                  [--secret-key Z85 --public-key Z85] [--insecure] [--threads N]\n"
          "                  [--heartbeat-ms N] [--heartbeat-timeout-ms N]\n"
          "  Runs one task of a cluster until SIGTERM or SIGINT. Without --cluster, the\n"
          "  cluster and task come from the TF_CONFIG environment variable\n"
          "  ({\"cluster\": {...}, \"task\": {\"type\": \"worker\", \"index\": 0}}).\n"
          "  A non-loopback address needs --secret-key/--public-key (loom keygen) or --insecure.\n");
}

int loom_cmd_serve(int argc, char** argv) {
  const char* cluster = NULL;
  const char* job = NULL;
  int task = 0, have_task = 0;
  loom_server_options* o = loom_server_options_new();
  loom_status* s = NULL;
  for (int i = 2; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--insecure") == 0) {
      loom_server_options_set_insecure(o, 1);
      continue;
    }
    if (!v) {
      serve_usage();
      loom_server_options_free(o);
      return 2;
    }
    ++i;
    if (strcmp(a, "--cluster") == 0) cluster = v;
    else if (strcmp(a, "--job") == 0) job = v;
    else if (strcmp(a, "--task") == 0) task = atoi(v), have_task = 1;
    else if (strcmp(a, "--protocol") == 0) loom_server_options_set_protocol(o, v);
    else if (strcmp(a, "--threads") == 0) loom_server_options_set_threads(o, atoi(v));
    else if (strcmp(a, "--secret-key") == 0) loom_server_options_set_transport_option(o, "secret_key", v);
    else if (strcmp(a, "--public-key") == 0) loom_server_options_set_transport_option(o, "public_key", v);
    else if (strcmp(a, "--heartbeat-ms") == 0) loom_server_options_set_transport_option(o, "heartbeat_ms", v);
    else if (strcmp(a, "--heartbeat-timeout-ms") == 0)
      loom_server_options_set_transport_option(o, "heartbeat_timeout_ms", v);
    else {
      fprintf(stderr, "loom serve: unknown option %s\n", a);
      serve_usage();
      loom_server_options_free(o);
      return 2;
    }
  }
  if (cluster) {
    s = loom_server_options_set_cluster(o, cluster);
    if (!s && !job) {
      fprintf(stderr, "loom serve: --cluster needs --job (and --task)\n");
      loom_server_options_free(o);
      return 2;
    }
    if (!s) loom_server_options_set_task(o, job, task);
  } else if (getenv("TF_CONFIG")) {
    s = loom_server_options_set_tf_config(o, getenv("TF_CONFIG"));
    if (!s && job) loom_server_options_set_task(o, job, have_task ? task : 0);
  } else {
    fprintf(stderr, "loom serve: give --cluster JSON --job NAME --task N, or set TF_CONFIG\n");
    serve_usage();
    loom_server_options_free(o);
    return 2;
  }
  loom_server* server = NULL;
  if (!s) {
    loom_server_options_set_handle_signals(o, 1);
    s = loom_server_new(o, &server);
  }
  loom_server_options_free(o);
  if (!s) s = loom_server_start(server);
  if (s) {
    loom_server_free(server);
    return fail(s, "serve");
  }
  /* Tests and scripts read this line to learn the bound address. */
  printf("serving %s\n", loom_server_target(server));
  fflush(stdout);
  loom_server_join(server);
  loom_server_free(server);
  fprintf(stderr, "loom serve: stopped\n");
  return 0;
}

int loom_cmd_keygen(int argc, char** argv) {
  char pub[128], sec[128];
  loom_status* s = loom_transport_keygen(argc > 2 ? argv[2] : "zmq", pub, sizeof(pub), sec, sizeof(sec));
  if (s) return fail(s, "keygen");
  printf("public_key %s\nsecret_key %s\n", pub, sec);
  return 0;
}
