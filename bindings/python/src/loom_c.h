/* loom._C's private header: what its source files share (see loom_module.c).
 * Not installed; the extension is built with -fvisibility=hidden, so these
 * names stay inside it and only PyInit__C is exported. */
#ifndef LOOM_PYTHON_LOOM_C_H_
#define LOOM_PYTHON_LOOM_C_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
/* One numpy C-API table for all files; loom_module.c fills it (import_array). */
#define PY_ARRAY_UNIQUE_SYMBOL loom_PyArray_API
#ifndef LOOM_C_IMPORT_ARRAY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <stdint.h>
#include <string.h>

#include "loom/loom.h"

/* errors.c */
/* A Python exception raised inside a gradient function, kept (under the GIL)
 * so that the caller of add_gradients re-raises the original exception. */
extern PyObject* g_grad_exc;
PyObject* raise_code(int code, const char* msg, const char* op_name);
/* Raises the status as a Python exception, frees it, returns NULL. */
PyObject* raise_status(loom_status* s, const char* op_name);
PyObject* set_error_factory(PyObject* self, PyObject* fn);

/* convert.c */
int dtype_to_typenum(loom_dtype d);
/* Wraps a C-contiguous, aligned array without copying (a new reference to arr).
 * Returns NULL with an exception. */
loom_tensor* tensor_from_array(PyArrayObject* arr, const char* what);
/* An owned loom_tensor as a numpy array (zero-copy unless copy != 0). Consumes t. */
PyObject* array_from_tensor(loom_tensor* t, int copy);
int parse_op(PyObject* o, loom_op** out);
/* (op_ptr, index) or None -> loom_output */
int parse_output(PyObject* o, loom_output* out);
PyObject* output_to_py(loom_output o);
/* A sequence of outputs / ops -> PyMem_Malloc'ed array (caller frees). */
loom_output* parse_outputs(PyObject* seq, Py_ssize_t* out_n);
loom_op** parse_ops(PyObject* seq, Py_ssize_t* out_n);
/* None (unknown rank, *nd = -1) or a sequence of ints / None; up to NPY_MAXDIMS. */
int parse_shape(PyObject* o, int64_t* dims, int* nd);
PyObject* shape_to_py(const int64_t* dims, int nd);
loom_tensor* attr_tensor(PyObject* v, const char* what);

/* graph.c */
typedef struct {
  PyObject_HEAD
  loom_graph* graph;
} GraphObject;
extern PyTypeObject GraphType;
PyObject* op_info(PyObject* self, PyObject* arg);
PyObject* op_inputs(PyObject* self, PyObject* arg);
PyObject* op_control_inputs(PyObject* self, PyObject* arg);
PyObject* output_num_consumers(PyObject* self, PyObject* args);
PyObject* op_attr(PyObject* self, PyObject* args);

/* gradients.c */
PyObject* register_gradient(PyObject* self, PyObject* args);

/* session.c */
extern PyTypeObject SessionType;
extern PyTypeObject CallableType;

/* server.c */
extern PyTypeObject ServerType;
PyObject* transport_keygen(PyObject* self, PyObject* args);

#endif /* LOOM_PYTHON_LOOM_C_H_ */
