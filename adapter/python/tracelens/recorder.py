# The bounded buffer between the hot callbacks and the writer thread. Callbacks append small
# tuples (kind, thread ident, code object, perf_counter_ns, ...); the writer thread interns code
# objects, files, threads and value strings, and hands wire `batch` messages to a sink every
# ~10 ms (the C accelerator builds the common events when it is loaded). Knows nothing of
# sys.monitoring/settrace or of where batches go (see sinks).
from __future__ import annotations

import threading
import time

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

from . import wire
from .ownthreads import Stop

__all__ = ["Recorder", "exception_type_name", "THREAD_NOTE"]

_bisect_right = None  # bisect.bisect_right, imported on first use by _line

#: Record kind of a thread's start note (not a wire kind: wire kinds are 1-11).
THREAD_NOTE = 100
#: The longest wait of the writer thread while no records come (seconds).
IDLE_INTERVAL = 0.16
#: Records per batch at most: more are sent as several batches.
BATCH_EVENTS = 32768

CodeInfo = "Tuple[Any, str, str]"  # (code object, module name, qualname)


def exception_type_name(t: type) -> str:
    """Qualified name of an exception type as Python's traceback prints it."""
    try:
        module = t.__module__
        name = t.__qualname__
    except Exception:
        return "<unknown>"
    if module in ("builtins", "__main__") or not isinstance(module, str):
        return name
    return module + "." + name


class Recorder:
    """Collects records from the callbacks and sends them as batches from a writer thread."""

    def __init__(self, send: Callable[[Dict[str, Any]], None], *, offsets: bool,
                 capacity: int = 4_000_000, interval: float = 0.01, packed: bool = False) -> None:
        """packed: the batches only go to trace files (see wire.pack_events): with the C
        builder their events are sent packed."""
        self.buf: List[Any] = []
        self.origin = time.perf_counter_ns()
        self.start_ns = time.time_ns()
        self._send = send
        self._offsets = offsets  # records carry instruction offsets (sys.monitoring) not lines
        self._capacity = capacity
        self._interval = interval
        self._lock = threading.Lock()
        self._stop = Stop()
        self._thread: Any = None  # an OwnThread
        self._seq = 0
        self.dropped = 0
        self._dropped_ns: "Optional[List[int]]" = None  # [first, last] ts of dropped records
        self.recorded = 0
        self.closed = False
        self.on_error: Optional[Callable[[BaseException], None]] = None
        # Interning tables (writer side).
        self.code_info: Dict[int, CodeInfo] = {}
        self._codes: Dict[int, int] = {}
        self._files: Dict[str, int] = {}
        self._strings: Dict[str, int] = {}
        self._threads: Dict[int, int] = {}
        self._types: Dict[type, int] = {}
        self._lines: Dict[int, Tuple[List[int], List[int]]] = {}
        self.thread_names: Dict[int, Tuple[int, str]] = {}
        self._next_string = 0
        self._next_thread = 0
        self._line_cache: Dict[int, Dict[int, int]] = {}  # id(code) -> offset -> line (C builder)
        from . import accel
        mod = accel.load()
        self._build: Optional[Callable[..., Any]] = getattr(mod, "build", None)
        self._packed = packed and self._build is not None
        self._take: Callable[[List[Any]], List[Any]] = getattr(mod, "take", None) or _take

    # -- called by the backends, outside the hot path -----------------------------------------
    def describe(self, code: Any, module: str, qualname: str) -> None:
        """Remembers what a code object in scope is called (once, when first decided)."""
        self.code_info[id(code)] = (code, module, qualname)

    def note_thread(self) -> None:
        """Records that the current thread started, with its name and native id (once per
        thread, before its first event). Thread idents are reused, so this starts a new thread."""
        t = threading.current_thread()
        self.note_thread_of(threading.get_ident(), getattr(t, "native_id", None) or 0, t.name)

    def note_thread_of(self, ident: int, native: int, name: str) -> None:
        """note_thread for the thread with this ident (any thread may call it)."""
        self.buf.append((THREAD_NOTE, ident, native, name))

    # -- writer thread ----------------------------------------------------------------------------
    def start(self) -> None:
        from .ownthreads import OwnThread
        self._thread = OwnThread(self._run, "tracelens-writer")
        self._thread.start()

    def _run(self) -> None:
        # Every `interval` while records come; when a wait found none, twice as long each time,
        # up to IDLE_INTERVAL: a program whose code is out of scope (or a --no-calls run) is not
        # woken a hundred times a second, each wake-up taking the GIL from it.
        wait = self._stop.wait
        interval = self._interval
        while not wait(interval):
            busy = bool(self.buf)
            try:
                self.flush()
            except BaseException as exc:  # the writer must never die silently
                if self.on_error is not None:
                    self.on_error(exc)
                return
            interval = self._interval if busy else min(interval * 2, IDLE_INTERVAL)

    def flush(self) -> None:
        """Turns what the callbacks recorded so far into one batch and sends it."""
        with self._lock:
            if self.closed:
                return
            buf = self.buf
            events = self._take(buf)
            self._drop_from(events, self._capacity)
            # In parts: the first reaches the writer while the rest is built (the pipe to the
            # trace file's writer process is then never idle for a whole long batch). What is
            # taken and not yet sent counts towards the buffer's capacity.
            whole = len(events) <= BATCH_EVENTS
            for i in range(0, max(len(events), 1), BATCH_EVENTS):
                self._drop_from(buf, max(self._capacity - (len(events) - i), 0))
                self._send_batch(events if whole else events[i:i + BATCH_EVENTS])

    def _drop_from(self, records: "List[Any]", keep: int) -> None:
        """Drops (and counts) the records after the first `keep`: the newest."""
        if len(records) > keep:
            self._note_dropped(records, keep)
            self.dropped += len(records) - keep
            del records[keep:]

    def _note_dropped(self, records: "List[Any]", start: int) -> None:
        """Widens the time range of the records dropped since the last batch (wire dropped_ns)
        to the records from `start` on: their first and last timestamps."""
        first = last = None
        for i in range(start, len(records)):
            rec = records[i]
            if rec[0] != THREAD_NOTE and type(rec[3]) is int:
                first = rec[3]
                break
        for i in range(len(records) - 1, start - 1, -1):
            rec = records[i]
            if rec[0] != THREAD_NOTE and type(rec[3]) is int:
                last = rec[3]
                break
        if first is None or last is None:
            return
        lo, hi = min(first, last) - self.origin, max(first, last) - self.origin
        r = self._dropped_ns
        self._dropped_ns = [lo, hi] if r is None else [min(r[0], lo), max(r[1], hi)]

    def close(self) -> None:
        """Stops the writer thread after a last batch; later records are ignored."""
        self._stop.set()
        t = self._thread
        if t is not None and t.ident != threading.get_ident():
            t.join(2.0)
        self.flush()
        with self._lock:
            self.closed = True

    # -- interning ----------------------------------------------------------------------------
    def _string(self, text: str, out: List[Any]) -> int:
        sid = self._strings.get(text)
        if sid is None:
            if len(self._strings) >= 200_000:
                self._strings.clear()  # bound memory: re-sent strings get new ids
            sid = self._next_string = self._next_string + 1
            self._strings[text] = sid
            out.append([sid, text])
        return sid

    def _thread_id(self, ident: int, out: List[Any]) -> int:
        tid = self._threads.get(ident)
        if tid is None:
            tid = self._next_thread = self._next_thread + 1
            self._threads[ident] = tid
            native, name = self.thread_names.pop(ident, (0, ""))
            if not name:
                t = threading._active.get(ident)  # type: ignore[attr-defined]
                if t is not None:
                    native, name = getattr(t, "native_id", None) or 0, t.name
                else:
                    name = "Thread %d" % ident
            out.append([tid, native, name])
        return tid

    def _code_id(self, code: Any, files: List[Any], codes: List[Any]) -> int:
        key = id(code)
        cid = self._codes.get(key)
        if cid is None:
            info = self.code_info.get(key)
            cid = len(self._codes) + 1
            self._codes[key] = cid
            if not hasattr(code, "co_filename"):
                # A C function (C call events): a code def with file 0.
                module = getattr(code, "__module__", None) or ""
                qualname = getattr(code, "__qualname__", None) or getattr(code, "__name__", "?")
                if info is None:
                    self.code_info[key] = (code, module, qualname)
                codes.append([cid, 0, str(module), str(qualname), 0, [], 0])
                return cid
            module, qualname = (info[1], info[2]) if info else ("", code.co_name)
            path = code.co_filename
            fid = self._files.get(path)
            if fid is None:
                fid = len(self._files) + 1
                self._files[path] = fid
                files.append([fid, path])
            names, flags = code_signature(code)
            if info is None:
                self.code_info[key] = (code, module, qualname)  # keep it alive: ids stay unique
            codes.append([cid, fid, module, qualname, code.co_firstlineno, list(names), flags])
        return cid

    def _type_name(self, t: type, strings: List[Any]) -> int:
        sid = self._types.get(t)
        if sid is None:
            sid = self._string(exception_type_name(t), strings)
            self._types[t] = sid
        return sid

    def _line(self, code: Any, offset: int) -> int:
        table = self._lines.get(id(code))
        if table is None:
            starts: List[int] = []
            lines: List[int] = []
            for start, _end, line in code.co_lines():
                starts.append(start)
                lines.append(line if line is not None else (lines[-1] if lines else code.co_firstlineno))
            table = self._lines[id(code)] = (starts, lines)
        global _bisect_right
        if _bisect_right is None:  # only the pure-Python builder needs it (start-up time)
            from bisect import bisect_right as _bisect_right
        i = _bisect_right(table[0], offset) - 1
        return table[1][i] if i >= 0 else code.co_firstlineno

    def _event_slow(self, rec: Any, strings: List[Any], files: List[Any], codes: List[Any],
                    threads: List[Any], out: List[Any]) -> None:
        """One record to its wire event (appended to out); every kind, the reference code."""
        kind = rec[0]
        if kind == 0:
            return  # a Handled the program re-raised: cancelled
        if kind == THREAD_NOTE:
            self._threads.pop(rec[1], None)
            self.thread_names[rec[1]] = (rec[2], rec[3])
            return
        string = self._string
        thread = self._thread_id(rec[1], threads)
        code = rec[2]
        cid = self._code_id(code, files, codes) if code is not None else 0
        ts = rec[3] - self.origin
        if kind == 1:
            ev = [1, thread, cid, ts]
            for text in rec[4]:
                ev.append(string(text, strings))
        elif kind == 2 or kind == 6:
            line = self._line(code, rec[4]) if self._offsets else rec[4]
            ev = [kind, thread, cid, ts, line, string(rec[5], strings)]
        elif kind == 7 or kind == 10 or kind == 11:
            ev = [kind, thread, cid, ts]
        elif kind == 9:
            ev = [9, thread, cid, ts, string(rec[4], strings)]
        elif kind == 8:
            ev = [8, thread, cid, ts, rec[4], string(rec[5], strings), string(rec[6], strings)]
        else:
            ev = [kind, thread, cid, ts, rec[4], self._type_name(rec[5], strings),
                  string(rec[6], strings)]
        out.append(ev)

    def _build_pure(self, events: List[Any], strings: List[Any], files: List[Any],
                    codes: List[Any], threads: List[Any]) -> List[Any]:
        """The pure-Python batch builder: common kinds inline, the rest in _event_slow."""
        out: List[Any] = []
        append = out.append
        origin = self.origin
        string = self._string
        strings_get = self._strings.get
        thread_ids = self._threads
        code_ids = self._codes
        thread_id = self._thread_id
        code_id = self._code_id
        offsets = self._offsets
        line_of = self._line
        slow = self._event_slow
        _id = id
        for rec in events:
            kind = rec[0]
            if kind == 1 or kind == 2 or kind == 6 or kind == 7:
                ident = rec[1]
                thread = thread_ids.get(ident)
                if thread is None:
                    thread = thread_id(ident, threads)
                code = rec[2]
                cid = code_ids.get(_id(code))
                if cid is None:
                    cid = code_id(code, files, codes)
                ts = rec[3] - origin
                if kind == 1:
                    ev = [1, thread, cid, ts]
                    for text in rec[4]:
                        sid = strings_get(text)
                        ev.append(sid if sid is not None else string(text, strings))
                elif kind == 7:
                    ev = [7, thread, cid, ts]
                else:
                    text = rec[5]
                    sid = strings_get(text)
                    ev = [kind, thread, cid, ts, line_of(code, rec[4]) if offsets else rec[4],
                          sid if sid is not None else string(text, strings)]
                append(ev)
            else:
                slow(rec, strings, files, codes, threads, out)
        return out

    def _send_batch(self, events: List[Any]) -> None:
        strings: List[Any] = []
        files: List[Any] = []
        codes: List[Any] = []
        threads: List[Any] = []
        out: List[Any]
        data = None
        if self._packed:
            out = []
            data, count = self._build(self, events, strings, files, codes, threads, True)
        else:
            if self._build is not None:
                out = self._build(self, events, strings, files, codes, threads)
            else:
                out = self._build_pure(events, strings, files, codes, threads)
            count = len(out)
        self.recorded += count
        if not count and not self.dropped and self._seq > 0:
            return
        self._seq += 1
        message = {"t": "batch", "seq": self._seq, "strings": strings, "files": files,
                   "codes": codes, "threads": threads, "events": out, "dropped": self.dropped}
        if data:
            message["packed"] = data
        if self.dropped and self._dropped_ns is not None:
            message["dropped_ns"] = self._dropped_ns
        self._dropped_ns = None
        self.dropped = 0
        self._send(message)


def _take(buf: List[Any]) -> List[Any]:
    """The items of buf in a new list, buf left empty (the accelerator's `take` without copying)."""
    items = buf[:]
    del buf[:len(items)]  # those only: the callbacks may have appended more meanwhile
    return items


def code_signature(code: Any) -> Tuple[Tuple[str, ...], int]:
    """Argument names (positional, keyword-only, *args, **kwargs) and wire CodeFlags of a code."""
    flags_in = code.co_flags
    n = code.co_argcount + code.co_kwonlyargcount
    flags = 0
    if flags_in & 0x04:
        n += 1
        flags |= wire.VARARGS
    if flags_in & 0x08:
        n += 1
        flags |= wire.VARKEYWORDS
    if flags_in & 0x20:
        flags |= wire.GENERATOR
    if flags_in & 0x80:
        flags |= wire.COROUTINE
    if flags_in & 0x200:
        flags |= wire.ASYNC_GENERATOR
    return tuple(code.co_varnames[:n]), flags
