/* loom._C — the CPython face of loom.h.
 *
 * This module calls only functions of capi/include/loom/loom.h. It is kept
 * deliberately low level: the TensorFlow-1.x-shaped API lives in Python
 * (loom/framework.py and friends), and this module provides
 *   - Graph:    owns a loom_graph; builds ops, answers queries about them,
 *               adds gradients;
 *   - Session:  owns a loom_session; prepares Callables;
 *   - Callable: a prepared (feeds, fetches, targets) signature — the hot path
 *               of Session.run: numpy arrays go in without a copy (wrapped by
 *               loom_tensor_new_from_data with a deallocator that releases
 *               the array), results come out as numpy arrays that own their
 *               loom_tensor through a capsule base object;
 *   - register_gradient: a Python callable as a loom_gradient_fn.
 *
 * Ops are passed to and from Python as integers holding the loom_op* (valid
 * for as long as the graph; the Python layer keeps the graph alive), and
 * tensors-in-graph as (op, index) tuples.
 *
 * Errors: every non-NULL loom_status becomes a Python exception made by the
 * factory that loom/errors.py installs with set_error_factory(code, message,
 * op_name) -> exception instance, so classes match TensorFlow's.
 *
 * The module is split along its sections: errors.c, convert.c (dtypes, tensors,
 * parsing), graph.c (Graph, op queries), gradients.c, session.c (Session,
 * Callable), server.c, and this file (module functions, the method table,
 * PyInit__C); loom_c.h declares what they share.
 */
#define LOOM_C_IMPORT_ARRAY /* this file calls import_array() */
#include "loom_c.h"

/* ------------------------------------------------------------------ module */

static PyObject* mod_version(PyObject* self, PyObject* unused) {
  return PyUnicode_FromString(loom_version());
}

static PyObject* mod_devices(PyObject* self, PyObject* unused) {
  int n = loom_device_count();
  PyObject* l = PyList_New(n);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) {
    const char* name = loom_device_name(i);
    const char* type = loom_device_type(i);
    PyList_SET_ITEM(l, i, Py_BuildValue("(ss)", name ? name : "", type ? type : ""));
  }
  return l;
}

static PyObject* mod_plugins(PyObject* self, PyObject* unused) {
  int n = loom_plugin_count();
  PyObject* l = PyList_New(0);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) {
    loom_plugin_record r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    loom_status* s = loom_plugin_get(i, &r);
    if (s != NULL) {
      loom_status_free(s);
      continue;
    }
    PyObject* d = Py_BuildValue("{s:s,s:s,s:s,s:(ii),s:O,s:s}", "path", r.path ? r.path : "",
                                "name", r.name ? r.name : "", "version",
                                r.version ? r.version : "", "abi", r.abi_major, r.abi_minor,
                                "loaded", r.loaded ? Py_True : Py_False, "error",
                                r.error ? r.error : "");
    if (d == NULL) {
      Py_DECREF(l);
      return NULL;
    }
    PyList_Append(l, d);
    Py_DECREF(d);
  }
  return l;
}

static PyObject* mod_op_types(PyObject* self, PyObject* unused) {
  int n = loom_op_type_count();
  PyObject* l = PyList_New(n);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) {
    const char* t = loom_op_type_at(i);
    PyList_SET_ITEM(l, i, PyUnicode_FromString(t ? t : ""));
  }
  return l;
}

static PyObject* mod_kernel_devices(PyObject* self, PyObject* arg) {
  const char* t = PyUnicode_AsUTF8(arg);
  if (t == NULL) return NULL;
  char* s = loom_op_type_kernel_devices(t);
  PyObject* r = PyUnicode_FromString(s ? s : "");
  loom_string_free(s);
  return r;
}

static PyObject* mod_load_plugin(PyObject* self, PyObject* arg) {
  const char* p = PyUnicode_AsUTF8(arg);
  if (p == NULL) return NULL;
  loom_status* s = loom_plugin_load(p);
  if (s != NULL) return raise_status(s, NULL);
  Py_RETURN_NONE;
}

static PyObject* mod_load_op_library(PyObject* self, PyObject* arg) {
  const char* p = PyUnicode_AsUTF8(arg);
  if (p == NULL) return NULL;
  loom_status* s = loom_load_op_library(p);
  if (s != NULL) return raise_status(s, NULL);
  Py_RETURN_NONE;
}

static PyObject* mod_code_name(PyObject* self, PyObject* arg) {
  long c = PyLong_AsLong(arg);
  if (c == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(loom_code_name((loom_code)c));
}

static PyObject* mod_dtype_name(PyObject* self, PyObject* arg) {
  long c = PyLong_AsLong(arg);
  if (c == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(loom_dtype_name((loom_dtype)c));
}

/* roundtrip(array) -> array: numpy -> loom_tensor (zero-copy) -> numpy, for
 * tests of the conversion paths. */
static PyObject* mod_roundtrip(PyObject* self, PyObject* arg) {
  PyArrayObject* a = (PyArrayObject*)PyArray_FROM_OF(arg, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
  if (a == NULL) return NULL;
  loom_tensor* t = tensor_from_array(a, "roundtrip");
  Py_DECREF(a);
  if (t == NULL) return NULL;
  return array_from_tensor(t, 0);
}


/* checkpoint_list(path) -> [(name, dtype, shape)] */
static PyObject* mod_checkpoint_list(PyObject* self, PyObject* arg) {
  const char* path = PyUnicode_AsUTF8(arg);
  if (path == NULL) return NULL;
  loom_checkpoint* c;
  loom_status* s = loom_checkpoint_open(path, &c);
  if (s != NULL) return raise_status(s, NULL);
  int n = loom_checkpoint_num_variables(c);
  PyObject* l = PyList_New(n);
  for (int i = 0; l != NULL && i < n; ++i) {
    int nd = loom_checkpoint_variable_num_dims(c, i);
    int64_t dims[64];
    for (int d = 0; d < nd && d < 64; ++d) dims[d] = loom_checkpoint_variable_dim(c, i, d);
    PyList_SET_ITEM(l, i, Py_BuildValue("(siN)", loom_checkpoint_variable_name(c, i),
                                        (int)loom_checkpoint_variable_dtype(c, i),
                                        shape_to_py(dims, nd > 64 ? 64 : nd)));
  }
  loom_checkpoint_free(c);
  return l;
}

/* checkpoint_read(path, name) -> array */
static PyObject* mod_checkpoint_read(PyObject* self, PyObject* args) {
  const char *path, *name;
  if (!PyArg_ParseTuple(args, "ss", &path, &name)) return NULL;
  loom_checkpoint* c;
  loom_status* s = loom_checkpoint_open(path, &c);
  if (s != NULL) return raise_status(s, NULL);
  loom_tensor* t = NULL;
  s = loom_checkpoint_read(c, name, &t);
  loom_checkpoint_free(c);
  if (s != NULL) return raise_status(s, name);
  return array_from_tensor(t, 0);
}


static PyMethodDef module_methods[] = {
    {"checkpoint_list", mod_checkpoint_list, METH_O, "[(name, dtype, shape)] of a checkpoint"},
    {"checkpoint_read", mod_checkpoint_read, METH_VARARGS, "checkpoint_read(path, name) -> array"},
    {"version", mod_version, METH_NOARGS, "loom_version()"},
    {"devices", mod_devices, METH_NOARGS, "[(name, type)] of all loaded devices"},
    {"plugins", mod_plugins, METH_NOARGS, "records of every plugin seen"},
    {"op_types", mod_op_types, METH_NOARGS, "registered op types"},
    {"kernel_devices", mod_kernel_devices, METH_O, "device types with a kernel for an op type"},
    {"load_plugin", mod_load_plugin, METH_O, "loom_plugin_load(path)"},
    {"load_op_library", mod_load_op_library, METH_O, "loom_load_op_library(path)"},
    {"code_name", mod_code_name, METH_O, "loom_code_name(code)"},
    {"dtype_name", mod_dtype_name, METH_O, "loom_dtype_name(dtype)"},
    {"set_error_factory", set_error_factory, METH_O,
     "set_error_factory(fn(code, message, op_name) -> exception)"},
    {"op_info", op_info, METH_O,
     "op_info(op) -> (name, type, device, num_outputs, dtypes, num_inputs, num_control_inputs)"},
    {"op_inputs", op_inputs, METH_O, "op_inputs(op) -> [(op, index)]"},
    {"op_control_inputs", op_control_inputs, METH_O, "op_control_inputs(op) -> [op]"},
    {"op_attr", op_attr, METH_VARARGS, "op_attr(op, name, kind)"},
    {"num_consumers", output_num_consumers, METH_VARARGS, "num_consumers(op, index)"},
    {"register_gradient", register_gradient, METH_VARARGS,
     "register_gradient(op_type, fn|None): fn(graph_address, op, grads) -> grads of inputs"},
    {"roundtrip", mod_roundtrip, METH_O, "numpy -> loom_tensor -> numpy, zero-copy"},
    {"transport_keygen", transport_keygen, METH_VARARGS, "transport_keygen(scheme='zmq') -> (public, secret)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef loom_module = {PyModuleDef_HEAD_INIT, "_C",
                                         "Loom's C API (loom.h) for Python.", -1,
                                         module_methods};

PyMODINIT_FUNC PyInit__C(void) {
  import_array();
  if (PyType_Ready(&GraphType) < 0 || PyType_Ready(&SessionType) < 0 ||
      PyType_Ready(&CallableType) < 0 || PyType_Ready(&ServerType) < 0)
    return NULL;
  PyObject* m = PyModule_Create(&loom_module);
  if (m == NULL) return NULL;
  Py_INCREF(&GraphType);
  PyModule_AddObject(m, "Graph", (PyObject*)&GraphType);
  Py_INCREF(&SessionType);
  PyModule_AddObject(m, "Session", (PyObject*)&SessionType);
  Py_INCREF(&CallableType);
  PyModule_AddObject(m, "Callable", (PyObject*)&CallableType);
  Py_INCREF(&ServerType);
  PyModule_AddObject(m, "Server", (PyObject*)&ServerType);
  PyModule_AddStringConstant(m, "API_VERSION", LOOM_API_VERSION);
  return m;
}
