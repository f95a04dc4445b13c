# The tracer's end of the wire: connects to the adapter (TCP loopback or Unix socket), sends the
# hello first and then frames from the writer thread, and reads control messages (pause, resume,
# detach, filter) on a reader thread. A dropped connection stops tracing quietly.
from __future__ import annotations

import socket
import threading

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional

from . import wire

__all__ = ["Connection", "parse_address", "AddressError"]


class AddressError(ValueError):
    """--connect was given something that is not HOST:PORT or unix:PATH."""


def parse_address(text: str) -> Any:
    """'unix:/path' -> ('unix', path); 'host:port' -> ('tcp', (host, port))."""
    if text.startswith("unix:"):
        path = text[5:]
        if not path:
            raise AddressError("unix: needs a socket path, as in unix:/tmp/tracelens.sock")
        return ("unix", path)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise AddressError("expected HOST:PORT or unix:PATH, got %r" % text)
    host = host.strip("[]") or "127.0.0.1"
    return ("tcp", (host, int(port)))


class Connection:
    """A connected, write-mostly socket; send() is called from the writer thread only."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        kind, where = parse_address(address)
        if kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            infos = socket.getaddrinfo(where[0], where[1], type=socket.SOCK_STREAM)
            sock = socket.socket(infos[0][0], socket.SOCK_STREAM)
            where = infos[0][4]
        sock.settimeout(timeout)
        try:
            sock.connect(where)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(None)
        if kind == "tcp":
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self.sock = sock
        self.broken = False
        self.on_lost: Optional[Callable[[], None]] = None
        self.on_control: Optional[Callable[[Dict[str, Any]], None]] = None
        self._send_lock = threading.Lock()
        self._reader: Any = None  # an OwnThread

    def send(self, message: Dict[str, Any]) -> None:
        if self.broken:
            return
        data = wire.encode_frame(message)
        try:
            with self._send_lock:
                self.sock.sendall(data)
        except OSError:
            self._lost()

    def start_reader(self) -> None:
        from .ownthreads import OwnThread
        self._reader = OwnThread(self._read, "tracelens-control")
        self._reader.start()

    def _read(self) -> None:
        reader = wire.FrameReader()
        while not self.broken:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            try:
                messages = reader.feed(data)
            except wire.WireError:
                self._lost()
                return
            for message in messages:
                if self.on_control is not None:
                    self.on_control(message)

    def _lost(self) -> None:
        if self.broken:
            return
        self.broken = True
        if self.on_lost is not None:
            self.on_lost()

    def close(self) -> None:
        self.broken = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
