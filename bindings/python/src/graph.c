/* loom._C: Graph: owns a loom_graph, builds ops, adds gradients, imports/exports
 * GraphDefs; the module-level queries about ops (op_info, op_attr, ...). */
#include "loom_c.h"

/* ------------------------------------------------------------------ Graph */

static PyObject* Graph_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  GraphObject* self = (GraphObject*)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  self->graph = loom_graph_new();
  if (self->graph == NULL) {
    Py_DECREF(self);
    PyErr_SetString(PyExc_MemoryError, "loom_graph_new failed");
    return NULL;
  }
  return (PyObject*)self;
}

static void Graph_dealloc(GraphObject* self) {
  loom_graph_free(self->graph);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static int set_one_attr(loom_op_builder* b, const char* name, const char* kind, PyObject* v,
                        const char* op_name) {
  if (strcmp(kind, "int") == 0) {
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    loom_op_builder_set_attr_int(b, name, (int64_t)x);
  } else if (strcmp(kind, "float") == 0) {
    double x = PyFloat_AsDouble(v);
    if (x == -1.0 && PyErr_Occurred()) return -1;
    loom_op_builder_set_attr_float(b, name, (float)x);
  } else if (strcmp(kind, "bool") == 0) {
    int x = PyObject_IsTrue(v);
    if (x < 0) return -1;
    loom_op_builder_set_attr_bool(b, name, x);
  } else if (strcmp(kind, "type") == 0) {
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    loom_op_builder_set_attr_type(b, name, (loom_dtype)x);
  } else if (strcmp(kind, "shape") == 0) {
    int64_t dims[NPY_MAXDIMS];
    int nd;
    if (parse_shape(v, dims, &nd) < 0) return -1;
    loom_op_builder_set_attr_shape(b, name, dims, nd);
  } else if (strcmp(kind, "string") == 0) {
    char* buf;
    Py_ssize_t len;
    if (PyUnicode_Check(v)) {
      const char* s = PyUnicode_AsUTF8AndSize(v, &len);
      if (s == NULL) return -1;
      loom_op_builder_set_attr_string(b, name, s, (size_t)len);
    } else {
      if (PyBytes_AsStringAndSize(v, &buf, &len) < 0) return -1;
      loom_op_builder_set_attr_string(b, name, buf, (size_t)len);
    }
  } else if (strcmp(kind, "tensor") == 0) {
    loom_tensor* t = attr_tensor(v, op_name);
    if (t == NULL) return -1;
    loom_op_builder_set_attr_tensor(b, name, t);
    loom_tensor_free(t);
  } else if (strncmp(kind, "list(", 5) == 0) {
    PyObject* fast = PySequence_Fast(v, "list attr value must be a sequence");
    if (fast == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    const char* ek = kind + 5;
    int rc = 0;
    if (strcmp(ek, "int)") == 0 || strcmp(ek, "type)") == 0 || strcmp(ek, "bool)") == 0) {
      int64_t* iv = (int64_t*)PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
      loom_dtype* tv = (loom_dtype*)PyMem_Malloc(sizeof(loom_dtype) * (size_t)(n ? n : 1));
      int* bv = (int*)PyMem_Malloc(sizeof(int) * (size_t)(n ? n : 1));
      for (Py_ssize_t i = 0; i < n && rc == 0; ++i) {
        long long x = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
        if (x == -1 && PyErr_Occurred()) rc = -1;
        iv[i] = (int64_t)x;
        tv[i] = (loom_dtype)x;
        bv[i] = x != 0;
      }
      if (rc == 0) {
        if (ek[0] == 'i') loom_op_builder_set_attr_int_list(b, name, iv, (int)n);
        else if (ek[0] == 't') loom_op_builder_set_attr_type_list(b, name, tv, (int)n);
        else loom_op_builder_set_attr_bool_list(b, name, bv, (int)n);
      }
      PyMem_Free(iv);
      PyMem_Free(tv);
      PyMem_Free(bv);
    } else if (strcmp(ek, "float)") == 0) {
      float* fv = (float*)PyMem_Malloc(sizeof(float) * (size_t)(n ? n : 1));
      for (Py_ssize_t i = 0; i < n && rc == 0; ++i) {
        double x = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
        if (x == -1.0 && PyErr_Occurred()) rc = -1;
        fv[i] = (float)x;
      }
      if (rc == 0) loom_op_builder_set_attr_float_list(b, name, fv, (int)n);
      PyMem_Free(fv);
    } else if (strcmp(ek, "shape)") == 0) {
      int64_t* all = (int64_t*)PyMem_Malloc(sizeof(int64_t) * NPY_MAXDIMS * (size_t)(n ? n : 1));
      const int64_t** ptrs = (const int64_t**)PyMem_Malloc(sizeof(int64_t*) * (size_t)(n ? n : 1));
      int* nds = (int*)PyMem_Malloc(sizeof(int) * (size_t)(n ? n : 1));
      for (Py_ssize_t i = 0; i < n && rc == 0; ++i) {
        ptrs[i] = all + i * NPY_MAXDIMS;
        rc = parse_shape(PySequence_Fast_GET_ITEM(fast, i), all + i * NPY_MAXDIMS, &nds[i]);
      }
      if (rc == 0)
        loom_op_builder_set_attr_shape_list(b, name, (const int64_t* const*)ptrs, nds, (int)n);
      PyMem_Free(all);
      PyMem_Free(ptrs);
      PyMem_Free(nds);
    } else if (strcmp(ek, "string)") == 0) {
      const void** vals = (const void**)PyMem_Malloc(sizeof(void*) * (size_t)(n ? n : 1));
      size_t* lens = (size_t*)PyMem_Malloc(sizeof(size_t) * (size_t)(n ? n : 1));
      for (Py_ssize_t i = 0; i < n && rc == 0; ++i) {
        Py_ssize_t len;
        const char* s = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(fast, i), &len);
        if (s == NULL) rc = -1;
        vals[i] = s;
        lens[i] = (size_t)len;
      }
      if (rc == 0) loom_op_builder_set_attr_string_list(b, name, vals, lens, (int)n);
      PyMem_Free(vals);
      PyMem_Free(lens);
    } else if (strcmp(ek, "tensor)") == 0) {
      loom_tensor** ts = (loom_tensor**)PyMem_Calloc((size_t)(n ? n : 1), sizeof(loom_tensor*));
      for (Py_ssize_t i = 0; i < n && rc == 0; ++i) {
        ts[i] = attr_tensor(PySequence_Fast_GET_ITEM(fast, i), op_name);
        if (ts[i] == NULL) rc = -1;
      }
      if (rc == 0)
        loom_op_builder_set_attr_tensor_list(b, name, (const loom_tensor* const*)ts, (int)n);
      for (Py_ssize_t i = 0; i < n; ++i) loom_tensor_free(ts[i]);
      PyMem_Free(ts);
    } else {
      PyErr_Format(PyExc_ValueError, "unknown attr kind '%s' for attr '%s'", kind, name);
      rc = -1;
    }
    Py_DECREF(fast);
    return rc;
  } else {
    PyErr_Format(PyExc_ValueError, "unknown attr kind '%s' for attr '%s'", kind, name);
    return -1;
  }
  return 0;
}

/* add_op(op_type, name|None, inputs, control_inputs, device|None, attrs)
 *   inputs: a sequence whose items are (op, index) or a list of them
 *           (a list input such as AddN's N*T);
 *   attrs:  a sequence of (name, kind, value) with kind one of "int",
 *           "float", "bool", "type", "shape", "string", "tensor" or
 *           "list(<kind>)".
 * Returns the new op. */
static PyObject* Graph_add_op(GraphObject* self, PyObject* args) {
  const char* op_type;
  const char* name;
  const char* device;
  PyObject *inputs, *controls, *attrs;
  if (!PyArg_ParseTuple(args, "szOOzO", &op_type, &name, &inputs, &controls, &device, &attrs))
    return NULL;
  loom_op_builder* b = loom_op_builder_new(self->graph, op_type, name);
  if (b == NULL) {
    PyErr_SetString(PyExc_MemoryError, "loom_op_builder_new failed");
    return NULL;
  }
  const char* what = name ? name : op_type;
  PyObject* fin = PySequence_Fast(inputs, "inputs must be a sequence");
  if (fin == NULL) goto fail;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fin); ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fin, i);
    if (PyList_Check(item)) {
      Py_ssize_t n;
      loom_output* outs = parse_outputs(item, &n);
      if (outs == NULL) {
        Py_DECREF(fin);
        goto fail;
      }
      loom_op_builder_add_input_list(b, outs, (int)n);
      PyMem_Free(outs);
    } else {
      loom_output o;
      if (parse_output(item, &o) < 0) {
        Py_DECREF(fin);
        goto fail;
      }
      loom_op_builder_add_input(b, o);
    }
  }
  Py_DECREF(fin);
  {
    Py_ssize_t n;
    loom_op** ops = parse_ops(controls, &n);
    if (ops == NULL) goto fail;
    for (Py_ssize_t i = 0; i < n; ++i) loom_op_builder_add_control_input(b, ops[i]);
    PyMem_Free(ops);
  }
  if (device != NULL && device[0] != '\0') loom_op_builder_set_device(b, device);
  {
    PyObject* fa = PySequence_Fast(attrs, "attrs must be a sequence");
    if (fa == NULL) goto fail;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fa); ++i) {
      const char *an, *ak;
      PyObject* av;
      if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fa, i), "ssO", &an, &ak, &av) ||
          set_one_attr(b, an, ak, av, what) < 0) {
        Py_DECREF(fa);
        goto fail;
      }
    }
    Py_DECREF(fa);
  }
  {
    loom_op* op = NULL;
    loom_status* s = loom_op_builder_finish(b, &op);
    if (s != NULL) return raise_status(s, what);
    return PyLong_FromVoidPtr(op);
  }
fail:
  loom_op_builder_abandon(b);
  return NULL;
}

static PyObject* Graph_output_shape(GraphObject* self, PyObject* args) {
  PyObject* po;
  int idx;
  if (!PyArg_ParseTuple(args, "Oi", &po, &idx)) return NULL;
  loom_output o;
  if (parse_op(po, &o.op) < 0) return NULL;
  o.index = idx;
  int64_t dims[64];
  int nd = -1;
  loom_status* s = loom_graph_output_shape(self->graph, o, dims, 64, &nd);
  if (s != NULL) return raise_status(s, o.op ? loom_op_name(o.op) : NULL);
  return shape_to_py(dims, nd > 64 ? 64 : nd);
}

static PyObject* Graph_op_by_name(GraphObject* self, PyObject* arg) {
  const char* name = PyUnicode_AsUTF8(arg);
  if (name == NULL) return NULL;
  loom_op* op = loom_graph_op_by_name(self->graph, name);
  if (op == NULL) Py_RETURN_NONE;
  return PyLong_FromVoidPtr(op);
}

static PyObject* Graph_num_ops(GraphObject* self, PyObject* unused) {
  return PyLong_FromLong(loom_graph_num_ops(self->graph));
}

static PyObject* Graph_op_at(GraphObject* self, PyObject* arg) {
  long i = PyLong_AsLong(arg);
  if (i == -1 && PyErr_Occurred()) return NULL;
  loom_op* op = loom_graph_op_at(self->graph, (int)i);
  if (op == NULL) Py_RETURN_NONE;
  return PyLong_FromVoidPtr(op);
}

static PyObject* Graph_address(GraphObject* self, PyObject* unused) {
  return PyLong_FromVoidPtr(self->graph);
}

/* add_gradients(prefix|None, ys, xs, dys|None) -> list of (op, index)|None */
static PyObject* Graph_add_gradients(GraphObject* self, PyObject* args) {
  const char* prefix;
  PyObject *pys, *pxs, *pdys;
  if (!PyArg_ParseTuple(args, "zOOO", &prefix, &pys, &pxs, &pdys)) return NULL;
  Py_ssize_t nys, nxs, ndys = 0;
  loom_output *ys = NULL, *xs = NULL, *dys = NULL, *dxs = NULL;
  PyObject* result = NULL;
  ys = parse_outputs(pys, &nys);
  if (ys == NULL) goto done;
  xs = parse_outputs(pxs, &nxs);
  if (xs == NULL) goto done;
  if (pdys != Py_None) {
    dys = parse_outputs(pdys, &ndys);
    if (dys == NULL) goto done;
    if (ndys != nys) {
      PyErr_Format(PyExc_ValueError, "grad_ys has %zd entries but ys has %zd", ndys, nys);
      goto done;
    }
  }
  dxs = (loom_output*)PyMem_Calloc((size_t)(nxs ? nxs : 1), sizeof(loom_output));
  if (dxs == NULL) {
    PyErr_NoMemory();
    goto done;
  }
  Py_CLEAR(g_grad_exc);
  /* The GIL is held: gradient functions written in Python re-enter it. */
  loom_status* s = loom_graph_add_gradients(self->graph, prefix, ys, (int)nys, xs, (int)nxs,
                                            dys, dxs);
  if (s != NULL) {
    if (g_grad_exc != NULL) {
      /* Re-raise what the Python gradient function raised. */
      PyObject* exc = g_grad_exc;
      g_grad_exc = NULL;
      loom_status_free(s);
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    } else {
      raise_status(s, NULL);
    }
    goto done;
  }
  result = PyList_New(nxs);
  if (result == NULL) goto done;
  for (Py_ssize_t i = 0; i < nxs; ++i) {
    PyObject* o = output_to_py(dxs[i]);
    if (o == NULL) {
      Py_CLEAR(result);
      goto done;
    }
    PyList_SET_ITEM(result, i, o);
  }
done:
  PyMem_Free(ys);
  PyMem_Free(xs);
  PyMem_Free(dys);
  PyMem_Free(dxs);
  return result;
}


/* to_graphdef(format) -> bytes (format 0 binary, 1 text) */
static PyObject* Graph_to_graphdef(GraphObject* self, PyObject* arg) {
  long fmt = PyLong_AsLong(arg);
  if (fmt == -1 && PyErr_Occurred()) return NULL;
  char* data = NULL;
  size_t len = 0;
  loom_status* s = loom_graph_to_graphdef(self->graph, (int)fmt, &data, &len);
  if (s != NULL) return raise_status(s, NULL);
  PyObject* r = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
  loom_string_free(data);
  return r;
}

/* import_graphdef(data, format, prefix|None, input_map, control_map,
 *                 clear_devices, default_device|None) -> index of the first
 * new op. input_map: [(src_name, src_index, (op, index))];
 * control_map: [(src_name, op)]. */
static PyObject* Graph_import_graphdef(GraphObject* self, PyObject* args) {
  Py_buffer buf;
  int fmt, clear;
  const char *prefix, *device;
  PyObject *imap, *cmap;
  if (!PyArg_ParseTuple(args, "y*izOOpz", &buf, &fmt, &prefix, &imap, &cmap, &clear, &device))
    return NULL;
  PyObject* result = NULL;
  loom_import_options* o = loom_import_options_new();
  loom_import_options_set_format(o, fmt);
  if (prefix != NULL) loom_import_options_set_prefix(o, prefix);
  if (device != NULL) loom_import_options_set_default_device(o, device);
  loom_import_options_set_clear_devices(o, clear);
  PyObject* fi = PySequence_Fast(imap, "input_map must be a sequence");
  if (fi == NULL) goto done;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fi); ++i) {
    const char* src;
    int idx;
    PyObject* dst;
    loom_output o2;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fi, i), "siO", &src, &idx, &dst) ||
        parse_output(dst, &o2) < 0) {
      Py_DECREF(fi);
      goto done;
    }
    loom_import_options_add_input_mapping(o, src, idx, o2);
  }
  Py_DECREF(fi);
  PyObject* fc = PySequence_Fast(cmap, "control_map must be a sequence");
  if (fc == NULL) goto done;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fc); ++i) {
    const char* src;
    PyObject* dst;
    loom_op* op;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fc, i), "sO", &src, &dst) ||
        parse_op(dst, &op) < 0) {
      Py_DECREF(fc);
      goto done;
    }
    loom_import_options_add_control_mapping(o, src, op);
  }
  Py_DECREF(fc);
  {
    int first = loom_graph_num_ops(self->graph);
    loom_status* s = loom_graph_import_graphdef(self->graph, buf.buf, (size_t)buf.len, o);
    if (s != NULL) {
      raise_status(s, NULL);
      goto done;
    }
    result = PyLong_FromLong(first);
  }
done:
  loom_import_options_free(o);
  PyBuffer_Release(&buf);
  return result;
}

static PyMethodDef Graph_methods[] = {
    {"to_graphdef", (PyCFunction)Graph_to_graphdef, METH_O,
     "to_graphdef(format) -> bytes (0 binary, 1 text)"},
    {"import_graphdef", (PyCFunction)Graph_import_graphdef, METH_VARARGS,
     "import_graphdef(data, format, prefix, input_map, control_map, clear_devices, device) "
     "-> index of the first imported op"},
    {"add_op", (PyCFunction)Graph_add_op, METH_VARARGS,
     "add_op(type, name, inputs, control_inputs, device, attrs) -> op"},
    {"output_shape", (PyCFunction)Graph_output_shape, METH_VARARGS,
     "output_shape(op, index) -> tuple of int|None, or None (unknown rank)"},
    {"op_by_name", (PyCFunction)Graph_op_by_name, METH_O, "op_by_name(name) -> op|None"},
    {"num_ops", (PyCFunction)Graph_num_ops, METH_NOARGS, "number of ops"},
    {"op_at", (PyCFunction)Graph_op_at, METH_O, "op_at(i) -> op|None (creation order)"},
    {"address", (PyCFunction)Graph_address, METH_NOARGS, "the loom_graph* as an int"},
    {"add_gradients", (PyCFunction)Graph_add_gradients, METH_VARARGS,
     "add_gradients(prefix, ys, xs, dys) -> list of (op, index)|None"},
    {NULL, NULL, 0, NULL}};

PyTypeObject GraphType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Graph",
    .tp_basicsize = sizeof(GraphObject),
    .tp_dealloc = (destructor)Graph_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Owns a loom_graph.",
    .tp_methods = Graph_methods,
    .tp_new = Graph_new,
};

/* ------------------------------------------------------------------ op queries */

static loom_op* op_arg(PyObject* o) {
  void* p = PyLong_AsVoidPtr(o);
  if (p == NULL) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "null op");
    return NULL;
  }
  return (loom_op*)p;
}

/* op_info(op) -> (name, type, device, num_outputs, (dtypes...), num_inputs,
 *                 num_control_inputs) */
PyObject* op_info(PyObject* self, PyObject* arg) {
  loom_op* op = op_arg(arg);
  if (op == NULL) return NULL;
  int n = loom_op_num_outputs(op);
  PyObject* dts = PyTuple_New(n);
  if (dts == NULL) return NULL;
  for (int i = 0; i < n; ++i) PyTuple_SET_ITEM(dts, i, PyLong_FromLong(loom_op_output_dtype(op, i)));
  return Py_BuildValue("(sssiNii)", loom_op_name(op), loom_op_type(op), loom_op_device(op), n, dts,
                       loom_op_num_inputs(op), loom_op_num_control_inputs(op));
}

PyObject* op_inputs(PyObject* self, PyObject* arg) {
  loom_op* op = op_arg(arg);
  if (op == NULL) return NULL;
  int n = loom_op_num_inputs(op);
  PyObject* l = PyList_New(n);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) {
    PyObject* o = output_to_py(loom_op_input(op, i));
    if (o == NULL) {
      Py_DECREF(l);
      return NULL;
    }
    PyList_SET_ITEM(l, i, o);
  }
  return l;
}

PyObject* op_control_inputs(PyObject* self, PyObject* arg) {
  loom_op* op = op_arg(arg);
  if (op == NULL) return NULL;
  int n = loom_op_num_control_inputs(op);
  PyObject* l = PyList_New(n);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) PyList_SET_ITEM(l, i, PyLong_FromVoidPtr(loom_op_control_input(op, i)));
  return l;
}

PyObject* output_num_consumers(PyObject* self, PyObject* args) {
  PyObject* po;
  int idx;
  if (!PyArg_ParseTuple(args, "Oi", &po, &idx)) return NULL;
  loom_output o;
  o.op = op_arg(po);
  if (o.op == NULL) return NULL;
  o.index = idx;
  return PyLong_FromLong(loom_output_num_consumers(o));
}

/* op_attr(op, name, kind): kind "int", "float", "bool", "type", "list(int)",
 * "shape", "string", "tensor". */
PyObject* op_attr(PyObject* self, PyObject* args) {
  PyObject* po;
  const char *name, *kind;
  if (!PyArg_ParseTuple(args, "Oss", &po, &name, &kind)) return NULL;
  loom_op* op = op_arg(po);
  if (op == NULL) return NULL;
  loom_status* s = NULL;
  const char* opn = loom_op_name(op);
  if (strcmp(kind, "int") == 0) {
    int64_t v;
    if ((s = loom_op_attr_int(op, name, &v))) return raise_status(s, opn);
    return PyLong_FromLongLong((long long)v);
  } else if (strcmp(kind, "float") == 0) {
    float v;
    if ((s = loom_op_attr_float(op, name, &v))) return raise_status(s, opn);
    return PyFloat_FromDouble(v);
  } else if (strcmp(kind, "bool") == 0) {
    int v;
    if ((s = loom_op_attr_bool(op, name, &v))) return raise_status(s, opn);
    return PyBool_FromLong(v);
  } else if (strcmp(kind, "type") == 0) {
    loom_dtype v;
    if ((s = loom_op_attr_type(op, name, &v))) return raise_status(s, opn);
    return PyLong_FromLong(v);
  } else if (strcmp(kind, "list(int)") == 0) {
    int n = 0;
    if ((s = loom_op_attr_int_list(op, name, NULL, 0, &n))) return raise_status(s, opn);
    int64_t* v = (int64_t*)PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if ((s = loom_op_attr_int_list(op, name, v, n, &n))) {
      PyMem_Free(v);
      return raise_status(s, opn);
    }
    PyObject* l = PyList_New(n);
    for (int i = 0; l && i < n; ++i) PyList_SET_ITEM(l, i, PyLong_FromLongLong((long long)v[i]));
    PyMem_Free(v);
    return l;
  } else if (strcmp(kind, "shape") == 0) {
    int64_t dims[64];
    int nd;
    if ((s = loom_op_attr_shape(op, name, dims, 64, &nd))) return raise_status(s, opn);
    return shape_to_py(dims, nd > 64 ? 64 : nd);
  } else if (strcmp(kind, "string") == 0) {
    const char* v;
    size_t len;
    if ((s = loom_op_attr_string(op, name, &v, &len))) return raise_status(s, opn);
    return PyUnicode_DecodeUTF8(v, (Py_ssize_t)len, "replace");
  } else if (strcmp(kind, "tensor") == 0) {
    loom_tensor* t;
    if ((s = loom_op_attr_tensor(op, name, &t))) return raise_status(s, opn);
    return array_from_tensor(t, 1);
  }
  PyErr_Format(PyExc_ValueError, "unknown attr kind '%s'", kind);
  return NULL;
}
