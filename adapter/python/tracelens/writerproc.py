# The trace file's own process for `run --output` (POSIX): forked twice before the program starts
# (so it is nobody's child the program could wait for), it receives the traced process's wire
# messages over a pipe (frames: the frame's length and the marshal part's, 4 bytes each, big-endian,
# the message without its packed events marshalled, then those raw: a batch's megabytes are not
# copied into the marshal data and again behind the lengths), writes them with
# TraceFileWriter, and serves the children's connections (the Collector's listening socket is made
# before the fork). The file's work (pairing, pages, SQLite, indexes) then runs beside the program
# instead of competing with it for the GIL. The stream ends with an empty frame, or with the pipe
# closing (os._exit, a kill, a crash: what was sent is still written, indexes included); the file
# is finished and one line of outcome goes back over a second pipe. Where there is no fork the
# caller writes the file in its own process as before.
from __future__ import annotations

import marshal
import os
import threading

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

__all__ = ["WriterProcess", "available"]

_HEAD = 4
#: Bytes the message pipe holds (Linux: F_SETPIPE_SZ), so the sender rarely waits.
PIPE_BYTES = 1 << 20


def available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "setsid")


class WriterProcess:
    """The program's side: a wire sink writing to the pipe, and the wait for the file at exit."""

    def __init__(self, path: str, collector: Any = None, close: Any = ()) -> None:
        """close: sockets of the program's (its connection) the writer process must not keep."""
        # What stops the file (a missing or read-only folder, a folder in the way: os.remove
        # refuses it) is said before the program runs: an empty file made here, which the writer
        # process replaces. SQLite is not imported in the program's process for it.
        if os.path.lexists(path):
            os.remove(path)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
        self.path = path
        self.broken: Optional[str] = None
        self.closed = False
        self._lock = threading.Lock()
        read_fd, self._fd = os.pipe()
        self._done, done_w = os.pipe()
        try:
            import fcntl
            fcntl.fcntl(self._fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
        except (ImportError, OSError):
            pass
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked processes
            try:
                if os.fork() == 0:
                    os.close(self._fd)
                    os.close(self._done)
                    for sock in close:
                        try:
                            sock.close()  # this process's copy only
                        except OSError:
                            pass
                    _serve(path, read_fd, done_w, collector)
            finally:
                os._exit(0)
        os.close(read_fd)
        os.close(done_w)
        if collector is not None:
            collector.handed_over()
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break

    def send(self, message: Dict[str, Any]) -> None:
        packed = message.get("packed") or b""
        if packed:
            message = dict(message)
            del message["packed"]
        data = marshal.dumps(message)
        head = (_HEAD + len(data) + len(packed)).to_bytes(_HEAD, "big") + \
            len(data).to_bytes(_HEAD, "big")
        self._write([head, data, packed] if packed else [head, data])

    def _write(self, parts: "List[bytes]") -> None:
        with self._lock:
            if self.closed or self.broken is not None:
                return
            try:
                n = os.writev(self._fd, parts)
                total = sum(len(p) for p in parts)
                if n < total:  # cut short (a signal): the rest as one piece
                    view = memoryview(b"".join(parts))[n:]
                    while view:
                        n = os.write(self._fd, view)
                        view = view[n:]
            except OSError as exc:
                self.broken = "the trace file's writer process stopped (%s)" % (exc.strerror or exc)

    def finish(self, timeout: Optional[float] = None) -> Optional[str]:
        """Ends the stream and waits until the file is finished; None, or what went wrong."""
        self._write([b"\0\0\0\0"])
        with self._lock:
            if self.closed:
                return self.broken
            self.closed = True
            os.close(self._fd)
        out = b""
        try:
            while True:
                if timeout is not None:
                    import select  # only for a bounded wait: its import costs start-up time
                    ready, _, _ = select.select([self._done], [], [], timeout)
                    if not ready:
                        return "the trace file is still being written (%s)" % self.path
                chunk = os.read(self._done, 4096)
                if not chunk:
                    break
                out += chunk
        except KeyboardInterrupt:
            return "the trace file is being finished in the background (%s)" % self.path
        finally:
            try:
                os.close(self._done)
            except OSError:
                pass
        text = out.decode("utf-8", "replace").strip()
        if text == "ok":
            return self.broken
        return text or "the trace file's writer process ended without finishing %s" % self.path

    def forget(self) -> None:
        """In a forked child of the program: the pipes are the parent's."""
        self.closed = True
        for fd in (self._fd, self._done):
            try:
                os.close(fd)
            except OSError:
                pass


def _serve(path: str, fd: int, done: int, collector: Any) -> None:  # pragma: no cover - forked
    """The writer process: messages from `fd` into the file until the stream ends."""
    os.setsid()  # the terminal's Ctrl-C and hang-up are the program's, not ours
    # The program's standard streams are its own: whoever reads them sees them end with it.
    null = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(null, std)
    os.close(null)
    import signal
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    # Only this module's code runs here, and what it keeps (rows, open calls, batches) holds no
    # cycles: the cyclic GC would only walk those lists again and again while the program waits.
    import gc
    gc.disable()
    outcome = "ok"
    writer = None
    try:
        from .tracefile import TraceFileWriter
        writer = TraceFileWriter(path)
        if collector is not None:
            collector.start(writer.child_sink)
        buf = bytearray()
        at = 0
        ended = False
        while not ended:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            buf += chunk
            while len(buf) - at >= _HEAD:
                n = int.from_bytes(buf[at:at + _HEAD], "big")
                if n == 0:
                    ended = True
                    break
                if len(buf) - at - _HEAD < n:
                    break
                start = at + 2 * _HEAD
                end = start + int.from_bytes(buf[at + _HEAD:start], "big")
                message = marshal.loads(buf[start:end])
                if end < at + _HEAD + n:
                    message["packed"] = bytes(buf[end:at + _HEAD + n])
                at += _HEAD + n
                writer.send(message)
            if at:
                del buf[:at]
                at = 0
        if collector is not None:
            collector.close()
        writer.close()
    except BaseException as exc:
        outcome = "could not finish the trace file %s: %s: %s" % (path, type(exc).__name__, exc)
        try:
            if writer is not None:
                writer.close()
        except BaseException:
            pass
    try:
        os.write(done, outcome.encode("utf-8", "replace"))
    except OSError:
        pass
