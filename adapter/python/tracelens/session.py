# One tracing session inside the traced process: builds the recorder and the backend for this
# interpreter, sends hello, applies control messages, and ends exactly once (exit, exception,
# signal, detach, lost connection, internal error) restoring the hooks it replaced.
# Does not run the program (runner.py) or parse the command line (cli.py).
from __future__ import annotations

import os
import sys
import threading

try:
    import _signal as signal  # signal without the enum module it imports (start-up time)
except ImportError:  # pragma: no cover - not CPython
    import signal  # type: ignore[no-redef]

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional

from . import wire
from .filters import Filter, FilterError
from .recorder import Recorder
from .ownthreads import Stop
from .scope import Scope
from .values import DEFAULT_LIMIT, make_repr

__all__ = ["Session", "backend_name"]


def backend_name() -> str:
    return "monitoring" if sys.version_info >= (3, 12) else "settrace"


class Session:
    def __init__(self, send: Callable[[Dict[str, Any]], None], scope: Any, *,
                 argv: List[str], token: str = "", value_limit: int = DEFAULT_LIMIT,
                 capacity: int = 4_000_000, c_calls: bool = False, lines: List[str] = (),
                 sample_hz: float = 0, probes: Optional[str] = None,
                 values: str = "repr", reprs: str = "all", value_depth: int = 2,
                 value_width: int = 8, calls: bool = True, packed: bool = False) -> None:
        self._raw_send = send
        self._send_lock = threading.Lock()
        self._sent_files: Dict[str, int] = {}  # path -> wire file id, from batches already sent
        self._send = self._locked_send
        self.lines = list(lines)
        self.sample_hz = sample_hz
        self.probes_text = probes
        self._line_stats: Any = None
        self._sample_stats: Any = None
        self._pending: Dict[bool, Dict[Any, List[int]]] = {False: {}, True: {}}
        self._features: List[Any] = []  # line mode, sampler, probes: each has stop()
        self._ticker: Any = None  # an OwnThread
        self._tick_stop = Stop()
        # A Scope (the simple form) or a Filter (scope plus filter spec, depth, --from).
        self.filter: Filter = scope if isinstance(scope, Filter) else Filter(scope)
        self.scope: Scope = self.filter.scope
        self.c_calls = c_calls
        self.calls = calls  # False: no call recording (sampling and probes only)
        #: Called after end() when SIGTERM ends the process (the trace file's writer waits).
        self.before_signal_exit: Optional[Callable[[], Any]] = None
        self.argv = argv
        self.token = token
        self.recorder = Recorder(self._send, offsets=backend_name() == "monitoring",
                                 capacity=capacity, packed=packed)
        self.recorder.on_error = self.internal_error
        self.rep = make_repr(value_limit, structured=values == "structured", policy=reprs,
                             depth=value_depth, width=value_width)
        self.backend: Any = None
        self.ended = False
        self.errored = False
        self._lock = threading.RLock()
        self._sigterm_installed = False
        self._thread_hook_installed = False

    # -- life cycle ---------------------------------------------------------------------------------
    # The pid of the traced process that started this one (children: from their config).
    parent_pid: Optional[int] = None

    def _ppid(self) -> int:
        """The parent's pid; a child whose traced parent has already ended (reparented to init)
        names that parent, not init."""
        ppid = os.getppid()
        if ppid == 1 and self.parent_pid:
            return self.parent_pid
        return ppid

    def start(self) -> None:
        self._send({
            "t": "hello", "version": wire.WIRE_VERSION, "token": self.token,
            "pid": os.getpid(), "ppid": self._ppid(),
            "python": "%d.%d.%d" % sys.version_info[:3], "backend": backend_name(),
            "argv": list(self.argv), "cwd": os.getcwd(), "start_ns": self.recorder.start_ns,
        })
        self.recorder.note_thread()
        self._note_running_threads()
        if not self.calls:
            pass
        elif sys.version_info >= (3, 12):
            from .monitoring import MonitoringBackend
            self.backend = MonitoringBackend(self.recorder, self.filter, self.rep,
                                             self.internal_error, c_calls=self.c_calls)
        else:
            from .settrace import SettraceBackend
            self.backend = SettraceBackend(self.recorder, self.filter, self.rep, self.internal_error)
        self._install_thread_hook()
        self._install_sigterm()
        from . import forkwarn
        forkwarn.install()  # our threads must not make os.fork() warn
        self.recorder.start()
        line_mode = None
        if self.lines and self.backend is not None:
            from .linemode import LineMode, LineStats
            self._line_stats = LineStats()
            line_mode = LineMode(self.filter, self.lines, self._line_stats)
        if self.backend is None:
            pass
        elif line_mode is not None and backend_name() == "settrace":
            self.backend.start(wrap=line_mode.wrap_settrace)
        else:
            self.backend.start()
        if line_mode is not None:
            if backend_name() == "monitoring":
                line_mode.start_monitoring()
            self._features.append(line_mode)
        if self.probes_text:
            from .probes import Probes, parse_probes
            use_gc, audit = parse_probes(self.probes_text)
            probes = Probes(self.recorder.buf.append, self.rep, self.scope, use_gc, audit)
            probes.start()
            self._features.append(probes)
        if self.sample_hz:
            from .linemode import LineStats
            from .sampler import Sampler
            self._sample_stats = LineStats()
            sampler = Sampler(self.sample_hz, self.scope, self._sample_stats)
            sampler.start()
            self._features.append(sampler)
        if self._line_stats is not None or self._sample_stats is not None:
            from .ownthreads import OwnThread
            self._ticker = OwnThread(self._tick, "tracelens-lines")
            self._ticker.start()

    # -- sending ----------------------------------------------------------------------------------
    def _locked_send(self, message: Dict[str, Any]) -> None:
        # One message at a time (writer thread, line figures, control); remembers which file ids
        # the adapter has, as `lines` may only use those.
        with self._send_lock:
            if message.get("t") == "batch" and message.get("files"):
                for fid, path in message["files"]:
                    self._sent_files[path] = fid
            self._raw_send(message)

    def _tick(self) -> None:
        while not self._tick_stop.wait(0.1):
            try:
                self.flush_lines()
            except Exception as exc:
                self.internal_error(exc)
                return

    def flush_lines(self, final: bool = False) -> None:
        """Sends the line figures gathered since the last call. Sampled figures of files no
        batch has defined yet get them defined first (sampled code need not be recorded); line
        mode figures wait for their file's definition."""
        for stats, sampled in ((self._line_stats, False), (self._sample_stats, True)):
            if stats is None:
                continue
            taken = stats.take(final)
            pending = self._pending[sampled]
            for key, v in taken.items():
                e = pending.get(key)
                if e is None:
                    pending[key] = v
                else:
                    e[0] += v[0]
                    e[1] += v[1]
                    e[2] += v[2]
            if not pending:
                continue
            files = self._sent_files
            if sampled:
                missing = sorted({key[0] for key in pending if key[0] not in files})
                if missing:
                    from .sampler import define_files
                    define_files(self.recorder, missing)
            out = []
            for key in list(pending):
                fid = files.get(key[0])
                if fid is not None:
                    v = pending.pop(key)
                    out.append([fid, key[1], v[0], v[1], v[2]])
            if out:
                out.sort()
                self._send({"t": "lines", "sampled": sampled, "stats": out})

    def _note_running_threads(self) -> None:
        # Threads already running (sys.monitoring traces them too): their names now, as they may
        # end before the writer gets to their first event.
        me = threading.get_ident()
        for t in threading.enumerate():
            ident = t.ident
            if ident is None or ident == me:
                continue
            self.recorder.note_thread_of(ident, getattr(t, "native_id", None) or 0, t.name)

    def _install_thread_hook(self) -> None:
        # New threads report their name once. With sys.monitoring the backend sees threading's
        # bootstrap code start (nothing the program can see); else a threading.setprofile hook
        # that removes itself (the profile hook is unused otherwise).
        recorder = self.recorder
        if self.backend is not None and hasattr(self.backend, "on_thread_start"):
            self.backend.on_thread_start = recorder.note_thread_of
            return
        if self.backend is None and not self.probes_text:
            return  # heat only: nothing recorded per thread, nothing to name
        if getattr(threading, "_profile_hook", None) is not None:
            return

        def hook(frame: Any, event: str, arg: Any) -> None:
            sys.setprofile(None)
            try:
                recorder.note_thread()
            except Exception:
                pass

        threading.setprofile(hook)
        self._thread_hook_installed = True

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
                return  # the program (or its parent) chose what SIGTERM does: leave it
            signal.signal(signal.SIGTERM, self._on_sigterm)
            self._sigterm_installed = True
        except (ValueError, OSError, AttributeError):
            pass

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self.end(-signum, "signal")
        if self.before_signal_exit is not None:
            try:
                self.before_signal_exit()
            except Exception:
                pass
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _stop_hooks(self) -> None:
        backend = self.backend
        if backend is not None:
            backend.stop()
        self._tick_stop.set()
        for feature in self._features:
            try:
                feature.stop()
            except Exception:
                pass
        if self._thread_hook_installed:
            self._thread_hook_installed = False
            try:
                threading.setprofile(None)  # type: ignore[arg-type]
            except Exception:
                pass
        if self._sigterm_installed:
            self._sigterm_installed = False
            try:
                if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
            except Exception:
                pass

    def end(self, exit_code: Optional[int], reason: str) -> None:
        """Stops tracing, sends the last batch and `end` (once; later calls do nothing)."""
        with self._lock:
            if self.ended:
                return
            self.ended = True
            try:
                self._stop_hooks()
                self.recorder.close()
                if self._ticker is not None:
                    self._ticker.join(1.0)
                    self.flush_lines(final=True)
                self._send({"t": "end", "exit_code": exit_code, "reason": reason})
            except Exception:
                pass

    def forget_in_child(self) -> None:
        """In a forked child: this session is the parent's; stop its hooks without a word."""
        self.ended = True
        try:
            self.recorder.closed = True
            del self.recorder.buf[:]
            self._stop_hooks()
            if backend_name() == "monitoring":
                sys.monitoring.restart_events()  # type: ignore[attr-defined]
        except Exception:
            pass

    # -- failures and control ---------------------------------------------------------------------
    def internal_error(self, exc: BaseException, stderr: bool = True) -> None:
        """An error inside the tracer: stop tracing, tell the adapter once, let the program go on."""
        if self.errored:
            return
        self.errored = True
        message = "%s: %s" % (type(exc).__name__, exc)
        try:
            self.backend.stop()
        except Exception:
            pass
        try:
            if stderr:
                sys.stderr.write("tracelens: tracing stopped after an internal error (%s); "
                                 "the program goes on untraced\n" % message)
        except Exception:
            pass
        try:
            self._send({"t": "error", "message": message})
        except Exception:
            pass

    def connection_lost(self) -> None:
        """The adapter went away: stop tracing quietly."""
        with self._lock:
            if self.ended:
                return
            self.ended = True
            try:
                self._stop_hooks()
                self.recorder.closed = True
            except Exception:
                pass

    def control(self, message: Dict[str, Any]) -> None:
        kind = message.get("t")
        backend = self.backend
        if self.ended:
            return
        try:
            if kind == "detach":
                self.end(None, "detach")
            elif backend is None:
                return  # no call recording: pause, resume and filters have nothing to act on
            elif kind == "pause":
                backend.pause()
            elif kind == "resume":
                backend.resume()
            elif kind == "filter":
                try:
                    new = filter_from_message(self.scope.root, message, self.scope.command)
                except FilterError as exc:
                    sys.stderr.write("tracelens: filter not applied: %s\n" % exc)
                    return
                self.filter = new
                self.scope = new.scope
                backend.set_filter(new)
        except Exception as exc:
            self.internal_error(exc)


def filter_from_message(root: str, message: Dict[str, Any], command: bool = False) -> Filter:
    """The Filter a `filter` control message asks for (it replaces the whole filter)."""
    include = [str(g) for g in message.get("include") or []]
    exclude = [str(g) for g in message.get("exclude") or []]
    max_depth = message.get("max_depth")
    if max_depth is not None and (not isinstance(max_depth, int) or isinstance(max_depth, bool)):
        raise FilterError("max_depth must be a whole number, got %r" % (max_depth,))
    from_glob = message.get("from")
    if from_glob is not None and not isinstance(from_glob, str):
        raise FilterError("from must be a string, got %r" % (from_glob,))
    return Filter(Scope(root, include, exclude, command), message.get("spec"), max_depth,
                  from_glob)
