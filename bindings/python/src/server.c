/* loom._C: Server: a task of a distributed cluster; transport key generation. */
#include "loom_c.h"

/* ------------------------------------------------------------------ servers */

typedef struct {
  PyObject_HEAD
  loom_server* server;
} ServerObject;

/* Server(cluster_json, job, task, protocol=None, transport_options=None,
 *        insecure=False, threads=0): a task of a cluster (not yet started). */
static PyObject* Server_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  static char* kwlist[] = {"cluster_json", "job", "task", "protocol", "transport_options",
                           "insecure", "threads", NULL};
  const char *cluster, *job, *protocol = NULL;
  int task = 0, insecure = 0, threads = 0;
  PyObject* transport = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "ssi|zOpi", kwlist, &cluster, &job, &task, &protocol,
                                   &transport, &insecure, &threads))
    return NULL;
  loom_server_options* o = loom_server_options_new();
  loom_status* s = loom_server_options_set_cluster(o, cluster);
  loom_server_options_set_task(o, job, task);
  loom_server_options_set_protocol(o, protocol);
  loom_server_options_set_insecure(o, insecure);
  loom_server_options_set_threads(o, threads);
  if (s == NULL && transport != NULL && transport != Py_None) {
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Check(transport) && PyDict_Next(transport, &pos, &k, &v)) {
      const char* ks = PyUnicode_AsUTF8(k);
      const char* vs = PyUnicode_AsUTF8(v);
      if (ks == NULL || vs == NULL) {
        loom_server_options_free(o);
        return NULL;
      }
      loom_server_options_set_transport_option(o, ks, vs);
    }
  }
  ServerObject* self = (ServerObject*)type->tp_alloc(type, 0);
  if (self == NULL) {
    loom_server_options_free(o);
    return NULL;
  }
  if (s == NULL) s = loom_server_new(o, &self->server);
  loom_server_options_free(o);
  if (s != NULL) {
    Py_DECREF(self);
    return raise_status(s, NULL);
  }
  return (PyObject*)self;
}

static void Server_dealloc(ServerObject* self) {
  if (self->server) {
    loom_server* srv = self->server;
    self->server = NULL;
    Py_BEGIN_ALLOW_THREADS loom_server_free(srv);
    Py_END_ALLOW_THREADS
  }
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* Server_start(ServerObject* self, PyObject* unused) {
  loom_status* s;
  Py_BEGIN_ALLOW_THREADS s = loom_server_start(self->server);
  Py_END_ALLOW_THREADS
  if (s != NULL) return raise_status(s, NULL);
  Py_RETURN_NONE;
}

static PyObject* Server_stop(ServerObject* self, PyObject* unused) {
  loom_server_stop(self->server);
  Py_RETURN_NONE;
}

/* Waits for stop() (or a signal the server handles). */
static PyObject* Server_join(ServerObject* self, PyObject* unused) {
  Py_BEGIN_ALLOW_THREADS loom_server_join(self->server);
  Py_END_ALLOW_THREADS
  Py_RETURN_NONE;
}

static PyObject* Server_target(ServerObject* self, void* unused) {
  return PyUnicode_FromString(loom_server_target(self->server));
}

static PyMethodDef Server_methods[] = {
    {"start", (PyCFunction)Server_start, METH_NOARGS, "listen and serve"},
    {"stop", (PyCFunction)Server_stop, METH_NOARGS, "stop serving"},
    {"join", (PyCFunction)Server_join, METH_NOARGS, "block until stopped"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Server_getset[] = {{"target", (getter)Server_target, NULL, "zmq://host:port", NULL},
                                      {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject ServerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Server",
    .tp_basicsize = sizeof(ServerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Server_new,
    .tp_dealloc = (destructor)Server_dealloc,
    .tp_methods = Server_methods,
    .tp_getset = Server_getset,
};

PyObject* transport_keygen(PyObject* self, PyObject* args) {
  const char* scheme = "zmq";
  if (!PyArg_ParseTuple(args, "|s", &scheme)) return NULL;
  char pub[128], sec[128];
  loom_status* s = loom_transport_keygen(scheme, pub, sizeof(pub), sec, sizeof(sec));
  if (s != NULL) return raise_status(s, NULL);
  return Py_BuildValue("(ss)", pub, sec);
}
