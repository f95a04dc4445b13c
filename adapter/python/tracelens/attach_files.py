# The attach agent's files: the per-user runtime directory (mode 0700, owned by this user, never
# group/world-accessible), the announcement <pid>.json and token <pid>.token (mode 0600, written
# atomically, never through a symlink), the refusal log <pid>.log, and clean-up of announcements
# left by processes that are gone. Knows nothing of sockets or tracing.
from __future__ import annotations

import json
import os
import stat
import time
from typing import Any, Dict, List, Optional

__all__ = ["UnsafeDirectory", "runtime_dir", "ensure_private_dir", "check_private_file",
           "write_private", "AgentFiles", "DIR_ENV", "remove_stale"]

#: Overrides the runtime directory (tests, or a program whose XDG_RUNTIME_DIR is unusual).
DIR_ENV = "TRACELENS_AGENT_DIR"
LOG_LIMIT = 64 * 1024


class UnsafeDirectory(Exception):
    """The runtime directory or a file in it could be read or replaced by someone else."""


def runtime_dir(environ: Optional[Dict[str, str]] = None) -> str:
    """$TRACELENS_AGENT_DIR, else $XDG_RUNTIME_DIR/tracelens, else /tmp/tracelens-<uid>."""
    env = os.environ if environ is None else environ
    override = env.get(DIR_ENV)
    if override:
        return os.path.abspath(override)
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return os.path.join(xdg, "tracelens")
    return os.path.join("/tmp", "tracelens-%d" % os.getuid())


def ensure_private_dir(path: str) -> None:
    """Creates `path` with mode 0700, or checks that the existing one is ours and private."""
    try:
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)  # the umask may have taken bits away, never added any
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeDirectory("%s is not a directory (a symlink or a file is in its place); "
                              "remove it" % path)
    if st.st_uid != os.getuid():
        raise UnsafeDirectory("%s belongs to uid %d, not to you (uid %d); remove it or set %s "
                              "to a directory of your own" % (path, st.st_uid, os.getuid(), DIR_ENV))
    if st.st_mode & 0o077:
        raise UnsafeDirectory("%s can be reached by other users (mode %03o); run `chmod 700 %s`"
                              % (path, stat.S_IMODE(st.st_mode), path))


def check_private_file(path: str) -> None:
    """Raises UnsafeDirectory unless `path` is a regular file of ours with mode 0600 or less."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeDirectory("%s is not a regular file" % path)
    if st.st_uid != os.getuid():
        raise UnsafeDirectory("%s belongs to uid %d, not to you" % (path, st.st_uid))
    if st.st_mode & 0o077:
        raise UnsafeDirectory("%s can be read by other users (mode %03o)"
                              % (path, stat.S_IMODE(st.st_mode)))


def write_private(path: str, data: bytes) -> None:
    """Writes `data` to `path` atomically with mode 0600, never following a symlink."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale(directory: str, own_pid: int) -> List[int]:
    """Removes the files of agents whose process is gone; returns their pids."""
    gone: List[int] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return gone
    for name in names:
        stem, dot, ext = name.partition(".")
        if ext != "json" or not stem.isdigit():
            continue
        pid = int(stem)
        if pid == own_pid or _alive(pid):
            continue
        gone.append(pid)
        for suffix in ("json", "token", "sock", "log"):
            try:
                os.unlink(os.path.join(directory, "%d.%s" % (pid, suffix)))
            except OSError:
                pass
    return gone


class AgentFiles:
    """The files of one agent (one process) in the runtime directory."""

    def __init__(self, directory: str, pid: int) -> None:
        self.directory = directory
        self.pid = pid
        base = os.path.join(directory, str(pid))
        self.announcement = base + ".json"
        self.token = base + ".token"
        self.socket = base + ".sock"
        self.log = base + ".log"

    def write_token(self, token: str) -> None:
        write_private(self.token, token.encode("ascii"))

    def write_announcement(self, info: Dict[str, Any]) -> None:
        write_private(self.announcement, json.dumps(info, indent=1).encode("utf-8"))

    def note(self, text: str) -> None:
        """Appends a line to the refusal log (mode 0600); never raises."""
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(self.log, flags, 0o600)
            try:
                if os.fstat(fd).st_size > LOG_LIMIT:
                    os.ftruncate(fd, 0)
                line = "%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), text)
                os.write(fd, line.encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except OSError:
            pass

    def remove(self) -> None:
        for path in (self.announcement, self.token, self.socket, self.log):
            try:
                os.unlink(path)
            except OSError:
                pass
