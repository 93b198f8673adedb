/* loom._C: conversions between Python/numpy and loom.h values: dtypes, tensors
 * (zero-copy both ways), ops and outputs, shapes. */
#include "loom_c.h"

/* ------------------------------------------------------------------ dtypes */

int dtype_to_typenum(loom_dtype d) {
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
loom_tensor* tensor_from_array(PyArrayObject* arr, const char* what) {
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
PyObject* array_from_tensor(loom_tensor* t, int copy) {
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

int parse_op(PyObject* o, loom_op** out) {
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
int parse_output(PyObject* o, loom_output* out) {
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

PyObject* output_to_py(loom_output o) {
  if (o.op == NULL) Py_RETURN_NONE;
  PyObject* p = PyLong_FromVoidPtr(o.op);
  if (p == NULL) return NULL;
  return Py_BuildValue("(Ni)", p, o.index);
}

/* A sequence of outputs -> malloc'ed array (caller frees). */
loom_output* parse_outputs(PyObject* seq, Py_ssize_t* out_n) {
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

loom_op** parse_ops(PyObject* seq, Py_ssize_t* out_n) {
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
int parse_shape(PyObject* o, int64_t* dims, int* nd) {
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

PyObject* shape_to_py(const int64_t* dims, int nd) {
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
loom_tensor* attr_tensor(PyObject* v, const char* what) {
  PyArrayObject* a = (PyArrayObject*)PyArray_FROM_OF(v, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
  if (a == NULL) return NULL;
  loom_tensor* t = tensor_from_array(a, what);
  Py_DECREF(a);
  return t;
}
