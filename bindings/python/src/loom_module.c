/* loom._C — the CPython face of loom.h.
 *
 * This module calls only functions of capi/include/loom/loom.h. It is kept
 * deliberately low level: the TensorFlow-1.x-shaped API lives in Python
 * (loom/framework.py and friends), and this file provides
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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <stdint.h>
#include <string.h>

#include "loom/loom.h"

/* ------------------------------------------------------------------ errors */

static PyObject* g_error_factory = NULL;   /* callable(code, msg, op_name) */
/* A Python exception raised inside a gradient function, kept (under the GIL)
 * so that the caller of add_gradients re-raises the original exception. */
static PyObject* g_grad_exc = NULL;

static PyObject* raise_code(int code, const char* msg, const char* op_name) {
  if (g_error_factory != NULL) {
    PyObject* exc = PyObject_CallFunction(g_error_factory, "isz", code, msg, op_name);
    if (exc != NULL) {
      PyErr_SetObject((PyObject*)Py_TYPE(exc), exc);
      Py_DECREF(exc);
    }
    return NULL;
  }
  PyErr_Format(PyExc_RuntimeError, "%s: %s", loom_code_name((loom_code)code), msg);
  return NULL;
}

/* Raises the status as a Python exception, frees it, returns NULL. */
static PyObject* raise_status(loom_status* s, const char* op_name) {
  raise_code((int)loom_status_code(s), loom_status_message(s), op_name);
  loom_status_free(s);
  return NULL;
}

static PyObject* set_error_factory(PyObject* self, PyObject* fn) {
  if (fn == Py_None) {
    Py_CLEAR(g_error_factory);
  } else {
    Py_INCREF(fn);
    Py_XSETREF(g_error_factory, fn);
  }
  Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ dtypes */

static int dtype_to_typenum(loom_dtype d) {
  switch (d) {
    case LOOM_DTYPE_FLOAT: return NPY_FLOAT32;
    case LOOM_DTYPE_DOUBLE: return NPY_FLOAT64;
    case LOOM_DTYPE_INT32: return NPY_INT32;
    case LOOM_DTYPE_UINT8: return NPY_UINT8;
    case LOOM_DTYPE_INT16: return NPY_INT16;
    case LOOM_DTYPE_INT8: return NPY_INT8;
    case LOOM_DTYPE_INT64: return NPY_INT64;
    case LOOM_DTYPE_BOOL: return NPY_BOOL;
    case LOOM_DTYPE_UINT16: return NPY_UINT16;
    case LOOM_DTYPE_HALF: return NPY_FLOAT16;
    case LOOM_DTYPE_UINT32: return NPY_UINT32;
    case LOOM_DTYPE_UINT64: return NPY_UINT64;
    default: return -1;
  }
}

static loom_dtype typenum_to_dtype(int t) {
  switch (t) {
    case NPY_FLOAT32: return LOOM_DTYPE_FLOAT;
    case NPY_FLOAT64: return LOOM_DTYPE_DOUBLE;
    case NPY_INT32: return LOOM_DTYPE_INT32;
    case NPY_UINT8: return LOOM_DTYPE_UINT8;
    case NPY_INT16: return LOOM_DTYPE_INT16;
    case NPY_INT8: return LOOM_DTYPE_INT8;
    case NPY_INT64: return LOOM_DTYPE_INT64;
    case NPY_BOOL: return LOOM_DTYPE_BOOL;
    case NPY_UINT16: return LOOM_DTYPE_UINT16;
    case NPY_FLOAT16: return LOOM_DTYPE_HALF;
    case NPY_UINT32: return LOOM_DTYPE_UINT32;
    case NPY_UINT64: return LOOM_DTYPE_UINT64;
    default: break;
  }
  /* long/longlong aliases of the same width */
  if (t == NPY_LONG || t == NPY_LONGLONG) return sizeof(long) == 8 || t == NPY_LONGLONG ? LOOM_DTYPE_INT64 : LOOM_DTYPE_INT32;
  if (t == NPY_ULONG || t == NPY_ULONGLONG) return LOOM_DTYPE_UINT64;
  if (t == NPY_INT) return LOOM_DTYPE_INT32;
  if (t == NPY_UINT) return LOOM_DTYPE_UINT32;
  return LOOM_DTYPE_INVALID;
}

/* ------------------------------------------------------------------ tensors */

static int interpreter_finalizing(void) {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

/* Deallocator for buffers that belong to a numpy array: drops the reference
 * the tensor held. Called once, from any thread. */
static void release_array(void* data, size_t byte_size, void* arg) {
  (void)data;
  (void)byte_size;
  if (!Py_IsInitialized() || interpreter_finalizing()) return; /* leak at exit */
  PyGILState_STATE st = PyGILState_Ensure();
  Py_DECREF((PyObject*)arg);
  PyGILState_Release(st);
}

/* Wraps a C-contiguous, aligned array of a supported dtype without copying.
 * The tensor takes a new reference to arr. Returns NULL with an exception. */
static loom_tensor* tensor_from_array(PyArrayObject* arr, const char* what) {
  loom_dtype dt = typenum_to_dtype(PyArray_TYPE(arr));
  if (dt == LOOM_DTYPE_INVALID) {
    PyErr_Format(PyExc_TypeError, "%s: numpy dtype %R is not supported by Loom", what,
                 (PyObject*)PyArray_DESCR(arr));
    return NULL;
  }
  int nd = PyArray_NDIM(arr);
  int64_t dims[NPY_MAXDIMS];
  npy_intp* shp = PyArray_DIMS(arr);
  for (int i = 0; i < nd; ++i) dims[i] = (int64_t)shp[i];
  loom_tensor* t = NULL;
  Py_INCREF(arr);
  loom_status* s = loom_tensor_new_from_data(dt, dims, nd, PyArray_DATA(arr),
                                             (size_t)PyArray_NBYTES(arr), release_array,
                                             arr, &t);
  if (s != NULL) {
    Py_DECREF(arr); /* the deallocator is not called on failure */
    raise_status(s, what);
    return NULL;
  }
  return t;
}

static void tensor_capsule_free(PyObject* cap) {
  loom_tensor* t = (loom_tensor*)PyCapsule_GetPointer(cap, "loom_tensor");
  loom_tensor_free(t);
}

/* Turns an owned loom_tensor into a numpy array. Zero-copy: the array's base
 * is a capsule that frees the tensor. copy != 0 copies instead (results whose
 * memory is shared, e.g. with a variable that later steps update in place:
 * loom_session_fetch_is_shared). Consumes t. */
static PyObject* array_from_tensor(loom_tensor* t, int copy) {
  int typenum = dtype_to_typenum(loom_tensor_dtype(t));
  if (typenum < 0) {
    PyErr_Format(PyExc_TypeError, "fetched tensor has dtype %s, which numpy cannot hold",
                 loom_dtype_name(loom_tensor_dtype(t)));
    loom_tensor_free(t);
    return NULL;
  }
  int nd = loom_tensor_num_dims(t);
  npy_intp dims[NPY_MAXDIMS];
  if (nd > NPY_MAXDIMS) nd = NPY_MAXDIMS;
  for (int i = 0; i < nd; ++i) dims[i] = (npy_intp)loom_tensor_dim(t, i);
  void* data = loom_tensor_data(t);
  size_t nbytes = loom_tensor_byte_size(t);
  if (copy || data == NULL || nbytes == 0) {
    PyObject* a = PyArray_SimpleNew(nd, dims, typenum);
    if (a != NULL && nbytes > 0 && data != NULL)
      memcpy(PyArray_DATA((PyArrayObject*)a), data, nbytes);
    loom_tensor_free(t);
    return a;
  }
  PyObject* a = PyArray_SimpleNewFromData(nd, dims, typenum, data);
  if (a == NULL) {
    loom_tensor_free(t);
    return NULL;
  }
  PyObject* cap = PyCapsule_New(t, "loom_tensor", tensor_capsule_free);
  if (cap == NULL) {
    loom_tensor_free(t);
    Py_DECREF(a);
    return NULL;
  }
  if (PyArray_SetBaseObject((PyArrayObject*)a, cap) < 0) { /* steals cap */
    Py_DECREF(a);
    return NULL;
  }
  return a;
}

/* ------------------------------------------------------------------ parsing */

static int parse_op(PyObject* o, loom_op** out) {
  if (o == Py_None) {
    *out = NULL;
    return 0;
  }
  void* p = PyLong_AsVoidPtr(o);
  if (p == NULL && PyErr_Occurred()) return -1;
  *out = (loom_op*)p;
  return 0;
}

/* (op_ptr, index) or None -> loom_output */
static int parse_output(PyObject* o, loom_output* out) {
  if (o == Py_None) {
    out->op = NULL;
    out->index = 0;
    return 0;
  }
  if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 2) {
    PyErr_SetString(PyExc_TypeError, "expected an (op, index) tuple");
    return -1;
  }
  if (parse_op(PyTuple_GET_ITEM(o, 0), &out->op) < 0) return -1;
  long idx = PyLong_AsLong(PyTuple_GET_ITEM(o, 1));
  if (idx == -1 && PyErr_Occurred()) return -1;
  out->index = (int)idx;
  return 0;
}

static PyObject* output_to_py(loom_output o) {
  if (o.op == NULL) Py_RETURN_NONE;
  PyObject* p = PyLong_FromVoidPtr(o.op);
  if (p == NULL) return NULL;
  return Py_BuildValue("(Ni)", p, o.index);
}

/* A sequence of outputs -> malloc'ed array (caller frees). */
static loom_output* parse_outputs(PyObject* seq, Py_ssize_t* out_n) {
  PyObject* fast = PySequence_Fast(seq, "expected a sequence of (op, index) tuples");
  if (fast == NULL) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  loom_output* outs = (loom_output*)PyMem_Malloc(sizeof(loom_output) * (size_t)(n ? n : 1));
  if (outs == NULL) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (parse_output(PySequence_Fast_GET_ITEM(fast, i), &outs[i]) < 0) {
      PyMem_Free(outs);
      Py_DECREF(fast);
      return NULL;
    }
  }
  Py_DECREF(fast);
  *out_n = n;
  return outs;
}

static loom_op** parse_ops(PyObject* seq, Py_ssize_t* out_n) {
  PyObject* fast = PySequence_Fast(seq, "expected a sequence of ops");
  if (fast == NULL) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  loom_op** ops = (loom_op**)PyMem_Malloc(sizeof(loom_op*) * (size_t)(n ? n : 1));
  if (ops == NULL) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    if (parse_op(PySequence_Fast_GET_ITEM(fast, i), &ops[i]) < 0) {
      PyMem_Free(ops);
      Py_DECREF(fast);
      return NULL;
    }
  }
  Py_DECREF(fast);
  *out_n = n;
  return ops;
}

/* A shape: None (unknown rank) or a sequence of ints / None (unknown dim).
 * Writes up to NPY_MAXDIMS dims; *nd = -1 for unknown rank. */
static int parse_shape(PyObject* o, int64_t* dims, int* nd) {
  if (o == Py_None) {
    *nd = -1;
    return 0;
  }
  PyObject* fast = PySequence_Fast(o, "a shape must be None or a sequence of ints");
  if (fast == NULL) return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  if (n > NPY_MAXDIMS) {
    Py_DECREF(fast);
    PyErr_Format(PyExc_ValueError, "shape has rank %zd; at most %d supported", n, NPY_MAXDIMS);
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* d = PySequence_Fast_GET_ITEM(fast, i);
    if (d == Py_None) {
      dims[i] = -1;
    } else {
      long long v = PyLong_AsLongLong(d);
      if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(fast);
        return -1;
      }
      dims[i] = (int64_t)v;
    }
  }
  Py_DECREF(fast);
  *nd = (int)n;
  return 0;
}

static PyObject* shape_to_py(const int64_t* dims, int nd) {
  if (nd < 0) Py_RETURN_NONE;
  PyObject* t = PyTuple_New(nd);
  if (t == NULL) return NULL;
  for (int i = 0; i < nd; ++i) {
    PyObject* v;
    if (dims[i] < 0) {
      v = Py_None;
      Py_INCREF(v);
    } else {
      v = PyLong_FromLongLong((long long)dims[i]);
      if (v == NULL) {
        Py_DECREF(t);
        return NULL;
      }
    }
    PyTuple_SET_ITEM(t, i, v);
  }
  return t;
}

/* An array for an attr tensor: C-contiguous and of a supported dtype. The
 * tensor borrows the array's memory (set_attr_tensor copies it). */
static loom_tensor* attr_tensor(PyObject* v, const char* what) {
  PyArrayObject* a = (PyArrayObject*)PyArray_FROM_OF(v, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
  if (a == NULL) return NULL;
  loom_tensor* t = tensor_from_array(a, what);
  Py_DECREF(a);
  return t;
}

/* ------------------------------------------------------------------ Graph */

typedef struct {
  PyObject_HEAD
  loom_graph* graph;
} GraphObject;

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

static PyTypeObject GraphType = {
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
static PyObject* op_info(PyObject* self, PyObject* arg) {
  loom_op* op = op_arg(arg);
  if (op == NULL) return NULL;
  int n = loom_op_num_outputs(op);
  PyObject* dts = PyTuple_New(n);
  if (dts == NULL) return NULL;
  for (int i = 0; i < n; ++i) PyTuple_SET_ITEM(dts, i, PyLong_FromLong(loom_op_output_dtype(op, i)));
  return Py_BuildValue("(sssiNii)", loom_op_name(op), loom_op_type(op), loom_op_device(op), n, dts,
                       loom_op_num_inputs(op), loom_op_num_control_inputs(op));
}

static PyObject* op_inputs(PyObject* self, PyObject* arg) {
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

static PyObject* op_control_inputs(PyObject* self, PyObject* arg) {
  loom_op* op = op_arg(arg);
  if (op == NULL) return NULL;
  int n = loom_op_num_control_inputs(op);
  PyObject* l = PyList_New(n);
  if (l == NULL) return NULL;
  for (int i = 0; i < n; ++i) PyList_SET_ITEM(l, i, PyLong_FromVoidPtr(loom_op_control_input(op, i)));
  return l;
}

static PyObject* output_num_consumers(PyObject* self, PyObject* args) {
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
static PyObject* op_attr(PyObject* self, PyObject* args) {
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

/* ------------------------------------------------------------------ gradients */

/* A Python gradient function: fn(graph_address, op, grads) where grads is a
 * list of (op, index)|None, returning a sequence of num_inputs entries of
 * (op, index)|None. Called with the GIL (taken here if not held). */
static loom_status* py_gradient_fn(void* user_data, loom_graph* graph, loom_op* op,
                                   const loom_output* grad_outputs, int num_outputs,
                                   loom_output* out_grad_inputs, int num_inputs) {
  PyGILState_STATE st = PyGILState_Ensure();
  loom_status* status = NULL;
  PyObject* grads = PyList_New(num_outputs);
  PyObject* res = NULL;
  PyObject* fast = NULL;
  if (grads == NULL) goto error;
  for (int i = 0; i < num_outputs; ++i) {
    PyObject* o = output_to_py(grad_outputs[i]);
    if (o == NULL) goto error;
    PyList_SET_ITEM(grads, i, o);
  }
  res = PyObject_CallFunction((PyObject*)user_data, "NNO", PyLong_FromVoidPtr(graph),
                              PyLong_FromVoidPtr(op), grads);
  if (res == NULL) goto error;
  fast = PySequence_Fast(res, "a gradient function must return a sequence");
  if (fast == NULL) goto error;
  if (PySequence_Fast_GET_SIZE(fast) != num_inputs) {
    PyErr_Format(PyExc_ValueError,
                 "gradient function for op '%s' (type %s) returned %zd gradients; the op has "
                 "%d inputs",
                 loom_op_name(op), loom_op_type(op), PySequence_Fast_GET_SIZE(fast), num_inputs);
    goto error;
  }
  for (int i = 0; i < num_inputs; ++i) {
    loom_output o;
    if (parse_output(PySequence_Fast_GET_ITEM(fast, i), &o) < 0) goto error;
    out_grad_inputs[i] = o;
  }
  goto done;
error: {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject* text = value ? PyObject_Str(value) : NULL;
  const char* msg = text ? PyUnicode_AsUTF8(text) : NULL;
  char buf[1024];
  snprintf(buf, sizeof buf, "Python gradient function for op '%s' (type %s) raised %s: %s",
           loom_op_name(op), loom_op_type(op),
           type ? ((PyTypeObject*)type)->tp_name : "an error", msg ? msg : "");
  PyErr_Clear();
  status = loom_status_new(LOOM_CODE_INVALID_ARGUMENT, buf);
  Py_XDECREF(text);
  if (value != NULL) {
    if (tb != NULL) PyException_SetTraceback(value, tb);
    Py_XSETREF(g_grad_exc, value);
    value = NULL;
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
}
done:
  Py_XDECREF(grads);
  Py_XDECREF(res);
  Py_XDECREF(fast);
  PyGILState_Release(st);
  return status;
}

static PyObject* register_gradient(PyObject* self, PyObject* args) {
  const char* op_type;
  PyObject* fn;
  if (!PyArg_ParseTuple(args, "sO", &op_type, &fn)) return NULL;
  loom_status* s;
  if (fn == Py_None) {
    s = loom_register_gradient(op_type, NULL, NULL);
  } else {
    if (!PyCallable_Check(fn)) {
      PyErr_SetString(PyExc_TypeError, "gradient function must be callable");
      return NULL;
    }
    Py_INCREF(fn); /* kept until the process exits, as the C API keeps user_data */
    s = loom_register_gradient(op_type, py_gradient_fn, fn);
  }
  if (s != NULL) return raise_status(s, op_type);
  Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ Session */

typedef struct {
  PyObject_HEAD
  loom_session* session;
  PyObject* graph; /* GraphObject, kept alive while the session lives */
} SessionObject;

static PyObject* Session_new(PyTypeObject* type, PyObject* args, PyObject* kw) {
  static char* kwlist[] = {"graph", "inter_op_threads", "intra_op_threads", "default_device",
                           "allow_soft_placement", "log_device_placement", "target",
                           "operation_timeout_ms", "transport_options", NULL};
  PyObject* graph;
  int inter = 0, intra = 0, soft = 0, log_placement = 0;
  const char* dev = NULL;
  const char* target = NULL;
  long long timeout_ms = 0;
  PyObject* transport = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|iizppzLO", kwlist, &GraphType, &graph, &inter,
                                   &intra, &dev, &soft, &log_placement, &target, &timeout_ms,
                                   &transport))
    return NULL;
  SessionObject* self = (SessionObject*)type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_inter_op_threads(o, inter);
  loom_session_options_set_intra_op_threads(o, intra);
  if (dev != NULL) loom_session_options_set_default_device(o, dev);
  loom_session_options_set_allow_soft_placement(o, soft);
  loom_session_options_set_log_device_placement(o, log_placement);
  if (target != NULL) loom_session_options_set_target(o, target);
  loom_session_options_set_operation_timeout(o, (int64_t)timeout_ms);
  if (transport != NULL && transport != Py_None) {
    if (!PyDict_Check(transport)) {
      loom_session_options_free(o);
      Py_DECREF(self);
      PyErr_SetString(PyExc_TypeError, "transport_options must be a dict of str to str");
      return NULL;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(transport, &pos, &k, &v)) {
      const char* ks = PyUnicode_AsUTF8(k);
      const char* vs = PyUnicode_AsUTF8(v);
      if (ks == NULL || vs == NULL) {
        loom_session_options_free(o);
        Py_DECREF(self);
        return NULL;
      }
      loom_session_options_set_transport_option(o, ks, vs);
    }
  }
  loom_status* s = loom_session_new(((GraphObject*)graph)->graph, o, &self->session);
  loom_session_options_free(o);
  if (s != NULL) {
    self->session = NULL;
    Py_DECREF(self);
    return raise_status(s, NULL);
  }
  Py_INCREF(graph);
  self->graph = graph;
  return (PyObject*)self;
}

static void Session_close_impl(SessionObject* self) {
  if (self->session != NULL) {
    loom_session* s = self->session;
    self->session = NULL;
    Py_BEGIN_ALLOW_THREADS
    loom_session_free(s); /* waits for runs in flight */
    Py_END_ALLOW_THREADS
  }
}

static void Session_dealloc(SessionObject* self) {
  Session_close_impl(self);
  Py_XDECREF(self->graph);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* Session_close(SessionObject* self, PyObject* unused) {
  Session_close_impl(self);
  Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ Callable */

typedef struct {
  PyObject_HEAD
  loom_callable* callable;
  SessionObject* session;
  int num_feeds, num_fetches;
  loom_dtype* feed_dtypes;
  PyArray_Descr** feed_descrs;
  int* feed_ndims;       /* -1: unknown rank */
  int64_t* feed_dims;    /* num_feeds * NPY_MAXDIMS, -1 unknown */
  PyObject* feed_names;  /* tuple of str */
  int unwrap;            /* one fetch: return the array itself */
} CallableObject;

static void Callable_release(CallableObject* self) {
  if (self->callable != NULL) {
    loom_callable_free(self->callable);
    self->callable = NULL;
  }
}

static void Callable_dealloc(CallableObject* self) {
  /* Callables must be freed before their session: the session is kept alive
   * by the reference held here, and Session.close frees callables first. */
  if (self->session != NULL && self->session->session != NULL) Callable_release(self);
  self->callable = NULL;
  if (self->feed_descrs != NULL)
    for (int i = 0; i < self->num_feeds; ++i) Py_XDECREF(self->feed_descrs[i]);
  PyMem_Free(self->feed_dtypes);
  PyMem_Free(self->feed_descrs);
  PyMem_Free(self->feed_ndims);
  PyMem_Free(self->feed_dims);
  Py_XDECREF(self->feed_names);
  Py_XDECREF(self->session);
  Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyObject* Callable_close(CallableObject* self, PyObject* unused) {
  Callable_release(self);
  Py_RETURN_NONE;
}

static PyObject* format_shape(int nd, const int64_t* dims) {
  PyObject* parts = PyList_New(0);
  for (int i = 0; i < nd; ++i) {
    PyObject* s = dims[i] < 0 ? PyUnicode_FromString("?") : PyUnicode_FromFormat("%lld", (long long)dims[i]);
    PyList_Append(parts, s);
    Py_DECREF(s);
  }
  PyObject* sep = PyUnicode_FromString(", ");
  PyObject* joined = PyUnicode_Join(sep, parts);
  Py_DECREF(sep);
  Py_DECREF(parts);
  PyObject* r = PyUnicode_FromFormat(nd == 1 ? "(%U,)" : "(%U)", joined);
  Py_DECREF(joined);
  return r;
}

/* The feed value for feed i as a loom_tensor: zero-copy when the value is a
 * C-contiguous aligned array of the feed's dtype, else converted once. */
static loom_tensor* feed_tensor(CallableObject* self, int i, PyObject* v) {
  PyArrayObject* arr;
  PyArray_Descr* want = self->feed_descrs[i];
  if (PyArray_Check(v)) {
    PyArrayObject* a = (PyArrayObject*)v;
    if (PyArray_DESCR(a)->type_num != want->type_num &&
        !PyArray_CanCastTypeTo(PyArray_DESCR(a), want, NPY_SAME_KIND_CASTING)) {
      PyObject* msg = PyUnicode_FromFormat(
          "Cannot feed a value of dtype %R to tensor '%U', which has dtype %s",
          (PyObject*)PyArray_DESCR(a), PyTuple_GET_ITEM(self->feed_names, i),
          loom_dtype_name(self->feed_dtypes[i]));
      if (msg == NULL) return NULL;
      raise_code(LOOM_CODE_INVALID_ARGUMENT, PyUnicode_AsUTF8(msg),
                 PyUnicode_AsUTF8(PyTuple_GET_ITEM(self->feed_names, i)));
      Py_DECREF(msg);
      return NULL;
    }
    Py_INCREF(want);
    arr = (PyArrayObject*)PyArray_FromArray(a, want, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED |
                                                         NPY_ARRAY_FORCECAST);
  } else {
    Py_INCREF(want);
    arr = (PyArrayObject*)PyArray_FromAny(v, want, 0, 0,
                                          NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED |
                                              NPY_ARRAY_FORCECAST,
                                          NULL);
  }
  if (arr == NULL) return NULL;
  int nd = self->feed_ndims[i];
  if (nd >= 0) {
    const int64_t* want_dims = self->feed_dims + (size_t)i * NPY_MAXDIMS;
    int ok = PyArray_NDIM(arr) == nd;
    for (int d = 0; ok && d < nd; ++d)
      if (want_dims[d] >= 0 && want_dims[d] != (int64_t)PyArray_DIM(arr, d)) ok = 0;
    if (!ok) {
      int64_t got[NPY_MAXDIMS];
      for (int d = 0; d < PyArray_NDIM(arr); ++d) got[d] = (int64_t)PyArray_DIM(arr, d);
      PyObject* gs = format_shape(PyArray_NDIM(arr), got);
      PyObject* ws = format_shape(nd, want_dims);
      PyErr_Format(PyExc_ValueError,
                   "Cannot feed value of shape %U for Tensor '%U', which has shape '%U'", gs,
                   PyTuple_GET_ITEM(self->feed_names, i), ws);
      Py_XDECREF(gs);
      Py_XDECREF(ws);
      Py_DECREF(arr);
      return NULL;
    }
  }
  loom_tensor* t = tensor_from_array(arr, PyUnicode_AsUTF8(PyTuple_GET_ITEM(self->feed_names, i)));
  Py_DECREF(arr);
  return t;
}

#define SMALL_N 8

/* Runs with feed values taken from `values`: a dict (its values in insertion
 * order) or a sequence. */
static PyObject* Callable_call_impl(CallableObject* self, PyObject* values, long long timeout_ms) {
  if (self->callable == NULL || self->session->session == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "Attempted to use a closed Session.");
    return NULL;
  }
  int nf = self->num_feeds, nr = self->num_fetches;
  loom_tensor* feeds_small[SMALL_N];
  loom_tensor* outs_small[SMALL_N];
  loom_tensor** feeds = nf <= SMALL_N ? feeds_small : (loom_tensor**)PyMem_Calloc((size_t)nf, sizeof(loom_tensor*));
  loom_tensor** outs = nr <= SMALL_N ? outs_small : (loom_tensor**)PyMem_Calloc((size_t)nr, sizeof(loom_tensor*));
  PyObject* result = NULL;
  int made = 0;
  if (feeds == NULL || outs == NULL) {
    PyErr_NoMemory();
    goto done;
  }
  if (values != NULL && values != Py_None) {
    if (PyDict_Check(values)) {
      if (PyDict_GET_SIZE(values) != nf) {
        PyErr_Format(PyExc_ValueError, "expected %d feed values, got %zd", nf, PyDict_GET_SIZE(values));
        goto done;
      }
      Py_ssize_t pos = 0;
      PyObject *k, *v;
      while (PyDict_Next(values, &pos, &k, &v)) {
        feeds[made] = feed_tensor(self, made, v);
        if (feeds[made] == NULL) goto done;
        ++made;
      }
    } else {
      PyObject* fast = PySequence_Fast(values, "feed values must be a sequence or dict");
      if (fast == NULL) goto done;
      if (PySequence_Fast_GET_SIZE(fast) != nf) {
        PyErr_Format(PyExc_ValueError, "expected %d feed values, got %zd", nf, PySequence_Fast_GET_SIZE(fast));
        Py_DECREF(fast);
        goto done;
      }
      for (; made < nf; ++made) {
        feeds[made] = feed_tensor(self, made, PySequence_Fast_GET_ITEM(fast, made));
        if (feeds[made] == NULL) {
          Py_DECREF(fast);
          goto done;
        }
      }
      Py_DECREF(fast);
    }
  } else if (nf != 0) {
    PyErr_Format(PyExc_ValueError, "expected %d feed values, got none", nf);
    goto done;
  }
  {
    loom_status* s;
    Py_BEGIN_ALLOW_THREADS
    if (timeout_ms > 0) {
      loom_run_options ro = {sizeof(loom_run_options), (int64_t)timeout_ms};
      s = loom_callable_run_with_options(self->callable, &ro, feeds, outs);
    } else {
      s = loom_callable_run(self->callable, feeds, outs);
    }
    Py_END_ALLOW_THREADS
    if (s != NULL) {
      raise_status(s, NULL);
      goto done;
    }
  }
  /* The core says which results share memory (with a variable, a constant,
   * a fed array — the feeds are still alive here): those are copied, so the
   * caller's arrays and the results stay independent (as in TensorFlow). */
  if (self->unwrap) {
    result = array_from_tensor(outs[0], loom_session_fetch_is_shared(outs[0]));
  } else {
    result = PyTuple_New(nr);
    int i = 0;
    if (result != NULL) {
      for (; i < nr; ++i) {
        PyObject* a = array_from_tensor(outs[i], loom_session_fetch_is_shared(outs[i]));
        if (a == NULL) break;
        PyTuple_SET_ITEM(result, i, a);
      }
    }
    if (i < nr) {
      for (int j = i + (result != NULL ? 1 : 0); j < nr; ++j) loom_tensor_free(outs[j]);
      Py_CLEAR(result);
    }
  }
done:
  for (int i = 0; i < made; ++i) loom_tensor_free(feeds[i]);
  if (feeds != feeds_small) PyMem_Free(feeds);
  if (outs != outs_small) PyMem_Free(outs);
  return result;
}

static PyObject* Callable_call(CallableObject* self, PyObject* args, PyObject* kw) {
  PyObject* values = NULL;
  if (!PyArg_ParseTuple(args, "|O", &values)) return NULL;
  return Callable_call_impl(self, values, 0);
}

static PyObject* Callable_run(CallableObject* self, PyObject* values) {
  return Callable_call_impl(self, values, 0);
}

/* run_with_timeout(values, timeout_ms): RunOptions.timeout_in_ms. */
static PyObject* Callable_run_with_timeout(CallableObject* self, PyObject* args) {
  PyObject* values;
  long long timeout_ms;
  if (!PyArg_ParseTuple(args, "OL", &values, &timeout_ms)) return NULL;
  return Callable_call_impl(self, values, timeout_ms);
}

static PyMethodDef Callable_methods[] = {
    {"run", (PyCFunction)Callable_run, METH_O,
     "run(values) -> array | tuple of arrays | None; values: dict (in key order) or sequence"},
    {"run_with_timeout", (PyCFunction)Callable_run_with_timeout, METH_VARARGS,
     "run_with_timeout(values, timeout_ms): run() bounded in time (DEADLINE_EXCEEDED past it)"},
    {"close", (PyCFunction)Callable_close, METH_NOARGS, "frees the loom_callable"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject CallableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Callable",
    .tp_basicsize = sizeof(CallableObject),
    .tp_dealloc = (destructor)Callable_dealloc,
    .tp_call = (ternaryfunc)Callable_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A prepared (feeds, fetches, targets) signature of a Session.",
    .tp_methods = Callable_methods,
};

/* make_callable(feeds, feed_dtypes, feed_shapes, feed_names, fetches,
 *               targets, unwrap) */
static PyObject* Session_make_callable(SessionObject* self, PyObject* args) {
  PyObject *pfeeds, *pdtypes, *pshapes, *pnames, *pfetches, *ptargets;
  int unwrap;
  if (!PyArg_ParseTuple(args, "OOOOOOp", &pfeeds, &pdtypes, &pshapes, &pnames, &pfetches,
                        &ptargets, &unwrap))
    return NULL;
  if (self->session == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "Attempted to use a closed Session.");
    return NULL;
  }
  Py_ssize_t nf = 0, nr = 0, nt = 0;
  loom_output *feeds = NULL, *fetches = NULL;
  loom_op** targets = NULL;
  CallableObject* c = NULL;
  feeds = parse_outputs(pfeeds, &nf);
  if (feeds == NULL) goto fail;
  fetches = parse_outputs(pfetches, &nr);
  if (fetches == NULL) goto fail;
  targets = parse_ops(ptargets, &nt);
  if (targets == NULL) goto fail;
  if (PySequence_Size(pdtypes) != nf || PySequence_Size(pshapes) != nf ||
      PySequence_Size(pnames) != nf) {
    PyErr_SetString(PyExc_ValueError, "make_callable: inconsistent argument lengths");
    goto fail;
  }
  c = PyObject_New(CallableObject, &CallableType);
  if (c == NULL) goto fail;
  c->callable = NULL;
  c->session = self;
  Py_INCREF(self);
  c->num_feeds = (int)nf;
  c->num_fetches = (int)nr;
  c->unwrap = unwrap && nr == 1;
  c->feed_dtypes = (loom_dtype*)PyMem_Calloc((size_t)(nf ? nf : 1), sizeof(loom_dtype));
  c->feed_descrs = (PyArray_Descr**)PyMem_Calloc((size_t)(nf ? nf : 1), sizeof(PyArray_Descr*));
  c->feed_ndims = (int*)PyMem_Calloc((size_t)(nf ? nf : 1), sizeof(int));
  c->feed_dims = (int64_t*)PyMem_Calloc((size_t)(nf ? nf : 1) * NPY_MAXDIMS, sizeof(int64_t));
  c->feed_names = PySequence_Tuple(pnames);
  if (!c->feed_dtypes || !c->feed_descrs || !c->feed_ndims || !c->feed_dims || !c->feed_names)
    goto fail;
  for (Py_ssize_t i = 0; i < nf; ++i) {
    PyObject* d = PySequence_GetItem(pdtypes, i);
    long dt = d ? PyLong_AsLong(d) : -1;
    Py_XDECREF(d);
    if (dt == -1 && PyErr_Occurred()) goto fail;
    c->feed_dtypes[i] = (loom_dtype)dt;
    int tn = dtype_to_typenum((loom_dtype)dt);
    if (tn < 0) {
      PyErr_Format(PyExc_TypeError, "cannot feed tensors of dtype %s from numpy",
                   loom_dtype_name((loom_dtype)dt));
      goto fail;
    }
    c->feed_descrs[i] = PyArray_DescrFromType(tn);
    PyObject* sh = PySequence_GetItem(pshapes, i);
    if (sh == NULL) goto fail;
    int rc = parse_shape(sh, c->feed_dims + (size_t)i * NPY_MAXDIMS, &c->feed_ndims[i]);
    Py_DECREF(sh);
    if (rc < 0) goto fail;
  }
  {
    loom_status* s = loom_session_make_callable(self->session, feeds, (int)nf, fetches, (int)nr,
                                                targets, (int)nt, &c->callable);
    if (s != NULL) {
      raise_status(s, NULL);
      goto fail;
    }
  }
  PyMem_Free(feeds);
  PyMem_Free(fetches);
  PyMem_Free(targets);
  return (PyObject*)c;
fail:
  PyMem_Free(feeds);
  PyMem_Free(fetches);
  PyMem_Free(targets);
  Py_XDECREF(c);
  return NULL;
}


/* A sequence of str (or None) -> malloc'ed array of borrowed UTF-8 pointers. */
static const char** parse_names(PyObject* seq, PyObject** out_fast, int* out_n) {
  *out_fast = NULL;
  *out_n = 0;
  if (seq == Py_None) return NULL;
  PyObject* fast = PySequence_Fast(seq, "names must be a sequence of str");
  if (fast == NULL) return NULL;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  const char** names = (const char**)PyMem_Malloc(sizeof(char*) * (size_t)(n ? n : 1));
  for (Py_ssize_t i = 0; i < n; ++i) {
    names[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(fast, i));
    if (names[i] == NULL) {
      PyMem_Free(names);
      Py_DECREF(fast);
      return NULL;
    }
  }
  *out_fast = fast;
  *out_n = (int)n;
  return names;
}

static PyObject* Session_save_restore(SessionObject* self, PyObject* args, int save) {
  const char* path;
  PyObject* pnames;
  if (!PyArg_ParseTuple(args, "sO", &path, &pnames)) return NULL;
  if (self->session == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "Attempted to use a closed Session.");
    return NULL;
  }
  PyObject* fast;
  int n;
  const char** names = parse_names(pnames, &fast, &n);
  if (names == NULL && PyErr_Occurred()) return NULL;
  loom_status* s;
  Py_BEGIN_ALLOW_THREADS
  s = save ? loom_session_save(self->session, path, names, n)
           : loom_session_restore(self->session, path, names, n);
  Py_END_ALLOW_THREADS
  PyMem_Free(names);
  Py_XDECREF(fast);
  if (s != NULL) return raise_status(s, NULL);
  Py_RETURN_NONE;
}

static PyObject* Session_save(SessionObject* self, PyObject* args) {
  return Session_save_restore(self, args, 1);
}

static PyObject* Session_restore(SessionObject* self, PyObject* args) {
  return Session_save_restore(self, args, 0);
}

static PyMethodDef Session_methods[] = {
    {"save", (PyCFunction)Session_save, METH_VARARGS,
     "save(path, names|None): loom_session_save"},
    {"restore", (PyCFunction)Session_restore, METH_VARARGS,
     "restore(path, names|None): loom_session_restore"},
    {"make_callable", (PyCFunction)Session_make_callable, METH_VARARGS,
     "make_callable(feeds, feed_dtypes, feed_shapes, feed_names, fetches, targets, "
     "unwrap) -> Callable"},
    {"close", (PyCFunction)Session_close, METH_NOARGS,
     "frees the loom_session (free its Callables first)"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_dealloc = (destructor)Session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Owns a loom_session.",
    .tp_methods = Session_methods,
    .tp_new = Session_new,
};

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

static PyTypeObject ServerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Server",
    .tp_basicsize = sizeof(ServerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Server_new,
    .tp_dealloc = (destructor)Server_dealloc,
    .tp_methods = Server_methods,
    .tp_getset = Server_getset,
};

static PyObject* transport_keygen(PyObject* self, PyObject* args) {
  const char* scheme = "zmq";
  if (!PyArg_ParseTuple(args, "|s", &scheme)) return NULL;
  char pub[128], sec[128];
  loom_status* s = loom_transport_keygen(scheme, pub, sizeof(pub), sec, sizeof(sec));
  if (s != NULL) return raise_status(s, NULL);
  return Py_BuildValue("(ss)", pub, sec);
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
