# Child processes traced too (default on; `run --no-children` switches it off). A traced program
# hands its children what they need through the environment, on purpose:
#   TRACELENS_CHILD = JSON {connect, token, root, include, exclude, spec, max_depth, from,
#                           value_limit, c_calls, buffer}
#   PYTHONPATH      = <tracer>/tracelens/child_site : <tracer> : the program's own PYTHONPATH
# child_site/sitecustomize.py starts a Session in any Python child (subprocess, multiprocessing
# spawn and forkserver) that connects back with its own hello (pid, ppid), then runs the next
# sitecustomize on the path. The token travels in that variable because children need it; it is
# the session's token (the adapter's, or a one-off one of the parent's own collector), so a
# child's environment is as sensitive as the parent's. Forked children (os.fork,
# multiprocessing fork) re-start tracing in os.register_at_fork: a new connection and hello;
# what the parent had buffered stays with the parent. A subprocess started with its own env= gets
# the two variables added to a copy of that mapping (subprocess.Popen's _execute_child is wrapped
# when subprocess is imported; the program's mapping is never changed). Children started by
# os.exec*/os.posix_spawn with their own environment, with -E / -I, or by an interpreter older
# than 3.9 are not traced.
# Also: the parent's collector (children of `run --output`: their messages go into the same file).
from __future__ import annotations

import atexit
import os
import sys
import threading

import _socket

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

from . import wire

__all__ = ["CHILD_ENV", "SITE_DIR", "child_config", "enable", "start_from_env", "Collector",
           "current_session"]

CHILD_ENV = wire.CHILD_ENV
_HERE = os.path.dirname(os.path.abspath(__file__))
SITE_DIR = os.path.join(_HERE, "child_site")
TRACER_DIR = os.path.dirname(_HERE)
HELLO_TIMEOUT = 10.0  # seconds a connecting child has to send its hello

_state: Dict[str, Any] = {"config": None, "session": None, "forget": None, "hooked": False,
                          "pid": None}


def current_session() -> Any:
    return _state["session"]


def child_config(connect: str, token: str, flt: Any, *, value_limit: int, c_calls: bool,
                 buffer: int, extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    config = {"connect": connect, "token": token, "root": flt.scope.root.rstrip(os.sep),
              "include": list(flt.scope.include), "exclude": list(flt.scope.exclude),
              "spec": flt.spec, "max_depth": flt.max_depth, "from": flt.from_glob,
              "value_limit": value_limit, "c_calls": c_calls, "buffer": buffer}
    if extra:
        config.update(extra)
    return config


def enable(config: Dict[str, Any], session: Any, forget: Optional[Callable[[], None]] = None) -> None:
    """Children of this process are traced with `config`. forget() is called in a forked child
    to drop, without a word, what belongs to the parent (its connection, its trace file)."""
    config = dict(config, parent=os.getpid())  # a child's hello names its traced parent
    _state["config"] = config
    _state["session"] = session
    _state["forget"] = forget
    _state["pid"] = os.getpid()
    os.environ[CHILD_ENV] = wire.json_text(config)
    os.environ["PYTHONPATH"] = _tracer_first(os.environ.get("PYTHONPATH"), os.pathsep,
                                             [SITE_DIR, TRACER_DIR])
    _hook_subprocess()
    if not _state["hooked"] and hasattr(os, "register_at_fork"):
        _state["hooked"] = True  # hooks survive fork: the child's child is covered too
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def _tracer_first(old: Any, sep: Any, ours: List[Any]) -> Any:
    """A PYTHONPATH value (str or bytes) with our directories first and only there."""
    parts = [p for p in old.split(sep) if p not in ours] if old else []
    return sep.join(ours + parts)


def child_env(env: Any) -> Any:
    """A copy of the environment mapping a program gave a subprocess, with what its Python
    child needs to be traced: CHILD_ENV (unless the mapping has it) and the tracer's two
    directories first on PYTHONPATH. Keys stay str or bytes, as the mapping has them."""
    if _state["config"] is None:
        return env
    config = wire.json_text(_state["config"])
    new = dict(env)
    as_bytes = any(isinstance(k, bytes) for k in new)

    def key(name: str) -> Any:
        return os.fsencode(name) if as_bytes else name

    def value(text: str) -> Any:
        return os.fsencode(text) if as_bytes else text

    if key(CHILD_ENV) not in new:
        new[key(CHILD_ENV)] = value(config)
    new[key("PYTHONPATH")] = _tracer_first(new.get(key("PYTHONPATH")), value(os.pathsep),
                                           [value(SITE_DIR), value(TRACER_DIR)])
    return new


def _hook_subprocess() -> None:
    """subprocess.Popen's children with their own env= get child_env(env): now if subprocess is
    imported, else when it is (a finder on sys.meta_path that only watches for that name)."""
    module = sys.modules.get("subprocess")
    if module is not None:
        _wrap_popen(module)
    elif not any(isinstance(f, _SubprocessWatch) for f in sys.meta_path):
        sys.meta_path.insert(0, _SubprocessWatch())


def _wrap_popen(module: Any) -> None:
    popen = getattr(module, "Popen", None)
    original = getattr(popen, "_execute_child", None)
    if original is None or getattr(original, "_tracelens", False):
        return

    def _execute_child(self: Any, args: Any, executable: Any, preexec_fn: Any, close_fds: Any,
                       pass_fds: Any, cwd: Any, env: Any, *rest: Any) -> Any:
        if env is not None:
            try:
                env = child_env(env)
            except Exception:
                pass  # a mapping we cannot copy: the child as the program asked for it
        return original(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, *rest)

    _execute_child._tracelens = True  # type: ignore[attr-defined]
    _execute_child.__wrapped__ = original  # type: ignore[attr-defined]
    popen._execute_child = _execute_child


class _SubprocessWatch:
    """On sys.meta_path until subprocess is imported: the normal finders find and load it, then
    its Popen is wrapped. Every other import passes through at the cost of one name comparison."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "subprocess":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        import importlib.util
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            try:
                del loader.exec_module  # the loader as it was, once subprocess has run
            except AttributeError:
                pass
            original(module)
            try:
                _wrap_popen(module)
            except Exception:
                pass

        try:
            loader.exec_module = exec_module
        except Exception:
            pass  # a loader that takes no attributes: subprocess unwrapped
        return spec


def _before_fork() -> None:
    """Imports, in the forking thread, what the child's new session imports. A module another
    thread is importing at the moment of the fork stays locked forever in the child; importing it
    here first waits for that import to finish."""
    try:
        import json  # noqa: F401  (the child's hello goes through wire's JSON)
        from . import api, connection, filters, scope, session  # noqa: F401
        if sys.version_info >= (3, 12):
            from . import monitoring  # noqa: F401
        else:
            from . import settrace  # noqa: F401
    except Exception:
        pass


def _after_fork_in_child() -> None:
    config = _state["config"]
    old = _state["session"]
    if config is None:
        return
    try:
        if old is not None:
            old.forget_in_child()
        forget = _state["forget"]
        if forget is not None:
            forget()
        _state["forget"] = None
        _start(config, fork=True)
    except Exception as exc:
        try:
            sys.stderr.write("tracelens: could not trace the forked child %d: %s\n"
                             % (os.getpid(), exc))
        except Exception:
            pass


def start_from_env() -> None:
    """Called by child_site/sitecustomize.py in a new Python child."""
    text = os.environ.get(CHILD_ENV)
    if not text or _state["session"] is not None:
        return
    try:
        import json
        config = json.loads(text)
        _start(config, fork=False)
    except Exception as exc:
        try:
            sys.stderr.write("tracelens: could not trace this child process: %s\n" % exc)
        except Exception:
            pass


def _start(config: Dict[str, Any], fork: bool) -> None:
    from .connection import Connection
    from .filters import Filter
    from .scope import Scope
    from .session import Session
    connection = Connection(config["connect"])
    flt = Filter(Scope(config["root"], config.get("include") or [], config.get("exclude") or []),
                 config.get("spec"), config.get("max_depth"), config.get("from"))
    argv = list(getattr(sys, "argv", None) or [])
    session = Session(connection.send, flt, argv=argv, token=config.get("token") or "",
                      value_limit=int(config.get("value_limit") or 120),
                      capacity=int(config.get("buffer") or 4_000_000),
                      c_calls=bool(config.get("c_calls")), lines=config.get("lines") or [],
                      sample_hz=float(config.get("sample") or 0), probes=config.get("probes"),
                      values=config.get("values") or "repr", reprs=config.get("reprs") or "all",
                      value_depth=int(config.get("value_depth", 2)),
                      value_width=int(config.get("value_width", 8)),
                      calls=bool(config.get("calls", True)))
    if isinstance(config.get("parent"), int):
        session.parent_pid = config["parent"]
    connection.on_lost = session.connection_lost
    connection.on_control = session.control
    _state["session"] = session
    _state["config"] = config
    _state["pid"] = os.getpid()
    _state["forget"] = lambda: connection.sock.close()
    try:
        from . import api
        del api._active[:]
        api._active.append(session)
    except Exception:
        pass
    session.start()
    connection.start_reader()

    def finish() -> None:
        if _state["session"] is session and os.getpid() == _state["pid"]:
            session.end(None, "exit")
            connection.close()

    atexit.register(finish)
    if fork and "multiprocessing" in sys.modules:
        # A multiprocessing fork child ends with os._exit after its finalizers: end there.
        try:
            from multiprocessing import util

            def register(_obj: Any) -> None:
                util.Finalize(None, finish, exitpriority=-100)
            util.register_after_fork(session, register)
        except Exception:
            pass


def _private_dir() -> str:
    """A new directory only this user can enter, as tempfile.mkdtemp makes (tempfile costs ~4 ms
    of start-up to import)."""
    base = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp"
    for _ in range(100):
        path = os.path.join(base, "tracelens-children-" + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
        except OSError:
            break
    import tempfile  # an unusual temporary directory: let tempfile find one that works
    return tempfile.mkdtemp(prefix="tracelens-children-")


def _compare_digest(a: str, b: str) -> bool:
    try:
        from _operator import _compare_digest as compare  # what hmac uses, without _hashlib
    except ImportError:  # pragma: no cover - not CPython
        from hmac import compare_digest as compare
    return compare(a, b)


class Collector:
    """The parent's own trace server for its children (`run --output` without --connect): a
    Unix socket in a private directory; each connection that opens with a hello carrying the
    one-off token becomes a process of the trace file."""

    def __init__(self, new_sink: Optional[Callable[[], Callable[[Dict[str, Any]], None]]]) -> None:
        self.token = os.urandom(16).hex()
        self._dir = _private_dir()
        os.chmod(self._dir, 0o700)
        self.path = os.path.join(self._dir, "c.sock")
        # _socket, not socket: what is used here is the same, and socket's import costs ~3 ms
        # of every traced program's start-up.
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(64)
        self.address = "unix:" + self.path
        self._threads: List[Any] = []  # OwnThreads
        self._closed = False
        self._thread: Any = None  # an OwnThread
        if new_sink is not None:
            self.start(new_sink)

    def start(self, new_sink: Callable[[], Callable[[Dict[str, Any]], None]]) -> None:
        """Accepts connections from now on, each child's messages going to a new_sink() (no
        sink given at construction: the socket is made first, in the process that forks the
        trace file's writer process, which starts it)."""
        self._new_sink = new_sink
        from .ownthreads import OwnThread
        self._thread = OwnThread(self._accept, "tracelens-children")
        self._thread.start()

    def handed_over(self) -> None:
        """In the process that made the socket, once the writer process has its copy."""
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self) -> None:
        # The hello is read here, before the next connection is accepted, so that processes
        # are numbered in the order they connected (children run one after the other get
        # their numbers in that order, whatever the threads serving them do). Once close() has
        # begun, a connection without a hello is its wake-up call: every child that connected
        # before it has been taken by then.
        while True:
            try:
                fd, _ = self.sock._accept()
                conn = _socket.socket(fileno=fd)
            except OSError:
                return
            opened = self._open(conn)
            if opened is None:
                conn.close()
                if self._closed:
                    return
                continue
            from .ownthreads import OwnThread
            t = OwnThread(self._serve, "tracelens-child-conn", (conn,) + opened)
            t.start()
            self._threads.append(t)

    def _open(self, conn: Any) -> Optional[Tuple[wire.FrameReader, Any, List[Any]]]:
        """Reads up to the first message; a sink if it is a hello with the token."""
        reader = wire.FrameReader()
        conn.settimeout(HELLO_TIMEOUT)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return None
                messages = reader.feed(data)
                if messages:
                    break
        except (OSError, wire.WireError):
            return None
        conn.settimeout(None)
        first = messages[0]
        if first.get("t") != "hello" or not _compare_digest(
                str(first.get("token", "")), self.token):
            return None
        return reader, self._new_sink(), messages

    def _serve(self, conn: Any, reader: wire.FrameReader,
               sink: Callable[[Dict[str, Any]], None], pending: List[Any]) -> None:
        ended = False
        try:
            while True:
                for m in pending:
                    sink(m)
                    if m.get("t") == "end":
                        ended = True
                data = conn.recv(65536)
                if not data:
                    break
                pending = reader.feed(data)
        except (OSError, wire.WireError):
            pass
        finally:
            if not ended:
                try:
                    sink({"t": "end", "exit_code": None, "reason": "exit"})
                except Exception:
                    pass
            conn.close()

    def close(self, wait: float = 2.0) -> None:
        """Takes the connections children made before now (still in the listen backlog), then
        stops accepting; waits a little for children still sending."""
        self._closed = True
        try:
            wake = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            try:
                wake.connect(self.path)
            finally:
                wake.close()
            # Normally at once; a loaded machine may take a while to take the backlog.
            if self._thread is not None:
                self._thread.join(max(wait, 10.0))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        for t in list(self._threads):
            t.join(wait)
        try:
            os.remove(self.path)
            os.rmdir(self._dir)
        except OSError:
            pass
