/* loom._C: Session (owns a loom_session; save/restore) and Callable, the prepared
 * (feeds, fetches, targets) signature that is Session.run's hot path. */
#include "loom_c.h"

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

PyTypeObject CallableType = {
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

PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "loom._C.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_dealloc = (destructor)Session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Owns a loom_session.",
    .tp_methods = Session_methods,
    .tp_new = Session_new,
};
