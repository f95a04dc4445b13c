/* Optional C accelerator of the tracer (built by accel.py on first use, never required):
 * sys.monitoring callbacks for the hot events (3.12+) and a C trace function for the settrace
 * backend (3.9-3.11), appending exactly the records of the pure-Python callbacks to the
 * recorder's buffer, the writer's batch builder (interning) and the trace file's pairing of
 * events into calls rows. Anything unusual is handed to
 * the pure-Python code, which stays the reference behaviour. Also the trace file's calls table
 * written as SQLite pages (TableWriter) and the sampler's clock (SampleTimer). Knows nothing of
 * the wire. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>
#include <time.h>
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
/* 3.12 and 3.13: the running interpreter frame, read in place by the PY_START callback (a frame
 * object would be made for it otherwise). Other versions use the public API. */
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
#define TL_FRAME_DIRECT 1
#if PY_VERSION_HEX >= 0x030D0000
#define TL_CURRENT_FRAME(ts) ((ts)->current_frame)
#define TL_FRAME_CODE(f) ((f)->f_executable)
#else
#define TL_CURRENT_FRAME(ts) ((ts)->cframe->current_frame)
#define TL_FRAME_CODE(f) ((PyObject *)(f)->f_code)
#endif
#else
#define TL_FRAME_DIRECT 0
#endif

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
static inline PyObject *Py_XNewRef(PyObject *o) { Py_XINCREF(o); return o; }
#endif
#if PY_VERSION_HEX < 0x03090000
#define PyObject_GC_IsTracked(o) _PyObject_GC_IS_TRACKED(o)
#endif

/* ---- clock: the same clock as time.perf_counter_ns (checked at import) ---------------------- */
static int use_c_clock = 0;
static PyObject *py_perf = NULL; /* time.perf_counter_ns */

/* CLOCK_MONOTONIC's ns (Windows: the wall clock, for durations only). */
static long long mono_ns(void) {
  struct timespec ts;
#if defined(_WIN32)
  timespec_get(&ts, TIME_UTC);
#else
  clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The clock's ns (-1 with an error set). */
static long long now_ll(void) {
#if defined(__linux__)
  if (use_c_clock) return mono_ns();
#endif
  PyObject *o = PyObject_CallNoArgs(py_perf);
  if (o == NULL) return -1;
  long long v = PyLong_AsLongLong(o);
  Py_DECREF(o);
  return v;
}

static PyObject *small_int_reprs[262]; /* repr of -5..256 */
static PyObject *int_texts[4096];      /* repr of other ints lately seen, by hash of the value */
static long long int_values[4096];

/* The decimal digits of v into out (at least 21 bytes), as "%lld" writes them: their count. */
static int format_ll(char *out, long long v) {
  char tmp[24];
  int n = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
  int len = 0;
  if (v < 0) out[len++] = '-';
  while (n) out[len++] = tmp[--n];
  return len;
}

/* The current thread's ident as an int object (new reference), kept in *obj with the ident it
 * stands for, as idents are big ints that are not cached: one object while the thread stays. */
static PyObject *cached_ident(unsigned long *ident, PyObject **obj) {
  unsigned long now = PyThread_get_thread_ident();
  if (*obj == NULL || *ident != now) {
    PyObject *o = PyLong_FromUnsignedLong(now);
    if (o == NULL) return NULL;
    Py_XSETREF(*obj, o);
    *ident = now;
  }
  return Py_NewRef(*obj);
}

/* The record buffer is kept out of the cyclic GC: nothing in it refers back to it, so it is never
 * part of a cycle, and the program's full collections would otherwise walk every record. */
static void untrack_buffer(PyObject *buf) {
  if (PyObject_GC_IsTracked(buf)) PyObject_GC_UnTrack(buf);
}

/* ---- records ---------------------------------------------------------------------------------- */
/* Rec: the record of a call (1), return (2), yield (6) or resume (7) made by the C callbacks and
 * the C trace function, read by build(). Not a GC object (allocating one does not count towards
 * the program's next collection, and it holds no cycle: ints, strings and code objects kept alive
 * elsewhere) and with its timestamp as a C integer. To Python it is the tuple the pure-Python
 * callbacks append: (1, ident, code, ts, values), (2|6, ident, code, ts, offset, text),
 * (7, ident, code, ts). */
typedef struct {
  PyObject_VAR_HEAD /* ob_size: items (kind 1: the value texts; 2, 6: offset and text) */
  long kind;
  long long ts;
  PyObject *ident;
  PyObject *code;
  PyObject *items[1];
} Rec;

static PyTypeObject RecType;

/* Freed records of up to REC_FREE_ITEMS items are kept for the next ones (a list per item count,
 * linked through `code`, up to REC_FREE_MAX each, about one batch): records are made and freed by
 * the hundred thousand, and their memory then stays in use instead of going back to the allocator
 * (its pages to the system) and being faulted in again. Only where the GIL orders every use. */
#ifndef Py_GIL_DISABLED
#define REC_FREE_ITEMS 6
#define REC_FREE_MAX 32768
static Rec *rec_free[REC_FREE_ITEMS + 1];
static Py_ssize_t rec_nfree[REC_FREE_ITEMS + 1];
#endif

/* A new record (steals ident and code; items are set by the caller), NULL on error. */
static Rec *rec_new(long kind, PyObject *ident, PyObject *code, long long ts, Py_ssize_t n) {
  Rec *r = NULL;
#ifndef Py_GIL_DISABLED
  if (n <= REC_FREE_ITEMS && rec_free[n] != NULL) {
    r = rec_free[n];
    rec_free[n] = (Rec *)r->code;
    rec_nfree[n]--;
    PyObject_InitVar((PyVarObject *)r, &RecType, n);
  }
#endif
  if (r == NULL) r = PyObject_NewVar(Rec, &RecType, n);
  if (r == NULL) { Py_DECREF(ident); Py_DECREF(code); return NULL; }
  r->kind = kind;
  r->ts = ts;
  r->ident = ident;
  r->code = code;
  for (Py_ssize_t i = 0; i < n; i++) r->items[i] = NULL;
  return r;
}

static void rec_dealloc(Rec *r) {
  Py_XDECREF(r->ident);
  Py_XDECREF(r->code);
  for (Py_ssize_t i = 0; i < Py_SIZE(r); i++) Py_XDECREF(r->items[i]);
#ifndef Py_GIL_DISABLED
  Py_ssize_t n = Py_SIZE(r);
  if (n <= REC_FREE_ITEMS && rec_nfree[n] < REC_FREE_MAX) {
    r->code = (PyObject *)rec_free[n];
    rec_free[n] = r;
    rec_nfree[n]++;
    return;
  }
#endif
  PyObject_Free(r);
}

static Py_ssize_t rec_length(Rec *r) { return r->kind == 1 ? 5 : r->kind == 7 ? 4 : 6; }

static PyObject *rec_item(Rec *r, Py_ssize_t i) {
  if (i < 0 || i >= rec_length(r)) {
    PyErr_SetString(PyExc_IndexError, "record index out of range");
    return NULL;
  }
  switch (i) {
    case 0: return PyLong_FromLong(r->kind);
    case 1: return Py_NewRef(r->ident);
    case 2: return Py_NewRef(r->code);
    case 3: return PyLong_FromLongLong(r->ts);
    case 4:
      if (r->kind == 1) {
        PyObject *t = PyTuple_New(Py_SIZE(r));
        if (t == NULL) return NULL;
        for (Py_ssize_t j = 0; j < Py_SIZE(r); j++) PyTuple_SET_ITEM(t, j, Py_NewRef(r->items[j]));
        return t;
      }
      return Py_NewRef(r->items[0]);
    default: return Py_NewRef(r->items[1]);
  }
}

static PyObject *rec_tuple(Rec *r) {
  Py_ssize_t n = rec_length(r);
  PyObject *t = PyTuple_New(n);
  if (t == NULL) return NULL;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *o = rec_item(r, i);
    if (o == NULL) { Py_DECREF(t); return NULL; }
    PyTuple_SET_ITEM(t, i, o);
  }
  return t;
}

static PyObject *rec_subscript(Rec *r, PyObject *key) {
  if (PyIndex_Check(key)) {
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0) i += rec_length(r);
    return rec_item(r, i);
  }
  PyObject *t = rec_tuple(r);
  if (t == NULL) return NULL;
  PyObject *res = PyObject_GetItem(t, key);
  Py_DECREF(t);
  return res;
}

static PyObject *rec_richcompare(PyObject *a, PyObject *b, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  PyObject *ta = Py_IS_TYPE(a, &RecType) ? rec_tuple((Rec *)a) : Py_NewRef(a);
  PyObject *tb = Py_IS_TYPE(b, &RecType) ? rec_tuple((Rec *)b) : Py_NewRef(b);
  PyObject *res = ta && tb ? PyObject_RichCompare(ta, tb, op) : NULL;
  Py_XDECREF(ta); Py_XDECREF(tb);
  return res;
}

static PyObject *rec_repr(Rec *r) {
  PyObject *t = rec_tuple(r);
  if (t == NULL) return NULL;
  PyObject *res = PyObject_Repr(t);
  Py_DECREF(t);
  return res;
}

static PySequenceMethods rec_as_sequence = {
  .sq_length = (lenfunc)rec_length,
  .sq_item = (ssizeargfunc)rec_item,
};
static PyMappingMethods rec_as_mapping = {
  .mp_length = (lenfunc)rec_length,
  .mp_subscript = (binaryfunc)rec_subscript,
};

static PyTypeObject RecType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "tracelens._speedups.Rec",
  .tp_basicsize = offsetof(Rec, items),
  .tp_itemsize = sizeof(PyObject *),
  .tp_dealloc = (destructor)rec_dealloc,
  .tp_repr = (reprfunc)rec_repr,
  .tp_as_sequence = &rec_as_sequence,
  .tp_as_mapping = &rec_as_mapping,
  .tp_hash = PyObject_HashNotImplemented,
  .tp_richcompare = rec_richcompare,
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "A call, return, yield or resume record of the C callbacks (a tuple to Python).",
};

/* ---- monitoring callbacks ------------------------------------------------------------------- */
/* The value text of the records: values.py's rep(), in C where it is plain (non-structured)
 * rep(): exact builtins, the builtin containers (items until the limit is passed, nested to
 * values.py's max depth) and other objects (their repr, registered reprs, the types whose repr
 * failed or was slow: values.py's own set and dict, shared), checked against rep() at set-up;
 * structured values and anything unusual go to rep() itself. */
typedef struct {
  PyObject *rep;     /* value -> str (values.py) */
  PyObject *s_none, *s_true, *s_false, *s_ellipsis, *s_sep, *s_colon;
  PyObject *s_empty_list, *s_empty_tuple, *s_empty_dict; /* "[]", "()", "{}" */
  PyObject *failed;     /* rep's set of types not to ask again (NULL: objects go to rep) */
  PyObject *registered; /* rep's dict type -> repr function */
  int user_ok;          /* policy "all": user __repr__ code may run */
  Py_ssize_t limit;
  int fast_values;      /* scalars in C */
  int fast_objects;     /* containers and objects in C */
  struct DefaultRepr *defaults; /* texts of objects with object's own repr (NULL: none yet) */
} RepCtx;

/* The text object.__repr__ gives is "<PREFIX0x...>", the prefix standing for the type (module and
 * qualified name): kept per type (checked against the type's __module__ and __qualname__ each
 * time), and the whole text per (type, address) as the same object at the same address gives the
 * same text: a method's `self` costs a cache look-up, and its text is the same string each time
 * (already hashed and interned by the builder). */
#define DEFAULT_TYPES 64
#define DEFAULT_TEXTS 2048
struct DefaultType { PyTypeObject *type; PyObject *module, *qualname, *prefix; };
struct DefaultText { void *address; PyObject *prefix, *text; }; /* prefix: the type's, kept */
/* values.py's plain(t) text, "<name object>", per type whose metatype is `type` (its __name__
 * then is the type's own: a heap type's ht_name, checked each time as a rename replaces it). */
#define PLAIN_TYPES 64
struct PlainText { PyTypeObject *type; PyObject *name, *text; };
/* The texts of values that cannot change, by identity (the value kept alive with its text, so
 * its address is not another's): strings up to the limit and compiled regular expressions. */
#define SAME_TEXTS 1024
struct SameText { PyObject *value, *text; };
/* A class's repr (its metatype `type`), kept with what it depends on: its __module__ and
 * __qualname__ (a heap type's; a static type's do not change). */
#define CLASS_TEXTS 128
struct ClassText { PyObject *cls, *module, *qualname, *text; };
/* The types and classes these tables are keyed by are not referenced (a class the program drops
 * is freed as untraced): each text depends only on the strings kept beside the address (module,
 * qualname, name, themselves referenced), so another type later at the same address either
 * has those very strings, and the same text, or misses. */
struct DefaultRepr {
  struct DefaultType types[DEFAULT_TYPES];
  struct DefaultText texts[DEFAULT_TEXTS];
  struct PlainText plains[PLAIN_TYPES];
  struct SameText same[SAME_TEXTS];
  struct ClassText classes[CLASS_TEXTS];
};

static void defaults_free(struct DefaultRepr *d) {
  if (d == NULL) return;
  for (int i = 0; i < DEFAULT_TYPES; i++) {
    Py_XDECREF(d->types[i].module);
    Py_XDECREF(d->types[i].qualname); Py_XDECREF(d->types[i].prefix);
  }
  for (int i = 0; i < DEFAULT_TEXTS; i++) {
    Py_XDECREF(d->texts[i].prefix); Py_XDECREF(d->texts[i].text);
  }
  for (int i = 0; i < PLAIN_TYPES; i++) {
    Py_XDECREF(d->plains[i].name); Py_XDECREF(d->plains[i].text);
  }
  for (int i = 0; i < SAME_TEXTS; i++) { Py_XDECREF(d->same[i].value); Py_XDECREF(d->same[i].text); }
  for (int i = 0; i < CLASS_TEXTS; i++) {
    Py_XDECREF(d->classes[i].module);
    Py_XDECREF(d->classes[i].qualname); Py_XDECREF(d->classes[i].text);
  }
  PyMem_Free(d);
}

static void rep_clear(RepCtx *c) {
  defaults_free(c->defaults);
  c->defaults = NULL;
  Py_CLEAR(c->rep); Py_CLEAR(c->s_none); Py_CLEAR(c->s_true); Py_CLEAR(c->s_false);
  Py_CLEAR(c->s_ellipsis); Py_CLEAR(c->s_sep); Py_CLEAR(c->s_colon);
  Py_CLEAR(c->s_empty_list); Py_CLEAR(c->s_empty_tuple); Py_CLEAR(c->s_empty_dict);
  Py_CLEAR(c->failed); Py_CLEAR(c->registered);
}

#define KNOWN_CACHE 512 /* a power of two */
/* One code object looked up in `known`, found or not, and its argnames (borrowed from `known`;
 * NULL for a special entry). It holds while known_generation is `generation` (see
 * known_watcher). */
typedef struct {
  PyObject *code;
  PyObject *names;
  int found;   /* 0 not in known, 1 in it, 2 in it as a coroutine's (names: its TaskNames) */
  unsigned long long generation;
} KnownSlot;
typedef struct {
  PyObject_HEAD
  PyObject *known;   /* dict id(code) -> argnames tuple (a tuple subclass: handled in Python) */
  PyObject *buf;     /* list the records go to */
  PyObject *fail;    /* internal error handler */
  PyObject *disable; /* sys.monitoring.DISABLE */
  PyObject *py_start, *py_return, *py_yield, *py_resume; /* pure-Python callbacks */
  /* decide(code) -> DISABLE or None: the first call of a code object decided in Python and
   * recorded here (its arguments read in place: a frame's f_locals would keep them alive on
   * 3.12, in the snapshot it caches). None: py_start does both. */
  PyObject *py_decide;
  /* Exception events (they cannot be switched off per code object): raise, unwind, handled,
   * reraise, throw; the Python callbacks, called only for code in scope. */
  PyObject *py_exc[5];
  /* Coroutines' code: `known` holds a TaskNames (tuple subclass) for it, and its calls and
   * resumes are preceded by a task record (9, ident, code, ts, name) when task_name() names the
   * running asyncio task (tasks.py). NULL: those go to the Python callbacks. */
  PyObject *task_names_type, *task_name;
  RepCtx r;
  /* The thread ident of the last event, as an int object (idents are big: not cached ints). */
  unsigned long ident;
  PyObject *ident_obj;
  KnownSlot seen[KNOWN_CACHE]; /* code objects looked up in `known` lately */
} Callbacks;

static void cb_dealloc(Callbacks *self) {
  Py_XDECREF(self->ident_obj);
  Py_XDECREF(self->known); Py_XDECREF(self->buf); Py_XDECREF(self->fail);
  Py_XDECREF(self->disable); Py_XDECREF(self->py_start); Py_XDECREF(self->py_return);
  Py_XDECREF(self->py_decide);
  Py_XDECREF(self->py_yield); Py_XDECREF(self->py_resume);
  for (int i = 0; i < 5; i++) Py_XDECREF(self->py_exc[i]);
  Py_XDECREF(self->task_names_type); Py_XDECREF(self->task_name);
  rep_clear(&self->r);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

#define REP_MAX_DEPTH 3      /* values.py's max_depth */
#define REP_SLOW_NS 20000000 /* values.py's SLOW_NS */

/* values.py's shorten(): text (stolen) cut to the limit, ending with the ellipsis. */
static PyObject *rep_shorten(RepCtx *c, PyObject *text) {
  if (text == NULL || PyUnicode_GET_LENGTH(text) <= c->limit) return text;
  Py_ssize_t cut = c->limit - 1 > 1 ? c->limit - 1 : 1;
  PyObject *head = PyUnicode_Substring(text, 0, cut);
  Py_DECREF(text);
  if (head == NULL) return NULL;
  PyObject *r = PyUnicode_Concat(head, c->s_ellipsis);
  Py_DECREF(head);
  return r;
}

/* The repr cache's tables, made on first use: NULL with an error set when there is no memory. */
static struct DefaultRepr *rep_defaults(RepCtx *c) {
  if (c->defaults == NULL) {
    c->defaults = PyMem_Calloc(1, sizeof *c->defaults);
    if (c->defaults == NULL) PyErr_NoMemory();
  }
  return c->defaults;
}

/* values.py's plain(t): "<name object>" (new reference). */
static PyObject *rep_plain(RepCtx *c, PyTypeObject *t) {
  struct PlainText *pt = NULL;
  PyObject *own = NULL; /* the name the type holds itself, where __name__ gives it */
  if (Py_IS_TYPE(t, &PyType_Type)) {
    own = t->tp_flags & Py_TPFLAGS_HEAPTYPE ? ((PyHeapTypeObject *)t)->ht_name : Py_None;
    struct DefaultRepr *d = rep_defaults(c);
    if (d == NULL) return NULL;
    pt = &d->plains[(((size_t)t) >> 4) % PLAIN_TYPES];
    if (pt->type == t && pt->name == own) return Py_NewRef(pt->text);
  }
  PyObject *name = PyObject_GetAttrString((PyObject *)t, "__name__");
  if (name == NULL) return NULL;
  PyObject *r = PyUnicode_FromFormat("<%S object>", name);
  Py_DECREF(name);
  if (r != NULL && pt != NULL) {
    pt->type = t; /* not referenced: see DefaultRepr */
    Py_XSETREF(pt->name, Py_NewRef(own));
    Py_XSETREF(pt->text, Py_NewRef(r));
  }
  return r;
}

/* The kept text of an unchangeable value (see SameText), or NULL (no error) when there is none. */
static struct SameText *rep_same_slot(RepCtx *c, PyObject *v) {
  struct DefaultRepr *d = rep_defaults(c);
  if (d == NULL) { PyErr_Clear(); return NULL; }
  return &d->same[(((size_t)v) >> 4) % SAME_TEXTS];
}

/* Keeps text as v's (both referenced) in slot. */
static void rep_same_keep(struct SameText *slot, PyObject *v, PyObject *text) {
  Py_XSETREF(slot->value, Py_NewRef(v));
  Py_XSETREF(slot->text, Py_NewRef(text));
}

/* A pointer as PyUnicode_FromFormat's %p writes it here ("0x" and lowercase hex digits; the
 * prefix is only kept when the real repr ends with this text): its length. */
static int format_pointer(char *out, void *p) {
  char tmp[20];
  int n = 0;
  uintptr_t u = (uintptr_t)p;
  do { tmp[n++] = "0123456789abcdef"[u & 15]; u >>= 4; } while (u);
  int len = 0;
  out[len++] = '0';
  out[len++] = 'x';
  while (n) out[len++] = tmp[--n];
  return len;
}

static PyObject *str_module; /* "__module__" */

/* object.__repr__(v) for v whose type uses it (the caller checked), shortened: NULL with an
 * error, or a new reference to the kept text. */
static PyObject *rep_default(RepCtx *c, PyObject *v) {
  PyTypeObject *t = Py_TYPE(v);
  if (rep_defaults(c) == NULL) return NULL;
  /* What the type's prefix depends on: its __module__ and __qualname__ (a heap type's; a static
   * type's name does not change). */
  PyObject *module = NULL, *qualname = NULL;
  if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
    if (t->tp_dict == NULL) return PyObject_Repr(v);
    module = PyDict_GetItemWithError(t->tp_dict, str_module);
    if (module == NULL && PyErr_Occurred()) return NULL;
    qualname = ((PyHeapTypeObject *)t)->ht_qualname;
  }
  struct DefaultType *dt = &c->defaults->types[(((size_t)t) >> 4) % DEFAULT_TYPES];
  struct DefaultText *dx = &c->defaults->texts[(((size_t)v) >> 4) % DEFAULT_TEXTS];
  int type_ok = dt->type == t && dt->module == module && dt->qualname == qualname;
  if (type_ok && dx->address == (void *)v && dx->prefix == dt->prefix)
    return Py_NewRef(dx->text);
  char ptr[40];
  int n = format_pointer(ptr, v);
  ptr[n] = '>';
  ptr[n + 1] = '\0';
  if (!type_ok) {
    PyObject *text = PyBaseObject_Type.tp_repr(v);
    if (text == NULL) return NULL;
    /* The prefix is the text without the address and ">" it ends with. */
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    PyObject *tail = len > n + 1 ? PyUnicode_Substring(text, len - n - 1, len) : NULL;
    int same = tail != NULL && PyUnicode_CompareWithASCIIString(tail, ptr) == 0;
    Py_XDECREF(tail);
    PyErr_Clear();
    PyObject *prefix = same ? PyUnicode_Substring(text, 0, len - n - 1) : NULL;
    if (prefix == NULL) { PyErr_Clear(); return rep_shorten(c, text); } /* not the usual form */
    Py_DECREF(text);
    Py_XSETREF(dt->prefix, prefix);
    dt->type = t; /* not referenced: see DefaultRepr */
    Py_XSETREF(dt->module, Py_XNewRef(module));
    Py_XSETREF(dt->qualname, Py_XNewRef(qualname));
  }
  PyObject *end = PyUnicode_FromStringAndSize(ptr, n + 1);
  PyObject *text = end ? PyUnicode_Concat(dt->prefix, end) : NULL;
  Py_XDECREF(end);
  text = rep_shorten(c, text);
  if (text == NULL) return NULL;
  dx->address = (void *)v;
  Py_XSETREF(dx->prefix, Py_NewRef(dt->prefix));
  Py_XSETREF(dx->text, Py_NewRef(text));
  return text;
}

/* values.py's slow(value, t): an object's own (or registered) repr, contained. */
static PyObject *rep_object(RepCtx *c, PyObject *v) {
  PyTypeObject *t = Py_TYPE(v);
  int in = PySet_Contains(c->failed, (PyObject *)t);
  if (in < 0) return NULL;
  if (in) return rep_plain(c, t);
  PyObject *func = PyDict_GetItemWithError(c->registered, (PyObject *)t); /* borrowed */
  if (func == NULL && PyErr_Occurred()) return NULL;
  if (func == NULL && !c->user_ok) {
    PyObject *module = PyObject_GetAttrString((PyObject *)t, "__module__");
    if (module == NULL) return NULL;
    int builtin = PyUnicode_Check(module) && PyUnicode_CompareWithASCIIString(module, "builtins") == 0;
    Py_DECREF(module);
    if (!builtin) return rep_plain(c, t);
  }
  if (func == NULL && t->tp_repr == PyBaseObject_Type.tp_repr) return rep_default(c, v);
  /* A class's or a compiled pattern's text, kept (see ClassText, SameText). */
  struct ClassText *ct = NULL;
  struct SameText *st = NULL;
  PyObject *cmod = NULL, *cqual = NULL;
  PyTypeObject *cls = (PyTypeObject *)v;
  int heap = t == &PyType_Type && (cls->tp_flags & Py_TPFLAGS_HEAPTYPE);
  if (func == NULL && t == &PyType_Type && (!heap || cls->tp_dict != NULL)) {
    if (heap) {
      cmod = PyDict_GetItemWithError(cls->tp_dict, str_module);
      if (cmod == NULL && PyErr_Occurred()) return NULL;
      cqual = ((PyHeapTypeObject *)cls)->ht_qualname;
    }
    if (rep_defaults(c) == NULL) return NULL;
    ct = &c->defaults->classes[(((size_t)v) >> 4) % CLASS_TEXTS];
    if (ct->cls == v && ct->module == cmod && ct->qualname == cqual) return Py_NewRef(ct->text);
  } else if (func == NULL && strcmp(t->tp_name, "re.Pattern") == 0) {
    st = rep_same_slot(c, v);
    if (st != NULL && st->value == v) return Py_NewRef(st->text);
  }
  Py_XINCREF(func);
  long long start = mono_ns();
  PyObject *text = func ? PyObject_CallOneArg(func, v) : PyObject_Repr(v);
  Py_XDECREF(func);
  if (text == NULL) {
    if (PyErr_ExceptionMatches(PyExc_RecursionError)) {
      PyErr_Clear();
      return rep_plain(c, t);
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (PySet_Add(c->failed, (PyObject *)t) < 0) PyErr_Clear();
    PyObject *message = value ? PyObject_Str(value) : NULL;
    if (message == NULL) { PyErr_Clear(); message = PyUnicode_FromString(""); }
    PyObject *name = type ? PyObject_GetAttrString(type, "__name__") : NULL;
    if (name == NULL) PyErr_Clear();
    PyObject *r = message && name ? PyUnicode_FromFormat("<repr failed: %S: %S>", name, message) : NULL;
    Py_XDECREF(message); Py_XDECREF(name);
    Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
    return rep_shorten(c, r);
  }
  if (!PyUnicode_CheckExact(text)) {
    /* str.__str__ of a str subclass: an exact copy (PyUnicode_Substring makes one) */
    PyObject *exact = PyUnicode_Check(text) ? PyUnicode_Substring(text, 0, PyUnicode_GET_LENGTH(text))
                                            : rep_plain(c, t);
    Py_DECREF(text);
    text = exact;
    if (text == NULL) return NULL;
  }
  if (mono_ns() - start > REP_SLOW_NS && PySet_Add(c->failed, (PyObject *)t) < 0) {
    Py_DECREF(text);
    return NULL;
  }
  text = rep_shorten(c, text);
  if (text != NULL && ct != NULL) {
    ct->cls = v; /* not referenced: see DefaultRepr */
    Py_XSETREF(ct->module, Py_XNewRef(cmod));
    Py_XSETREF(ct->qualname, Py_XNewRef(cqual));
    Py_XSETREF(ct->text, Py_NewRef(text));
  } else if (text != NULL && st != NULL) {
    rep_same_keep(st, v, text);
  }
  return text;
}

static PyObject *rep_inner(RepCtx *c, PyObject *v, int depth);

/* a + mid + z in one new string (a and z ASCII). */
static PyObject *rep_wrap(const char *a, PyObject *mid, const char *z) {
  Py_ssize_t la = (Py_ssize_t)strlen(a), lz = (Py_ssize_t)strlen(z), lm = PyUnicode_GET_LENGTH(mid);
  PyObject *r = PyUnicode_New(la + lm + lz, PyUnicode_MAX_CHAR_VALUE(mid));
  if (r == NULL) return NULL;
  int kind = PyUnicode_KIND(r);
  void *data = PyUnicode_DATA(r);
  for (Py_ssize_t i = 0; i < la; i++) PyUnicode_WRITE(kind, data, i, (Py_UCS4)(unsigned char)a[i]);
  if (PyUnicode_CopyCharacters(r, la, mid, 0, lm) < 0) { Py_DECREF(r); return NULL; }
  for (Py_ssize_t i = 0; i < lz; i++)
    PyUnicode_WRITE(kind, data, la + lm + i, (Py_UCS4)(unsigned char)z[i]);
  return r;
}

/* k + ": " + v in one new string. */
static PyObject *rep_pair(PyObject *k, PyObject *v) {
  Py_ssize_t lk = PyUnicode_GET_LENGTH(k), lv = PyUnicode_GET_LENGTH(v);
  Py_UCS4 mk = PyUnicode_MAX_CHAR_VALUE(k), mv = PyUnicode_MAX_CHAR_VALUE(v);
  PyObject *r = PyUnicode_New(lk + 2 + lv, mk > mv ? mk : mv);
  if (r == NULL) return NULL;
  if (PyUnicode_CopyCharacters(r, 0, k, 0, lk) < 0) { Py_DECREF(r); return NULL; }
  PyUnicode_WRITE(PyUnicode_KIND(r), PyUnicode_DATA(r), lk, ':');
  PyUnicode_WRITE(PyUnicode_KIND(r), PyUnicode_DATA(r), lk + 1, ' ');
  if (PyUnicode_CopyCharacters(r, lk + 2, v, 0, lv) < 0) { Py_DECREF(r); return NULL; }
  return r;
}

/* values.py's container(value, t, depth) for a list, tuple, dict, set or frozenset. Lists and
 * dicts are walked as their iterators walk them (a list's length read at each step; a dict
 * whose size changes while its items' reprs run fails as its items() iterator does). */
static PyObject *rep_container(RepCtx *c, PyObject *v, int depth) {
  PyTypeObject *t = Py_TYPE(v);
  int is_list = t == &PyList_Type, is_tuple = t == &PyTuple_Type, is_dict = t == &PyDict_Type;
  if (depth >= REP_MAX_DEPTH)
    return PyUnicode_FromString(is_list ? "[\xe2\x80\xa6]" : is_tuple ? "(\xe2\x80\xa6)" : "{\xe2\x80\xa6}");
  depth++;
  const char *opening, *closing;
  if (is_dict) { opening = "{"; closing = "}"; }
  else if (is_list) { opening = "["; closing = "]"; }
  else if (is_tuple) { opening = "("; closing = PyTuple_GET_SIZE(v) == 1 ? ",)" : ")"; }
  else {
    if (PySet_GET_SIZE(v) == 0) return PyUnicode_FromString(t == &PySet_Type ? "set()" : "frozenset()");
    if (t == &PySet_Type) { opening = "{"; closing = "}"; }
    else { opening = "frozenset({"; closing = "})"; }
  }
  if ((is_list || is_tuple) && Py_SIZE(v) == 0 && c->limit >= 2) /* an empty list or tuple */
    return Py_NewRef(is_list ? c->s_empty_list : c->s_empty_tuple);
  if (is_dict && PyDict_GET_SIZE(v) == 0 && c->limit >= 2) return Py_NewRef(c->s_empty_dict);
  PyObject *parts = PyList_New(0);
  if (parts == NULL) return NULL;
  Py_ssize_t size = (Py_ssize_t)strlen(opening);
  PyObject *it = NULL, *item = NULL, *key = NULL, *val = NULL;
  Py_ssize_t pos = 0, index = 0, dict_size = is_dict ? PyDict_GET_SIZE(v) : 0;
  if (!is_dict && !is_list) {
    it = PyObject_GetIter(v);
    if (it == NULL) goto fail;
  }
  for (;;) {
    PyObject *text;
    if (is_dict) {
      if (PyDict_GET_SIZE(v) != dict_size) {
        PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
        goto fail;
      }
      PyObject *bk, *bv;
      if (!PyDict_Next(v, &pos, &bk, &bv)) break;
      key = Py_NewRef(bk); /* an item's repr may change the dict */
      val = Py_NewRef(bv);
      PyObject *k = rep_inner(c, key, depth);
      PyObject *vt = k ? rep_inner(c, val, depth) : NULL;
      text = vt ? rep_pair(k, vt) : NULL;
      Py_XDECREF(k); Py_XDECREF(vt);
      Py_CLEAR(key); Py_CLEAR(val);
    } else {
      if (is_list) {
        if (index >= PyList_GET_SIZE(v)) break;
        item = Py_NewRef(PyList_GET_ITEM(v, index));
        index++;
      } else if ((item = PyIter_Next(it)) == NULL) {
        break;
      }
      text = rep_inner(c, item, depth);
      Py_CLEAR(item);
    }
    if (text == NULL) goto fail;
    int r = PyList_Append(parts, text);
    size += PyUnicode_GET_LENGTH(text) + 2;
    Py_DECREF(text);
    if (r < 0) goto fail;
    if (size > c->limit) break;
  }
  if (PyErr_Occurred()) goto fail;
  Py_CLEAR(it);
  PyObject *joined = PyUnicode_Join(c->s_sep, parts);
  Py_DECREF(parts);
  if (joined == NULL) return NULL;
  PyObject *r = rep_wrap(opening, joined, closing);
  Py_DECREF(joined);
  return rep_shorten(c, r);
fail:
  Py_XDECREF(item); Py_XDECREF(it); Py_XDECREF(key); Py_XDECREF(val);
  Py_DECREF(parts);
  return NULL;
}

/* values.py's inner(value, depth): NULL only for an error rep() would not contain
 * (MemoryError and the like are contained there too: the caller says "<repr failed: ...>"). */
static PyObject *rep_inner(RepCtx *c, PyObject *v, int depth) {
  PyTypeObject *t = Py_TYPE(v);
  PyObject *r;
  if (v == Py_None) return Py_NewRef(c->s_none);
  if (v == Py_True) return Py_NewRef(c->s_true);
  if (v == Py_False) return Py_NewRef(c->s_false);
  if (t == &PyLong_Type) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (!overflow && !(x == -1 && PyErr_Occurred())) {
      if (x >= -5 && x <= 256) return Py_NewRef(small_int_reprs[x + 5]);
      /* The texts of ints lately seen: the same value gives the same string object (which the
       * builder then finds by address). */
      size_t slot = ((unsigned long long)x * 0x9E3779B97F4A7C15ULL) >> (64 - 12);
      if (int_texts[slot] != NULL && int_values[slot] == x) return Py_NewRef(int_texts[slot]);
      char b[32];
      PyObject *text = PyUnicode_FromStringAndSize(b, format_ll(b, x));
      if (text != NULL) {
        Py_XSETREF(int_texts[slot], Py_NewRef(text));
        int_values[slot] = x;
      }
      return text;
    }
    PyErr_Clear();
    r = PyObject_CallOneArg(c->rep, v); /* big ints */
  } else if (t == &PyUnicode_Type) {
    if (PyUnicode_GET_LENGTH(v) > c->limit) {
      PyObject *head = PyUnicode_Substring(v, 0, c->limit);
      PyObject *text = head ? PyObject_Repr(head) : NULL;
      Py_XDECREF(head);
      if (text == NULL) goto failed;
      Py_ssize_t cut = c->limit - 1 > 1 ? c->limit - 1 : 1;
      PyObject *cuttext = PyUnicode_Substring(text, 0, cut);
      Py_DECREF(text);
      r = cuttext ? PyUnicode_Concat(cuttext, c->s_ellipsis) : NULL;
      Py_XDECREF(cuttext);
    } else {
      struct SameText *st = rep_same_slot(c, v);
      if (st != NULL && st->value == v) return Py_NewRef(st->text);
      r = rep_shorten(c, PyObject_Repr(v));
      if (r != NULL && st != NULL) rep_same_keep(st, v, r);
    }
  } else if (t == &PyFloat_Type) {
    r = PyObject_Repr(v);
  } else if (!c->fast_objects) {
    r = PyObject_CallOneArg(c->rep, v);
  } else if (t == &PyList_Type || t == &PyTuple_Type || t == &PyDict_Type || t == &PySet_Type ||
             t == &PyFrozenSet_Type) {
    r = rep_container(c, v, depth);
  } else if (t == &PyBytes_Type) {
    r = PyObject_CallOneArg(c->rep, v);
  } else {
    r = rep_object(c, v);
  }
  if (r != NULL) return r;
failed:
  /* values.py: anything odd in the short path gives "<repr failed: TypeName>". */
  {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *name = type ? PyObject_GetAttrString(type, "__name__") : NULL;
    Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
    if (name == NULL) { PyErr_Clear(); return PyUnicode_FromString("<repr failed: ?>"); }
    PyObject *out = PyUnicode_FromFormat("<repr failed: %S>", name);
    Py_DECREF(name);
    return out;
  }
}

/* rep(value): the C paths when they were checked at set-up, rep() otherwise. */
static PyObject *value_rep(RepCtx *self, PyObject *v) {
  if (self->fast_values) {
    PyTypeObject *t = Py_TYPE(v);
    if (self->fast_objects || v == Py_None || v == Py_True || v == Py_False ||
        t == &PyLong_Type || t == &PyUnicode_Type || t == &PyFloat_Type)
      return rep_inner(self, v, 0);
  }
  return PyObject_CallOneArg(self->rep, v);
}

/* An error inside a callback: as the Python callbacks do, RecursionError is ignored, other
 * Exceptions go to fail(), anything else (KeyboardInterrupt...) propagates. */
static PyObject *report_error(PyObject *fail) {
  if (PyErr_ExceptionMatches(PyExc_RecursionError)) {
    PyErr_Clear();
    Py_RETURN_NONE;
  }
  if (!PyErr_ExceptionMatches(PyExc_Exception)) return NULL;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
  PyObject *r = PyObject_CallOneArg(fail, value ? value : Py_None);
  Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
  if (r == NULL) PyErr_Clear();
  Py_XDECREF(r);
  Py_RETURN_NONE;
}

#if PY_VERSION_HEX >= 0x030C0000
static PyObject *cb_error(Callbacks *self) { return report_error(self->fail); }

/* Every change to a watched `known` dict moves the generation on: the Callbacks' caches of it
 * are then stale. -1: no watcher (the caches are not used). */
static int known_watcher = -1;
static unsigned long long known_generation = 1;

static int known_changed(PyDict_WatchEvent event, PyObject *dict, PyObject *key, PyObject *value) {
  known_generation++;
  return 0;
}

/* The entry of `known` for code: 1 with *names (borrowed; NULL when not an exact tuple: a
 * special entry the Python callbacks handle), 2 with *names a coroutine's TaskNames, 0 when code
 * is not in it, -1 on error. */
static int known_entry(Callbacks *self, PyObject *code, PyObject **names) {
  KnownSlot *s = &self->seen[(((size_t)code) >> 4) & (KNOWN_CACHE - 1)];
  if (known_watcher >= 0 && s->code == code && s->generation == known_generation) {
    *names = s->names;
    return s->found;
  }
  PyObject *key = PyLong_FromVoidPtr(code);
  if (key == NULL) { PyErr_Clear(); return -1; }
  PyObject *v = PyDict_GetItemWithError(self->known, key);
  Py_DECREF(key);
  if (v == NULL && PyErr_Occurred()) { PyErr_Clear(); return -1; }
  int found = v != NULL;
  *names = v != NULL && PyTuple_CheckExact(v) ? v : NULL;
  if (v != NULL && self->task_names_type != NULL && Py_IS_TYPE(v, (PyTypeObject *)self->task_names_type)) {
    *names = v;
    found = 2;
  }
  if (known_watcher >= 0) {
    /* Borrowed: `known` holds it, and any change to `known` moves the generation on first. */
    s->code = code;
    s->names = *names;
    s->found = found;
    s->generation = known_generation;
  }
  return found;
}

/* Borrowed argnames of a known code object (an exact tuple, or a coroutine's TaskNames, when
 * *task is set to 1 and a task record is to come first), NULL if unknown or special. */
static PyObject *known_names(Callbacks *self, PyObject *code, int *task) {
  PyObject *names = NULL;
  int found = known_entry(self, code, &names);
  *task = found == 2;
  return found >= 1 ? names : NULL;
}

static int is_known(Callbacks *self, PyObject *code) { /* 1, 0, or -1 on error */
  PyObject *names;
  int found = known_entry(self, code, &names);
  return found == 2 ? 1 : found;
}

static PyObject *cb_ident(Callbacks *self) { return cached_ident(&self->ident, &self->ident_obj); }

/* Records hold only strings, ints and code objects kept alive elsewhere, and are never part of a
 * cycle: they are taken out of the cyclic GC, which would otherwise walk the whole buffer. */
static int append_steal(Callbacks *self, PyObject *rec) {
  if (rec == NULL) return -1;
  if (PyObject_GC_IsTracked(rec)) PyObject_GC_UnTrack(rec);
  int r = PyList_Append(self->buf, rec);
  Py_DECREF(rec);
  return r;
}

/* A coroutine's call or resume: the task record first (as tasks.py's task_name() says; none
 * outside a task). 0, or -1 with an error set. */
static int task_record(Callbacks *self, PyObject *code) {
  PyObject *name = PyObject_CallNoArgs(self->task_name);
  if (name == NULL) return -1;
  if (name == Py_None) { Py_DECREF(name); return 0; }
  PyObject *ident = cb_ident(self);
  long long ts = ident ? now_ll() : -1;
  PyObject *tso = ts == -1 && PyErr_Occurred() ? NULL : PyLong_FromLongLong(ts);
  PyObject *rec = tso ? PyTuple_New(5) : NULL;
  if (rec == NULL) { Py_XDECREF(ident); Py_XDECREF(tso); Py_DECREF(name); return -1; }
  PyTuple_SET_ITEM(rec, 0, PyLong_FromLong(9));
  PyTuple_SET_ITEM(rec, 1, ident);
  PyTuple_SET_ITEM(rec, 2, Py_NewRef(code));
  PyTuple_SET_ITEM(rec, 3, tso);
  PyTuple_SET_ITEM(rec, 4, name);
  return append_steal(self, rec);
}

#if TL_FRAME_DIRECT
/* The arguments `names` of the starting call of code, read from its interpreter frame into rec's
 * items: 1 done, 0 not here (another frame on top, names that are not the code's first locals,
 * an unbound or cell argument: the public API's way), -1 on error. */
static int start_args_direct(Callbacks *self, PyObject *code, PyObject *names, Rec *rec,
                             Py_ssize_t n) {
  _PyInterpreterFrame *f = TL_CURRENT_FRAME(PyThreadState_GET());
  if (f == NULL || TL_FRAME_CODE(f) != code) return 0;
  PyObject *locals = ((PyCodeObject *)code)->co_localsplusnames;
  if (!PyTuple_Check(locals) || PyTuple_GET_SIZE(locals) < n) return 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *a = PyTuple_GET_ITEM(names, i), *b = PyTuple_GET_ITEM(locals, i);
    if (a != b && (!PyUnicode_Check(a) || !PyUnicode_Check(b) || PyUnicode_Compare(a, b) != 0)) {
      PyErr_Clear();
      return 0;
    }
  }
  PyObject *kinds = ((PyCodeObject *)code)->co_localspluskinds;
  if (!PyBytes_Check(kinds) || PyBytes_GET_SIZE(kinds) < n) return 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *v = f->localsplus[i];
    if (v != NULL && (PyBytes_AS_STRING(kinds)[i] & CO_FAST_CELL)) /* an argument in a cell */
      v = PyCell_Check(v) ? PyCell_GET(v) : NULL;
    if (v == NULL) {
      for (Py_ssize_t j = 0; j < i; j++) Py_CLEAR(rec->items[j]);
      return 0;
    }
    Py_INCREF(v);
    rec->items[i] = value_rep(&self->r, v);
    Py_DECREF(v);
    if (rec->items[i] == NULL) return -1;
  }
  return 1;
}
#endif

/* The arguments `names` of the starting call of code through the public frame API into rec's
 * items: 1 done, 0 not here (the top frame is not code's), -1 on error. */
static int start_args_frame(Callbacks *self, PyObject *code, PyObject *names, Rec *rec,
                            Py_ssize_t n) {
  PyFrameObject *frame = PyEval_GetFrame();
  PyCodeObject *fcode = frame ? PyFrame_GetCode(frame) : NULL;
  int same = fcode != NULL && (PyObject *)fcode == code;
  Py_XDECREF(fcode);
  if (!same) return 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *v = PyFrame_GetVar(frame, PyTuple_GET_ITEM(names, i));
    if (v == NULL) return -1;
    rec->items[i] = value_rep(&self->r, v);
    Py_DECREF(v);
    if (rec->items[i] == NULL) return -1;
  }
  return 1;
}

static PyObject *cb_start(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 2) return PyObject_Vectorcall(self->py_start, args, nargs, NULL);
  PyObject *code = args[0];
  int task;
  PyObject *names = known_names(self, code, &task);
  PyObject *entry;
  if (names == NULL && self->py_decide != Py_None && known_entry(self, code, &entry) == 0) {
    PyObject *d = PyObject_Vectorcall(self->py_decide, args, 1, NULL);
    if (d == NULL) return cb_error(self);
    if (d == self->disable) return d;
    Py_DECREF(d);
    names = known_names(self, code, &task);
    if (names == NULL && known_entry(self, code, &entry) == 0) Py_RETURN_NONE; /* not recorded */
  }
  if (names == NULL) return PyObject_Vectorcall(self->py_start, args, nargs, NULL);
  Py_ssize_t n = PyTuple_GET_SIZE(names);
  PyObject *ident = cb_ident(self);
  Rec *rec = ident ? rec_new(1, ident, Py_NewRef(code), 0, n) : NULL;
  if (rec == NULL) return cb_error(self);
  int got = 0;
#if TL_FRAME_DIRECT
  got = start_args_direct(self, code, names, rec, n);
#endif
  if (got == 0) got = start_args_frame(self, code, names, rec, n);
  if (got <= 0) {
    Py_DECREF(rec);
    return got < 0 ? cb_error(self) : PyObject_Vectorcall(self->py_start, args, nargs, NULL);
  }
  if (task && task_record(self, code) < 0) { Py_DECREF(rec); return cb_error(self); }
  rec->ts = now_ll(); /* after the values: their reprs are not the call's time */
  if (rec->ts == -1 && PyErr_Occurred()) { Py_DECREF(rec); return cb_error(self); }
  if (append_steal(self, (PyObject *)rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}

static PyObject *end_event(Callbacks *self, long kind, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *fallback) {
  if (nargs != 3) return PyObject_Vectorcall(fallback, args, nargs, NULL);
  PyObject *code = args[0];
  int k = is_known(self, code);
  if (k <= 0) return PyObject_Vectorcall(fallback, args, nargs, NULL);
  PyObject *text = value_rep(&self->r, args[2]);
  if (text == NULL) return cb_error(self);
  long long ts = now_ll();
  PyObject *ident = ts == -1 && PyErr_Occurred() ? NULL : cb_ident(self);
  Rec *rec = ident ? rec_new(kind, ident, Py_NewRef(code), ts, 2) : NULL;
  if (rec == NULL) { Py_DECREF(text); return cb_error(self); }
  rec->items[0] = Py_NewRef(args[1]);
  rec->items[1] = text;
  if (append_steal(self, (PyObject *)rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}

static PyObject *cb_return(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return end_event(self, 2, args, nargs, self->py_return);
}

static PyObject *cb_yield(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return end_event(self, 6, args, nargs, self->py_yield);
}

/* monitoring.py's unwinding() record of exc leaving code, (4, thread, code, time, line, type,
 * text), made here when that callback cannot run: at the recursion limit, where a frame's end
 * must still be recorded or every later call would seem to nest in it. 0, or -1 on error. */
static int unwind_record(Callbacks *self, PyObject *code, PyObject *exc) {
  long long line = 0;
  PyObject *tb = PyExceptionInstance_Check(exc) ? PyException_GetTraceback(exc) : NULL;
  PyObject *frame = tb ? PyObject_GetAttrString(tb, "tb_frame") : NULL;
  PyObject *fcode = frame ? PyObject_GetAttrString(frame, "f_code") : NULL;
  if (fcode == code) {
    PyObject *n = PyObject_GetAttrString(tb, "tb_lineno");
    line = n && PyLong_Check(n) ? PyLong_AsLongLong(n) : 0;
    Py_XDECREF(n);
  }
  Py_XDECREF(fcode); Py_XDECREF(frame); Py_XDECREF(tb);
  PyErr_Clear();
  PyObject *text = PyObject_Str(exc); /* a __str__ in Python cannot run here either: "" */
  if (text == NULL) { PyErr_Clear(); text = PyUnicode_FromString(""); }
  if (text != NULL && PyUnicode_GET_LENGTH(text) > 120) { /* as safe_str() cuts it */
    PyObject *cut = PyUnicode_Substring(text, 0, 119);
    Py_SETREF(text, cut ? PyUnicode_FromFormat("%U\u2026", cut) : NULL);
    Py_XDECREF(cut);
  }
  long long ts = now_ll();
  PyObject *ident = text && !(ts == -1 && PyErr_Occurred()) ? cb_ident(self) : NULL;
  PyObject *rec = ident ? Py_BuildValue("(iOOLLOO)", 4, ident, code, ts, line,
                                        (PyObject *)Py_TYPE(exc), text) : NULL;
  Py_XDECREF(text);
  return append_steal(self, rec);
}

/* An exception event: nothing to do for code out of scope (the common case in a program whose
 * libraries raise and catch as they go); the Python callback for the rest. Where that cannot
 * run (RecursionError: the recursion limit), an unwind is recorded here and the rest left out;
 * the error never reaches the program. */
static PyObject *exc_event(Callbacks *self, int i, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs >= 1 && is_known(self, args[0]) == 0) Py_RETURN_NONE;
  PyObject *r = PyObject_Vectorcall(self->py_exc[i], args, nargs, NULL);
  if (r != NULL || !PyErr_ExceptionMatches(PyExc_RecursionError)) return r;
  PyErr_Clear();
  if (i == 1 && nargs == 3 && is_known(self, args[0]) == 1 && unwind_record(self, args[0], args[2]) < 0)
    return cb_error(self);
  PyErr_Clear();
  Py_RETURN_NONE;
}

static PyObject *cb_raise(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return exc_event(self, 0, args, nargs);
}
static PyObject *cb_unwind(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return exc_event(self, 1, args, nargs);
}
static PyObject *cb_handled(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return exc_event(self, 2, args, nargs);
}
static PyObject *cb_reraise(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return exc_event(self, 3, args, nargs);
}
static PyObject *cb_throw(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  return exc_event(self, 4, args, nargs);
}

static PyObject *cb_resume(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) {
  int task = 0;
  if (nargs != 2 || known_names(self, args[0], &task) == NULL)
    return PyObject_Vectorcall(self->py_resume, args, nargs, NULL);
  if (task && task_record(self, args[0]) < 0) return cb_error(self);
  long long ts = now_ll();
  PyObject *ident = ts == -1 && PyErr_Occurred() ? NULL : cb_ident(self);
  Rec *rec = ident ? rec_new(7, ident, Py_NewRef(args[0]), ts, 0) : NULL;
  if (rec == NULL || append_steal(self, (PyObject *)rec) < 0) return cb_error(self);
  Py_RETURN_NONE;
}
#endif

static PyObject *cb_rep(Callbacks *self, PyObject *v) { return value_rep(&self->r, v); }

#if PY_VERSION_HEX >= 0x030C0000
/* sys.monitoring calls a callback through a borrowed reference: when another thread unregisters
 * the callbacks (the tracer stops) while one runs and a Python fallback called from it lets that
 * thread run, the object would be freed under the running callback (a crash seen on 3.12 when a
 * `with tracelens.trace()` block ended as one of the tracer's threads started). Each callback
 * holds its own reference meanwhile. */
#define CB_HELD(name)                                                                        \
  static PyObject *name##_held(Callbacks *self, PyObject *const *args, Py_ssize_t nargs) { \
    Py_INCREF(self);                                                                         \
    PyObject *r = name(self, args, nargs);                                                   \
    Py_DECREF(self);                                                                         \
    return r;                                                                                \
  }
CB_HELD(cb_start)
CB_HELD(cb_return)
CB_HELD(cb_yield)
CB_HELD(cb_resume)
CB_HELD(cb_raise)
CB_HELD(cb_unwind)
CB_HELD(cb_handled)
CB_HELD(cb_reraise)
CB_HELD(cb_throw)
#endif

static PyMethodDef cb_methods[] = {
#if PY_VERSION_HEX >= 0x030C0000
  {"on_start", (PyCFunction)(void (*)(void))cb_start_held, METH_FASTCALL, "PY_START callback."},
  {"on_return", (PyCFunction)(void (*)(void))cb_return_held, METH_FASTCALL, "PY_RETURN callback."},
  {"on_yield", (PyCFunction)(void (*)(void))cb_yield_held, METH_FASTCALL, "PY_YIELD callback."},
  {"on_resume", (PyCFunction)(void (*)(void))cb_resume_held, METH_FASTCALL, "PY_RESUME callback."},
  {"on_raise", (PyCFunction)(void (*)(void))cb_raise_held, METH_FASTCALL, "RAISE callback."},
  {"on_unwind", (PyCFunction)(void (*)(void))cb_unwind_held, METH_FASTCALL, "PY_UNWIND callback."},
  {"on_handled", (PyCFunction)(void (*)(void))cb_handled_held, METH_FASTCALL,
   "EXCEPTION_HANDLED callback."},
  {"on_reraise", (PyCFunction)(void (*)(void))cb_reraise_held, METH_FASTCALL, "RERAISE callback."},
  {"on_throw", (PyCFunction)(void (*)(void))cb_throw_held, METH_FASTCALL, "PY_THROW callback."},
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

/* Sets up c for rep and limit; the C paths are used only if they give what rep() gives for
 * sample values (containers and objects only where rep shares its state: see values.py). */
static int rep_init(RepCtx *c, PyObject *rep, Py_ssize_t limit) {
  c->rep = Py_NewRef(rep);
  c->s_none = PyUnicode_InternFromString("None");
  c->s_true = PyUnicode_InternFromString("True");
  c->s_false = PyUnicode_InternFromString("False");
  c->s_ellipsis = PyUnicode_FromString("\xe2\x80\xa6");
  c->s_sep = PyUnicode_InternFromString(", ");
  c->s_colon = PyUnicode_InternFromString(": ");
  c->s_empty_list = PyUnicode_InternFromString("[]");
  c->s_empty_tuple = PyUnicode_InternFromString("()");
  c->s_empty_dict = PyUnicode_InternFromString("{}");
  c->limit = limit;
  c->fast_values = c->fast_objects = 0;
  if (!c->s_none || !c->s_true || !c->s_false || !c->s_ellipsis || !c->s_sep || !c->s_colon ||
      !c->s_empty_list || !c->s_empty_tuple || !c->s_empty_dict)
    return -1;
  /* rep's state (values.py make_repr): plain rep() only. */
  PyObject *failed = PyObject_GetAttrString(rep, "failed");
  PyObject *registered = failed ? PyObject_GetAttrString(rep, "registered") : NULL;
  PyObject *user_ok = registered ? PyObject_GetAttrString(rep, "user_ok") : NULL;
  PyObject *rlimit = user_ok ? PyObject_GetAttrString(rep, "limit") : NULL;
  PyErr_Clear();
  int objects = rlimit != NULL && Py_TYPE(failed) == &PySet_Type && PyDict_CheckExact(registered) &&
                PyLong_Check(rlimit) && PyLong_AsSsize_t(rlimit) == limit;
  PyErr_Clear();
  if (objects) {
    c->failed = Py_NewRef(failed);
    c->registered = Py_NewRef(registered);
    c->user_ok = PyObject_IsTrue(user_ok) == 1;
  }
  Py_XDECREF(failed); Py_XDECREF(registered); Py_XDECREF(user_ok); Py_XDECREF(rlimit);
  PyErr_Clear();
  for (int pass = 0; pass < 2; pass++) {
    PyObject *samples;
    if (pass == 0)
      samples = Py_BuildValue("(OOOiiLLsssdd)", Py_None, Py_True, Py_False, 0, -3,
                              (long long)123456789012LL, (long long)-98765432109LL, "", "ab'c",
                              "x\"y\n", 1.5, -0.1);
    else if (!objects)
      break;
    else
      samples = Py_BuildValue("((is)[i[i[i[i]]]]{s(i)}(i)()[]{}NN(OOO)[sssssssssss]O)", 1, "a", 1,
                              2, 3, 4, "k", 5, 7, PySet_New(NULL), PyFrozenSet_New(NULL), Py_None,
                              Py_True, Py_Ellipsis, "aaaaaaaaaa", "b", "c", "d", "e", "f", "g", "h",
                              "i", "j", "k", &PyLong_Type);
    int ok = samples != NULL;
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(samples); i++) {
      PyObject *v = PyTuple_GET_ITEM(samples, i);
      PyObject *expected = PyObject_CallOneArg(rep, v);
      c->fast_values = 1;
      c->fast_objects = pass == 1;
      PyObject *got = value_rep(c, v);
      c->fast_values = c->fast_objects = 0;
      ok = expected != NULL && got != NULL && PyObject_RichCompareBool(expected, got, Py_EQ) == 1;
      Py_XDECREF(expected); Py_XDECREF(got);
    }
    PyErr_Clear();
    Py_XDECREF(samples);
    if (!ok) break;
    c->fast_values = 1;
    c->fast_objects = pass == 1;
  }
  if (!c->fast_objects) { Py_CLEAR(c->failed); Py_CLEAR(c->registered); }
  return 0;
}

/* Callbacks(known, buf, rep, fail, disable, fallbacks: dict name -> callable, limit) */
static PyObject *make_callbacks(PyObject *mod, PyObject *args) {
  PyObject *known, *buf, *rep, *fail, *disable, *fallbacks;
  Py_ssize_t limit;
  if (!PyArg_ParseTuple(args, "O!O!OOOO!n", &PyDict_Type, &known, &PyList_Type, &buf, &rep, &fail,
                        &disable, &PyDict_Type, &fallbacks, &limit))
    return NULL;
  Callbacks *self = PyObject_New(Callbacks, &CallbacksType);
  if (self == NULL) return NULL;
  memset(&self->r, 0, sizeof self->r);
  self->ident = 0;
  self->ident_obj = NULL;
  self->task_names_type = self->task_name = NULL;
  memset(self->seen, 0, sizeof self->seen); /* generation 0: no slot holds */
#if PY_VERSION_HEX >= 0x030C0000
  if (known_watcher == -1) {
    known_watcher = PyDict_AddWatcher(known_changed);
    if (known_watcher < 0) { PyErr_Clear(); known_watcher = -2; } /* none free: no cache */
  }
  if (known_watcher >= 0 && PyDict_Watch(known_watcher, known) < 0) {
    PyErr_Clear();
    known_watcher = -2;
  }
#endif
  self->known = Py_NewRef(known); self->buf = Py_NewRef(buf);
  untrack_buffer(buf);
  self->fail = Py_NewRef(fail); self->disable = Py_NewRef(disable);
  const char *names[4] = {"PY_START", "PY_RETURN", "PY_YIELD", "PY_RESUME"};
  PyObject **slots[4] = {&self->py_start, &self->py_return, &self->py_yield, &self->py_resume};
  for (int i = 0; i < 4; i++) {
    PyObject *f = PyDict_GetItemString(fallbacks, names[i]);
    *slots[i] = Py_NewRef(f ? f : Py_None);
  }
  PyObject *decide = PyDict_GetItemString(fallbacks, "PY_START_DECIDE");
  self->py_decide = Py_NewRef(decide ? decide : Py_None);
  /* TaskNames and task_name (tasks.py): coroutines in C too, when both are given. */
  PyObject *tn_type = PyDict_GetItemString(fallbacks, "TASK_NAMES");
  PyObject *tn_fn = PyDict_GetItemString(fallbacks, "TASK_NAME");
  int tasks_ok = tn_type != NULL && PyType_Check(tn_type) && tn_fn != NULL && PyCallable_Check(tn_fn);
  self->task_names_type = tasks_ok ? Py_NewRef(tn_type) : NULL;
  self->task_name = tasks_ok ? Py_NewRef(tn_fn) : NULL;
  const char *exc_names[5] = {"RAISE", "PY_UNWIND", "EXCEPTION_HANDLED", "RERAISE", "PY_THROW"};
  for (int i = 0; i < 5; i++) {
    PyObject *f = PyDict_GetItemString(fallbacks, exc_names[i]);
    self->py_exc[i] = Py_NewRef(f ? f : Py_None);
  }
  if (rep_init(&self->r, rep, limit) < 0) { Py_DECREF(self); return NULL; }
  return (PyObject *)self;
}

/* ---- the writer's batch builder --------------------------------------------------------------- */
/* build(rec, events, strings, files, codes, threads) -> list of wire events. `rec` is the
 * Recorder: its interning dicts are used directly and its Python methods handle every miss
 * except strings. Calls, returns, yields, resumes, task names and exceptions (of a type named
 * before) are made here; other records are passed to rec._event_slow(r, ...). */
#define BUILD_CODES 64   /* direct-mapped caches of one build() call: code -> id */
#define BUILD_LINES 512  /* (code, offset) -> line */
#define BUILD_STRS 1024  /* value text object -> string id */
typedef struct {
  PyObject *rec, *strings_d, *codes_d, *threads_d, *types_d, *line_cache;
  PyObject *strings, *files, *codes, *threads;
  long long next_string;
  int offsets;
  /* The records hold their code objects, so a code's address is its identity for the call. */
  PyObject *code_key[BUILD_CODES];
  long long code_id[BUILD_CODES];
  PyObject *line_code[BUILD_LINES], *line_val[BUILD_LINES];
  long line_off[BUILD_LINES];
  PyObject *thread_ident; /* the last thread and its id (forgotten at every slow record) */
  long long thread_id;
  /* Value texts by address (the records hold them while the batch is built): the same string
   * object again (a kept repr) is found without hashing it. Forgotten when ids may change. */
  PyObject *str_key[BUILD_STRS], *str_id[BUILD_STRS];
} Build;

static size_t build_hash(void *p) { size_t h = (size_t)p; return (h >> 4) ^ (h >> 12); }

static void build_forget_strings(Build *b) {
  for (int i = 0; i < BUILD_STRS; i++) { Py_CLEAR(b->str_id[i]); b->str_key[i] = NULL; }
}

static void build_forget(Build *b) {
  build_forget_strings(b);
  for (int i = 0; i < BUILD_CODES; i++) b->code_key[i] = NULL;
  for (int i = 0; i < BUILD_LINES; i++) { Py_CLEAR(b->line_val[i]); b->line_code[i] = NULL; }
  Py_CLEAR(b->thread_ident);
}

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

static PyObject *string_id_dict(Build *b, PyObject *text);

static PyObject *string_id(Build *b, PyObject *text) {
  size_t slot = build_hash(text) % BUILD_STRS;
  if (b->str_key[slot] == text) return Py_NewRef(b->str_id[slot]);
  PyObject *sid = string_id_dict(b, text);
  if (sid != NULL) {
    b->str_key[slot] = text;
    Py_XSETREF(b->str_id[slot], Py_NewRef(sid));
  }
  return sid;
}

static PyObject *string_id_dict(Build *b, PyObject *text) {
  PyObject *sid = PyDict_GetItemWithError(b->strings_d, text);
  if (sid != NULL) return Py_NewRef(sid);
  if (PyErr_Occurred()) return NULL;
  if (PyDict_GET_SIZE(b->strings_d) >= 200000) {
    PyDict_Clear(b->strings_d);
    build_forget_strings(b); /* their ids are given anew */
  }
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

static PyObject *line_id_dict(Build *b, PyObject *code, PyObject *offset);

static PyObject *line_id(Build *b, PyObject *code, PyObject *offset) {
  long off = PyLong_Check(offset) ? PyLong_AsLong(offset) : -1;
  if (off == -1 && PyErr_Occurred()) PyErr_Clear();
  size_t slot = (build_hash(code) ^ ((size_t)off * 2654435761u)) % BUILD_LINES;
  if (off >= 0 && b->line_code[slot] == code && b->line_off[slot] == off)
    return Py_NewRef(b->line_val[slot]);
  PyObject *line = line_id_dict(b, code, offset);
  if (line != NULL && off >= 0) {
    Py_XSETREF(b->line_val[slot], Py_NewRef(line));
    b->line_code[slot] = code;
    b->line_off[slot] = off;
  }
  return line;
}

static PyObject *line_id_dict(Build *b, PyObject *code, PyObject *offset) {
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

/* take(list) -> a new list of its items, leaving it empty (their array changes hands: no copy).
 * The new list is kept out of the cyclic GC as the buffer is (see untrack_buffer): while the
 * batch is built, the program's collections would otherwise walk every record in it. */
static PyObject *take(PyObject *mod, PyObject *arg) {
  if (!PyList_CheckExact(arg)) { PyErr_SetString(PyExc_TypeError, "take() needs a list"); return NULL; }
  PyListObject *src = (PyListObject *)arg;
  PyListObject *dst = (PyListObject *)PyList_New(0);
  if (dst == NULL) return NULL;
  untrack_buffer((PyObject *)dst);
  dst->ob_item = src->ob_item;
  dst->allocated = src->allocated;
  Py_SET_SIZE(dst, Py_SIZE(src));
  src->ob_item = NULL;
  src->allocated = 0;
  Py_SET_SIZE(src, 0);
  return (PyObject *)dst;
}

/* Packed events (build's packed mode, pair_packed): one array of native int64, each event its
 * field count then its fields, the wire event's ints in order. */
typedef struct {
  long long *v;
  Py_ssize_t len, cap;
} Packed;

static long long *pk_reserve(Packed *pk, Py_ssize_t n) {
  if (pk->len + n > pk->cap) {
    Py_ssize_t cap = pk->cap ? pk->cap : 4096;
    while (cap < pk->len + n) cap *= 2;
    long long *v = PyMem_Realloc(pk->v, (size_t)cap * sizeof *v);
    if (v == NULL) { PyErr_NoMemory(); return NULL; }
    pk->v = v;
    pk->cap = cap;
  }
  long long *at = pk->v + pk->len;
  pk->len += n;
  return at;
}

/* The ints of a wire event list (from the slow path) appended to pk: 0, or -1 with an error. */
static int pk_event(Packed *pk, PyObject *ev) {
  if (!PyList_Check(ev)) { PyErr_SetString(PyExc_TypeError, "a wire event is a list"); return -1; }
  Py_ssize_t k = PyList_GET_SIZE(ev);
  long long *at = pk_reserve(pk, 1 + k);
  if (at == NULL) return -1;
  at[0] = k;
  for (Py_ssize_t j = 0; j < k; j++) {
    PyObject *o = PyList_GET_ITEM(ev, j);
    if (!PyLong_Check(o)) { PyErr_SetString(PyExc_TypeError, "a wire event holds ints"); return -1; }
    at[1 + j] = PyLong_AsLongLong(o);
    if (at[1 + j] == -1 && PyErr_Occurred()) return -1;
  }
  return 0;
}

static long long as_ll(PyObject *o) { /* -1 with an error set when o is not an int that fits */
  if (!PyLong_Check(o)) { PyErr_SetString(PyExc_TypeError, "an id is an int"); return -1; }
  return PyLong_AsLongLong(o);
}

/* string_id(text) as a C integer: -1 with an error set when it fails (ids are positive). */
static long long string_ll(Build *b, PyObject *text) {
  PyObject *sid = string_id(b, text);
  if (sid == NULL) return -1;
  long long v = as_ll(sid);
  Py_DECREF(sid);
  return v;
}

/* build(rec, events, strings, files, codes, threads[, packed]): the wire events of the records
 * as a list, or with packed true as (bytes of packed events, how many events). */
static PyObject *build(PyObject *mod, PyObject *args) {
  Build b;
  PyObject *events;
  int packed = 0;
  Packed pk = {NULL, 0, 0};
  memset(&b, 0, sizeof b);
  if (!PyArg_ParseTuple(args, "OO!O!O!O!O!|p", &b.rec, &PyList_Type, &events, &PyList_Type,
                        &b.strings, &PyList_Type, &b.files, &PyList_Type, &b.codes, &PyList_Type,
                        &b.threads, &packed))
    return NULL;
  PyObject *out = PyList_New(0);
  if (out == NULL) return NULL;
  Py_ssize_t count = 0;
  /* Every event is packed as it is made (the slow path's lists, which go to out, too); without
   * packed, out then holds them as lists. out (lists of ints) and events (the writer thread's own
   * copy of the records) cannot be part of a cycle: untracked, the collections the program's
   * allocations start while a batch is built do not walk them. */
  PyObject_GC_UnTrack(out);
  if (PyObject_GC_IsTracked(events)) PyObject_GC_UnTrack(events);
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
    Py_ssize_t rn;
    long kind;
    /* The fields of a simple record (a Rec, or a tuple of the pure-Python callbacks). */
    PyObject *ident, *code, *offset = NULL, *text = NULL, *const *vals = NULL;
    Py_ssize_t nv = 0;
    long long tsv;
    long long exc_tv = -1; /* an exception's: its type's string id (rec._types), else -1 */
    if (Py_IS_TYPE(r, &RecType)) {
      Rec *x = (Rec *)r;
      kind = x->kind;
      ident = x->ident;
      code = x->code;
      tsv = x->ts;
      if (kind == 1) { vals = x->items; nv = Py_SIZE(x); }
      else if (kind != 7) { offset = x->items[0]; text = x->items[1]; }
      goto simple_record;
    }
    if (PyTuple_CheckExact(r) && PyTuple_GET_SIZE(r) > 0 && PyLong_CheckExact(PyTuple_GET_ITEM(r, 0))) {
      rn = PyTuple_GET_SIZE(r);
      kind = PyLong_AsLong(PyTuple_GET_ITEM(r, 0));
    } else {
      rn = PySequence_Size(r);
      PyObject *r0 = rn > 0 ? PySequence_GetItem(r, 0) : NULL;
      kind = r0 ? PyLong_AsLong(r0) : -1;
      Py_XDECREF(r0);
    }
    if (PyErr_Occurred()) goto error;
    int simple = PyTuple_CheckExact(r) &&
                 ((kind == 1 && rn == 5) || ((kind == 2 || kind == 6) && rn == 6) ||
                  (kind == 7 && rn == 4) ||
                  (kind == 9 && rn == 5 && PyTuple_GET_ITEM(r, 2) != Py_None &&
                   PyUnicode_CheckExact(PyTuple_GET_ITEM(r, 4))));
    /* An exception's raise, unwind or handling (3, 4, 5): (kind, ident, code, ts, line, type,
     * message) as the Python callbacks make them (a handling: a list, with the exception's id
     * last); here unless its type needs a new name. */
    if (!simple && (kind == 3 || kind == 4 || kind == 5)) {
      PyObject *const *it = NULL;
      if (PyTuple_CheckExact(r) && rn == 7) it = &PyTuple_GET_ITEM(r, 0);
      else if (kind == 5 && PyList_CheckExact(r) && rn == 8) it = ((PyListObject *)r)->ob_item;
      if (it != NULL && it[2] != Py_None && PyLong_CheckExact(it[3]) && PyLong_CheckExact(it[4]) &&
          PyUnicode_CheckExact(it[6])) {
        PyObject *named = PyDict_GetItemWithError(b.types_d, it[5]); /* borrowed */
        if (named == NULL && PyErr_Occurred()) goto error;
        if (named != NULL && PyLong_CheckExact(named)) {
          exc_tv = PyLong_AsLongLong(named);
          if (exc_tv == -1 && PyErr_Occurred()) goto error;
        }
        if (exc_tv > 0) {
          ident = it[1];
          code = it[2];
          tsv = PyLong_AsLongLong(it[3]);
          if (tsv == -1 && PyErr_Occurred()) goto error;
          offset = it[4]; /* the line itself */
          text = it[6];
          goto simple_record;
        }
      }
    }
    if (kind == 0) continue; /* a Handled the program re-raised: cancelled */
    if (!simple) {
      /* Rare kinds (threads, probes, an exception whose type has no name yet...): the Python
       * code handles them. */
      Py_CLEAR(b.thread_ident); /* a thread note may give an ident a new thread id */
      build_forget_strings(&b); /* Python may give strings new ids */
      if (sync_out(&b) < 0) goto error;
      Py_ssize_t before = PyList_GET_SIZE(out);
      PyObject *res = PyObject_CallMethod(b.rec, "_event_slow", "OOOOOO", r, b.strings, b.files,
                                          b.codes, b.threads, out);
      if (res == NULL || sync_in(&b) < 0) { Py_XDECREF(res); goto error; }
      Py_DECREF(res);
      for (Py_ssize_t j = before; j < PyList_GET_SIZE(out); j++)
        if (pk_event(&pk, PyList_GET_ITEM(out, j)) < 0) goto error;
      count += PyList_GET_SIZE(out) - before;
      if (PyList_SetSlice(out, 0, PyList_GET_SIZE(out), NULL) < 0) goto error;
      continue;
    }
    ident = PyTuple_GET_ITEM(r, 1);
    code = PyTuple_GET_ITEM(r, 2);
    tsv = PyLong_AsLongLong(PyTuple_GET_ITEM(r, 3));
    if (tsv == -1 && PyErr_Occurred()) goto error;
    if (kind == 1) {
      PyObject *vt = PyTuple_GET_ITEM(r, 4);
      if (!PyTuple_Check(vt)) { PyErr_SetString(PyExc_TypeError, "call values"); goto error; }
      vals = &PyTuple_GET_ITEM(vt, 0);
      nv = PyTuple_GET_SIZE(vt);
    } else if (kind == 9) {
      text = PyTuple_GET_ITEM(r, 4); /* the task's name */
    } else if (kind != 7) {
      offset = PyTuple_GET_ITEM(r, 4);
      text = PyTuple_GET_ITEM(r, 5);
    }
  simple_record:;
    if (b.thread_ident == NULL || (b.thread_ident != ident &&
        PyObject_RichCompareBool(b.thread_ident, ident, Py_EQ) != 1)) {
      if (PyErr_Occurred()) goto error;
      PyObject *tid = keyed_id(&b, b.threads_d, ident, "_thread_id", ident, b.threads);
      if (tid == NULL) goto error;
      b.thread_id = as_ll(tid);
      Py_DECREF(tid);
      if (b.thread_id == -1 && PyErr_Occurred()) goto error;
      Py_XSETREF(b.thread_ident, Py_NewRef(ident));
    }
    size_t cslot = build_hash(code) % BUILD_CODES;
    if (b.code_key[cslot] != code) {
      PyObject *ckey = PyLong_FromVoidPtr(code);
      PyObject *cid = ckey ? PyDict_GetItemWithError(b.codes_d, ckey) : NULL;
      Py_XDECREF(ckey);
      if (cid != NULL) Py_INCREF(cid);
      else if (PyErr_Occurred()) goto error;
      else {
        if (sync_out(&b) < 0) goto error;
        cid = PyObject_CallMethod(b.rec, "_code_id", "OOO", code, b.files, b.codes);
        if (cid == NULL || sync_in(&b) < 0) { Py_XDECREF(cid); goto error; }
      }
      b.code_id[cslot] = as_ll(cid);
      Py_DECREF(cid);
      if (b.code_id[cslot] == -1 && PyErr_Occurred()) goto error;
      b.code_key[cslot] = code;
    }
    {
      /* The wire event's ints, packed (as lists at the end when not asked for packed). */
      long long *at;
      if (kind == 1) {
        at = pk_reserve(&pk, 5 + nv);
        if (at == NULL) goto error;
        at[0] = 4 + nv;
        for (Py_ssize_t j = 0; j < nv; j++) {
          long long sv = string_ll(&b, vals[j]);
          if (sv == -1 && PyErr_Occurred()) goto error;
          at[5 + j] = sv; /* string_id does not touch pk: at stays valid */
        }
      } else if (kind == 7) {
        at = pk_reserve(&pk, 5);
        if (at == NULL) goto error;
        at[0] = 4;
      } else if (kind == 9) {
        long long sv = string_ll(&b, text);
        if (sv == -1 && PyErr_Occurred()) goto error;
        at = pk_reserve(&pk, 6);
        if (at == NULL) goto error;
        at[0] = 5;
        at[5] = sv;
      } else if (exc_tv > 0) {
        long long lv = as_ll(offset);
        if (lv == -1 && PyErr_Occurred()) goto error;
        long long sv = string_ll(&b, text);
        if (sv == -1 && PyErr_Occurred()) goto error;
        at = pk_reserve(&pk, 8);
        if (at == NULL) goto error;
        at[0] = 7;
        at[5] = lv;
        at[6] = exc_tv;
        at[7] = sv;
      } else {
        PyObject *line = b.offsets ? line_id(&b, code, offset) : Py_NewRef(offset);
        PyObject *sid = line ? string_id(&b, text) : NULL;
        long long lv = sid ? as_ll(line) : -1, sv = -1;
        if (sid != NULL && !(lv == -1 && PyErr_Occurred())) sv = as_ll(sid);
        Py_XDECREF(line);
        Py_XDECREF(sid);
        if (PyErr_Occurred() || sid == NULL) goto error;
        at = pk_reserve(&pk, 7);
        if (at == NULL) goto error;
        at[0] = 6;
        at[5] = lv;
        at[6] = sv;
      }
      at[1] = kind;
      at[2] = b.thread_id;
      at[3] = b.code_id[cslot];
      at[4] = tsv - origin_ns;
      count++;
    }
  }
  if (sync_out(&b) < 0) goto error;
  build_forget(&b);
  Py_XDECREF(b.strings_d); Py_XDECREF(b.codes_d); Py_XDECREF(b.threads_d); Py_XDECREF(b.types_d);
  Py_XDECREF(b.line_cache); Py_XDECREF(origin); Py_XDECREF(offsets);
  if (packed) {
    Py_DECREF(out);
    PyObject *data = PyBytes_FromStringAndSize((const char *)pk.v, pk.len * (Py_ssize_t)sizeof(long long));
    PyMem_Free(pk.v);
    if (data == NULL) return NULL;
    return Py_BuildValue("(Nn)", data, count);
  }
  /* The packed events as wire event lists (lists of ints: no cycles through them). */
  for (Py_ssize_t at = 0; at < pk.len; at += 1 + pk.v[at]) {
    Py_ssize_t k = (Py_ssize_t)pk.v[at];
    PyObject *ev = PyList_New(k);
    if (ev == NULL) goto unpack_error;
    for (Py_ssize_t j = 0; j < k; j++) {
      PyObject *o = PyLong_FromLongLong(pk.v[at + 1 + j]);
      if (o == NULL) { Py_DECREF(ev); goto unpack_error; }
      PyList_SET_ITEM(ev, j, o);
    }
    PyObject_GC_UnTrack(ev);
    int ar = PyList_Append(out, ev);
    Py_DECREF(ev);
    if (ar < 0) goto unpack_error;
  }
  PyMem_Free(pk.v);
  return out;
unpack_error:
  PyMem_Free(pk.v);
  Py_DECREF(out);
  return NULL;
error:
  build_forget(&b);
  PyMem_Free(pk.v);
  Py_XDECREF(b.strings_d); Py_XDECREF(b.codes_d); Py_XDECREF(b.threads_d); Py_XDECREF(b.types_d);
  Py_XDECREF(b.line_cache); Py_XDECREF(origin); Py_XDECREF(offsets);
  Py_DECREF(out);
  if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "tracelens._speedups.build failed");
  return NULL;
}


/* ---- the trace file writer's pairing loop ----------------------------------------------------- */
/* pair(writer, p, events, stacks, tasks, plain, wide, n, off, shift, next_call) -> next_call.
 * tracefile.py's TraceFileWriter._events loop (the reference; keep them in step): calls and
 * resumes while no task name is pending, and returns/yields that end the innermost open call of
 * their thread, give the same stack entries and `calls` rows as the Python loop; every other
 * event (and any value that is not a plain int) goes to writer._event(p, ev), with
 * writer.next_call kept in step around it. */
static int pair_ll(PyObject *o, long long *v) { /* 1: o is an int that fits (no error set) */
  if (!PyLong_CheckExact(o)) return 0;
  int overflow = 0;
  *v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow) return 0;
  if (*v == -1 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
  return 1;
}

/* o (whose value is v) plus d: o itself when d is 0. New reference. */
static PyObject *pair_add(PyObject *o, long long v, long long d) {
  return d ? PyLong_FromLongLong(v + d) : Py_NewRef(o);
}

/* writer._event(p, ev) with writer.next_call in step: 0, or -1 with an error set. */
static int pair_slow(PyObject *writer, PyObject *slow, PyObject *p, PyObject *ev,
                     long long *next_call) {
  PyObject *nc = PyLong_FromLongLong(*next_call);
  if (nc == NULL) return -1;
  int r = PyObject_SetAttrString(writer, "next_call", nc);
  Py_DECREF(nc);
  if (r < 0) return -1;
  PyObject *res = PyObject_CallFunctionObjArgs(slow, p, ev, NULL);
  if (res == NULL) return -1;
  Py_DECREF(res);
  nc = PyObject_GetAttrString(writer, "next_call");
  if (nc == NULL) return -1;
  *next_call = PyLong_AsLongLong(nc);
  Py_DECREF(nc);
  return PyErr_Occurred() ? -1 : 0;
}

/* An event's fields, either as objects (a wire event list) or as packed ints (f): field i as
 * an int (0 when it is not an int that fits, no error set) and as an object (new reference). */
typedef struct {
  PyObject **items;
  const long long *f;
  Py_ssize_t k;
} Fields;

static int field_ll(const Fields *e, Py_ssize_t i, long long *v) {
  if (e->f) { *v = e->f[i]; return 1; }
  return pair_ll(e->items[i], v);
}

/* Field i plus d (its value v): the object itself when d is 0 and there is one. */
static PyObject *field_add(const Fields *e, Py_ssize_t i, long long v, long long d) {
  if (e->f) return PyLong_FromLongLong(v + d);
  return pair_add(e->items[i], v, d);
}

/* The args texts of one-argument calls lately made, by string id (plus offset): a call's args is
 * often a value seen just before (small ints, None, the same object). */
#define ARGS1_CACHE 1024
static long long args1_id[ARGS1_CACHE];
static PyObject *args1_text[ARGS1_CACHE];

/* The args text "[id,id,...]" of a call event's string ids (fields 4..k-1) plus off; NULL without
 * an error when an id is not a plain int or the sum overflows. New reference. */
static PyObject *pair_args(const Fields *e, long long off) {
  char small[512];
  Py_ssize_t k = e->k;
  long long one;
  if (k == 5 && field_ll(e, 4, &one) && !__builtin_add_overflow(one, off, &one) && one > 0) {
    size_t slot = (size_t)one % ARGS1_CACHE;
    if (args1_text[slot] != NULL && args1_id[slot] == one) return Py_NewRef(args1_text[slot]);
    char b[32];
    b[0] = '[';
    int n = 1 + format_ll(b + 1, one);
    b[n++] = ']';
    PyObject *text = PyUnicode_FromStringAndSize(b, n);
    if (text == NULL) return NULL;
    Py_XSETREF(args1_text[slot], Py_NewRef(text));
    args1_id[slot] = one;
    return text;
  }
  Py_ssize_t cap = 2 + (k - 4) * 22;
  char *buf = cap <= (Py_ssize_t)sizeof small ? small : PyMem_Malloc(cap);
  if (buf == NULL) return PyErr_NoMemory();
  Py_ssize_t len = 0;
  buf[len++] = '[';
  for (Py_ssize_t j = 4; j < k; j++) {
    long long v;
    if (!field_ll(e, j, &v) || __builtin_add_overflow(v, off, &v)) {
      if (buf != small) PyMem_Free(buf);
      return NULL;
    }
    if (j > 4) buf[len++] = ',';
    len += format_ll(buf + len, v);
  }
  buf[len++] = ']';
  PyObject *s = PyUnicode_FromStringAndSize(buf, len);
  if (buf != small) PyMem_Free(buf);
  return s;
}

/* A return (2) or yield (6) ending the innermost open call: 1 done, 0 not the fast case (nothing
 * changed), -1 error. */
/* A plain calls row (no process, exception or task) kept in C by the page writer until it
 * places it (TableWriter.pending): the columns of tracefile.py's 11-value plain rows. */
typedef struct {
  long long id, thread, parent, depth, code, start, end, value, line, flags;
  int has_parent;
  PyObject *args; /* str or None (a reference of its own) */
} PlainRow;
/* Hands row to the page writer `pages` (a TableWriter: pair_packed checks): 0, or -1. */
static int pending_add(PyObject *pages, const PlainRow *row);

static int pair_end_on(const Fields *e, PyObject *thread, long long kind, PyObject *stacks,
                       PyObject *plain, PyObject *wide, PyObject *n, long long off,
                       long long shift, PyObject *pages);

static int pair_end(const Fields *e, long long kind, PyObject *stacks, PyObject *plain,
                    PyObject *wide, PyObject *n, long long off, long long shift,
                    PyObject *pages) {
  if (e->k < 6) return 0;
  PyObject *thread = e->f ? PyLong_FromLongLong(e->f[1]) : Py_NewRef(e->items[1]);
  if (thread == NULL) return -1;
  int r = pair_end_on(e, thread, kind, stacks, plain, wide, n, off, shift, pages);
  Py_DECREF(thread);
  return r;
}

static int pair_end_on(const Fields *e, PyObject *thread, long long kind, PyObject *stacks,
                       PyObject *plain, PyObject *wide, PyObject *n, long long off,
                       long long shift, PyObject *pages) {
  PyObject *stack = PyDict_GetItemWithError(stacks, thread);
  if (stack == NULL) return PyErr_Occurred() ? -1 : 0;
  if (!PyList_CheckExact(stack)) return 0;
  Py_ssize_t depth = PyList_GET_SIZE(stack);
  if (depth == 0) return 0;
  PyObject *c = PyList_GET_ITEM(stack, depth - 1);
  if (!PyTuple_CheckExact(c) || PyTuple_GET_SIZE(c) != 8) return 0;
  long long code, ev_code, th, start, end, value, flags, task = 0;
  PyObject *ctask = PyTuple_GET_ITEM(c, 7);
  if (!pair_ll(PyTuple_GET_ITEM(c, 1), &code) || !field_ll(e, 2, &ev_code) ||
      code != ev_code)
    return 0;
  if (!pair_ll(thread, &th) || !pair_ll(PyTuple_GET_ITEM(c, 2), &start) ||
      !field_ll(e, 3, &end) || !field_ll(e, 5, &value) ||
      !pair_ll(PyTuple_GET_ITEM(c, 6), &flags) || (ctask != Py_None && !pair_ll(ctask, &task)))
    return 0;
  long long sink;
  if (__builtin_add_overflow(th, off, &sink) || __builtin_add_overflow(code, off, &sink) ||
      __builtin_add_overflow(start, shift, &sink) || __builtin_add_overflow(end, shift, &sink) ||
      __builtin_add_overflow(value, off, &sink) || __builtin_add_overflow(task, off, &sink))
    return 0;
  int wide_row = ctask != Py_None;
  PlainRow pr;
  int to_pages = 0;
  if (pages != NULL && !wide_row && e->f != NULL) {
    /* Straight to the page writer, no row tuple: the same columns. */
    PyObject *parent = PyTuple_GET_ITEM(c, 3), *args = PyTuple_GET_ITEM(c, 5);
    pr.has_parent = parent != Py_None;
    pr.parent = 0;
    to_pages = pair_ll(PyTuple_GET_ITEM(c, 0), &pr.id) && pair_ll(PyTuple_GET_ITEM(c, 4), &pr.depth) &&
               (!pr.has_parent || pair_ll(parent, &pr.parent)) &&
               (args == Py_None || PyUnicode_CheckExact(args));
    if (to_pages) {
      pr.thread = th + off;
      pr.code = code + off;
      pr.start = start + shift;
      pr.end = end + shift;
      pr.value = value + off;
      pr.line = e->f[4];
      pr.flags = kind == 6 ? flags | 2 : flags;
      pr.args = args;
    }
  }
  /* Popped: the stack's reference to c is now ours (the list keeps its room). */
  PyList_SET_ITEM(stack, depth - 1, NULL);
  Py_SET_SIZE(stack, depth - 1);
  if (to_pages) {
    int r = pending_add(pages, &pr);
    Py_DECREF(c);
    return r < 0 ? -1 : 1;
  }
  PyObject *row = PyTuple_New(wide_row ? 16 : 11);
  if (row == NULL) { Py_DECREF(c); return -1; }
  int i = 0;
#define PUT(o) do { PyObject *o_ = (o); if (o_ == NULL) goto fail; PyTuple_SET_ITEM(row, i++, o_); } while (0)
  PUT(Py_NewRef(PyTuple_GET_ITEM(c, 0)));
  if (wide_row) PUT(Py_NewRef(n));
  PUT(pair_add(thread, th, off));
  PUT(Py_NewRef(PyTuple_GET_ITEM(c, 3)));
  PUT(Py_NewRef(PyTuple_GET_ITEM(c, 4)));
  PUT(pair_add(PyTuple_GET_ITEM(c, 1), code, off));
  PUT(pair_add(PyTuple_GET_ITEM(c, 2), start, shift));
  PUT(field_add(e, 3, end, shift));
  PUT(Py_NewRef(PyTuple_GET_ITEM(c, 5)));
  PUT(field_add(e, 5, value, off));
  PUT(e->f ? PyLong_FromLongLong(e->f[4]) : Py_NewRef(e->items[4]));
  if (wide_row) { PUT(Py_NewRef(Py_None)); PUT(Py_NewRef(Py_None)); PUT(Py_NewRef(Py_None)); }
  PUT(kind == 6 ? PyLong_FromLongLong(flags | 2) : Py_NewRef(PyTuple_GET_ITEM(c, 6)));
  if (wide_row) PUT(pair_add(ctask, task, off));
#undef PUT
  Py_DECREF(c);
  int r = PyList_Append(wide_row ? wide : plain, row);
  Py_DECREF(row);
  return r < 0 ? -1 : 1;
fail:
  Py_DECREF(c);
  Py_DECREF(row);
  return -1;
}

/* A call (1) or resume (7) while no task name is pending: 1 done, 0 not the fast case, -1. */
static int pair_start_on(const Fields *e, PyObject *thread, long long kind, PyObject *stacks,
                         long long off, long long next_call);

static int pair_start(const Fields *e, long long kind, PyObject *stacks, long long off,
                      long long next_call) {
  PyObject *thread = e->f ? PyLong_FromLongLong(e->f[1]) : Py_NewRef(e->items[1]);
  if (thread == NULL) return -1;
  int r = pair_start_on(e, thread, kind, stacks, off, next_call);
  Py_DECREF(thread);
  return r;
}

static int pair_start_on(const Fields *e, PyObject *thread, long long kind, PyObject *stacks,
                         long long off, long long next_call) {
  PyObject *stack = PyDict_GetItemWithError(stacks, thread);
  if (stack == NULL && PyErr_Occurred()) return -1;
  if (stack != NULL && !PyList_CheckExact(stack)) return 0;
  Py_ssize_t depth = stack ? PyList_GET_SIZE(stack) : 0;
  PyObject *parent = Py_None;
  if (depth) {
    PyObject *top = PyList_GET_ITEM(stack, depth - 1);
    if (!PyTuple_CheckExact(top) || PyTuple_GET_SIZE(top) < 1) return 0;
    parent = PyTuple_GET_ITEM(top, 0);
  }
  PyObject *args = NULL;
  if (kind == 1) {
    args = pair_args(e, off);
    if (args == NULL) return PyErr_Occurred() ? -1 : 0;
  }
  PyObject *entry = PyTuple_New(8);
  if (entry == NULL) { Py_XDECREF(args); return -1; }
  PyObject *id = PyLong_FromLongLong(next_call);
  PyObject *d = PyLong_FromSsize_t(depth);
  PyObject *flags = PyLong_FromLong(kind == 7 ? 1 : 0);
  if (id == NULL || d == NULL || flags == NULL) {
    Py_XDECREF(id); Py_XDECREF(d); Py_XDECREF(flags); Py_XDECREF(args); Py_DECREF(entry);
    return -1;
  }
  PyTuple_SET_ITEM(entry, 0, id);
  PyObject *code = e->f ? PyLong_FromLongLong(e->f[2]) : Py_NewRef(e->items[2]);
  PyObject *ts = e->f ? PyLong_FromLongLong(e->f[3]) : Py_NewRef(e->items[3]);
  if (code == NULL || ts == NULL) {
    Py_XDECREF(code); Py_XDECREF(ts); Py_DECREF(entry); Py_DECREF(id); Py_DECREF(d);
    Py_DECREF(flags); Py_XDECREF(args);
    return -1;
  }
  PyTuple_SET_ITEM(entry, 1, code);
  PyTuple_SET_ITEM(entry, 2, ts);
  PyTuple_SET_ITEM(entry, 3, Py_NewRef(parent));
  PyTuple_SET_ITEM(entry, 4, d);
  PyTuple_SET_ITEM(entry, 5, args ? args : Py_NewRef(Py_None));
  PyTuple_SET_ITEM(entry, 6, flags);
  PyTuple_SET_ITEM(entry, 7, Py_NewRef(Py_None));
  int r;
  if (stack == NULL) {
    stack = PyList_New(0);
    if (stack == NULL) { Py_DECREF(entry); return -1; }
    r = PyDict_SetItem(stacks, thread, stack);
    Py_DECREF(stack); /* owned by the dict */
    if (r < 0) { Py_DECREF(entry); return -1; }
  }
  r = PyList_Append(stack, entry);
  Py_DECREF(entry);
  return r < 0 ? -1 : 1;
}

/* pair()'s and pair_packed()'s off, shift and next_call (arguments 8 to 10): 0, or -1. */
static int pair_numbers(PyObject *const *args, long long *off, long long *shift,
                        long long *next_call) {
  *off = PyLong_AsLongLong(args[8]);
  *shift = PyLong_AsLongLong(args[9]);
  *next_call = PyLong_AsLongLong(args[10]);
  return PyErr_Occurred() ? -1 : 0;
}

static PyObject *pair(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 11) {
    PyErr_SetString(PyExc_TypeError, "pair() takes 11 arguments");
    return NULL;
  }
  PyObject *writer = args[0], *p = args[1], *events = args[2], *stacks = args[3];
  PyObject *tasks = args[4], *plain = args[5], *wide = args[6], *n = args[7];
  if (!PyList_Check(events) || !PyDict_Check(stacks) || !PyDict_Check(tasks) ||
      !PyList_Check(plain) || !PyList_Check(wide)) {
    PyErr_SetString(PyExc_TypeError, "pair(): events, stacks, tasks, plain or wide");
    return NULL;
  }
  long long off, shift, next_call;
  if (pair_numbers(args, &off, &shift, &next_call) < 0) return NULL;
  PyObject *slow = PyObject_GetAttrString(writer, "_event");
  if (slow == NULL) return NULL;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
    PyObject *ev = PyList_GET_ITEM(events, i);
    Py_INCREF(ev);
    int done = 0;
    long long kind;
    if ((PyList_CheckExact(ev) || PyTuple_CheckExact(ev)) && PySequence_Fast_GET_SIZE(ev) >= 4 &&
        pair_ll(PySequence_Fast_ITEMS(ev)[0], &kind)) {
      Fields e = {PySequence_Fast_ITEMS(ev), NULL, PySequence_Fast_GET_SIZE(ev)};
      if (kind == 2 || kind == 6)
        done = pair_end(&e, kind, stacks, plain, wide, n, off, shift, NULL);
      else if ((kind == 1 || kind == 7) && PyDict_GET_SIZE(tasks) == 0) {
        done = pair_start(&e, kind, stacks, off, next_call);
        if (done == 1) next_call++;
      }
    }
    if (done == 0) done = pair_slow(writer, slow, p, ev, &next_call) < 0 ? -1 : 1;
    Py_DECREF(ev);
    if (done < 0) { Py_DECREF(slow); return NULL; }
  }
  Py_DECREF(slow);
  return PyLong_FromLongLong(next_call);
}

/* pair_packed(writer, p, data, stacks, tasks, plain, wide, n, off, shift, next_call[, pages]) ->
 * (next_call, last ts or None): pair() over packed events (build's packed mode), the same rows
 * and the same calls of writer._event(p, ev) (ev a list of ints) as for the list of events;
 * with pages (a TableWriter) the plain rows are kept by it instead of going to plain. */
static int is_table_writer(PyObject *o);

static PyObject *pair_packed(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 11 && nargs != 12) {
    PyErr_SetString(PyExc_TypeError, "pair_packed() takes 11 or 12 arguments");
    return NULL;
  }
  /* pages: the page writer, which then keeps the plain rows itself (None: they go to plain) */
  PyObject *pages = nargs == 12 && is_table_writer(args[11]) ? args[11] : NULL;
  PyObject *writer = args[0], *p = args[1], *stacks = args[3];
  PyObject *tasks = args[4], *plain = args[5], *wide = args[6], *n = args[7];
  Py_buffer view;
  if (!PyDict_Check(stacks) || !PyDict_Check(tasks) || !PyList_Check(plain) || !PyList_Check(wide)) {
    PyErr_SetString(PyExc_TypeError, "pair_packed(): stacks, tasks, plain or wide");
    return NULL;
  }
  long long off, shift, next_call;
  if (pair_numbers(args, &off, &shift, &next_call) < 0) return NULL;
  if (PyObject_GetBuffer(args[2], &view, PyBUF_SIMPLE) < 0) return NULL;
  PyObject *slow = PyObject_GetAttrString(writer, "_event");
  if (slow == NULL) { PyBuffer_Release(&view); return NULL; }
  const long long *v = (const long long *)view.buf;
  Py_ssize_t len = view.len / (Py_ssize_t)sizeof(long long), at = 0;
  long long last_ts = 0;
  int any = 0, failed = 0;
  while (at < len && !failed) {
    Py_ssize_t k = (Py_ssize_t)v[at];
    if (k < 4 || k > len - at - 1) {
      PyErr_SetString(PyExc_ValueError, "pair_packed(): a broken packed event");
      failed = 1;
      break;
    }
    const long long *f = v + at + 1;
    at += 1 + k;
    long long kind = f[0];
    Fields e = {NULL, f, k};
    int done = 0;
    any = 1;
    last_ts = f[3];
    if (kind == 2 || kind == 6)
      done = pair_end(&e, kind, stacks, plain, wide, n, off, shift, pages);
    else if ((kind == 1 || kind == 7) && PyDict_GET_SIZE(tasks) == 0) {
      done = pair_start(&e, kind, stacks, off, next_call);
      if (done == 1) next_call++;
    }
    if (done == 0) {
      PyObject *ev = PyList_New(k);
      if (ev == NULL) done = -1;
      for (Py_ssize_t j = 0; ev != NULL && j < k; j++) {
        PyObject *o = PyLong_FromLongLong(f[j]);
        if (o == NULL) { Py_CLEAR(ev); done = -1; break; }
        PyList_SET_ITEM(ev, j, o);
      }
      if (ev != NULL) {
        done = pair_slow(writer, slow, p, ev, &next_call) < 0 ? -1 : 1;
        Py_DECREF(ev);
      }
    }
    if (done < 0) failed = 1;
  }
  Py_DECREF(slow);
  PyBuffer_Release(&view);
  if (failed) return NULL;
  if (any) return Py_BuildValue("(LL)", next_call, last_ts);
  return Py_BuildValue("(LO)", next_call, Py_None);
}

/* ---- the settrace tracer (3.9-3.11) ----------------------------------------------------------- */
/* Tracer: a C trace function (PyEval_SetTrace) standing for settrace.py's global trace function.
 * Each code object is decided once (settrace.py's _decide, called back the first time a code
 * object is seen after the filter changed) into a table keyed by the code object: excluded code
 * costs a table lookup per call and gets no line events. Calls and plain returns/yields of
 * recorded code append exactly the records of settrace.py's callbacks; everything else (gated
 * filters, coroutines, exceptions, unwinding, frames with other trace functions) is handed to the
 * pure-Python functions, called the way sys.settrace calls them. Recorded frames get settrace.py's
 * `local` as their f_trace, so the C and Python halves can take over from each other per event.
 * Also: set_trace_all_threads / clear_trace_all_threads for the attach agent. */
#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030C0000
#define TL_ALL_THREADS 1
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000
/* 3.11: the frame object's fields (f_trace, f_trace_lines, the interpreter frame). */
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
#define F_CODE(f) ((PyObject *)(f)->f_frame->f_code)
#define F_LOCALSPLUS(f) ((f)->f_frame->localsplus)
#define F_LASTI(f) PyFrame_GetLasti(f)
#else
#define F_CODE(f) ((PyObject *)(f)->f_code)
#define F_LOCALSPLUS(f) ((f)->f_localsplus)
#if PY_VERSION_HEX >= 0x030A0000
#define F_LASTI(f) ((f)->f_lasti < 0 ? -1 : (f)->f_lasti * (int)sizeof(_Py_CODEUNIT))
#else
#define F_LASTI(f) ((f)->f_lasti)
#endif
#endif
static PyObject *what_strings[8];

/* CPython's sysmodule.c call_trampoline (3.9-3.11): a Python trace function called for frame. */
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

/* settrace.py's own global and local functions, called as call_trampoline would but without
 * copying the frame's fast locals into a f_locals dict and back: they do not need it (what
 * reads f_locals makes it then), and the dict the frame would keep holds references to its
 * locals, so objects the function lets go of would live on while it runs. */
static PyObject *call_own(PyObject *callback, PyFrameObject *frame, int what, PyObject *arg) {
  PyObject *stack[3] = {(PyObject *)frame, what_strings[what], arg != NULL ? arg : Py_None};
  PyObject *result = PyObject_Vectorcall(callback, stack, 3, NULL);
#if PY_VERSION_HEX < 0x030B0000
  if (result == NULL) PyTraceBack_Here(frame);
#endif
  return result;
}

/* The end of sysmodule.c's trace_trampoline: result (new reference or NULL) becomes f_trace. */
static int trampoline_result(PyFrameObject *frame, PyObject *result) {
  if (result == NULL) {
    PyEval_SetTrace(NULL, NULL);
    Py_CLEAR(frame->f_trace);
    return -1;
  }
  if (result != Py_None) Py_XSETREF(frame->f_trace, result);
  else Py_DECREF(result);
  return 0;
}

/* sysmodule.c's trace_trampoline for any thread (set_trace_all_threads with a Python function). */
static int tl_trace_trampoline(PyObject *self, PyFrameObject *frame, int what, PyObject *arg) {
  PyObject *callback = what == PyTrace_CALL ? self : frame->f_trace;
  if (callback == NULL) return 0;
  if (what < 0 || what > 7) return 0;
  Py_INCREF(callback);
  PyObject *result = call_trampoline(callback, frame, what, arg);
  Py_DECREF(callback);
  return trampoline_result(frame, result);
}

enum { K_EXCLUDED = 0, K_FAST = 1, K_DELEGATE = 2 };

typedef struct {
  PyObject *code;    /* key (strong reference: ids stay unique) */
  PyObject *names;   /* argument names (NULL when never recorded) */
  PyObject *co_code; /* bytes of the code (NULL when never recorded) */
  int kind;          /* K_EXCLUDED: no events; K_FAST: calls in C; K_DELEGATE: calls in Python */
  int unseen;        /* the filter does not look at the code at all (its decision is None) */
} Entry;

typedef struct {
  PyObject_HEAD
  PyObject *local;   /* settrace.py's local trace function (the f_trace of recorded frames) */
  PyObject *global;  /* settrace.py's global trace function (the reference for call events) */
  PyObject *decide;  /* decide(code, frame) -> (code, names or None, co_code, decision) */
  PyObject *buf;     /* the recorder's buffer */
  PyObject *fail;    /* internal error handler */
  PyObject *pending; /* settrace.py's exceptions in flight: id(frame) -> ... */
  RepCtx r;
  Entry *table;
  Py_ssize_t cap, used;
  unsigned long generation; /* bumped by clear(): a decision taken before it is not kept */
  int ret_op, yield_op, yield_from_op;
  int paused, gated;
  unsigned long ident;
  PyObject *ident_obj;
} Tracer;

static PyTypeObject TracerType;
static int tracer_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

static size_t ptr_hash(void *p) {
  size_t h = (size_t)p;
  h ^= h >> 17;
  h *= (size_t)0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
  return h;
}

static Entry *table_get(Tracer *t, PyObject *code) {
  if (t->cap == 0) return NULL;
  size_t mask = (size_t)t->cap - 1, i = ptr_hash(code) & mask;
  for (;;) {
    Entry *e = &t->table[i];
    if (e->code == code) return e;
    if (e->code == NULL) return NULL;
    i = (i + 1) & mask;
  }
}

static Entry *table_slot(Entry *table, Py_ssize_t cap, PyObject *code) {
  size_t mask = (size_t)cap - 1, i = ptr_hash(code) & mask;
  while (table[i].code != NULL && table[i].code != code) i = (i + 1) & mask;
  return &table[i];
}

static void table_clear(Tracer *t) {
  Entry *table = t->table;
  Py_ssize_t cap = t->cap;
  t->table = NULL;
  t->cap = t->used = 0;
  t->generation++;
  for (Py_ssize_t i = 0; i < cap; i++) {
    Py_XDECREF(table[i].code); Py_XDECREF(table[i].names); Py_XDECREF(table[i].co_code);
  }
  PyMem_Free(table);
}

/* Stores (new references taken) code's entry; -1 on memory error. */
static int table_put(Tracer *t, PyObject *code, PyObject *names, PyObject *co_code, int kind,
                     int unseen) {
  if ((t->used + 1) * 2 > t->cap) {
    Py_ssize_t cap = t->cap ? t->cap * 2 : 256;
    Entry *table = PyMem_Calloc((size_t)cap, sizeof(Entry));
    if (table == NULL) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < t->cap; i++)
      if (t->table[i].code != NULL) *table_slot(table, cap, t->table[i].code) = t->table[i];
    PyMem_Free(t->table);
    t->table = table;
    t->cap = cap;
  }
  Entry *e = table_slot(t->table, t->cap, code);
  if (e->code == NULL) {
    t->used++;
    e->code = Py_NewRef(code);
  } else {
    Py_CLEAR(e->names); Py_CLEAR(e->co_code);
  }
  Py_XINCREF(names); Py_XINCREF(co_code);
  e->names = names;
  e->co_code = co_code;
  e->kind = kind;
  e->unseen = unseen;
  return 0;
}

/* True when the arguments of code are its first locals, in order (read in place by arg_value). */
static int args_direct(PyObject *code, PyObject *names) {
  PyObject *vars = PyObject_GetAttrString(code, "co_varnames");
  if (vars == NULL) { PyErr_Clear(); return 0; }
  int direct = PyTuple_Check(vars) && PyTuple_GET_SIZE(vars) >= PyTuple_GET_SIZE(names);
  for (Py_ssize_t i = 0; direct && i < PyTuple_GET_SIZE(names); i++) {
    int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(vars, i), PyTuple_GET_ITEM(names, i), Py_EQ);
    if (same != 1) { PyErr_Clear(); direct = 0; }
  }
  Py_DECREF(vars);
  return direct;
}

#ifndef CO_FAST_CELL
#define CO_FAST_CELL 0x40 /* internal/pycore_code.h (3.11) */
#endif

/* Argument i of a frame at its call event (borrowed; NULL when unbound): its fast local, or
 * the contents of the cell it lives in when a closure uses it (3.11: the cell replaces the
 * value in place; before: the value moves to the cell, after the locals). */
static PyObject *arg_value(PyFrameObject *frame, PyObject *code, Py_ssize_t i) {
  PyObject *v = F_LOCALSPLUS(frame)[i];
#if PY_VERSION_HEX >= 0x030B0000
  PyObject *kinds = ((PyCodeObject *)code)->co_localspluskinds;
  if (v != NULL && PyBytes_Check(kinds) && i < PyBytes_GET_SIZE(kinds) &&
      (PyBytes_AS_STRING(kinds)[i] & CO_FAST_CELL))
    v = PyCell_Check(v) ? PyCell_GET(v) : NULL;
#else
  PyCodeObject *co = (PyCodeObject *)code;
  if (v == NULL && co->co_cell2arg != NULL && PyTuple_Check(co->co_cellvars)) {
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(co->co_cellvars); j++)
      if (co->co_cell2arg[j] == i) {
        PyObject *c = F_LOCALSPLUS(frame)[co->co_nlocals + j];
        return c != NULL && PyCell_Check(c) ? PyCell_GET(c) : NULL;
      }
  }
#endif
  return v;
}

/* Decides code through settrace.py's _decide; sets *kind and *names (new reference or NULL).
 * -1 with an exception set on error. */
static int decide_code(Tracer *t, PyFrameObject *frame, PyObject *code, int *kind,
                       PyObject **names) {
  unsigned long generation = t->generation;
  PyObject *args[2] = {code, (PyObject *)frame};
#if PY_VERSION_HEX < 0x030B0000
  int had_locals = frame->f_locals != NULL;
#endif
  PyObject *entry = PyObject_Vectorcall(t->decide, args, 2, NULL);
#if PY_VERSION_HEX < 0x030B0000
  /* The qualified name was guessed from the first argument through f_locals: the snapshot made
   * for it is dropped, or the frame would keep its arguments alive (a function's own). */
  if (!had_locals && (((PyCodeObject *)code)->co_flags & CO_OPTIMIZED)) Py_CLEAR(frame->f_locals);
#endif
  if (entry == NULL) return -1;
  if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) < 3) {
    Py_DECREF(entry);
    PyErr_SetString(PyExc_TypeError, "decide() must return (code, names, co_code, decision)");
    return -1;
  }
  PyObject *n = PyTuple_GET_ITEM(entry, 1), *co = PyTuple_GET_ITEM(entry, 2);
  int unseen = n == Py_None && (PyTuple_GET_SIZE(entry) < 4 || PyTuple_GET_ITEM(entry, 3) == Py_None);
  if (n == Py_None || !PyTuple_Check(n) || !PyBytes_Check(co)) {
    *kind = n == Py_None ? K_EXCLUDED : K_DELEGATE;
    *names = NULL;
    co = NULL;
  } else {
    *kind = PyTuple_CheckExact(n) && args_direct(code, n) ? K_FAST : K_DELEGATE;
    *names = Py_NewRef(n);
  }
  int r = 0;
  if (generation == t->generation && t->buf != NULL) /* not cleared meanwhile */
    r = table_put(t, code, *names, co, *kind, unseen);
  Py_DECREF(entry);
  if (r < 0) Py_CLEAR(*names);
  return r;
}

static PyObject *thread_ident(Tracer *t) { return cached_ident(&t->ident, &t->ident_obj); }

static int append_record(Tracer *t, PyObject *rec) { /* steals rec */
  if (rec == NULL) return -1;
  if (PyObject_GC_IsTracked(rec)) PyObject_GC_UnTrack(rec);
  int r = PyList_Append(t->buf, rec);
  Py_DECREF(rec);
  return r;
}

/* settrace.py's global_trace for a 'call' event: the frame's new f_trace (new reference; None:
 * not traced), or NULL with an exception that must reach the program (as from global_trace). */
static PyObject *tracer_call(Tracer *t, PyFrameObject *frame, PyObject *arg) {
  if (t->paused || t->buf == NULL) Py_RETURN_NONE;
  PyObject *code = F_CODE(frame);
  PyObject *names = NULL;
  int kind;
  Entry *e = table_get(t, code);
  if (e != NULL) {
    kind = e->kind;
    names = e->names;
    Py_XINCREF(names);
  } else if (decide_code(t, frame, code, &kind, &names) < 0) {
    return report_error(t->fail);
  } else {
    e = table_get(t, code);
  }
  if (t->gated) { /* the Python global function, for every code object the filter looks at */
    Py_XDECREF(names);
    if (e != NULL && e->unseen) {
      frame->f_trace_lines = 0;
      Py_RETURN_NONE;
    }
    return call_own(t->global, frame, PyTrace_CALL, arg);
  }
  if (kind == K_EXCLUDED) {
    frame->f_trace_lines = 0; /* no line events for code never recorded */
    Py_XDECREF(names);
    Py_RETURN_NONE;
  }
  if (kind == K_DELEGATE) {
    Py_XDECREF(names);
    return call_own(t->global, frame, PyTrace_CALL, arg);
  }
  Py_ssize_t n = PyTuple_GET_SIZE(names);
  int resumed = frame->f_trace == t->local;
  if (!resumed) {
    for (Py_ssize_t i = 0; i < n; i++)
      if (arg_value(frame, code, i) == NULL) { /* unusual: the Python code reads f_locals */
        Py_DECREF(names);
        return call_own(t->global, frame, PyTrace_CALL, arg);
      }
  }
  frame->f_trace_lines = 0;
  long long ts = now_ll();
  PyObject *ident = ts == -1 && PyErr_Occurred() ? NULL : thread_ident(t);
  Rec *rec = ident ? rec_new(resumed ? 7 : 1, ident, Py_NewRef(code), ts, resumed ? 0 : n) : NULL;
  if (rec == NULL) goto error;
  for (Py_ssize_t i = 0; !resumed && i < n; i++) {
    PyObject *v = arg_value(frame, code, i);
    if (v == NULL) { /* changed under a repr: nothing is recorded, as when f_locals fails */
      PyErr_SetString(PyExc_KeyError, "argument not bound");
      goto error;
    }
    Py_INCREF(v);
    rec->items[i] = value_rep(&t->r, v);
    Py_DECREF(v);
    if (rec->items[i] == NULL) goto error;
  }
  Py_DECREF(names);
  names = NULL;
  PyObject *done = (PyObject *)rec;
  rec = NULL;
  if (append_record(t, done) < 0) goto error;
  return Py_NewRef(t->local);
error:
  Py_XDECREF(rec); Py_XDECREF(names);
  return report_error(t->fail);
}

/* settrace.py's local function for a 'return' event of a recorded frame when it is a plain
 * return or yield and no exception is in flight in the frame: 1 done, 0 not done (the Python
 * function does it), -1 an exception that must reach the program. */
static int tracer_return(Tracer *t, PyFrameObject *frame, PyObject *arg) {
  if (arg == NULL || t->buf == NULL) return 0;
  if (PyDict_GET_SIZE(t->pending) > 0) { /* an exception in flight in this frame: Python */
    PyObject *key = PyLong_FromVoidPtr(frame);
    int in = key ? PyDict_Contains(t->pending, key) : -1;
    Py_XDECREF(key);
    if (in != 0) { PyErr_Clear(); return 0; }
  }
  PyObject *code = F_CODE(frame);
  Entry *e = table_get(t, code);
  if (e == NULL || e->names == NULL || e->co_code == NULL) return 0;
  int i = F_LASTI(frame);
  Py_ssize_t len = PyBytes_GET_SIZE(e->co_code);
  if (i < 0 || i >= len) return 0;
  const unsigned char *co = (const unsigned char *)PyBytes_AS_STRING(e->co_code);
  long kind;
  if (co[i] == t->ret_op) kind = 2;
  else if (co[i] == t->yield_op || (i + 2 < len && co[i + 2] == t->yield_from_op)) kind = 6;
  else return 0;
  long long ts = now_ll();
  PyObject *ident = ts == -1 && PyErr_Occurred() ? NULL : thread_ident(t);
  Rec *rec = ident ? rec_new(kind, ident, Py_NewRef(code), ts, 2) : NULL;
  if (rec != NULL) {
    rec->items[0] = PyLong_FromLong(PyFrame_GetLineNumber(frame));
    rec->items[1] = rec->items[0] ? value_rep(&t->r, arg) : NULL;
    if (rec->items[1] == NULL) Py_CLEAR(rec);
  }
  if (rec != NULL && append_record(t, (PyObject *)rec) == 0) return 1;
  PyObject *r = report_error(t->fail);
  if (r == NULL) return -1;
  Py_DECREF(r);
  return 1;
}

/* The end of a recorded frame whose Python 'return' callback could not run (the recursion
 * limit): recorded here, as settrace.py would have, so that later calls do not seem to nest in
 * it. A return's value (arg) or, with an exception in flight (arg NULL), an unwind with what
 * the exception event kept in `pending`, else with BaseException and no text. */
static void tracer_lost_end(Tracer *t, PyFrameObject *frame, PyObject *arg) {
  PyObject *code = F_CODE(frame);
  long long ts = now_ll();
  PyObject *ident = ts == -1 && PyErr_Occurred() ? NULL : thread_ident(t);
  PyObject *line = PyLong_FromLong(PyFrame_GetLineNumber(frame));
  PyObject *rec = NULL;
  if (ident != NULL && line != NULL && arg != NULL) {
    PyObject *text = value_rep(&t->r, arg);
    rec = text ? Py_BuildValue("(iOOLOO)", 2, ident, code, ts, line, text) : NULL;
    Py_XDECREF(text);
  } else if (ident != NULL && line != NULL) {
    PyObject *key = PyLong_FromVoidPtr(frame);
    PyObject *p = key ? PyDict_GetItemWithError(t->pending, key) : NULL; /* borrowed */
    if (p != NULL && PyTuple_Check(p) && PyTuple_GET_SIZE(p) >= 5)
      rec = Py_BuildValue("(iOOLOOO)", 4, ident, code, ts, PyTuple_GET_ITEM(p, 2),
                          PyTuple_GET_ITEM(p, 3), PyTuple_GET_ITEM(p, 4));
    else if (!PyErr_Occurred())
      rec = Py_BuildValue("(iOOLOOs)", 4, ident, code, ts, line, PyExc_BaseException, "");
    if (rec != NULL && p != NULL && PyDict_DelItem(t->pending, key) < 0) PyErr_Clear();
    Py_XDECREF(key);
  }
  Py_XDECREF(line);
  if (rec == NULL || append_record(t, rec) < 0) PyErr_Clear(); /* append_record steals rec */
}

/* The C trace function (PyEval_SetTrace(tracer_hook, tracer)). The interpreter passes the
 * tracer borrowed from the thread state; when another thread takes the trace function away (the
 * tracer stops) while a Python fallback called from here lets that thread run, the tracer could
 * be freed under it: it holds its own reference meanwhile. */
static int tracer_hook_run(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);
static int tracer_hook(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
  Py_INCREF(obj);
  int r = tracer_hook_run(obj, frame, what, arg);
  Py_DECREF(obj);
  return r;
}
static int tracer_hook_run(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
  Tracer *t = (Tracer *)obj;
  PyObject *result;
  int recorded_end = 0; /* a 'return' of a recorded frame, handed to the Python function */
  if (what == PyTrace_CALL) {
    result = tracer_call(t, frame, arg);
  } else {
    PyObject *callback = frame->f_trace;
    if (callback == NULL) {
      if (what == PyTrace_RETURN) frame->f_trace_lines = 1; /* as it was before tracer_call */
      return 0;
    }
    if (what < 0 || what > 7) return 0;
    if (what == PyTrace_RETURN && callback == t->local) {
      int done = tracer_return(t, frame, arg);
      if (done > 0) return 0;
      if (done < 0) return trampoline_result(frame, NULL);
    }
    recorded_end = what == PyTrace_RETURN && callback == t->local && t->buf != NULL;
    Py_INCREF(callback);
    result = callback == t->local || callback == t->global
                 ? call_own(callback, frame, what, arg)
                 : call_trampoline(callback, frame, what, arg);
    Py_DECREF(callback);
  }
  if (result == NULL && PyErr_ExceptionMatches(PyExc_RecursionError)) {
    /* At the recursion limit the Python function could not even be called: the thread keeps
     * its trace function (CPython would take it away for good); a frame's end is recorded
     * here, other events are lost. */
    PyErr_Clear();
    if (recorded_end) tracer_lost_end(t, frame, arg);
    return 0;
  }
  return trampoline_result(frame, result);
}

/* ---- the eval gate (3.10, 3.11) ----------------------------------------------------------------
 * A frame-evaluation hook (PEP 523) that gives a thread the C trace function only while a frame
 * of code the filter looks at runs on it. Code the filter never looks at (a package left out,
 * the standard library under an --include) then runs with no trace function at all: on 3.11 at
 * the specialising interpreter's speed instead of through its tracing dispatch, which undoes
 * specialisation for every instruction. A code object not yet decided gets the trace function
 * for its first event (gate_first), which decides it and takes the trace function away again
 * when the code is left out. Code left out that traced code calls (the standard library under
 * an --include, say) runs without the trace function too, and the caller gets it back when that
 * frame ends. The hook only ever turns off what it turned on: a thread with any other trace
 * function (a debugger, coverage) is left alone. */
#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame EvalFrame;
#else
typedef PyFrameObject EvalFrame;
#endif

static Tracer *gate_tracer = NULL; /* strong reference while the hook is installed */
static PyObject *gate_on_fallback = NULL; /* called when the gate gives way (below) */
static int gate_fell_back = 0;
static unsigned long gate_generation = 0; /* bumped when a gate comes, goes or gives way */

#if PY_VERSION_HEX >= 0x030B0000 && defined(__linux__)
/* On 3.11 a frame-evaluation hook makes every Python-to-Python call a C call too, which the
 * specialising interpreter otherwise avoids: a recursion the untraced program survives (with a
 * raised recursion limit) could exhaust the C stack. When a thread's stack is nearly used up
 * the gate gives way for good: the hook goes, every thread gets the trace function as without
 * the gate (gate_on_fallback does that), and calls are inlined again. */
#include <pthread.h>
#define GATE_STACK_CHECK 1
static __thread uintptr_t gate_stack_low = 0; /* the lowest stack address the gate allows */

static uintptr_t gate_stack_limit(void) {
  pthread_attr_t a;
  void *addr;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &a) != 0) return 1;
  int r = pthread_attr_getstack(&a, &addr, &size);
  pthread_attr_destroy(&a);
  if (r != 0 || size == 0) return 1;
  size_t margin = size / 8 < 256 * 1024 ? 256 * 1024 : size / 8;
  if (margin > size / 2) margin = size / 2;
  return (uintptr_t)addr + margin;
}
#else
#define GATE_STACK_CHECK 0
#endif

static PyObject *gate_eval(PyThreadState *ts, EvalFrame *f, int throwflag);

static void gate_fall_back(void) {
  gate_fell_back = 1;
  gate_generation++;
  PyInterpreterState *interp = PyInterpreterState_Get();
  if (_PyInterpreterState_GetEvalFrameFunc(interp) == gate_eval)
    _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
  if (gate_on_fallback == NULL) return;
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyObject *r = PyObject_CallNoArgs(gate_on_fallback);
  if (r == NULL) { /* at least this thread goes on being traced, as it would without the gate */
    PyErr_Clear();
    PyThreadState *ts = PyThreadState_Get();
    if (gate_tracer != NULL && (ts->c_tracefunc == NULL || ts->c_traceobj == (PyObject *)gate_tracer))
      if (_PyEval_SetTrace(ts, tracer_hook, (PyObject *)gate_tracer) < 0) PyErr_Clear();
  }
  Py_XDECREF(r);
  PyErr_Restore(type, value, tb);
}

static void gate_use_tracing(PyThreadState *ts) {
  int on = ts->c_tracefunc != NULL || ts->c_profilefunc != NULL;
#if PY_VERSION_HEX >= 0x030B0000
  ts->cframe->use_tracing = on && ts->tracing == 0 ? 255 : 0;
#elif PY_VERSION_HEX >= 0x030A0000
  ts->cframe->use_tracing = on;
#else
  ts->use_tracing = on;
#endif
}

static int gate_skips(Tracer *t, Entry *e) { return t->gated ? e->unseen : e->kind == K_EXCLUDED; }

static void gate_off(PyThreadState *ts) { /* the gate's trace function is the thread's */
  PyObject *obj = ts->c_traceobj;
  ts->c_tracefunc = NULL;
  ts->c_traceobj = NULL;
  Py_XDECREF(obj);
}

/* The trace function for the first event of a frame whose code is not decided yet. */
static int gate_first(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
  PyThreadState *ts = PyThreadState_Get();
  Tracer *t = (Tracer *)obj;
  ts->c_tracefunc = tracer_hook; /* the frames it calls are traced as usual */
  int r = tracer_hook(obj, frame, what, arg);
  if (r == 0 && !gate_fell_back && ts->c_tracefunc == tracer_hook && ts->c_traceobj == obj) {
    Entry *e = table_get(t, F_CODE(frame));
    if (e != NULL && gate_skips(t, e)) { /* call_trace then turns use_tracing off */
      gate_off(ts);
      frame->f_trace_lines = 1; /* no trace function sees it now */
    }
  }
  return r;
}

static PyObject *gate_eval(PyThreadState *ts, EvalFrame *f, int throwflag) {
  Tracer *t = gate_tracer;
#if GATE_STACK_CHECK
  uintptr_t low = gate_stack_low;
  if (low == 0) low = gate_stack_low = gate_stack_limit();
  if ((uintptr_t)&low < low && !gate_fell_back) { /* the hook goes: no later call comes here */
    gate_fall_back();
    return _PyEval_EvalFrameDefault(ts, f, throwflag);
  }
#endif
  if (t == NULL || ts->tracing || t->paused || t->buf == NULL)
    return _PyEval_EvalFrameDefault(ts, f, throwflag);
  if (ts->c_tracefunc != NULL) {
    Py_tracefunc outer = ts->c_tracefunc;
    if ((outer != tracer_hook && outer != gate_first) || ts->c_traceobj != (PyObject *)t)
      return _PyEval_EvalFrameDefault(ts, f, throwflag); /* another's trace function */
    Entry *e = table_get(t, (PyObject *)f->f_code);
    int skip = e != NULL && gate_skips(t, e);
    if (outer == tracer_hook && e != NULL && !skip)
      return _PyEval_EvalFrameDefault(ts, f, throwflag); /* traced code under traced code */
    /* Code left out, called from traced code: it would get no records anyway, so it runs
     * without the trace function (on 3.11 with its specialised bytecode), which it gets back
     * when the frame ends. Code not decided yet gets gate_first for its own first event. A frame
     * that starts while another waits for its first event (a finaliser, a signal handler run
     * before that event) gets what its own code needs, and gate_first is put back after it. */
    unsigned long generation = gate_generation;
    PyObject *held = ts->c_traceobj; /* a reference of ours (the thread's, when it lets go) */
    if (skip) {
      ts->c_tracefunc = NULL;
      ts->c_traceobj = NULL;
    } else {
      Py_INCREF(held);
      ts->c_tracefunc = e == NULL ? gate_first : tracer_hook;
    }
    gate_use_tracing(ts);
    PyObject *result = _PyEval_EvalFrameDefault(ts, f, throwflag);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (generation != gate_generation) { /* the gate came or went meanwhile: leave it be */
      Py_DECREF(held);
    } else if (ts->c_tracefunc == NULL && ts->c_traceobj == NULL) {
      ts->c_tracefunc = outer; /* the thread's again */
      ts->c_traceobj = held;
    } else if (ts->c_traceobj == held &&
               (ts->c_tracefunc == tracer_hook || ts->c_tracefunc == gate_first)) {
      ts->c_tracefunc = outer;
      Py_DECREF(held);
    } else { /* the program set a trace function meanwhile: it stays */
      Py_DECREF(held);
    }
    PyErr_Restore(type, value, tb);
    gate_use_tracing(ts);
    return result;
  }
  Entry *e = table_get(t, (PyObject *)f->f_code);
  if (e != NULL && gate_skips(t, e)) return _PyEval_EvalFrameDefault(ts, f, throwflag);
  Py_XSETREF(ts->c_traceobj, Py_NewRef((PyObject *)t));
  ts->c_tracefunc = e != NULL ? tracer_hook : gate_first;
  gate_use_tracing(ts);
  PyObject *result = _PyEval_EvalFrameDefault(ts, f, throwflag);
  if (!gate_fell_back && ts->c_traceobj == (PyObject *)t &&
      (ts->c_tracefunc == tracer_hook || ts->c_tracefunc == gate_first)) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    gate_off(ts);
    PyErr_Restore(type, value, tb);
  }
  gate_use_tracing(ts); /* the caller's: as the thread's trace functions now are */
  return result;
}

/* gate_install(tracer, on_fallback) -> bool: installs the hook for the tracer; False when
 * another hook is, or when a thread has a trace function of its own (which the tracer then takes
 * over and gives back, as without the gate). on_fallback() is called if the gate gives way. */
static PyObject *gate_install(PyObject *mod, PyObject *args) {
  PyObject *tracer, *on_fallback;
  if (!PyArg_ParseTuple(args, "O!O", &TracerType, &tracer, &on_fallback)) return NULL;
#if PY_VERSION_HEX < 0x030A0000
  /* 3.9 counts the threads that have a trace function (tracing_possible, in the interpreter's
   * internal state) and only then keeps frames' line numbers: no gate there. */
  Py_RETURN_FALSE;
#endif
#if PY_VERSION_HEX >= 0x030B0000 && !GATE_STACK_CHECK
  Py_RETURN_FALSE; /* no way here to see a thread's stack run out (above): no gate */
#endif
  PyInterpreterState *interp = PyInterpreterState_Get();
  if (gate_tracer != NULL || _PyInterpreterState_GetEvalFrameFunc(interp) != _PyEval_EvalFrameDefault)
    Py_RETURN_FALSE;
  for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts))
    if (ts->c_tracefunc != NULL) Py_RETURN_FALSE;
  gate_tracer = (Tracer *)Py_NewRef(tracer);
  Py_XSETREF(gate_on_fallback, Py_NewRef(on_fallback));
  gate_fell_back = 0;
  gate_generation++;
  _PyInterpreterState_SetEvalFrameFunc(interp, gate_eval);
  Py_RETURN_TRUE;
}

/* gate_remove(tracer) -> bool: takes the tracer's hook away (a thread inside a frame the gate
 * traces keeps the trace function until that frame ends; a stopped tracer records nothing). */
static PyObject *gate_remove(PyObject *mod, PyObject *tracer) {
  if (gate_tracer == NULL || (PyObject *)gate_tracer != tracer) Py_RETURN_FALSE;
  PyInterpreterState *interp = PyInterpreterState_Get();
  if (_PyInterpreterState_GetEvalFrameFunc(interp) == gate_eval)
    _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
  Tracer *t = gate_tracer;
  gate_tracer = NULL;
  gate_generation++;
  Py_CLEAR(gate_on_fallback);
  Py_DECREF(t);
  Py_RETURN_TRUE;
}

/* tracer(frame, event, arg): called as a Python trace function (sys.settrace(tracer) in a new
 * thread, the attach agent...): for 'call', what the C trace function does, and the thread then
 * gets the C trace function itself. */
static PyObject *tracer_pycall(Tracer *t, PyObject *args, PyObject *kwargs) {
  PyObject *frame, *event, *arg;
  if (!PyArg_ParseTuple(args, "O!UO", &PyFrame_Type, &frame, &event, &arg)) return NULL;
  if (PyUnicode_CompareWithASCIIString(event, "call") != 0) Py_RETURN_NONE;
  PyObject *result = tracer_call(t, (PyFrameObject *)frame, arg);
  PyThreadState *ts = PyThreadState_Get();
  if (result != NULL && ts->c_traceobj == (PyObject *)t && ts->c_tracefunc != tracer_hook &&
      t->buf != NULL) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (_PyEval_SetTrace(ts, tracer_hook, (PyObject *)t) < 0) PyErr_Clear();
    PyErr_Restore(type, value, tb);
  }
  return result;
}

/* Tracer(local, global, decide, buf, rep, fail, pending, limit, RETURN_VALUE, YIELD_VALUE,
 * YIELD_FROM or -1) */
static PyObject *tracer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  PyObject *local, *global, *decide, *buf, *rep, *fail, *pending;
  Py_ssize_t limit;
  int ret_op, yield_op, yield_from_op;
  if (!PyArg_ParseTuple(args, "OOOO!OOO!niii", &local, &global, &decide, &PyList_Type, &buf, &rep,
                        &fail, &PyDict_Type, &pending, &limit, &ret_op, &yield_op, &yield_from_op))
    return NULL;
  Tracer *t = (Tracer *)type->tp_alloc(type, 0);
  if (t == NULL) return NULL;
  t->local = Py_NewRef(local); t->global = Py_NewRef(global); t->decide = Py_NewRef(decide);
  t->buf = Py_NewRef(buf); t->fail = Py_NewRef(fail); t->pending = Py_NewRef(pending);
  untrack_buffer(buf);
  t->ret_op = ret_op; t->yield_op = yield_op; t->yield_from_op = yield_from_op;
  if (rep_init(&t->r, rep, limit) < 0) { Py_DECREF(t); return NULL; }
  return (PyObject *)t;
}

static int tracer_traverse(Tracer *t, visitproc visit, void *arg) {
  Py_VISIT(t->local); Py_VISIT(t->global); Py_VISIT(t->decide); Py_VISIT(t->buf);
  Py_VISIT(t->fail); Py_VISIT(t->pending); Py_VISIT(t->r.rep);
  for (Py_ssize_t i = 0; i < t->cap; i++) {
    Py_VISIT(t->table[i].code); Py_VISIT(t->table[i].names); Py_VISIT(t->table[i].co_code);
  }
  return 0;
}

static int tracer_clear(Tracer *t) {
  table_clear(t);
  Py_CLEAR(t->local); Py_CLEAR(t->global); Py_CLEAR(t->decide); Py_CLEAR(t->buf);
  Py_CLEAR(t->fail); Py_CLEAR(t->pending); Py_CLEAR(t->ident_obj);
  rep_clear(&t->r);
  return 0;
}

static void tracer_dealloc(Tracer *t) {
  PyObject_GC_UnTrack(t);
  tracer_clear(t);
  Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *tracer_install(Tracer *t, PyObject *unused) {
  if (t->buf == NULL) { PyErr_SetString(PyExc_RuntimeError, "tracer cleared"); return NULL; }
  if (_PyEval_SetTrace(PyThreadState_Get(), tracer_hook, (PyObject *)t) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *tracer_forget(Tracer *t, PyObject *unused) {
  table_clear(t);
  Py_RETURN_NONE;
}

static PyObject *tracer_rep(Tracer *t, PyObject *v) { return value_rep(&t->r, v); }

static PyObject *tracer_size(Tracer *t, PyObject *unused) { return PyLong_FromSsize_t(t->used); }

static PyMethodDef tracer_methods[] = {
  {"install", (PyCFunction)tracer_install, METH_NOARGS,
   "Makes this the calling thread's trace function (the C one)."},
  {"clear", (PyCFunction)tracer_forget, METH_NOARGS,
   "Forgets every decision: each code object is decided again at its next call."},
  {"rep", (PyCFunction)tracer_rep, METH_O, "The value text the tracer records (short paths)."},
  {"decided", (PyCFunction)tracer_size, METH_NOARGS, "How many code objects are decided."},
  {NULL, NULL, 0, NULL}};

static PyMemberDef tracer_members[] = {
  {"paused", T_INT, offsetof(Tracer, paused), 0, "Non-zero: calls are not looked at."},
  {"gated", T_INT, offsetof(Tracer, gated), 0,
   "Non-zero: every call goes to the Python global trace function (gated filters)."},
  {NULL, 0, 0, 0, NULL}};

static PyTypeObject TracerType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "tracelens._speedups.Tracer",
  .tp_basicsize = sizeof(Tracer),
  .tp_dealloc = (destructor)tracer_dealloc,
  .tp_call = (ternaryfunc)tracer_pycall,
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
  .tp_doc = "The settrace backend's trace function in C (3.9-3.11).",
  .tp_traverse = (traverseproc)tracer_traverse,
  .tp_clear = (inquiry)tracer_clear,
  .tp_methods = tracer_methods,
  .tp_members = tracer_members,
  .tp_new = tracer_new,
};

/* set_trace_all_threads(tracefunc, skip=(), gate_only=False) -> [(thread_id, previous C function or None,
 * previous object)] for every thread of this interpreter but the calling one and those in skip.
 * A Tracer is installed as the C trace function, anything else through the trampoline. */
static PyObject *set_trace_all_threads(PyObject *mod, PyObject *args) {
  PyObject *func, *skip = NULL;
  int gate_only = 0;
  if (!PyArg_ParseTuple(args, "O|Op", &func, &skip, &gate_only)) return NULL;
  Py_tracefunc hook = Py_IS_TYPE(func, &TracerType) ? tracer_hook : tl_trace_trampoline;
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
    /* gate_only (the eval gate giving way): threads with no trace function, or the gate's,
     * which then count as having had none; a thread with a trace function of its own keeps it. */
    int gates = ts->c_traceobj == func && (ts->c_tracefunc == tracer_hook ||
                                           ts->c_tracefunc == gate_first);
    if (gate_only && ts->c_tracefunc != NULL && !gates) continue;
    PyObject *prev_func = ts->c_tracefunc && !(gate_only && gates)
        ? PyCapsule_New((void *)ts->c_tracefunc, "tracelens.tracefunc", NULL)
        : Py_NewRef(Py_None);
    if (prev_func == NULL) goto fail;
    PyObject *rec = Py_BuildValue("(kNO)", (unsigned long)ts->thread_id, prev_func,
                                  ts->c_traceobj && prev_func != Py_None ? ts->c_traceobj : Py_None);
    if (rec == NULL) goto fail;
    int r = PyList_Append(out, rec);
    Py_DECREF(rec);
    if (r < 0) goto fail;
    if (_PyEval_SetTrace(ts, hook, func) < 0) goto fail;
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
      if ((ts->c_tracefunc == tl_trace_trampoline || ts->c_tracefunc == tracer_hook) &&
          ts->c_traceobj == func) {
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

/* ---- calls pages: the trace file's `calls` table written as SQLite b-tree pages ------------ *
 * Rows arrive in call id order (the rowid): each is encoded as a SQLite record straight into
 * leaf pages appended to the file, the interior pages on the right-most path and the table's
 * root page are rewritten, and the header's page count and change counter are updated, so the
 * file is a valid SQLite database after every flush (SQLite, which writes the other tables
 * between flushes, sees the changed counter and rereads). A call still running is written with
 * its end missing and room kept in its page; its page stays in memory and is written again when
 * the call ends. Rows too long for one page are handed back (the caller inserts them with SQL
 * when the file is closed). tracefile.py's SQL inserts stay the reference (TRACELENS_ACCEL=0). */
#ifndef _WIN32
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>

#define TW_COLS 16        /* calls columns, id first (stored NULL: it is the rowid) */
#define TW_RESERVE 72     /* bytes kept for a running call's row to grow into */
#define TW_MAX_LEVELS 12

typedef struct {
  long long id;
  unsigned char *rec;     /* the cell: payload size, rowid, record */
  int len;                /* cell bytes */
  int open;               /* 1: the call was running when written (room reserved) */
} TwCell;

typedef struct {
  TwCell *cells;
  int n, cap;
  int used;               /* 8 (header) + per cell len + 2 (+ TW_RESERVE while open) */
  int nopen;
  int dirty;
  Py_ssize_t index;       /* position among the leaves */
} TwLeaf;

typedef struct {
  unsigned int *pages;    /* 0: not placed yet; the root page for the single top node */
  long long *keys;        /* largest rowid under the node */
  Py_ssize_t n, cap;
  Py_ssize_t written;     /* nodes counted at the last flush */
} TwLevel;

typedef struct {
  PyObject_HEAD
  int fd;
  unsigned int page_size, usable, root, fanout;
  int format4;
  long long placed;       /* the next call id to place */
  TwLevel lv[TW_MAX_LEVELS];
  TwLeaf **pins;          /* leaves held in memory (the last one, and those with running calls) */
  int npins, pincap;
  unsigned char *page;    /* scratch page */
  long long rows;         /* rows placed */
  int failed;
  /* Index keys of every row (placed or left to SQL): parent (NULL: has_parent 0), code,
   * thread, start_ns, id. keys_ok 0: a key was not an integer (SQL builds the indexes). */
  long long *kv;          /* 5 per row */
  unsigned char *has_parent;
  Py_ssize_t nkeys, keycap;
  int keys_ok;
  /* Plain rows handed over by pair_packed, placed (with the lists' rows) by the next place. */
  PlainRow *pend;
  Py_ssize_t npend, pendcap;
} TableWriter;

static PyTypeObject TableWriterType;

static int is_table_writer(PyObject *o) { return Py_IS_TYPE(o, &TableWriterType); }

static int pending_add(PyObject *pages, const PlainRow *row) {
  TableWriter *w = (TableWriter *)pages;
  if (w->npend == w->pendcap) {
    Py_ssize_t cap = w->pendcap ? w->pendcap * 2 : 4096;
    PlainRow *p = (PlainRow *)PyMem_Realloc(w->pend, (size_t)cap * sizeof *p);
    if (p == NULL) { PyErr_NoMemory(); return -1; }
    w->pend = p;
    w->pendcap = cap;
  }
  w->pend[w->npend] = *row;
  Py_INCREF(row->args);
  w->npend++;
  return 0;
}

/* A pending row as the 11-value tuple of tracefile.py's plain rows. */
static PyObject *pending_tuple(const PlainRow *r) {
  return Py_BuildValue("(LLNLLLLOLLL)", r->id, r->thread,
                       r->has_parent ? PyLong_FromLongLong(r->parent) : Py_NewRef(Py_None),
                       r->depth, r->code, r->start, r->end, r->args, r->value, r->line, r->flags);
}

static void pending_clear(TableWriter *w) {
  for (Py_ssize_t i = 0; i < w->npend; i++) Py_DECREF(w->pend[i].args);
  w->npend = 0;
}

typedef struct { long long id; Py_ssize_t at; } PendingKey;

static int pending_cmp(const void *a, const void *b) {
  long long x = ((const PendingKey *)a)->id, y = ((const PendingKey *)b)->id;
  return x < y ? -1 : x > y;
}

/* The pending rows' positions in id order. Their ids are those of calls that ended, unique and
 * mostly dense (calls end in the reverse order they started): one slot per id over their range
 * where it is not much wider than their count, a sort of (id, position) otherwise. NULL with an
 * error set when there is no memory. */
static Py_ssize_t *pending_order(TableWriter *w) {
  Py_ssize_t n = w->npend;
  Py_ssize_t *order = (Py_ssize_t *)PyMem_Malloc((size_t)(n ? n : 1) * sizeof *order);
  if (order == NULL) { PyErr_NoMemory(); return NULL; }
  if (n == 0) return order;
  long long lo = w->pend[0].id, hi = lo;
  int sorted = 1;
  for (Py_ssize_t i = 1; i < n; i++) {
    long long id = w->pend[i].id;
    if (id <= w->pend[i - 1].id) sorted = 0;
    if (id < lo) lo = id;
    if (id > hi) hi = id;
  }
  if (sorted) {
    for (Py_ssize_t i = 0; i < n; i++) order[i] = i;
    return order;
  }
  unsigned long long range = (unsigned long long)(hi - lo) + 1;
  if (range <= 4 * (unsigned long long)n + 4096) {
    Py_ssize_t *slot = (Py_ssize_t *)PyMem_Malloc((size_t)range * sizeof *slot);
    if (slot != NULL) {
      for (unsigned long long j = 0; j < range; j++) slot[j] = -1;
      for (Py_ssize_t i = 0; i < n; i++) slot[w->pend[i].id - lo] = i;
      Py_ssize_t k = 0;
      for (unsigned long long j = 0; j < range && k < n; j++)
        if (slot[j] >= 0) order[k++] = slot[j];
      PyMem_Free(slot);
      if (k == n) return order; /* else an id came twice: the sort keeps both */
    }
  }
  PendingKey *keys = (PendingKey *)PyMem_Malloc((size_t)n * sizeof *keys);
  if (keys == NULL) { PyMem_Free(order); PyErr_NoMemory(); return NULL; }
  for (Py_ssize_t i = 0; i < n; i++) { keys[i].id = w->pend[i].id; keys[i].at = i; }
  qsort(keys, (size_t)n, sizeof *keys, pending_cmp);
  for (Py_ssize_t i = 0; i < n; i++) order[i] = keys[i].at;
  PyMem_Free(keys);
  return order;
}



static inline int tw_varint_len(unsigned long long v) {
  if (v <= 0x7f) return 1;
  if (v <= 0x3fff) return 2;
  int n = 1;
  if (v > 0x00ffffffffffffffULL) return 9;
  while (v > 0x7f) { v >>= 7; n++; }
  return n;
}

static inline int tw_put_varint(unsigned char *p, unsigned long long v) {
  if (v <= 0x7f) { p[0] = (unsigned char)v; return 1; } /* the common sizes first */
  if (v <= 0x3fff) { p[0] = (unsigned char)(0x80 | (v >> 7)); p[1] = (unsigned char)(v & 0x7f); return 2; }
  if (v > 0x00ffffffffffffffULL) {
    p[8] = (unsigned char)v; v >>= 8;
    for (int i = 7; i >= 0; i--) { p[i] = (unsigned char)((v & 0x7f) | 0x80); v >>= 7; }
    return 9;
  }
  unsigned char b[10];
  int n = 0;
  do { b[n++] = (unsigned char)((v & 0x7f) | 0x80); v >>= 7; } while (v);
  b[0] &= 0x7f;
  for (int i = 0; i < n; i++) p[i] = b[n - 1 - i];
  return n;
}

static void tw_put4(unsigned char *p, unsigned int v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static unsigned int tw_get4(const unsigned char *p) {
  return ((unsigned int)p[0] << 24) | ((unsigned int)p[1] << 16) | ((unsigned int)p[2] << 8) | p[3];
}
static void tw_put2(unsigned char *p, unsigned int v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }

/* The serial type and size of an integer, as SQLite chooses them. */
static inline int tw_int_type(long long v, int format4, int *size) {
  if (format4 && (v == 0 || v == 1)) { *size = 0; return v == 0 ? 8 : 9; }
  unsigned long long u = v < 0 ? ~(unsigned long long)v : (unsigned long long)v;
  if (u <= 127) { *size = 1; return 1; }
  if (u <= 32767) { *size = 2; return 2; }
  if (u <= 8388607) { *size = 3; return 3; }
  if (u <= 2147483647) { *size = 4; return 4; }
  if (u <= 140737488355327LL) { *size = 6; return 5; }
  *size = 8; return 6;
}

typedef struct { int kind; long long v; const char *s; Py_ssize_t n; } TwValue; /* 0 NULL 1 int 2 text */

/* The 16 column values of a row: a full row (16 items) or a plain row (11 items: no process,
 * exception or task; `process` given). 0, or -1 with an exception set. */
static int tw_values(PyObject *row, long long process, TwValue *out) {
  if (!PyTuple_Check(row)) { PyErr_SetString(PyExc_TypeError, "a calls row must be a tuple"); return -1; }
  Py_ssize_t k = PyTuple_GET_SIZE(row);
  PyObject *items[TW_COLS];
  if (k == TW_COLS) {
    for (int i = 0; i < TW_COLS; i++) items[i] = PyTuple_GET_ITEM(row, i);
  } else if (k == 11) {
    /* (id, thread, parent, depth, code, start, end, args, value, line, flags) */
    static const int from[TW_COLS] = {0, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, -2, -2, -2, 10, -2};
    for (int i = 0; i < TW_COLS; i++) items[i] = from[i] >= 0 ? PyTuple_GET_ITEM(row, from[i]) : NULL;
  } else {
    PyErr_SetString(PyExc_ValueError, "a calls row has 11 or 16 values");
    return -1;
  }
  for (int i = 0; i < TW_COLS; i++) {
    PyObject *o = items[i];
    if (i == 1 && o == NULL) { out[i].kind = 1; out[i].v = process; continue; }
    if (o == NULL || o == Py_None) { out[i].kind = 0; continue; }
    if (PyLong_CheckExact(o)) {
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        PyErr_SetString(PyExc_OverflowError, "a calls value does not fit in 64 bits");
        return -1;
      }
      out[i].kind = 1; out[i].v = v;
    } else if (PyUnicode_Check(o)) {
      out[i].s = PyUnicode_AsUTF8AndSize(o, &out[i].n);
      if (out[i].s == NULL) return -1;
      out[i].kind = 2;
    } else {
      PyErr_SetString(PyExc_TypeError, "a calls value must be None, an int or a str");
      return -1;
    }
  }
  if (out[0].kind != 1 || out[0].v <= 0) {
    PyErr_SetString(PyExc_ValueError, "a calls row needs a positive id");
    return -1;
  }
  return 0;
}

/* A pending row's 16 column values (the args text borrowed from the row). 0, or -1. */
static int pending_values(const PlainRow *r, long long process, TwValue *v) {
  for (int i = 0; i < TW_COLS; i++) v[i].kind = 0;
  long long ints[TW_COLS] = {r->id, process, r->thread, r->parent, r->depth, r->code, r->start,
                             r->end, 0, r->value, r->line, 0, 0, 0, r->flags, 0};
  static const int is_int[TW_COLS] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0};
  for (int i = 0; i < TW_COLS; i++)
    if (is_int[i]) { v[i].kind = 1; v[i].v = ints[i]; }
  if (!r->has_parent) v[3].kind = 0;
  if (r->args != Py_None) {
    v[8].s = PyUnicode_AsUTF8AndSize(r->args, &v[8].n);
    if (v[8].s == NULL) return -1;
    v[8].kind = 2;
  }
  if (r->id <= 0) { PyErr_SetString(PyExc_ValueError, "a calls row needs a positive id"); return -1; }
  return 0;
}

/* Encodes a row as a table leaf cell (malloc'd); *len its size. NULL with an exception set. */
static unsigned char *tw_cell(TableWriter *w, const TwValue *v, long long *id, int *len,
                              Py_ssize_t *payload_out) {
  *id = v[0].v;
  int types[TW_COLS], sizes[TW_COLS];
  Py_ssize_t hdr = 0, body = 0;
  for (int i = 0; i < TW_COLS; i++) {
    if (i == 0 || v[i].kind == 0) { types[i] = 0; sizes[i] = 0; }
    else if (v[i].kind == 1) types[i] = tw_int_type(v[i].v, w->format4, &sizes[i]);
    else {
      if (v[i].n > 1000000000) { PyErr_SetString(PyExc_ValueError, "text too long"); return NULL; }
      types[i] = 13 + 2 * (int)v[i].n; sizes[i] = (int)v[i].n;
    }
    hdr += tw_varint_len((unsigned long long)types[i]);
    body += sizes[i];
  }
  hdr += 1;
  if (hdr > 127) hdr += 1; /* the header size's own varint: 2 bytes past 127 (never more here) */
  Py_ssize_t payload = hdr + body;
  *payload_out = payload;
  Py_ssize_t total = tw_varint_len((unsigned long long)payload) + tw_varint_len((unsigned long long)*id) + payload;
  unsigned char *c = (unsigned char *)PyMem_Malloc((size_t)total);
  if (c == NULL) { PyErr_NoMemory(); return NULL; }
  unsigned char *p = c;
  p += tw_put_varint(p, (unsigned long long)payload);
  p += tw_put_varint(p, (unsigned long long)*id);
  p += tw_put_varint(p, (unsigned long long)hdr);
  for (int i = 0; i < TW_COLS; i++) p += tw_put_varint(p, (unsigned long long)types[i]);
  for (int i = 0; i < TW_COLS; i++) {
    if (v[i].kind == 1 && sizes[i]) {
      unsigned long long u = (unsigned long long)v[i].v;
      for (int b = sizes[i] - 1; b >= 0; b--) { p[b] = (unsigned char)u; u >>= 8; }
      p += sizes[i];
    } else if (v[i].kind == 2) {
      memcpy(p, v[i].s, (size_t)v[i].n);
      p += v[i].n;
    }
  }
  *len = (int)total;
  return c;
}

static int tw_level_push(TwLevel *l, unsigned int page, long long key) {
  if (l->n == l->cap) {
    Py_ssize_t cap = l->cap ? l->cap * 2 : 64;
    unsigned int *pg = (unsigned int *)PyMem_Realloc(l->pages, (size_t)cap * sizeof *pg);
    if (pg == NULL) { PyErr_NoMemory(); return -1; }
    l->pages = pg;
    long long *ks = (long long *)PyMem_Realloc(l->keys, (size_t)cap * sizeof *ks);
    if (ks == NULL) { PyErr_NoMemory(); return -1; }
    l->keys = ks;
    l->cap = cap;
  }
  l->pages[l->n] = page;
  l->keys[l->n] = key;
  l->n++;
  return 0;
}

static void tw_free_leaf(TwLeaf *f) {
  for (int i = 0; i < f->n; i++) PyMem_Free(f->cells[i].rec);
  PyMem_Free(f->cells);
  PyMem_Free(f);
}

static TwLeaf *tw_new_leaf(TableWriter *w) {
  TwLeaf *f = (TwLeaf *)PyMem_Calloc(1, sizeof *f);
  if (f == NULL) { PyErr_NoMemory(); return NULL; }
  f->used = 8;
  f->index = w->lv[0].n;
  if (tw_level_push(&w->lv[0], 0, 0) < 0) { PyMem_Free(f); return NULL; }
  if (w->npins == w->pincap) {
    int cap = w->pincap ? w->pincap * 2 : 16;
    TwLeaf **p = (TwLeaf **)PyMem_Realloc(w->pins, (size_t)cap * sizeof *p);
    if (p == NULL) { w->lv[0].n--; PyMem_Free(f); PyErr_NoMemory(); return NULL; }
    w->pins = p;
    w->pincap = cap;
  }
  w->pins[w->npins++] = f;
  return f;
}

/* Keeps a row's index keys (columns parent 3, code 5, thread 2, start_ns 6, and the id). */
static int tw_keep_keys(TableWriter *w, const TwValue *v) {
  if (w->nkeys == w->keycap) {
    Py_ssize_t cap = w->keycap ? w->keycap * 2 : 4096;
    long long *kv = (long long *)PyMem_Realloc(w->kv, (size_t)cap * 5 * sizeof *kv);
    if (kv == NULL) { PyErr_NoMemory(); return -1; }
    w->kv = kv;
    unsigned char *hp = (unsigned char *)PyMem_Realloc(w->has_parent, (size_t)cap);
    if (hp == NULL) { PyErr_NoMemory(); return -1; }
    w->has_parent = hp;
    w->keycap = cap;
  }
  long long *k = w->kv + w->nkeys * 5;
  if (v[3].kind == 2 || v[5].kind != 1 || v[2].kind != 1 || v[6].kind != 1) w->keys_ok = 0;
  w->has_parent[w->nkeys] = v[3].kind == 1;
  k[0] = v[3].kind == 1 ? v[3].v : 0;
  k[1] = v[5].v;
  k[2] = v[2].v;
  k[3] = v[6].v;
  k[4] = v[0].v;
  w->nkeys++;
  return 0;
}

/* Places one more row (its id is w->placed); open: the call is still running. */
static int tw_append(TableWriter *w, unsigned char *cell, int len, long long id, int open) {
  int need = len + 2 + (open ? TW_RESERVE : 0);
  TwLeaf *last = w->npins ? w->pins[w->npins - 1] : NULL;
  if (last != NULL && last->index != w->lv[0].n - 1) last = NULL;
  if (last == NULL || last->used + need > (int)w->usable) {
    last = tw_new_leaf(w);
    if (last == NULL) return -1;
  }
  if (last->n == last->cap) {
    int cap = last->cap ? last->cap * 2 : 32;
    TwCell *c = (TwCell *)PyMem_Realloc(last->cells, (size_t)cap * sizeof *c);
    if (c == NULL) { PyErr_NoMemory(); return -1; }
    last->cells = c;
    last->cap = cap;
  }
  TwCell *c = &last->cells[last->n++];
  c->id = id; c->rec = cell; c->len = len; c->open = open;
  last->used += need;
  last->nopen += open;
  last->dirty = 1;
  w->lv[0].keys[last->index] = id;
  w->placed = id + 1;
  w->rows++;
  return 0;
}

/* The pinned cell of call `id` (a running call written earlier), or NULL. */
static TwCell *tw_find(TableWriter *w, long long id, TwLeaf **leaf) {
  int lo = 0, hi = w->npins - 1;
  while (lo <= hi) { /* pins are in leaf order, so in id order */
    int mid = (lo + hi) / 2;
    TwLeaf *f = w->pins[mid];
    if (f->n == 0 || id < f->cells[0].id) hi = mid - 1;
    else if (id > f->cells[f->n - 1].id) lo = mid + 1;
    else {
      int a = 0, b = f->n - 1;
      while (a <= b) {
        int m = (a + b) / 2;
        if (f->cells[m].id == id) { *leaf = f; return &f->cells[m]; }
        if (f->cells[m].id < id) a = m + 1; else b = m - 1;
      }
      return NULL;
    }
  }
  return NULL;
}

static Py_ssize_t tw_max_local(TableWriter *w) { return (Py_ssize_t)w->usable - 35; }

static int tw_pwrite(TableWriter *w, unsigned int page, const unsigned char *data) {
  off_t at = (off_t)(page - 1) * (off_t)w->page_size;
  size_t done = 0;
  while (done < w->page_size) {
    ssize_t r = pwrite(w->fd, data + done, w->page_size - done, at + (off_t)done);
    if (r < 0) { PyErr_SetFromErrno(PyExc_OSError); return -1; }
    done += (size_t)r;
  }
  return 0;
}

static int tw_write_leaf(TableWriter *w, TwLeaf *f, unsigned int page) {
  unsigned char *pg = w->page;
  memset(pg, 0, w->page_size);
  unsigned int end = w->usable;
  for (int i = 0; i < f->n; i++) {
    end -= (unsigned int)f->cells[i].len;
    memcpy(pg + end, f->cells[i].rec, (size_t)f->cells[i].len);
    tw_put2(pg + 8 + 2 * i, end);
  }
  pg[0] = 0x0D;
  tw_put2(pg + 3, (unsigned int)f->n);
  tw_put2(pg + 5, end == 65536 ? 0 : end);
  return tw_pwrite(w, page, pg);
}

/* Children [a, b) of level k as an interior table page. */
static int tw_write_interior(TableWriter *w, int k, Py_ssize_t a, Py_ssize_t b, unsigned int page) {
  unsigned char *pg = w->page;
  memset(pg, 0, w->page_size);
  TwLevel *l = &w->lv[k];
  unsigned int end = w->usable;
  int n = 0;
  for (Py_ssize_t i = a; i < b - 1; i++, n++) {
    unsigned char cell[13];
    tw_put4(cell, l->pages[i]);
    int len = 4 + tw_put_varint(cell + 4, (unsigned long long)l->keys[i]);
    end -= (unsigned int)len;
    memcpy(pg + end, cell, (size_t)len);
    tw_put2(pg + 12 + 2 * n, end);
  }
  pg[0] = 0x05;
  tw_put2(pg + 3, (unsigned int)n);
  tw_put2(pg + 5, end);
  tw_put4(pg + 8, l->pages[b - 1]);
  return tw_pwrite(w, page, pg);
}

/* Node j's children at a level of n nodes over `below` children: chunks of `fanout`, the last
 * two evened out so that no interior page has a single child. */
static void tw_chunk(TableWriter *w, Py_ssize_t below, Py_ssize_t j, Py_ssize_t *a, Py_ssize_t *b) {
  Py_ssize_t f = w->fanout, n = (below + f - 1) / f;
  *a = j * f;
  *b = *a + f < below ? *a + f : below;
  if (n >= 2 && below - (n - 1) * f == 1) { /* last chunk of one: take one from the one before */
    if (j == n - 2) *b -= 1;
    if (j == n - 1) *a -= 1;
  }
}

static int tw_read_header(TableWriter *w, unsigned char *h, unsigned int *npages) {
  ssize_t r = pread(w->fd, h, 100, 0);
  if (r != 100) {
    if (r >= 0) errno = EIO;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
  struct stat st;
  if (fstat(w->fd, &st) < 0) { PyErr_SetFromErrno(PyExc_OSError); return -1; }
  unsigned int by_size = (unsigned int)(st.st_size / w->page_size);
  unsigned int in_header = tw_get4(h + 28);
  if (tw_get4(h + 92) != tw_get4(h + 24) || in_header == 0) in_header = by_size;
  *npages = in_header > by_size ? in_header : by_size;
  return 0;
}

/* The header read at the start of a flush, with the new page count, a new change counter and
 * the version it is valid for: SQLite rereads the file at its next transaction. */
static int tw_write_header(TableWriter *w, unsigned char *h, unsigned int npages) {
  unsigned int counter = tw_get4(h + 24) + 1;
  tw_put4(h + 24, counter);
  tw_put4(h + 28, npages);
  tw_put4(h + 92, counter);
  if (pwrite(w->fd, h, 100, 0) != 100) { PyErr_SetFromErrno(PyExc_OSError); return -1; }
  return 0;
}

/* Writes what changed since the last flush and makes the file say so. */
static int tw_flush(TableWriter *w) {
  if (w->lv[0].n == 0) return 0;
  unsigned char h[100];
  unsigned int npages;
  if (tw_read_header(w, h, &npages) < 0) return -1;
  TwLevel *l0 = &w->lv[0];
  /* Leaves: the single leaf is the root; otherwise each has a page of its own. */
  for (int i = 0; i < w->npins; i++) {
    TwLeaf *f = w->pins[i];
    unsigned int pg = l0->pages[f->index];
    if (l0->n == 1) pg = w->root;
    else if (pg == 0 || pg == w->root) { pg = ++npages; f->dirty = 1; }
    l0->pages[f->index] = pg;
    if (f->dirty) {
      if (tw_write_leaf(w, f, pg) < 0) return -1;
      f->dirty = 0;
    }
  }
  /* Leaves that are final (not the last, no running call) are not needed any more. */
  int kept = 0;
  for (int i = 0; i < w->npins; i++) {
    TwLeaf *f = w->pins[i];
    if (f->nopen == 0 && f->index != l0->n - 1) tw_free_leaf(f);
    else w->pins[kept++] = f;
  }
  w->npins = kept;
  /* Interior levels, bottom up, rewriting the last two nodes of each level and the new ones. */
  int k = 0;
  while (w->lv[k].n > 1) {
    if (k + 1 >= TW_MAX_LEVELS) { PyErr_SetString(PyExc_RuntimeError, "calls b-tree too deep"); return -1; }
    TwLevel *below = &w->lv[k], *up = &w->lv[k + 1];
    Py_ssize_t n = (below->n + w->fanout - 1) / w->fanout;
    while (up->n < n) if (tw_level_push(up, 0, 0) < 0) return -1;
    Py_ssize_t from = up->written >= 2 ? up->written - 2 : 0;
    for (Py_ssize_t j = from; j < n; j++) {
      Py_ssize_t a, b;
      tw_chunk(w, below->n, j, &a, &b);
      unsigned int pg = up->pages[j];
      if (n == 1) pg = w->root;
      else if (pg == 0 || pg == w->root) pg = ++npages;
      up->pages[j] = pg;
      up->keys[j] = below->keys[b - 1];
      if (tw_write_interior(w, k, a, b, pg) < 0) return -1;
    }
    up->written = n;
    k++;
  }
  return tw_write_header(w, h, npages);
}

/* place(ended, running, process) -> rows not placed (too long for a page): `ended` rows of
 * calls that ended (any order of ids at or past the ones placed, and running calls written
 * before), `running` rows of calls still running, both sorted by id; together with the calls
 * written before they must cover every id up to the last one without a gap. */
/* A row left to the caller (too long for a page, or written too long before): the list's row,
 * or a pending row as its tuple. */
static int tw_unplaced(PyObject *unplaced, PyObject *row, const PlainRow *prow) {
  PyObject *t = prow ? pending_tuple(prow) : Py_NewRef(row);
  if (t == NULL) return -1;
  int r = PyList_Append(unplaced, t);
  Py_DECREF(t);
  return r;
}

static PyObject *tw_place(TableWriter *w, PyObject *args) {
  PyObject *ended, *running, *plain;
  long long process;
  if (!PyArg_ParseTuple(args, "O!O!O!L", &PyList_Type, &plain, &PyList_Type, &ended,
                        &PyList_Type, &running, &process))
    return NULL;
  if (w->failed) { PyErr_SetString(PyExc_RuntimeError, "the calls writer failed earlier"); return NULL; }
  PyObject *lists[3] = {plain, ended, running};
  Py_ssize_t pos[3] = {0, 0, 0};
  Py_ssize_t pend_at = 0; /* the pending rows: a fourth source, in id order */
  Py_ssize_t *order = pending_order(w);
  if (order == NULL) return NULL;
  PyObject *unplaced = PyList_New(0);
  if (unplaced == NULL) { PyMem_Free(order); return NULL; }
  for (;;) {
    /* The row with the smallest id among the three lists' heads and the pending rows'. */
    int best = -1;
    long long best_id = 0;
    if (pend_at < w->npend) { best = 3; best_id = w->pend[order[pend_at]].id; }
    for (int i = 0; i < 3; i++) {
      if (pos[i] >= PyList_GET_SIZE(lists[i])) continue;
      PyObject *row = PyList_GET_ITEM(lists[i], pos[i]);
      if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) == 0) {
        PyErr_SetString(PyExc_TypeError, "a calls row must be a non-empty tuple");
        goto fail;
      }
      long long id = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 0));
      if (id == -1 && PyErr_Occurred()) goto fail;
      if (best < 0 || id < best_id) { best = i; best_id = id; }
    }
    if (best < 0) break;
    PyObject *row = NULL;
    const PlainRow *prow = NULL;
    if (best == 3) prow = &w->pend[order[pend_at++]];
    else row = PyList_GET_ITEM(lists[best], pos[best]++);
    int open = best == 2;
    long long id;
    int len;
    Py_ssize_t payload;
    TwValue v[TW_COLS];
    if (prow ? pending_values(prow, process, v) < 0 : tw_values(row, process, v) < 0) goto fail;
    unsigned char *cell = tw_cell(w, v, &id, &len, &payload);
    if (cell == NULL) goto fail;
    if (payload > tw_max_local(w) || 8 + len + 2 + TW_RESERVE > (int)w->usable) {
      /* Longer than a page holds: the caller writes it with SQL at the end. */
      PyMem_Free(cell);
      if (id >= w->placed) {
        if (id != w->placed) {
          PyErr_Format(PyExc_ValueError, "calls rows out of order: %lld where %lld was due", id, w->placed);
          goto fail;
        }
        w->placed = id + 1; /* its keys come with keep() */
      }
      if (tw_unplaced(unplaced, row, prow) < 0) goto fail;
      continue;
    }
    if (id < w->placed) {
      TwLeaf *f;
      TwCell *c = tw_find(w, id, &f);
      if (c == NULL || !c->open) {
        PyMem_Free(cell);
        if (c == NULL) { /* not written here (too long before): the caller's */
          if (tw_unplaced(unplaced, row, prow) < 0) goto fail;
          continue;
        }
        PyErr_Format(PyExc_ValueError, "call %lld was written already", id);
        goto fail;
      }
      if (len > c->len + TW_RESERVE) {
        PyMem_Free(cell);
        PyErr_Format(PyExc_ValueError, "the row of call %lld grew past its room", id);
        goto fail;
      }
      f->used += len - c->len - (open ? 0 : TW_RESERVE);
      PyMem_Free(c->rec);
      c->rec = cell;
      c->len = len;
      if (!open) { c->open = 0; f->nopen--; }
      f->dirty = 1;
      continue;
    }
    if (id != w->placed) {
      PyMem_Free(cell);
      PyErr_Format(PyExc_ValueError, "calls rows out of order: %lld where %lld was due", id, w->placed);
      goto fail;
    }
    if (tw_keep_keys(w, v) < 0) { PyMem_Free(cell); goto fail; }
    if (tw_append(w, cell, len, id, open) < 0) { PyMem_Free(cell); goto fail; }
  }
  PyMem_Free(order);
  order = NULL;
  if (tw_flush(w) < 0) goto fail;
  pending_clear(w);
  return unplaced;
fail:
  w->failed = 1; /* the pending rows stay, for take_pending() */
  PyMem_Free(order);
  Py_DECREF(unplaced);
  return NULL;
}

/* take_pending() -> the pending rows as plain row tuples (after a failed place: the caller
 * writes them with SQL), none pending after. */
static PyObject *tw_take_pending(TableWriter *w, PyObject *unused) {
  PyObject *out = PyList_New(0);
  for (Py_ssize_t i = 0; out != NULL && i < w->npend; i++) {
    PyObject *t = pending_tuple(&w->pend[i]);
    if (t == NULL || PyList_Append(out, t) < 0) Py_CLEAR(out);
    Py_XDECREF(t);
  }
  if (out != NULL) pending_clear(w);
  return out;
}

static PyObject *tw_get_pending(TableWriter *w, void *unused) { return PyLong_FromSsize_t(w->npend); }

/* ---- the calls indexes: (parent | code | thread, start_ns) -> rowid, as index b-tree pages -- */
/* Each index is sorted and laid out on its own; index_all() builds several at once, one thread
 * each without the GIL (they only read the kept keys and write their own pages, whose numbers
 * a first pass without writing counts out), as the file is finished after the program ended. */
#include <pthread.h>

typedef struct {
  const long long *kv;
  const unsigned char *hp;
  int col;
} IxKeys;

static int ix_cmp(const IxKeys *k, Py_ssize_t a, Py_ssize_t b) {
  const long long *x = k->kv + a * 5, *y = k->kv + b * 5;
  if (k->col == 0) { /* NULL parents first, as SQLite orders them */
    int hx = k->hp[a], hy = k->hp[b];
    if (hx != hy) return hx < hy ? -1 : 1;
  }
  if (x[k->col] != y[k->col]) return x[k->col] < y[k->col] ? -1 : 1;
  if (x[3] != y[3]) return x[3] < y[3] ? -1 : 1;
  if (x[4] != y[4]) return x[4] < y[4] ? -1 : 1;
  return 0;
}

/* A stable merge sort of order[0..n) by ix_cmp (tmp: room for n). */
static void ix_merge_sort(const IxKeys *k, Py_ssize_t *order, Py_ssize_t *tmp, Py_ssize_t n) {
  for (Py_ssize_t width = 1; width < n; width *= 2) {
    for (Py_ssize_t lo = 0; lo < n; lo += 2 * width) {
      Py_ssize_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      Py_ssize_t i = lo, j = mid, t = lo;
      while (i < mid && j < hi) tmp[t++] = ix_cmp(k, order[j], order[i]) < 0 ? order[j++] : order[i++];
      while (i < mid) tmp[t++] = order[i++];
      while (j < hi) tmp[t++] = order[j++];
    }
    memcpy(order, tmp, (size_t)n * sizeof *order);
  }
}

/* The entries in index order (key, start_ns, id; NULL parents first) into order[0..n). Calls of
 * one key were mostly kept in the order they started, so a stable radix sort on the key alone
 * (16 bits a pass, passes over bits that never differ skipped) usually gives the index order,
 * which one pass checks; where it does not, a merge sort on the whole comparison does. No GIL
 * needed: 0, or ENOMEM. */
static int ix_sort(const TableWriter *w, int col, Py_ssize_t *order, Py_ssize_t n) {
  Py_ssize_t *tmp = (Py_ssize_t *)PyMem_RawMalloc((size_t)(n ? n : 1) * sizeof *tmp);
  unsigned long long *u = (unsigned long long *)PyMem_RawMalloc((size_t)(n ? n : 1) * sizeof *u);
  Py_ssize_t *count = (Py_ssize_t *)PyMem_RawMalloc(65537 * sizeof *count);
  if (!tmp || !u || !count) {
    PyMem_RawFree(tmp); PyMem_RawFree(u); PyMem_RawFree(count);
    return ENOMEM;
  }
  IxKeys keys = {w->kv, w->has_parent, col};
  /* NULL parents first (they sort below every key), each part in entry order. */
  Py_ssize_t nulls = 0;
  if (col == 0)
    for (Py_ssize_t e = 0; e < n; e++) if (!w->has_parent[e]) order[nulls++] = e;
  Py_ssize_t m = nulls;
  for (Py_ssize_t e = 0; e < n; e++)
    if (col != 0 || w->has_parent[e]) order[m++] = e;
  /* The keys as unsigned numbers in the same order (sign bit flipped). */
  unsigned long long all_or = 0, all_and = ~0ULL;
  for (Py_ssize_t i = nulls; i < n; i++) {
    unsigned long long k = (unsigned long long)w->kv[order[i] * 5 + col] ^ (1ULL << 63);
    u[order[i]] = k;
    all_or |= k;
    all_and &= k;
  }
  unsigned long long differ = all_or ^ all_and;
  Py_ssize_t *src = order + nulls, *dst = tmp + nulls;
  Py_ssize_t len = n - nulls;
  for (int shift = 0; shift < 64 && len > 1; shift += 16) {
    if (((differ >> shift) & 0xFFFF) == 0) continue;
    memset(count, 0, 65537 * sizeof *count);
    for (Py_ssize_t i = 0; i < len; i++) count[((u[src[i]] >> shift) & 0xFFFF) + 1]++;
    for (int d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (Py_ssize_t i = 0; i < len; i++) dst[count[(u[src[i]] >> shift) & 0xFFFF]++] = src[i];
    Py_ssize_t *t = src; src = dst; dst = t;
  }
  if (src != order + nulls) memcpy(order + nulls, src, (size_t)len * sizeof *order);
  for (Py_ssize_t i = 1; i < n; i++) {
    if (ix_cmp(&keys, order[i - 1], order[i]) > 0) {
      ix_merge_sort(&keys, order, tmp, n);
      break;
    }
  }
  PyMem_RawFree(tmp); PyMem_RawFree(u); PyMem_RawFree(count);
  return 0;
}

/* The index record (key, start_ns, id) of entry e: its payload bytes in out, their count. */
static int tw_index_record(const TableWriter *w, Py_ssize_t e, int col, unsigned char *out) {
  const long long *k = w->kv + e * 5;
  long long vals[3] = {k[col], k[3], k[4]};
  int null0 = col == 0 && !w->has_parent[e];
  int types[3], sizes[3];
  for (int i = 0; i < 3; i++) {
    if (i == 0 && null0) { types[i] = 0; sizes[i] = 0; }
    else types[i] = tw_int_type(vals[i], w->format4, &sizes[i]);
  }
  unsigned char *p = out;
  *p++ = 4; /* header: its size and three one-byte serial types */
  for (int i = 0; i < 3; i++) *p++ = (unsigned char)types[i];
  for (int i = 0; i < 3; i++) {
    unsigned long long u = (unsigned long long)vals[i];
    for (int b = sizes[i] - 1; b >= 0; b--) { p[b] = (unsigned char)u; u >>= 8; }
    p += sizes[i];
  }
  return (int)(p - out);
}

/* pwrite of a whole page: 0, or errno (no GIL needed). */
static int ix_pwrite(const TableWriter *w, unsigned int page, const unsigned char *data) {
  off_t at = (off_t)(page - 1) * (off_t)w->page_size;
  size_t done = 0;
  while (done < w->page_size) {
    ssize_t r = pwrite(w->fd, data + done, w->page_size - done, at + (off_t)done);
    if (r < 0) { if (errno == EINTR) continue; return errno ? errno : EIO; }
    done += (size_t)r;
  }
  return 0;
}

/* An index page of entries order[a..b) (leaf) or of children pages[a..b] with the separators
 * order[sep[a..b)] between them (interior), written at `page` from the buffer pg (unless dry). */
static int tw_index_page(const TableWriter *w, int col, const Py_ssize_t *order, Py_ssize_t a,
                         Py_ssize_t b, const unsigned int *children, const Py_ssize_t *sep,
                         unsigned int page, unsigned char *pg, int dry) {
  if (dry) return 0;
  memset(pg, 0, w->page_size);
  int interior = children != NULL;
  int hdr = interior ? 12 : 8;
  unsigned int end = w->usable;
  int n = 0;
  for (Py_ssize_t i = a; i < b; i++, n++) {
    unsigned char rec[40], cell[52];
    int len = tw_index_record(w, interior ? order[sep[i]] : order[i], col, rec);
    int at = 0;
    if (interior) { tw_put4(cell, children[i]); at = 4; }
    at += tw_put_varint(cell + at, (unsigned long long)len);
    memcpy(cell + at, rec, (size_t)len);
    at += len;
    end -= (unsigned int)at;
    memcpy(pg + end, cell, (size_t)at);
    tw_put2(pg + hdr + 2 * n, end);
  }
  pg[0] = interior ? 0x02 : 0x0A;
  tw_put2(pg + 3, (unsigned int)n);
  tw_put2(pg + 5, end);
  if (interior) tw_put4(pg + 8, children[b]);
  return ix_pwrite(w, page, pg);
}

static int tw_index_cell_size(const TableWriter *w, Py_ssize_t e, int col, int interior) {
  /* tw_index_record's length without its bytes: 4 header bytes and the three values' sizes */
  const long long *k = w->kv + e * 5;
  int len = 4, size;
  if (!(col == 0 && !w->has_parent[e])) { tw_int_type(k[col], w->format4, &size); len += size; }
  tw_int_type(k[3], w->format4, &size); len += size;
  tw_int_type(k[4], w->format4, &size); len += size;
  return (interior ? 4 : 0) + tw_varint_len((unsigned long long)len) + len + 2;
}

/* Lays out (and unless dry writes) the index of sorted entries order[0..n) on pages from
 * *npages + 1 on (the root first); *npages is then the last page used. 0, or errno. */
static int ix_build(const TableWriter *w, int col, const Py_ssize_t *order, Py_ssize_t n,
                    unsigned int *npages_io, unsigned int *root_out, unsigned char *pg, int dry) {
  unsigned int npages = *npages_io;
  /* per level: the children pages and, between them, separator positions into order */
  unsigned int *pages = (unsigned int *)PyMem_RawMalloc((size_t)(n + 2) * sizeof *pages);
  unsigned int *up_pages = (unsigned int *)PyMem_RawMalloc((size_t)(n + 2) * sizeof *up_pages);
  Py_ssize_t *sep = (Py_ssize_t *)PyMem_RawMalloc((size_t)(n + 2) * sizeof *sep);
  Py_ssize_t *up_sep = (Py_ssize_t *)PyMem_RawMalloc((size_t)(n + 2) * sizeof *up_sep);
  Py_ssize_t *firsts = NULL;
  int err = 0;
  if (!pages || !up_pages || !sep || !up_sep) { err = ENOMEM; goto done; }
  unsigned int root = ++npages;
  /* Leaves: filled in order; the entry after a full leaf is the separator above it. */
  Py_ssize_t nchild = 0, start = 0, i = 0;
  int room = (int)w->usable - 8;
  Py_ssize_t *leaf_start = up_sep; /* reused: where each leaf starts in order */
  while (i < n) {
    int need = tw_index_cell_size(w, order[i], col, 0);
    if (need <= room) { room -= need; i++; continue; }
    /* full: entries start..i-1 make a leaf, entry i goes up */
    leaf_start[nchild] = start;
    sep[nchild] = i;
    nchild++;
    i++;
    start = i;
    room = (int)w->usable - 8;
  }
  if (nchild > 0 && start == n) {
    /* The last entry went up after a full leaf and no leaf would follow it: the entry before it
     * goes up instead and the last one is the last leaf (a full leaf holds many entries). */
    sep[nchild - 1] = n - 2;
    start = n - 1;
  }
  if (nchild == 0) { /* one leaf: the root */
    if ((err = tw_index_page(w, col, order, 0, n, NULL, NULL, root, pg, dry))) goto done;
  } else {
    leaf_start[nchild] = start;
    for (Py_ssize_t c = 0; c <= nchild; c++) {
      Py_ssize_t a = leaf_start[c], b = c < nchild ? sep[c] : n;
      pages[c] = ++npages;
      if ((err = tw_index_page(w, col, order, a, b, NULL, NULL, pages[c], pg, dry))) goto done;
    }
    Py_ssize_t count = nchild + 1; /* children at this level; sep[0..count-2] between them */
    for (;;) {
      /* Group children c0..ck into nodes: cells (c, sep) while they fit, the last child the
       * node's right-most pointer, the separator after it going up. */
      Py_ssize_t nodes = 0, c = 0;
      firsts = (Py_ssize_t *)PyMem_RawMalloc((size_t)(count + 1) * sizeof *firsts);
      if (firsts == NULL) { err = ENOMEM; goto done; }
      while (c < count) {
        firsts[nodes++] = c;
        int left = (int)w->usable - 12;
        Py_ssize_t j = c;
        while (j < count - 1) {
          int need = tw_index_cell_size(w, order[sep[j]], col, 1);
          if (need > left) break;
          left -= need;
          j++;
        }
        /* node covers children c..j (cells c..j-1, right-most j) */
        c = j + 1;
        if (c < count && c == count - 1) { /* one child would be left alone: give it company */
          /* keep it in the next node by ending this one a child earlier */
          c = j;
        }
      }
      firsts[nodes] = count;
      if (nodes == 1) {
        err = tw_index_page(w, col, order, 0, count - 1, pages, sep, root, pg, dry);
        goto done;
      }
      for (Py_ssize_t k = 0; k < nodes; k++) {
        Py_ssize_t a = firsts[k], last = firsts[k + 1] - 1; /* children a..last */
        /* the separators between them are sep[a..last-1]; sep[last] goes up */
        up_pages[k] = ++npages;
        if ((err = tw_index_page(w, col, order, a, last, pages, sep, up_pages[k], pg, dry)))
          goto done;
        if (k < nodes - 1) up_sep[k] = sep[last];
      }
      PyMem_RawFree(firsts);
      firsts = NULL;
      memcpy(pages, up_pages, (size_t)nodes * sizeof *pages);
      memcpy(sep, up_sep, (size_t)(nodes - 1) * sizeof *sep);
      count = nodes;
    }
  }
done:
  PyMem_RawFree(firsts);
  PyMem_RawFree(pages); PyMem_RawFree(up_pages); PyMem_RawFree(sep); PyMem_RawFree(up_sep);
  if (!err) { *npages_io = npages; *root_out = root; }
  return err;
}

/* One index being built: sorted and counted (phase 0), then written from `first` (phase 1). */
typedef struct {
  const TableWriter *w;
  int col, phase, err;
  Py_ssize_t *order;
  unsigned int first, last, root;
  unsigned char *page;
} IxJob;

static void ix_run(IxJob *j) {
  Py_ssize_t n = j->w->nkeys;
  if (j->phase == 0) {
    j->err = ix_sort(j->w, j->col, j->order, n);
    unsigned int np = 0;
    if (!j->err) j->err = ix_build(j->w, j->col, j->order, n, &np, &j->root, NULL, 1);
    j->last = np; /* pages it takes */
  } else {
    unsigned int np = j->first - 1;
    j->err = ix_build(j->w, j->col, j->order, n, &np, &j->root, j->page, 0);
  }
}

static void *ix_thread(void *arg) { ix_run((IxJob *)arg); return NULL; }

/* Runs the jobs' current phase, each in a thread of its own (the first in this one). */
static void ix_phase(IxJob *jobs, int k) {
  pthread_t threads[3];
  int started[3] = {0, 0, 0};
  for (int i = 1; i < k; i++) started[i] = pthread_create(&threads[i], NULL, ix_thread, &jobs[i]) == 0;
  ix_run(&jobs[0]);
  for (int i = 1; i < k; i++) {
    if (started[i]) pthread_join(threads[i], NULL);
    else ix_run(&jobs[i]); /* no thread: here */
  }
}

/* index_all(columns) -> root pages: builds the indexes of every row kept on those columns (0
 * parent, 1 code, 2 thread; at most 3) in pages appended to the file, at once; the caller enters
 * them in sqlite_master. */
static PyObject *tw_index_all(TableWriter *w, PyObject *arg) {
  PyObject *cols = PySequence_Tuple(arg);
  if (cols == NULL) return NULL;
  Py_ssize_t k = PyTuple_GET_SIZE(cols);
  IxJob jobs[3];
  memset(jobs, 0, sizeof jobs);
  PyObject *result = NULL;
  if (k < 1 || k > 3) { PyErr_SetString(PyExc_ValueError, "one to three columns"); goto out; }
  if (!w->keys_ok) { PyErr_SetString(PyExc_ValueError, "a key is not an integer"); goto out; }
  for (Py_ssize_t i = 0; i < k; i++) {
    int col = (int)PyLong_AsLong(PyTuple_GET_ITEM(cols, i));
    if (col == -1 && PyErr_Occurred()) goto out;
    if (col < 0 || col > 2) { PyErr_SetString(PyExc_ValueError, "column 0, 1 or 2"); goto out; }
    jobs[i].w = w;
    jobs[i].col = col;
    jobs[i].order = (Py_ssize_t *)PyMem_RawMalloc((size_t)(w->nkeys ? w->nkeys : 1) * sizeof(Py_ssize_t));
    jobs[i].page = (unsigned char *)PyMem_RawMalloc(w->page_size);
    if (!jobs[i].order || !jobs[i].page) { PyErr_NoMemory(); goto out; }
  }
  unsigned char h[100];
  unsigned int npages;
  if (tw_read_header(w, h, &npages) < 0) goto out;
  int err = 0;
  Py_BEGIN_ALLOW_THREADS
  ix_phase(jobs, (int)k);
  for (Py_ssize_t i = 0; i < k && !err; i++) err = jobs[i].err;
  if (!err) {
    for (Py_ssize_t i = 0; i < k; i++) { /* the pages of each, one after the other */
      jobs[i].first = npages + 1;
      npages += jobs[i].last;
      jobs[i].phase = 1;
    }
    ix_phase(jobs, (int)k);
    for (Py_ssize_t i = 0; i < k && !err; i++) err = jobs[i].err;
  }
  Py_END_ALLOW_THREADS
  if (err) {
    errno = err;
    if (err == ENOMEM) PyErr_NoMemory(); else PyErr_SetFromErrno(PyExc_OSError);
    goto out;
  }
  if (tw_write_header(w, h, npages) < 0) goto out;
  result = PyTuple_New(k);
  for (Py_ssize_t i = 0; result != NULL && i < k; i++)
    PyTuple_SET_ITEM(result, i, PyLong_FromUnsignedLong(jobs[i].root));
out:
  for (int i = 0; i < 3; i++) { PyMem_RawFree(jobs[i].order); PyMem_RawFree(jobs[i].page); }
  Py_DECREF(cols);
  return result;
}

/* index(column) -> root page: index_all((column,)). */
static PyObject *tw_index(TableWriter *w, PyObject *arg) {
  PyObject *cols = PyTuple_Pack(1, arg);
  if (cols == NULL) return NULL;
  PyObject *roots = tw_index_all(w, cols);
  Py_DECREF(cols);
  if (roots == NULL) return NULL;
  PyObject *root = Py_NewRef(PyTuple_GET_ITEM(roots, 0));
  Py_DECREF(roots);
  return root;
}

/* keep(rows, process): the index keys of rows written with SQL (left over by place). */
static PyObject *tw_keep(TableWriter *w, PyObject *args) {
  PyObject *rows;
  long long process;
  if (!PyArg_ParseTuple(args, "O!L", &PyList_Type, &rows, &process)) return NULL;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
    TwValue v[TW_COLS];
    if (tw_values(PyList_GET_ITEM(rows, i), process, v) < 0) return NULL;
    if (tw_keep_keys(w, v) < 0) return NULL;
  }
  Py_RETURN_NONE;
}

static PyObject *tw_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  int fd, format;
  unsigned int page_size, reserved, root;
  static char *kw[] = {"fd", "page_size", "reserved", "root", "format", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iIIIi", kw, &fd, &page_size, &reserved, &root, &format))
    return NULL;
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) || reserved > 255 ||
      page_size - reserved < 480 || root < 2) {
    PyErr_SetString(PyExc_ValueError, "not a page layout this writer knows");
    return NULL;
  }
  TableWriter *w = (TableWriter *)type->tp_alloc(type, 0);
  if (w == NULL) return NULL;
  w->fd = fd;
  w->page_size = page_size;
  w->usable = page_size - reserved;
  w->root = root;
  w->format4 = format >= 4;
  w->fanout = (w->usable - 12) / 15;
  w->placed = 1;
  w->keys_ok = 1;
  w->page = (unsigned char *)PyMem_Malloc(page_size);
  if (w->page == NULL) { Py_DECREF(w); return PyErr_NoMemory(); }
  return (PyObject *)w;
}

static void tw_dealloc(TableWriter *w) {
  pending_clear(w);
  PyMem_Free(w->pend);
  for (int i = 0; i < w->npins; i++) tw_free_leaf(w->pins[i]);
  PyMem_Free(w->pins);
  for (int k = 0; k < TW_MAX_LEVELS; k++) { PyMem_Free(w->lv[k].pages); PyMem_Free(w->lv[k].keys); }
  PyMem_Free(w->page);
  PyMem_Free(w->kv);
  PyMem_Free(w->has_parent);
  Py_TYPE(w)->tp_free((PyObject *)w);
}

static PyObject *tw_get_placed(TableWriter *w, void *unused) { return PyLong_FromLongLong(w->placed); }
static PyObject *tw_get_rows(TableWriter *w, void *unused) { return PyLong_FromLongLong(w->rows); }

static PyGetSetDef tw_getset[] = {
  {"placed", (getter)tw_get_placed, NULL, "The next call id to place.", NULL},
  {"rows", (getter)tw_get_rows, NULL, "Rows written as pages.", NULL},
  {"pending", (getter)tw_get_pending, NULL, "Rows handed over by pair_packed, not placed yet.", NULL},
  {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef tw_methods[] = {
  {"place", (PyCFunction)tw_place, METH_VARARGS,
   "place(plain, ended, running, process) -> rows left to SQL: writes the rows and flushes."},
  {"keep", (PyCFunction)tw_keep, METH_VARARGS,
   "keep(rows, process): the index keys of rows written with SQL instead."},
  {"take_pending", (PyCFunction)tw_take_pending, METH_NOARGS,
   "take_pending() -> the rows handed over by pair_packed and not placed, as plain row tuples."},
  {"index_all", (PyCFunction)tw_index_all, METH_O,
   "index_all(columns) -> root pages: the indexes of those columns (0 parent, 1 code, 2 thread), "
   "built at once."},
  {"index", (PyCFunction)tw_index, METH_O,
   "index(column) -> root page: the index on (parent | code | thread, start_ns) as pages."},
  {NULL, NULL, 0, NULL}};

static PyTypeObject TableWriterType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "tracelens._speedups.TableWriter",
  .tp_basicsize = sizeof(TableWriter),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "TableWriter(fd, page_size, reserved, root, format): the calls table's pages.",
  .tp_new = tw_new,
  .tp_dealloc = (destructor)tw_dealloc,
  .tp_methods = tw_methods,
  .tp_getset = tw_getset,
};
#define TL_TABLE_WRITER 1
#else
#define TL_TABLE_WRITER 0
static int is_table_writer(PyObject *o) { return 0; }
static int pending_add(PyObject *pages, const PlainRow *row) { return -1; } /* never called */
#endif

/* ---- the sampler's clock: a C thread that asks the main thread for each sample ------------- *
 * Every period it schedules a pending call (Py_AddPendingCall, no GIL needed): the main thread
 * runs the sampler's Python function between two bytecodes, with the GIL it already holds, so
 * sampling never takes the GIL from the program (a Python sampler thread does, a hundred times
 * a second, each hand-over costing the program far more than the sample). When the main thread
 * does not get to it within two periods (it waits in C, say), the clock takes the GIL itself
 * and samples from its own thread. sampler.py's thread stays the pure-Python reference. */
#ifndef _WIN32
#include <pthread.h>

typedef struct {
  PyObject_HEAD
  PyObject *fn;                 /* the sample: a callable without arguments */
  long long period_ns;
  pthread_t thread;
  long pid;                     /* the process that started the thread */
  int started;
  volatile int stopping;
  volatile int inflight;        /* a pending call is scheduled and has not run */
  volatile long long requested; /* when it was scheduled */
  int release_in_pending;       /* stopped while a call was pending: it drops our reference */
  long long samples, direct;
  pthread_mutex_t mu;           /* with wake: the thread's sleep, which stop() cuts short */
  pthread_cond_t wake;
} SampleTimer;

/* One sample, with the GIL. Its errors are dropped, except what a signal handler raised in it
 * (KeyboardInterrupt...: not an Exception), which is the program's: -1 with it set. */
static int st_sample(SampleTimer *t) {
  PyObject *exc_type, *exc_value, *exc_tb;
  PyErr_Fetch(&exc_type, &exc_value, &exc_tb); /* never disturb an exception being handled */
  PyObject *r = PyObject_CallNoArgs(t->fn);
  t->samples++;
  if (r == NULL) {
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
      Py_XDECREF(exc_type); Py_XDECREF(exc_value); Py_XDECREF(exc_tb);
      return -1;
    }
    PyErr_Clear();
  }
  Py_XDECREF(r);
  PyErr_Restore(exc_type, exc_value, exc_tb);
  return 0;
}

static int st_pending(void *arg) { /* in the main thread, with the GIL */
  SampleTimer *t = (SampleTimer *)arg;
  int r = 0;
  t->inflight = 0;
  if (!t->stopping) r = st_sample(t);
  if (t->release_in_pending) {
    t->release_in_pending = 0;
    Py_DECREF(t);
  }
  return r;
}

static void *st_run(void *arg) {
  SampleTimer *t = (SampleTimer *)arg;
  while (!t->stopping) {
    /* One period's sleep, ended at once by stop() (no wait of up to a period at exit). */
    long long until = mono_ns() + t->period_ns;
    struct timespec deadline = {(time_t)(until / 1000000000LL), (long)(until % 1000000000LL)};
    pthread_mutex_lock(&t->mu);
    while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->mu, &deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&t->mu);
    if (t->stopping) break;
    long long now = mono_ns();
    if (t->inflight) {
      if (now - t->requested < 2 * t->period_ns) continue;
      /* The main thread is away from Python code: sample from here. */
      if (!Py_IsInitialized()) break;
      PyGILState_STATE g = PyGILState_Ensure();
      if (!t->stopping) {
        if (st_sample(t) < 0) PyErr_Clear(); /* no signal handler runs in this thread */
        t->direct++;
      }
      PyGILState_Release(g);
      continue;
    }
    t->requested = now;
    t->inflight = 1;
    if (Py_AddPendingCall(st_pending, t) < 0) t->inflight = 0; /* the queue is full: next time */
  }
  return NULL;
}

static PyObject *st_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  PyObject *fn;
  double period;
  static char *kw[] = {"fn", "period", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Od", kw, &fn, &period)) return NULL;
  if (!PyCallable_Check(fn) || !(period >= 0.0001 && period <= 60.0)) {
    PyErr_SetString(PyExc_ValueError, "SampleTimer(fn, period) needs a callable and 0.0001-60 s");
    return NULL;
  }
  SampleTimer *t = (SampleTimer *)type->tp_alloc(type, 0);
  if (t == NULL) return NULL;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* mono_ns's clock */
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->wake, &attr);
  pthread_condattr_destroy(&attr);
  t->fn = Py_NewRef(fn);
  t->period_ns = (long long)(period * 1e9);
  return (PyObject *)t;
}

static PyObject *st_start(SampleTimer *t, PyObject *unused) {
  if (t->started) { PyErr_SetString(PyExc_RuntimeError, "already started"); return NULL; }
  Py_INCREF(t); /* held while the thread or a pending call may use it */
  t->started = 1;
  t->pid = (long)getpid();
  int err = pthread_create(&t->thread, NULL, st_run, t);
  if (err != 0) {
    t->started = 0;
    Py_DECREF(t);
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_NONE;
}

static PyObject *st_stop(SampleTimer *t, PyObject *unused) {
  if (!t->started || t->stopping) Py_RETURN_NONE;
  t->stopping = 1;
  if ((long)getpid() == t->pid) { /* a forked child has no such thread */
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&t->mu);
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    Py_END_ALLOW_THREADS
  }
  if (t->inflight) t->release_in_pending = 1; /* the pending call still holds it */
  else Py_DECREF(t);
  Py_RETURN_NONE;
}

static void st_dealloc(SampleTimer *t) { /* its thread has ended: it held a reference */
  pthread_cond_destroy(&t->wake);
  pthread_mutex_destroy(&t->mu);
  Py_XDECREF(t->fn);
  Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *st_get_samples(SampleTimer *t, void *unused) { return PyLong_FromLongLong(t->samples); }
static PyObject *st_get_direct(SampleTimer *t, void *unused) { return PyLong_FromLongLong(t->direct); }

static PyGetSetDef st_getset[] = {
  {"samples", (getter)st_get_samples, NULL, "Samples taken.", NULL},
  {"direct", (getter)st_get_direct, NULL, "Samples taken from the clock's own thread.", NULL},
  {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef st_methods[] = {
  {"start", (PyCFunction)st_start, METH_NOARGS, "Starts the clock."},
  {"stop", (PyCFunction)st_stop, METH_NOARGS, "Stops the clock and waits for its thread."},
  {NULL, NULL, 0, NULL}};

static PyTypeObject SampleTimerType = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "tracelens._speedups.SampleTimer",
  .tp_basicsize = sizeof(SampleTimer),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_doc = "SampleTimer(fn, period): calls fn() in the main thread every period seconds.",
  .tp_new = st_new,
  .tp_dealloc = (destructor)st_dealloc,
  .tp_methods = st_methods,
  .tp_getset = st_getset,
};
#define TL_SAMPLE_TIMER 1
#else
#define TL_SAMPLE_TIMER 0
#endif

static PyMethodDef module_methods[] = {
  {"Callbacks", make_callbacks, METH_VARARGS,
   "Callbacks(known, buf, rep, fail, disable, fallbacks, limit): hot sys.monitoring callbacks."},
  {"build", build, METH_VARARGS,
   "build(recorder, records, strings, files, codes, threads[, packed]) -> wire events of the\n"
   "records: a list, or (packed bytes, count)."},
  {"pair", (PyCFunction)(void (*)(void))pair, METH_FASTCALL,
   "pair(writer, p, events, stacks, tasks, plain, wide, n, off, shift, next_call) -> next_call:"
   " the trace file writer's pairing loop."},
  {"take", take, METH_O, "take(list) -> a new list of its items, leaving it empty."},
  {"pair_packed", (PyCFunction)(void (*)(void))pair_packed, METH_FASTCALL,
   "pair() over packed events: (next_call, last ts or None)."},
#if TL_ALL_THREADS
  {"set_trace_all_threads", set_trace_all_threads, METH_VARARGS,
   "set_trace_all_threads(tracefunc, skip=(), gate_only=False) -> previous: traces the other"
   " threads with it."},
  {"clear_trace_all_threads", clear_trace_all_threads, METH_VARARGS,
   "clear_trace_all_threads(tracefunc, previous) -> n: puts the previous trace functions back."},
  {"gate_install", gate_install, METH_VARARGS,
   "gate_install(tracer, on_fallback) -> bool: traces a thread only while code the filter looks"
   " at runs."},
  {"gate_remove", gate_remove, METH_O, "gate_remove(tracer) -> bool: takes the gate away."},
#endif
  {NULL, NULL, 0, NULL}};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_speedups",
                                    "Tracelens's optional C accelerator.", -1, module_methods};

PyMODINIT_FUNC PyInit__speedups(void) {
  if (PyType_Ready(&CallbacksType) < 0) return NULL;
  if (PyType_Ready(&RecType) < 0) return NULL;
#if TL_ALL_THREADS
  if (PyType_Ready(&TracerType) < 0) return NULL;
#endif
#if TL_TABLE_WRITER
  if (PyType_Ready(&TableWriterType) < 0) return NULL;
#endif
#if TL_SAMPLE_TIMER
  if (PyType_Ready(&SampleTimerType) < 0) return NULL;
#endif
  PyObject *m = PyModule_Create(&moddef);
  if (m == NULL) return NULL;
#if TL_SAMPLE_TIMER
  Py_INCREF(&SampleTimerType);
  if (PyModule_AddObject(m, "SampleTimer", (PyObject *)&SampleTimerType) < 0) {
    Py_DECREF(&SampleTimerType); Py_DECREF(m); return NULL;
  }
#endif
#if TL_TABLE_WRITER
  Py_INCREF(&TableWriterType);
  if (PyModule_AddObject(m, "TableWriter", (PyObject *)&TableWriterType) < 0) {
    Py_DECREF(&TableWriterType); Py_DECREF(m); return NULL;
  }
#endif
  for (int i = 0; i < 262; i++) {
    char b[8];
    snprintf(b, sizeof b, "%d", i - 5);
    small_int_reprs[i] = PyUnicode_InternFromString(b);
    if (small_int_reprs[i] == NULL) { Py_DECREF(m); return NULL; }
  }
  str_module = PyUnicode_InternFromString("__module__");
  if (str_module == NULL) { Py_DECREF(m); return NULL; }
  PyObject *time_mod = PyImport_ImportModule("time");
  if (time_mod == NULL) { Py_DECREF(m); return NULL; }
  py_perf = PyObject_GetAttrString(time_mod, "perf_counter_ns");
  Py_DECREF(time_mod);
  if (py_perf == NULL) { Py_DECREF(m); return NULL; }
#if defined(__linux__)
  /* Use clock_gettime only if it is time.perf_counter_ns's clock (within 10 ms). */
  PyObject *p = PyObject_CallNoArgs(py_perf);
  long long c = mono_ns();
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
    Py_INCREF(&TracerType);
    if (PyModule_AddObject(m, "Tracer", (PyObject *)&TracerType) < 0) {
      Py_DECREF(&TracerType); Py_DECREF(m); return NULL;
    }
  }
#endif
  return m;
}
