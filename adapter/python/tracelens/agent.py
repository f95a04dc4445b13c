# The attach agent: lets a Tracelens adapter attach to this running program, trace it, and detach
# leaving it as it was. It does nothing until the program opts in, and nothing listens unless it
# did; TRACELENS_AGENT_DISABLE=1 switches it off. Ways to opt in:
#   import tracelens.agent; tracelens.agent.install()            (in the program)
#   python -m tracelens.agent [--] PROGRAM [ARGS...]  /  -m MODULE   (runs it with the agent)
#   TRACELENS_AGENT=1 and PYTHONPATH=<tracer dir>/tracelens/attach_site  (sitecustomize hook)
#
# Design. install() makes the per-user runtime directory (attach_files.py: 0700, ours), writes a
# random token to <pid>.token (0600), listens on the Unix socket <pid>.sock (0600, inside the 0700
# directory, peer uid checked with SO_PEERCRED) and announces itself in <pid>.json (0600). A client
# (the adapter) connects and sends ONE frame (wire.py framing):
#   {"t": "attach", "version": WIRE_VERSION, "token": <from <pid>.token>,
#    "connect": "127.0.0.1:PORT" | "unix:PATH", "session_token": <adapter's session token>,
#    "include": [globs], "exclude": [globs], "value_limit": N (optional)}
# The agent compares the token in constant time; when it is right and no one else is attached it
# replaces the token (each token works once), starts the same Session the `run` command starts,
# connected OUT to the adapter's trace server exactly as `run --connect` does (hello with the
# session token, batches, control messages pause/resume/filter/detach), and answers
# {"t": "attached", ...}; otherwise {"t": "refused", "reason": ...} and a line in <pid>.log.
# The client's agent connection then stays open as a lease: {"t": "detach"} on it, closing it, a
# `detach` control message or the trace connection breaking all detach: tracing stops, the last
# batch and `end` are sent, the previous trace/profile hooks and the monitoring tool id are put
# back, {"t": "detached"} is answered, and the program goes on. Attaching again works (new token).
# Nothing from either socket is executed: only the message kinds above are understood.
# Threads: on 3.12+ sys.monitoring covers every thread, including ones running before the attach.
# On 3.9-3.11, with the C accelerator (accel.py), every thread already running is traced too:
# on 3.10 and 3.11 through the eval gate (settrace.py) when no thread has a trace function of its
# own, else each
# gets its own previous trace function back on detach (attach_threads.AllThreadsTrace). Without it
# (TRACELENS_ACCEL=0, no compiler) only the main thread (through Py_AddPendingCall) and threads
# started while attached are traced (sys.settrace can only be set by a thread for itself there).
# At exit the announcement, token, socket and log are removed (atexit; not in a forked child).
from __future__ import annotations

import atexit
import hmac
import os
import secrets
import socket
import struct
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from . import wire
from .ownthreads import OwnThread
from .attach_files import AgentFiles, UnsafeDirectory, ensure_private_dir, remove_stale, runtime_dir

__all__ = ["install", "uninstall", "current", "Agent", "AgentError", "ENABLE_ENV", "DISABLE_ENV",
           "AGENT_VERSION", "main"]

ENABLE_ENV = "TRACELENS_AGENT"
DISABLE_ENV = "TRACELENS_AGENT_DISABLE"
AGENT_VERSION = 1
#: Requests are small; an unknown peer may not make the agent buffer more.
MAX_REQUEST = 64 * 1024
REQUEST_TIMEOUT = 5.0
MAX_CLIENTS = 4
LOOPBACK = ("127.0.0.1", "::1", "localhost")

_agent: Optional["Agent"] = None
_install_lock = threading.Lock()


class AgentError(Exception):
    """The agent could not start (unsafe runtime directory, socket path, ...)."""


class Refused(Exception):
    """A client's request is refused; the message is sent back to it."""


def _disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "") not in ("", "0")


def _peer_uid(conn: socket.socket) -> Optional[int]:
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1]
    except (AttributeError, OSError):
        return None


def _send(conn: socket.socket, message: Dict[str, Any]) -> None:
    try:
        conn.sendall(wire.encode_frame(message))
    except OSError:
        pass


class _Frames:
    """Reads whole frames from a socket, one at a time."""

    def __init__(self, conn: socket.socket, max_frame: int) -> None:
        self.conn = conn
        self.reader = wire.FrameReader(max_frame)
        self.pending: List[Dict[str, Any]] = []

    def next(self) -> Optional[Dict[str, Any]]:
        """The next message, or None at the end (or on a timeout or a broken frame)."""
        while not self.pending:
            try:
                data = self.conn.recv(65536)
            except OSError:
                return None
            if not data:
                return None
            try:
                self.pending.extend(self.reader.feed(data))
            except wire.WireError:
                return None
        return self.pending.pop(0)


def _strings(value: Any, name: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refused("%s must be a list of module globs" % name)
    return list(value)


def _check_address(address: Any) -> str:
    from .connection import AddressError, parse_address
    if not isinstance(address, str):
        raise Refused("connect must be HOST:PORT or unix:PATH")
    try:
        kind, where = parse_address(address)
    except AddressError as exc:
        raise Refused("connect: %s" % exc) from None
    if kind == "tcp" and where[0] not in LOOPBACK:
        raise Refused("the agent only connects to a loopback address, not %s" % where[0])
    return address


def _program_root() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and path:
        return os.path.dirname(os.path.abspath(path))
    return os.getcwd()


class Attachment:
    """One attached client: its lease socket, the tracing Session and its trace connection."""

    def __init__(self, lease: socket.socket) -> None:
        self.lease = lease
        self.session: Any = None
        self.connection: Any = None
        self.main_trace: Any = None
        self.ended = False


class Agent:
    def __init__(self, directory: Optional[str] = None) -> None:
        self.directory = directory or runtime_dir()
        self.pid = os.getpid()
        self.files = AgentFiles(self.directory, self.pid)
        self.token = ""
        self.closed = False
        self.attach_count = 0
        self._lock = threading.RLock()
        self._current: Optional[Attachment] = None
        self._clients = 0
        self._sock: Optional[socket.socket] = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        try:
            ensure_private_dir(self.directory)
        except UnsafeDirectory as exc:
            raise AgentError(str(exc)) from None
        except OSError as exc:
            raise AgentError("cannot create %s: %s" % (self.directory, exc.strerror or exc)) from None
        remove_stale(self.directory, self.pid)
        path = self.files.socket
        if len(path.encode()) >= 104:
            raise AgentError("the socket path %s is too long; set %s to a shorter directory"
                             % (path, "TRACELENS_AGENT_DIR"))
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self._rotate_token()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)  # inside the 0700 directory: no one else can reach it meanwhile
            os.chmod(path, 0o600)
            sock.listen(MAX_CLIENTS)
        except OSError as exc:
            sock.close()
            raise AgentError("cannot listen on %s: %s" % (path, exc.strerror or exc)) from None
        self._sock = sock
        self.files.write_announcement({
            "agent": AGENT_VERSION, "wire": wire.WIRE_VERSION, "pid": self.pid,
            "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "argv": list(sys.argv), "cwd": os.getcwd(), "socket": path,
            "token_file": self.files.token, "started": time.time(),
            "backend": "monitoring" if sys.version_info >= (3, 12) else "settrace",
        })
        OwnThread(self._accept_loop, "tracelens-agent").start()
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forget_in_child)

    def _forget_in_child(self) -> None:
        # A forked child has no agent thread and must not remove its parent's files.
        self.closed = True
        self._current = None
        self._sock = None

    def close(self) -> None:
        """Detaches a client (the trace ends with reason 'exit') and removes the agent's files."""
        if self.closed or os.getpid() != self.pid:
            return
        self.closed = True
        current = self._current
        if current is not None:
            self.detach(current, "exit")
        sock = self._sock
        self._sock = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        self.files.remove()

    def _rotate_token(self) -> None:
        token = secrets.token_hex(32)
        self.files.write_token(token)
        self.token = token

    # -- clients ------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self.closed:
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except OSError:
                if self.closed:
                    return
                time.sleep(0.05)
                continue
            with self._lock:
                busy = self._clients >= MAX_CLIENTS
                if not busy:
                    self._clients += 1
            if busy:
                conn.close()
                continue
            OwnThread(self._serve, "tracelens-agent-client", (conn,)).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._handle(conn)
        except Exception as exc:  # never let a client take the program down
            self.files.note("error while serving a client: %s: %s" % (type(exc).__name__, exc))
        finally:
            with self._lock:
                self._clients -= 1
            try:
                conn.close()
            except OSError:
                pass

    def _handle(self, conn: socket.socket) -> None:
        uid = _peer_uid(conn)
        if uid is not None and uid != os.getuid():
            self._refuse(conn, "the client runs as another user (uid %d)" % uid)
            return
        conn.settimeout(REQUEST_TIMEOUT)
        frames = _Frames(conn, MAX_REQUEST)
        request = frames.next()
        if request is None:
            self.files.note("refused: no request within %.0f s or a broken frame" % REQUEST_TIMEOUT)
            return
        try:
            attachment = self._attach(conn, request)
        except Refused as exc:
            self._refuse(conn, str(exc))
            return
        session = attachment.session
        _send(conn, {"t": "attached", "pid": self.pid, "python": "%d.%d.%d" % sys.version_info[:3],
                     "backend": getattr(session.backend, "name", "")})
        conn.settimeout(None)
        while not attachment.ended:
            message = frames.next()
            if message is None:
                self.detach(attachment, "client gone")
                return
            if message.get("t") == "detach":
                self.detach(attachment, "detach")
                return
            # Anything else on the lease is ignored: control goes through the trace connection.

    def _refuse(self, conn: socket.socket, reason: str) -> None:
        self.files.note("refused: %s" % reason)
        _send(conn, {"t": "refused", "reason": reason})

    def _attach(self, conn: socket.socket, request: Dict[str, Any]) -> Attachment:
        if request.get("t") != "attach":
            raise Refused("expected an attach request, got %r" % request.get("t"))
        if request.get("version") != wire.WIRE_VERSION:
            raise Refused("wire version %r is not supported (the agent speaks version %d)"
                          % (request.get("version"), wire.WIRE_VERSION))
        with self._lock:
            if self.closed:
                raise Refused("the program is exiting")
            if self._current is not None:
                raise Refused("another Tracelens session is attached to this process; detach it "
                              "first")
            token = request.get("token")
            if not isinstance(token, str) or not hmac.compare_digest(
                    token.encode("utf-8", "replace"), self.token.encode("ascii")):
                raise Refused("wrong token")
            address = _check_address(request.get("connect"))
            session_token = request.get("session_token")
            if not isinstance(session_token, str):
                raise Refused("session_token must be a string")
            include = _strings(request.get("include"), "include")
            exclude = _strings(request.get("exclude"), "exclude")
            limit = request.get("value_limit", 120)
            if not isinstance(limit, int) or isinstance(limit, bool) or not 8 <= limit <= 100_000:
                raise Refused("value_limit must be a whole number from 8 to 100000")
            self._rotate_token()  # each token works once
            attachment = Attachment(conn)
            self._start_session(attachment, address, session_token, include, exclude, limit)
            self._current = attachment
            self.attach_count += 1
        self.files.note("attached (attach %d)" % self.attach_count)
        return attachment

    def _start_session(self, attachment: Attachment, address: str, session_token: str,
                       include: List[str], exclude: List[str], limit: int) -> None:
        from .connection import Connection
        from .scope import Scope
        from .session import Session
        try:
            connection = Connection(address, timeout=5.0)
        except OSError as exc:
            raise Refused("cannot connect to the adapter at %s: %s"
                          % (address, exc.strerror or exc)) from None
        session = Session(connection.send, Scope(_program_root(), include, exclude),
                          argv=list(sys.argv), token=session_token, value_limit=limit)
        attachment.session = session
        attachment.connection = connection
        connection.on_lost = lambda: self.detach(attachment, "lost")
        connection.on_control = lambda message: self._control(attachment, message)
        before = sys.gettrace()
        try:
            session.start()
        except Exception as exc:
            session.internal_error(exc)
            session.end(None, "detach")
            connection.close()
            raise Refused("tracing could not start: %s: %s" % (type(exc).__name__, exc)) from None
        backend = session.backend
        if getattr(backend, "name", "") == "settrace" and not getattr(backend, "eval_gate", False):
            trace = getattr(backend, "_global", None)
            if sys.gettrace() is trace:
                sys.settrace(before)  # this agent thread is not the program's
            from .attach_threads import AllThreadsTrace
            fast = AllThreadsTrace.load() if trace is not None else None
            if fast is not None:
                attachment.main_trace = AllThreadsTrace(trace, fast)
                if not attachment.main_trace.install():
                    attachment.main_trace = None
            if trace is not None and attachment.main_trace is None:
                from .attach_threads import MainThreadTrace
                attachment.main_trace = MainThreadTrace(
                    trace, lambda: not attachment.ended and getattr(backend, "_active", False))
                attachment.main_trace.install()
        connection.start_reader()

    def _control(self, attachment: Attachment, message: Dict[str, Any]) -> None:
        if message.get("t") == "detach":
            self.detach(attachment, "detach")
        elif attachment.session is not None:
            attachment.session.control(message)  # pause, resume, filter; others are ignored

    def detach(self, attachment: Attachment, reason: str) -> None:
        """Stops tracing for this client and restores the program's hooks (once)."""
        with self._lock:
            if attachment.ended:
                return
            attachment.ended = True
            if self._current is attachment:
                self._current = None
        session = attachment.session
        try:
            if reason == "lost":
                session.connection_lost()
            else:
                session.end(None, "exit" if reason == "exit" else "detach")
        except Exception:
            pass
        if attachment.main_trace is not None:
            if hasattr(attachment.main_trace, "accel"):
                attachment.main_trace.uninstall()
            else:
                attachment.main_trace.uninstall(0.0 if reason == "exit" else 1.0)
        if attachment.connection is not None:
            attachment.connection.close()
        if not self.closed:
            try:
                self._rotate_token()
            except OSError:
                pass
        _send(attachment.lease, {"t": "detached", "reason": reason})
        try:
            attachment.lease.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.files.note("detached (%s)" % reason)

    @property
    def attached(self) -> bool:
        return self._current is not None


def install(directory: Optional[str] = None, *, quiet: bool = False) -> Optional[Agent]:
    """Starts the agent once per process; returns it, or None when switched off or it cannot
    start (then a one-line reason goes to stderr and the program goes on)."""
    global _agent
    if _disabled():
        return None
    with _install_lock:
        if _agent is not None and not _agent.closed and _agent.pid == os.getpid():
            return _agent
        agent = Agent(directory)
        try:
            agent.start()
        except AgentError as exc:
            if not quiet:
                try:
                    sys.stderr.write("tracelens: the attach agent did not start: %s\n" % exc)
                except Exception:
                    pass
            return None
        _agent = agent
        return agent


def uninstall() -> None:
    """Detaches any client, stops listening and removes the agent's files."""
    global _agent
    with _install_lock:
        agent, _agent = _agent, None
    if agent is not None:
        agent.close()


def current() -> Optional[Agent]:
    return _agent


def install_from_env() -> Optional[Agent]:
    """install() when TRACELENS_AGENT=1 (and TRACELENS_AGENT_DISABLE is not set)."""
    if os.environ.get(ENABLE_ENV, "") in ("", "0"):
        return None
    return install()


USAGE = """\
usage: python -m tracelens.agent [--] PROGRAM [ARGS...]
       python -m tracelens.agent -m MODULE [ARGS...]

Runs PROGRAM (or MODULE) with the Tracelens attach agent installed and without tracing it:
"Tracelens: Attach to Python Process..." can then attach to it, trace it, and detach.
TRACELENS_AGENT_DISABLE=1 runs the program without the agent.
"""


def main(argv: Optional[List[str]] = None) -> int:
    from . import runner
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    if args[0] == "--":
        args = args[1:]
    try:
        if args and args[0] == "-m" and len(args) > 1:
            target = runner.prepare("module", args[1], args[2:])
        elif args and not args[0].startswith("-"):
            target = runner.prepare("script", args[0], args[1:])
        else:
            sys.stderr.write(USAGE)
            return 2
    except runner.TargetError as exc:
        sys.stderr.write("tracelens: %s\n" % exc)
        return 2
    from tracelens import agent as module  # not this __main__ copy: one agent per process
    module.install()
    outcome = runner.run(target)
    if outcome.reason == "exception":
        runner.print_uncaught(outcome.exc)  # type: ignore[arg-type]
        return 1
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
