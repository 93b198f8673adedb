/* loom._C: errors: a loom_status becomes the exception loom/errors.py's factory makes. */
#include "loom_c.h"

/* ------------------------------------------------------------------ errors */

static PyObject* g_error_factory = NULL;   /* callable(code, msg, op_name) */
PyObject* g_grad_exc = NULL;

PyObject* raise_code(int code, const char* msg, const char* op_name) {
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
PyObject* raise_status(loom_status* s, const char* op_name) {
  raise_code((int)loom_status_code(s), loom_status_message(s), op_name);
  loom_status_free(s);
  return NULL;
}

PyObject* set_error_factory(PyObject* self, PyObject* fn) {
  if (fn == Py_None) {
    Py_CLEAR(g_error_factory);
  } else {
    Py_INCREF(fn);
    Py_XSETREF(g_error_factory, fn);
  }
  Py_RETURN_NONE;
}
