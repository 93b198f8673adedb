/* loom._C: Python gradient functions registered as loom_gradient_fn. */
#include "loom_c.h"

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

PyObject* register_gradient(PyObject* self, PyObject* args) {
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
