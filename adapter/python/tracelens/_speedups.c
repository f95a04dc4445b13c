/* Optional C accelerator of the tracer (built by accel.py on first use, never required):
 * sys.monitoring callbacks for the hot events (3.12+), appending exactly the records of the
 * pure-Python callbacks to the recorder's buffer, and the writer's batch builder (interning).
 * Anything unusual is handed to the pure-Python code, which stays the reference behaviour. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <time.h>

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
#endif
#if PY_VERSION_HEX < 0x03090000
#define PyObject_GC_IsTracked(o) _PyObject_GC_IS_TRACKED(o)
#endif

/* ---- clock: the same clock as time.perf_counter_ns (checked at import) ---------------------- */
static int use_c_clock = 0;
static PyObject *py_perf = NULL; /* time.perf_counter_ns */

static PyObject *now_ns(void) {
#if defined(__linux__)
  if (use_c_clock) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return PyLong_FromLongLong((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  }
#endif
  return PyObject_CallNoArgs(py_perf);
}

static PyObject *small_int_reprs[262]; /* repr of -5..256 */

/* ---- monitoring callbacks ------------------------------------------------------------------- */
typedef struct {
  PyObject_HEAD
  PyObject *known;   /* dict id(code) -> argnames tuple (a tuple subclass: handled in Python) */
  PyObject *buf;     /* list the records go to */
  PyObject *rep;     /* value -> str (values.py) */
  PyObject *fail;    /* internal error handler */
  PyObject *disable; /* sys.monitoring.DISABLE */
  PyObject *py_start, *py_return, *py_yield, *py_resume; /* pure-Python callbacks */
  PyObject *s_none, *s_true, *s_false;
  Py_ssize_t limit;
  int fast_values;
} Callbacks;

static void cb_dealloc(Callbacks *self) {
  Py_XDECREF(self->known); Py_XDECREF(self->buf); Py_XDECREF(self->rep); Py_XDECREF(self->fail);
  Py_XDECREF(self->disable); Py_XDECREF(self->py_start); Py_XDECREF(self->py_return);
  Py_XDECREF(self->py_yield); Py_XDECREF(self->py_resume); Py_XDECREF(self->s_none);
  Py_XDECREF(self->s_true); Py_XDECREF(self->s_false);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* rep(value) with short paths for exact builtins whose text rep() would give unchanged. */
static PyObject *value_rep(Callbacks *self, PyObject *v) {
  if (self->fast_values) {
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None) return Py_NewRef(self->s_none);
    if (v == Py_True) return Py_NewRef(self->s_true);
    if (v == Py_False) return Py_NewRef(self->s_false);
    if (t == &PyLong_Type) {
      int overflow = 0;
      long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
      if (!overflow && !(x == -1 && PyErr_Occurred())) {
        if (x >= -5 && x <= 256) return Py_NewRef(small_int_reprs[x + 5]);
        char b[32];
        int n = snprintf(b, sizeof b, "%lld", x);
        if (n <= self->limit) return PyUnicode_FromStringAndSize(b, n);
      }
      PyErr_Clear();
    } else if ((t == &PyUnicode_Type && PyUnicode_GET_LENGTH(v) + 2 <= self->limit) ||
               t == &PyFloat_Type) {
      PyObject *r = PyObject_Repr(v);
      if (r != NULL && PyUnicode_GET_LENGTH(r) <= self->limit) return r;
      Py_XDECREF(r);
      PyErr_Clear();
    }
  }
  return PyObject_CallOneArg(self->rep, v);
}

/* An error inside a callback: as the Python callbacks do, RecursionError is ignored, other
 * Exceptions go to fail(), anything else (KeyboardInterrupt...) propagates. */
static PyObject *cb_error(Callbacks *self) {
  if (PyErr_ExceptionMatches(PyExc_RecursionError)) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
  PyObject *r = PyObject_CallOneArg(self->fail, value ? value : Py_None);
  Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
  if (r == NULL) PyErr_Clear();
  Py_XDECREF(r);
  Py_RETURN_NONE;
}

/* Borrowed argnames of a known code object (exact tuple), NULL if unknown or special. */
static PyObject *known_names(Callbacks *self, PyObject *code) {
  PyObject *key = PyLong_FromVoidPtr(code);
  if (key == NULL) { PyErr_Clear(); return NULL; }
  PyObject *names = PyDict_GetItemWithError(self->known, key);
  Py_DECREF(key);
  if (names == NULL) { PyErr_Clear(); return NULL; }
  return PyTuple_CheckExact(names) ? names : NULL;
}

static int is_known(Callbacks *self, PyObject *code) {
  PyObject *key = PyLong_FromVoidPtr(code);
  if (key == NULL) { PyErr_Clear(); return -1; }
  int r = PyDict_Contains(self->known, key);
  Py_DECREF(key);
  if (r < 0) PyErr_Clear();
  return r;
}

/* Records hold only strings, ints and code objects kept alive elsewhere, and are never part of a
 * cycle: they are taken out of the cyclic GC, which would otherwise walk the whole buffer. */
static int append_steal(Callbacks *self, PyObject *rec) {
  if (rec == NULL) return -1;
  if (PyObject_GC_IsTracked(rec)) PyObject_GC_UnTrack(rec);
  int r = PyList_Append(self->buf, rec);
  Py_DECREF(rec);
  return r;
}

#if PY_VERSION_HEX >= 0x030C0000
static PyObject *cb_start(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 2) return PyObject_Vectorcall(self->py_start, args, nargs, NULL);
  PyObject *code = args[0];
  PyObject *names = known_names(self, code);
  PyFrameObject *frame = names ? PyEval_GetFrame() : NULL;
  PyCodeObject *fcode = frame ? PyFrame_GetCode(frame) : NULL;
  int same = fcode != NULL && (PyObject *)fcode == code;
  Py_XDECREF(fcode);
  if (!same) return PyObject_Vectorcall(self->py_start, args, nargs, NULL);
  Py_ssize_t n = PyTuple_GET_SIZE(names);
  PyObject *values = PyTuple_New(n);
  if (values == NULL) return cb_error(self);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *v = PyFrame_GetVar(frame, PyTuple_GET_ITEM(names, i));
    if (v == NULL) { Py_DECREF(values); return cb_error(self); }
    PyObject *text = value_rep(self, v);
    Py_DECREF(v);
    if (text == NULL) { Py_DECREF(values); return cb_error(self); }
    PyTuple_SET_ITEM(values, i, text);
  }
  if (PyObject_GC_IsTracked(values)) PyObject_GC_UnTrack(values);
  PyObject *ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
  PyObject *ts = now_ns();
  if (ident == NULL || ts == NULL) {
    Py_XDECREF(ident); Py_XDECREF(ts); Py_DECREF(values);
    return cb_error(self);
  }
  PyObject *rec = PyTuple_New(5);
  if (rec == NULL) { Py_DECREF(ident); Py_DECREF(ts); Py_DECREF(values); return cb_error(self); }
  PyTuple_SET_ITEM(rec, 0, PyLong_FromLong(1));
  PyTuple_SET_ITEM(rec, 1, ident);
  PyTuple_SET_ITEM(rec, 2, Py_NewRef(code));
  PyTuple_SET_ITEM(rec, 3, ts);
  PyTuple_SET_ITEM(rec, 4, values);
  if (append_steal(self, rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}

static PyObject *end_event(Callbacks *self, long kind, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *fallback) {
  if (nargs != 3) return PyObject_Vectorcall(fallback, args, nargs, NULL);
  PyObject *code = args[0];
  int k = is_known(self, code);
  if (k <= 0) return PyObject_Vectorcall(fallback, args, nargs, NULL);
  PyObject *text = value_rep(self, args[2]);
  if (text == NULL) return cb_error(self);
  PyObject *ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
  PyObject *ts = now_ns();
  PyObject *rec = PyTuple_New(6);
  if (ident == NULL || ts == NULL || rec == NULL) {
    Py_XDECREF(ident); Py_XDECREF(ts); Py_XDECREF(rec); Py_DECREF(text);
    return cb_error(self);
  }
  PyTuple_SET_ITEM(rec, 0, PyLong_FromLong(kind));
  PyTuple_SET_ITEM(rec, 1, ident);
  PyTuple_SET_ITEM(rec, 2, Py_NewRef(code));
  PyTuple_SET_ITEM(rec, 3, ts);
  PyTuple_SET_ITEM(rec, 4, Py_NewRef(args[1]));
  PyTuple_SET_ITEM(rec, 5, text);
  if (append_steal(self, rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}

static PyObject *cb_return(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return end_event(self, 2, args, nargs, self->py_return);
}

static PyObject *cb_yield(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return end_event(self, 6, args, nargs, self->py_yield);
}

static PyObject *cb_resume(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 2 || known_names(self, args[0]) == NULL)
    return PyObject_Vectorcall(self->py_resume, args, nargs, NULL);
  PyObject *ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
  PyObject *ts = now_ns();
  PyObject *rec = PyTuple_New(4);
  if (ident == NULL || ts == NULL || rec == NULL) {
    Py_XDECREF(ident); Py_XDECREF(ts); Py_XDECREF(rec);
    return cb_error(self);
  }
  PyTuple_SET_ITEM(rec, 0, PyLong_FromLong(7));
  PyTuple_SET_ITEM(rec, 1, ident);
  PyTuple_SET_ITEM(rec, 2, Py_NewRef(args[0]));
  PyTuple_SET_ITEM(rec, 3, ts);
  if (append_steal(self, rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}
#endif

static PyObject *cb_rep(Callbacks *self, PyObject *v) { return value_rep(self, v); }

static PyMethodDef cb_methods[] = {
#if PY_VERSION_HEX >= 0x030C0000
  {"on_start", (PyCFunction)(void (*)(void))cb_start, METH_FASTCALL, "PY_START callback."},
  {"on_return", (PyCFunction)(void (*)(void))cb_return, METH_FASTCALL, "PY_RETURN callback."},
  {"on_yield", (PyCFunction)(void (*)(void))cb_yield, METH_FASTCALL, "PY_YIELD callback."},
  {"on_resume", (PyCFunction)(void (*)(void))cb_resume, METH_FASTCALL, "PY_RESUME callback."},
#endif
  {"rep", (PyCFunction)cb_rep, METH_O, "The value text the callbacks record (fast paths)."},
  {NULL, NULL, 0, NULL}};

static PyTypeObject CallbacksType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "tracelens._speedups.Callbacks",
  .tp_basicsize = sizeof(Callbacks),
  .tp_dealloc = (destructor)cb_dealloc,
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "Hot sys.monitoring callbacks; unknown code and special cases go to Python.",
  .tp_methods = cb_methods,
};

/* Callbacks(known, buf, rep, fail, disable, fallbacks: dict name -> callable, limit) */
static PyObject *make_callbacks(PyObject *mod, PyObject *args) {
  PyObject *known, *buf, *rep, *fail, *disable, *fallbacks;
  Py_ssize_t limit;
  if (!PyArg_ParseTuple(args, "O!O!OOOO!n", &PyDict_Type, &known, &PyList_Type, &buf, &rep, &fail,
                        &disable, &PyDict_Type, &fallbacks, &limit))
    return NULL;
  Callbacks *self = PyObject_New(Callbacks, &CallbacksType);
  if (self == NULL) return NULL;
  self->known = Py_NewRef(known); self->buf = Py_NewRef(buf); self->rep = Py_NewRef(rep);
  self->fail = Py_NewRef(fail); self->disable = Py_NewRef(disable);
  const char *names[4] = {"PY_START", "PY_RETURN", "PY_YIELD", "PY_RESUME"};
  PyObject **slots[4] = {&self->py_start, &self->py_return, &self->py_yield, &self->py_resume};
  for (int i = 0; i < 4; i++) {
    PyObject *f = PyDict_GetItemString(fallbacks, names[i]);
    *slots[i] = Py_NewRef(f ? f : Py_None);
  }
  self->s_none = PyUnicode_InternFromString("None");
  self->s_true = PyUnicode_InternFromString("True");
  self->s_false = PyUnicode_InternFromString("False");
  self->limit = limit;
  self->fast_values = 0;
  /* The short paths are used only if they give what rep() gives for sample values. */
  PyObject *samples = Py_BuildValue("(OOOiiLLsssdd)", Py_None, Py_True, Py_False, 0, -3,
                                    (long long)123456789012LL, (long long)-98765432109LL, "", "ab'c",
                                    "x\"y\n", 1.5, -0.1);
  int ok = samples != NULL;
  for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(samples); i++) {
    PyObject *v = PyTuple_GET_ITEM(samples, i);
    PyObject *expected = PyObject_CallOneArg(rep, v);
    self->fast_values = 1;
    PyObject *got = value_rep(self, v);
    self->fast_values = 0;
    ok = expected != NULL && got != NULL && PyObject_RichCompareBool(expected, got, Py_EQ) == 1;
    Py_XDECREF(expected); Py_XDECREF(got);
  }
  PyErr_Clear();
  Py_XDECREF(samples);
  self->fast_values = ok;
  return (PyObject *)self;
}

/* ---- the writer's batch builder --------------------------------------------------------------- */
/* build(rec, events, strings, files, codes, threads) -> list of wire events. `rec` is the
 * Recorder: its interning dicts are used directly and its Python methods handle every miss
 * except strings. Record kinds it does not know are passed to rec._event_slow(r, ...). */
typedef struct {
  PyObject *rec, *strings_d, *codes_d, *threads_d, *types_d, *line_cache;
  PyObject *strings, *files, *codes, *threads;
  long long next_string;
  int offsets;
} Build;

static int sync_out(Build *b) {
  PyObject *n = PyLong_FromLongLong(b->next_string);
  if (n == NULL) return -1;
  int r = PyObject_SetAttrString(b->rec, "_next_string", n);
  Py_DECREF(n);
  return r;
}

static int sync_in(Build *b) {
  PyObject *n = PyObject_GetAttrString(b->rec, "_next_string");
  if (n == NULL) return -1;
  b->next_string = PyLong_AsLongLong(n);
  Py_DECREF(n);
  return PyErr_Occurred() ? -1 : 0;
}

/* A Python method call on the recorder, with _next_string kept in step. New reference. */
static PyObject *call_rec(Build *b, const char *name, PyObject *a, PyObject *c) {
  if (sync_out(b) < 0) return NULL;
  PyObject *r = c ? PyObject_CallMethod(b->rec, name, "OO", a, c)
                  : PyObject_CallMethod(b->rec, name, "O", a);
  if (sync_in(b) < 0) { Py_XDECREF(r); return NULL; }
  return r;
}

static PyObject *string_id(Build *b, PyObject *text) {
  PyObject *sid = PyDict_GetItemWithError(b->strings_d, text);
  if (sid != NULL) return Py_NewRef(sid);
  if (PyErr_Occurred()) return NULL;
  if (PyDict_GET_SIZE(b->strings_d) >= 200000) PyDict_Clear(b->strings_d);
  b->next_string += 1;
  sid = PyLong_FromLongLong(b->next_string);
  if (sid == NULL) return NULL;
  if (PyDict_SetItem(b->strings_d, text, sid) < 0) { Py_DECREF(sid); return NULL; }
  PyObject *pair = PyList_New(2);
  if (pair == NULL) { Py_DECREF(sid); return NULL; }
  PyList_SET_ITEM(pair, 0, Py_NewRef(sid));
  PyList_SET_ITEM(pair, 1, Py_NewRef(text));
  int r = PyList_Append(b->strings, pair);
  Py_DECREF(pair);
  if (r < 0) { Py_DECREF(sid); return NULL; }
  return sid;
}

static PyObject *keyed_id(Build *b, PyObject *dict, PyObject *key, const char *method,
                          PyObject *arg, PyObject *out) {
  PyObject *id = PyDict_GetItemWithError(dict, key);
  if (id != NULL) return Py_NewRef(id);
  if (PyErr_Occurred()) return NULL;
  return call_rec(b, method, arg, out);
}

static PyObject *line_id(Build *b, PyObject *code, PyObject *offset) {
  PyObject *ckey = PyLong_FromVoidPtr(code);
  if (ckey == NULL) return NULL;
  PyObject *table = PyDict_GetItemWithError(b->line_cache, ckey);
  if (table == NULL) {
    if (PyErr_Occurred()) { Py_DECREF(ckey); return NULL; }
    table = PyDict_New();
    if (table == NULL || PyDict_SetItem(b->line_cache, ckey, table) < 0) {
      Py_XDECREF(table); Py_DECREF(ckey); return NULL;
    }
    Py_DECREF(table); /* owned by the cache now */
  }
  Py_DECREF(ckey);
  PyObject *line = PyDict_GetItemWithError(table, offset);
  if (line != NULL) return Py_NewRef(line);
  if (PyErr_Occurred()) return NULL;
  line = PyObject_CallMethod(b->rec, "_line", "OO", code, offset);
  if (line == NULL) return NULL;
  if (PyDict_SetItem(table, offset, line) < 0) { Py_DECREF(line); return NULL; }
  return line;
}

static PyObject *build(PyObject *mod, PyObject *args) {
  Build b;
  PyObject *events;
  memset(&b, 0, sizeof b);
  if (!PyArg_ParseTuple(args, "OO!O!O!O!O!", &b.rec, &PyList_Type, &events, &PyList_Type, &b.strings,
                        &PyList_Type, &b.files, &PyList_Type, &b.codes, &PyList_Type, &b.threads))
    return NULL;
  PyObject *out = PyList_New(0);
  if (out == NULL) return NULL;
  PyObject *origin = NULL, *offsets = NULL;
  b.strings_d = PyObject_GetAttrString(b.rec, "_strings");
  b.codes_d = PyObject_GetAttrString(b.rec, "_codes");
  b.threads_d = PyObject_GetAttrString(b.rec, "_threads");
  b.types_d = PyObject_GetAttrString(b.rec, "_types");
  b.line_cache = PyObject_GetAttrString(b.rec, "_line_cache");
  origin = PyObject_GetAttrString(b.rec, "origin");
  offsets = PyObject_GetAttrString(b.rec, "_offsets");
  if (!b.strings_d || !b.codes_d || !b.threads_d || !b.types_d || !b.line_cache || !origin ||
      !offsets || !PyDict_Check(b.strings_d) || !PyDict_Check(b.codes_d) ||
      !PyDict_Check(b.threads_d) || !PyDict_Check(b.types_d) || !PyDict_Check(b.line_cache))
    goto error;
  b.offsets = PyObject_IsTrue(offsets);
  if (sync_in(&b) < 0) goto error;
  long long origin_ns = PyLong_AsLongLong(origin);
  if (PyErr_Occurred()) goto error;

  Py_ssize_t n = PyList_GET_SIZE(events);
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *r = PyList_GET_ITEM(events, i);
    PyObject *ev = NULL;
    Py_ssize_t rn = PySequence_Size(r);
    PyObject *r0 = rn > 0 ? PySequence_GetItem(r, 0) : NULL;
    long kind = r0 ? PyLong_AsLong(r0) : -1;
    Py_XDECREF(r0);
    if (PyErr_Occurred()) goto error;
    int simple = PyTuple_CheckExact(r) &&
                 ((kind == 1 && rn == 5) || ((kind == 2 || kind == 6) && rn == 6) ||
                  (kind == 7 && rn == 4));
    if (kind == 0) continue; /* a Handled the program re-raised: cancelled */
    if (!simple) {
      /* Rare kinds (exceptions, threads, tasks, probes...): the Python code handles them. */
      if (sync_out(&b) < 0) goto error;
      PyObject *res = PyObject_CallMethod(b.rec, "_event_slow", "OOOOOO", r, b.strings, b.files,
                                          b.codes, b.threads, out);
      if (res == NULL || sync_in(&b) < 0) { Py_XDECREF(res); goto error; }
      Py_DECREF(res);
      continue;
    }
    PyObject *ident = PyTuple_GET_ITEM(r, 1);
    PyObject *code = PyTuple_GET_ITEM(r, 2);
    PyObject *tsobj = PyTuple_GET_ITEM(r, 3);
    PyObject *tid = keyed_id(&b, b.threads_d, ident, "_thread_id", ident, b.threads);
    if (tid == NULL) goto error;
    PyObject *ckey = PyLong_FromVoidPtr(code);
    PyObject *cid = ckey ? PyDict_GetItemWithError(b.codes_d, ckey) : NULL;
    Py_XDECREF(ckey);
    if (cid != NULL) Py_INCREF(cid);
    else if (PyErr_Occurred()) { Py_DECREF(tid); goto error; }
    else {
      if (sync_out(&b) < 0) { Py_DECREF(tid); goto error; }
      cid = PyObject_CallMethod(b.rec, "_code_id", "OOO", code, b.files, b.codes);
      if (cid == NULL || sync_in(&b) < 0) { Py_DECREF(tid); Py_XDECREF(cid); goto error; }
    }
    long long tsv = PyLong_AsLongLong(tsobj);
    PyObject *ts = PyErr_Occurred() ? NULL : PyLong_FromLongLong(tsv - origin_ns);
    if (ts == NULL) { Py_DECREF(tid); Py_DECREF(cid); goto error; }
    if (kind == 1) {
      PyObject *vals = PyTuple_GET_ITEM(r, 4);
      Py_ssize_t nv = PyTuple_Check(vals) ? PyTuple_GET_SIZE(vals) : -1;
      if (nv < 0) { Py_DECREF(tid); Py_DECREF(cid); Py_DECREF(ts); PyErr_SetString(PyExc_TypeError, "call values"); goto error; }
      ev = PyList_New(4 + nv);
      if (ev == NULL) { Py_DECREF(tid); Py_DECREF(cid); Py_DECREF(ts); goto error; }
      PyList_SET_ITEM(ev, 0, PyLong_FromLong(1));
      PyList_SET_ITEM(ev, 1, tid);
      PyList_SET_ITEM(ev, 2, cid);
      PyList_SET_ITEM(ev, 3, ts);
      for (Py_ssize_t j = 0; j < nv; j++) {
        PyObject *sid = string_id(&b, PyTuple_GET_ITEM(vals, j));
        if (sid == NULL) { Py_DECREF(ev); goto error; }
        PyList_SET_ITEM(ev, 4 + j, sid);
      }
    } else if (kind == 7) {
      ev = PyList_New(4);
      if (ev == NULL) { Py_DECREF(tid); Py_DECREF(cid); Py_DECREF(ts); goto error; }
      PyList_SET_ITEM(ev, 0, PyLong_FromLong(7));
      PyList_SET_ITEM(ev, 1, tid);
      PyList_SET_ITEM(ev, 2, cid);
      PyList_SET_ITEM(ev, 3, ts);
    } else {
      PyObject *line = b.offsets ? line_id(&b, code, PyTuple_GET_ITEM(r, 4))
                                 : Py_NewRef(PyTuple_GET_ITEM(r, 4));
      PyObject *sid = line ? string_id(&b, PyTuple_GET_ITEM(r, 5)) : NULL;
      ev = sid ? PyList_New(6) : NULL;
      if (ev == NULL) {
        Py_XDECREF(line); Py_XDECREF(sid); Py_DECREF(tid); Py_DECREF(cid); Py_DECREF(ts);
        goto error;
      }
      PyList_SET_ITEM(ev, 0, PyLong_FromLong(kind));
      PyList_SET_ITEM(ev, 1, tid);
      PyList_SET_ITEM(ev, 2, cid);
      PyList_SET_ITEM(ev, 3, ts);
      PyList_SET_ITEM(ev, 4, line);
      PyList_SET_ITEM(ev, 5, sid);
    }
    PyObject_GC_UnTrack(ev); /* a list of ints: no cycles through it */
    int ar = PyList_Append(out, ev);
    Py_DECREF(ev);
    if (ar < 0) goto error;
  }
  if (sync_out(&b) < 0) goto error;
  Py_XDECREF(b.strings_d); Py_XDECREF(b.codes_d); Py_XDECREF(b.threads_d); Py_XDECREF(b.types_d);
  Py_XDECREF(b.line_cache); Py_XDECREF(origin); Py_XDECREF(offsets);
  return out;
error:
  Py_XDECREF(b.strings_d); Py_XDECREF(b.codes_d); Py_XDECREF(b.threads_d); Py_XDECREF(b.types_d);
  Py_XDECREF(b.line_cache); Py_XDECREF(origin); Py_XDECREF(offsets);
  Py_DECREF(out);
  if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "tracelens._speedups.build failed");
  return NULL;
}


/* ---- trace every existing thread (3.9-3.11; sys.settrace only reaches the calling thread) ---- */
#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030C0000
#define TL_ALL_THREADS 1
#include <frameobject.h>
static PyObject *what_strings[8];
static PyObject *str_f_trace;

static PyObject *frame_trace(PyFrameObject *frame) { /* new reference or NULL (none) */
#if PY_VERSION_HEX < 0x030B0000
  return frame->f_trace ? Py_NewRef(frame->f_trace) : NULL;
#else
  PyObject *t = PyObject_GetAttr((PyObject *)frame, str_f_trace);
  if (t == NULL) { PyErr_Clear(); return NULL; }
  if (t == Py_None) { Py_DECREF(t); return NULL; }
  return t;
#endif
}

static void frame_set_trace(PyFrameObject *frame, PyObject *value) { /* value NULL: clear */
#if PY_VERSION_HEX < 0x030B0000
  Py_XINCREF(value);
  Py_XSETREF(frame->f_trace, value);
#else
  PyObject *type, *val, *tb;
  PyErr_Fetch(&type, &val, &tb);
  if (PyObject_SetAttr((PyObject *)frame, str_f_trace, value ? value : Py_None) < 0) PyErr_Clear();
  PyErr_Restore(type, val, tb);
#endif
}

/* CPython's sysmodule.c call_trampoline/trace_trampoline (3.9-3.11), for any thread. */
static PyObject *call_trampoline(PyObject *callback, PyFrameObject *frame, int what,
                                 PyObject *arg) {
  if (PyFrame_FastToLocalsWithError(frame) < 0) return NULL;
  PyObject *stack[3] = {(PyObject *)frame, what_strings[what], arg != NULL ? arg : Py_None};
  PyObject *result = PyObject_Vectorcall(callback, stack, 3, NULL);
  PyFrame_LocalsToFast(frame, 1);
#if PY_VERSION_HEX < 0x030B0000
  if (result == NULL) PyTraceBack_Here(frame);
#endif
  return result;
}

static int tl_trace_trampoline(PyObject *self, PyFrameObject *frame, int what, PyObject *arg) {
  PyObject *callback = what == PyTrace_CALL ? Py_NewRef(self) : frame_trace(frame);
  if (callback == NULL) return 0;
  if (what < 0 || what > 7) { Py_DECREF(callback); return 0; }
  PyObject *result = call_trampoline(callback, frame, what, arg);
  Py_DECREF(callback);
  if (result == NULL) {
    _PyEval_SetTrace(PyThreadState_Get(), NULL, NULL);
    frame_set_trace(frame, NULL);
    return -1;
  }
  if (result != Py_None) frame_set_trace(frame, result);
  Py_DECREF(result);
  return 0;
}

/* set_trace_all_threads(tracefunc, skip=()) -> [(thread_id, previous C function or None,
 * previous object)] for every thread of this interpreter but the calling one and those in skip. */
static PyObject *set_trace_all_threads(PyObject *mod, PyObject *args) {
  PyObject *func, *skip = NULL;
  if (!PyArg_ParseTuple(args, "O|O", &func, &skip)) return NULL;
  PyThreadState *self_ts = PyThreadState_Get();
  PyObject *out = PyList_New(0);
  if (out == NULL) return NULL;
  for (PyThreadState *ts = PyInterpreterState_ThreadHead(self_ts->interp); ts != NULL;
       ts = PyThreadState_Next(ts)) {
    if (ts == self_ts) continue;
    if (skip != NULL) {
      PyObject *tid = PyLong_FromUnsignedLong((unsigned long)ts->thread_id);
      if (tid == NULL) goto fail;
      int in = PySequence_Contains(skip, tid);
      Py_DECREF(tid);
      if (in < 0) goto fail;
      if (in) continue;
    }
    PyObject *prev_func = ts->c_tracefunc
        ? PyCapsule_New((void *)ts->c_tracefunc, "tracelens.tracefunc", NULL)
        : Py_NewRef(Py_None);
    if (prev_func == NULL) goto fail;
    PyObject *rec = Py_BuildValue("(kNO)", (unsigned long)ts->thread_id, prev_func,
                                  ts->c_traceobj ? ts->c_traceobj : Py_None);
    if (rec == NULL) goto fail;
    int r = PyList_Append(out, rec);
    Py_DECREF(rec);
    if (r < 0) goto fail;
    if (_PyEval_SetTrace(ts, tl_trace_trampoline, func) < 0) goto fail;
  }
  return out;
fail:
  Py_DECREF(out);
  return NULL;
}

/* clear_trace_all_threads(tracefunc, previous): puts back each thread's previous trace where it
 * still has ours (a thread that set its own since is left alone); returns how many. */
static PyObject *clear_trace_all_threads(PyObject *mod, PyObject *args) {
  PyObject *func, *previous;
  if (!PyArg_ParseTuple(args, "OO!", &func, &PyList_Type, &previous)) return NULL;
  PyThreadState *self_ts = PyThreadState_Get();
  long restored = 0;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(previous); i++) {
    unsigned long tid;
    PyObject *prev_func, *prev_obj;
    if (!PyArg_ParseTuple(PyList_GET_ITEM(previous, i), "kOO", &tid, &prev_func, &prev_obj))
      return NULL;
    Py_tracefunc f = NULL;
    if (prev_func != Py_None) {
      f = (Py_tracefunc)PyCapsule_GetPointer(prev_func, "tracelens.tracefunc");
      if (f == NULL) return NULL;
    }
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(self_ts->interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
      if (ts->thread_id != tid) continue;
      if (ts->c_tracefunc == tl_trace_trampoline && ts->c_traceobj == func) {
        if (_PyEval_SetTrace(ts, f, f ? prev_obj : NULL) < 0) return NULL;
        restored++;
      }
      break;
    }
  }
  return PyLong_FromLong(restored);
}
#else
#define TL_ALL_THREADS 0
#endif

static PyMethodDef module_methods[] = {
  {"Callbacks", make_callbacks, METH_VARARGS,
   "Callbacks(known, buf, rep, fail, disable, fallbacks, limit): hot sys.monitoring callbacks."},
  {"build", build, METH_VARARGS,
   "build(recorder, records, strings, files, codes, threads) -> wire events of the records."},
#if TL_ALL_THREADS
  {"set_trace_all_threads", set_trace_all_threads, METH_VARARGS,
   "set_trace_all_threads(tracefunc, skip=()) -> previous: traces the other threads with it."},
  {"clear_trace_all_threads", clear_trace_all_threads, METH_VARARGS,
   "clear_trace_all_threads(tracefunc, previous) -> n: puts the previous trace functions back."},
#endif
  {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_speedups",
                                    "Tracelens's optional C accelerator.", -1, module_methods};

PyMODINIT_FUNC PyInit__speedups(void) {
  if (PyType_Ready(&CallbacksType) < 0) return NULL;
  PyObject *m = PyModule_Create(&moddef);
  if (m == NULL) return NULL;
  for (int i = 0; i < 262; i++) {
    char b[8];
    snprintf(b, sizeof b, "%d", i - 5);
    small_int_reprs[i] = PyUnicode_InternFromString(b);
    if (small_int_reprs[i] == NULL) { Py_DECREF(m); return NULL; }
  }
  PyObject *time_mod = PyImport_ImportModule("time");
  if (time_mod == NULL) { Py_DECREF(m); return NULL; }
  py_perf = PyObject_GetAttrString(time_mod, "perf_counter_ns");
  Py_DECREF(time_mod);
  if (py_perf == NULL) { Py_DECREF(m); return NULL; }
#if defined(__linux__)
  /* Use clock_gettime only if it is time.perf_counter_ns's clock (within 10 ms). */
  PyObject *p = PyObject_CallNoArgs(py_perf);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long c = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  long long pv = p ? PyLong_AsLongLong(p) : 0;
  Py_XDECREF(p);
  PyErr_Clear();
  use_c_clock = p != NULL && llabs(c - pv) < 10000000LL;
#endif
  PyModule_AddIntConstant(m, "C_CLOCK", use_c_clock);
  PyModule_AddIntConstant(m, "MONITORING", PY_VERSION_HEX >= 0x030C0000);
#if TL_ALL_THREADS
  {
    const char *names[8] = {"call", "exception", "line", "return",
                            "c_call", "c_exception", "c_return", "opcode"};
    for (int i = 0; i < 8; i++) {
      what_strings[i] = PyUnicode_InternFromString(names[i]);
      if (what_strings[i] == NULL) { Py_DECREF(m); return NULL; }
    }
    str_f_trace = PyUnicode_InternFromString("f_trace");
    if (str_f_trace == NULL) { Py_DECREF(m); return NULL; }
  }
#endif
  return m;
}
