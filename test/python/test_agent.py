# Tests of the attach agent (tracelens.agent) with real processes and sockets: the runtime
# directory and file modes, the token check, one client at a time, calls streamed to a trace
# server, detach restoring the program's hooks, attaching twice, clean-up at exit, opt-out.
# Each test starts test/fixtures/long_running.py and kills it at the end.
from __future__ import annotations

import json
import os
import select
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Dict, List, Optional

from support import FIXTURES, TRACER_DIR, tracer_env

from tracelens import wire

FIXTURE = os.path.join(FIXTURES, "long_running.py")


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


class Target:
    """long_running.py with the agent in a private directory of its own."""

    def __init__(self, agent_dir: str, *options: str, env: Optional[Dict[str, str]] = None,
                 script: str = FIXTURE) -> None:
        self.agent_dir = agent_dir
        self.state = os.path.join(os.path.dirname(agent_dir), "state-%d.json" % id(self))
        extra = {"TRACELENS_AGENT_DIR": agent_dir}
        extra.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, script] + list(options) + ["--seconds", "40", "--state", self.state],
            env=tracer_env(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        self.lines: List[str] = []
        self.pid = self.proc.pid
        self.wait_line("ready")

    def wait_line(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        out = self.proc.stdout
        assert out is not None
        while text not in self.lines:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise AssertionError("no %r from the fixture; stderr: %s" % (text, self.stderr()))
            line = out.readline()
            if not line:
                raise AssertionError("the fixture ended early; stderr: %s" % self.stderr())
            self.lines.append(line.decode().strip())

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode() if self.proc.stderr else ""

    def path(self, suffix: str) -> str:
        return os.path.join(self.agent_dir, "%d.%s" % (self.pid, suffix))

    def token(self) -> str:
        with open(self.path("token")) as f:
            return f.read()

    def hooks(self, after_iteration: int = 0) -> Dict[str, Any]:
        """The fixture's hook state from a round that started after `after_iteration`."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(self.state) as f:
                    state = json.load(f)
                if state["iteration"] > after_iteration:
                    return state
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        raise AssertionError("the fixture wrote no state")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class TraceServer:
    """A loopback listener standing in for the adapter: collects what one tracer sends."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.messages: List[Dict[str, Any]] = []
        self.conn: Optional[socket.socket] = None
        self.closed = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.conn = conn
        reader = wire.FrameReader()
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed.set()
                return
            self.messages.extend(reader.feed(data))

    def send(self, message: Dict[str, Any]) -> None:
        assert self.conn is not None
        self.conn.sendall(wire.encode_frame(message))

    def calls(self) -> List[str]:
        """Qualnames of the call events received so far."""
        names: Dict[int, str] = {}
        out = []
        for m in list(self.messages):
            if m["t"] != "batch":
                continue
            for c in m["codes"]:
                names[c[0]] = c[3]
            out.extend(names[e[2]] for e in m["events"] if e[0] == wire.CALL)
        return out

    def wait(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout

        def holds() -> bool:
            try:
                return bool(predicate())
            except IndexError:  # nothing received yet
                return False
        while not holds():
            if time.monotonic() > deadline:
                raise AssertionError("timed out; received %s" % [m["t"] for m in self.messages])
            time.sleep(0.02)

    def close(self) -> None:
        for s in (self.conn, self.sock):
            if s is not None:
                s.close()


def request(target: Target, server: TraceServer, token: Optional[str] = None,
            **extra: Any) -> "Client":
    client = Client(target.path("sock"))
    message = {"t": "attach", "version": wire.WIRE_VERSION,
               "token": target.token() if token is None else token,
               "connect": server.address, "session_token": "s3ssion"}
    message.update(extra)
    client.send(message)
    client.reply = client.receive()
    return client


class Client:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.reader = wire.FrameReader()
        self.pending: List[Dict[str, Any]] = []
        self.reply: Optional[Dict[str, Any]] = None

    def send(self, message: Dict[str, Any]) -> None:
        self.sock.sendall(wire.encode_frame(message))

    def receive(self) -> Optional[Dict[str, Any]]:
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.pending.extend(self.reader.feed(data))
        return self.pending.pop(0)

    def close(self) -> None:
        self.sock.close()


class AgentTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tracelens-agent-")
        self.agent_dir = os.path.join(self.tmp, "agent")
        self.cleanup: List[Any] = []

    def tearDown(self) -> None:
        for thing in reversed(self.cleanup):
            try:
                thing.close()
            except Exception:
                pass
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *options: str, env: Optional[Dict[str, str]] = None,
              script: str = FIXTURE) -> Target:
        target = Target(self.agent_dir, *options, env=env, script=script)
        self.cleanup.append(target)
        return target

    def server(self) -> TraceServer:
        server = TraceServer()
        self.cleanup.append(server)
        return server

    def attach(self, target: Target, server: TraceServer, **kw: Any) -> Client:
        client = request(target, server, **kw)
        self.cleanup.append(client)
        return client

    def test_directory_and_files_are_private(self) -> None:
        target = self.start()
        self.assertEqual(mode(self.agent_dir), 0o700)
        for suffix in ("json", "token", "sock"):
            self.assertEqual(mode(target.path(suffix)), 0o600, suffix)
        self.assertTrue(stat.S_ISSOCK(os.lstat(target.path("sock")).st_mode))
        with open(target.path("json")) as f:
            info = json.load(f)
        self.assertEqual(info["pid"], target.pid)
        self.assertEqual(info["python"], "%d.%d.%d" % sys.version_info[:3])
        self.assertEqual(info["socket"], target.path("sock"))
        self.assertEqual(info["token_file"], target.path("token"))
        self.assertEqual(info["argv"][0], FIXTURE)
        self.assertEqual(info["wire"], wire.WIRE_VERSION)
        self.assertEqual(len(target.token()), 64)

    def test_files_are_removed_at_exit(self) -> None:
        target = self.start("--seconds", "0.3")
        self.assertEqual(target.proc.wait(15), 0)
        self.assertEqual(sorted(os.listdir(self.agent_dir)), [])

    def test_switched_off_by_environment(self) -> None:
        target = self.start(env={"TRACELENS_AGENT_DISABLE": "1"})
        self.assertFalse(os.path.exists(target.path("sock")))
        self.assertFalse(os.path.exists(target.path("json")))

    def test_opt_in_by_environment_at_start_up(self) -> None:
        site = os.path.join(TRACER_DIR, "tracelens", "attach_site")
        target = self.start("--no-agent", env={"TRACELENS_AGENT": "1", "PYTHONPATH": site})
        self.assertTrue(os.path.exists(target.path("sock")))
        self.assertEqual(json.load(open(target.path("json")))["pid"], target.pid)
        plain = Target(os.path.join(self.tmp, "other"), "--no-agent", env={"PYTHONPATH": site})
        self.cleanup.append(plain)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "other")))  # nothing unless asked

    def test_run_a_program_with_the_agent(self) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "tracelens.agent", FIXTURE, "--no-agent", "--seconds", "0.2"],
            env=tracer_env({"TRACELENS_AGENT_DIR": self.agent_dir}), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(proc.stdout.startswith(b"pid "))
        # The agent made its directory (mode 0700) and removed its files at exit.
        self.assertEqual(mode(self.agent_dir), 0o700)
        self.assertEqual(os.listdir(self.agent_dir), [])

    def test_refuses_a_directory_others_can_reach(self) -> None:
        os.mkdir(self.agent_dir, 0o700)
        os.chmod(self.agent_dir, 0o755)
        target = self.start("--seconds", "0.3")
        self.assertEqual(target.proc.wait(15), 0)  # the program goes on untraced
        self.assertIn("tracelens: the attach agent did not start: %s can be reached by other "
                      "users (mode 755); run `chmod 700 %s`" % (self.agent_dir, self.agent_dir),
                      target.stderr())
        self.assertEqual(os.listdir(self.agent_dir), [])

    @unittest.skipUnless(os.getuid() == 0, "needs root to give the directory to another user")
    def test_refuses_a_directory_of_another_user(self) -> None:
        os.mkdir(self.agent_dir, 0o700)
        os.chown(self.agent_dir, 65534, 65534)
        target = self.start("--seconds", "0.3")
        self.assertEqual(target.proc.wait(15), 0)
        self.assertIn("belongs to uid 65534, not to you (uid 0)", target.stderr())

    def test_wrong_token_is_refused_and_logged(self) -> None:
        target = self.start()
        server = self.server()
        client = self.attach(target, server, token="0" * 64)
        self.assertEqual(client.reply, {"t": "refused", "reason": "wrong token"})
        self.assertIsNone(client.receive())  # and closed
        with open(target.path("log")) as f:
            self.assertIn("refused: wrong token", f.read())
        self.assertEqual(mode(target.path("log")), 0o600)
        self.assertEqual(server.messages, [])
        # Anything but an attach request is refused too.
        other = Client(target.path("sock"))
        self.cleanup.append(other)
        other.send({"t": "filter", "include": ["x"], "exclude": []})
        self.assertEqual(other.receive(), {"t": "refused",
                                           "reason": "expected an attach request, got 'filter'"})

    def test_attach_streams_calls_and_detach_restores_hooks(self) -> None:
        target = self.start("--own-hooks", "--thread")
        before = target.hooks()
        server = self.server()
        used = target.token()
        client = self.attach(target, server)
        self.assertEqual(client.reply["t"], "attached", client.reply)
        self.assertEqual(client.reply["pid"], target.pid)
        self.assertNotEqual(target.token(), used)  # each token works once
        server.wait(lambda: server.calls().count("work") >= 6)
        hello = server.messages[0]
        self.assertEqual((hello["t"], hello["token"], hello["pid"]), ("hello", "s3ssion", target.pid))
        self.assertEqual(hello["argv"][0], FIXTURE)
        names = set(server.calls())
        self.assertEqual(names, {"work", "square", "write_state", "hooks", "name_of"})
        threads = {t[2] for m in server.messages if m["t"] == "batch" for t in m["threads"]}
        self.assertIn("MainThread", threads)
        if sys.version_info >= (3, 12):
            self.assertIn("fixture-worker", threads)  # running before the attach: traced too
        # A filter change through the trace connection takes effect.
        server.send({"t": "filter", "include": [], "exclude": ["__main__"]})
        time.sleep(0.8)  # batches already on their way arrive
        count = len(server.calls())
        time.sleep(0.4)
        self.assertEqual(len(server.calls()), count)
        client.send({"t": "detach"})
        self.assertEqual(client.receive(), {"t": "detached", "reason": "detach"})
        server.wait(lambda: server.messages[-1]["t"] == "end")
        self.assertEqual(server.messages[-1], {"t": "end", "exit_code": None, "reason": "detach"})
        self.assertTrue(server.closed.wait(5))
        after = target.hooks(target.hooks()["iteration"])
        for key in ("trace", "profile", "threading_trace", "threading_profile", "monitoring"):
            self.assertEqual(after.get(key), before.get(key), key)
        self.assertEqual(before["trace"], "fixture_trace")
        self.assertEqual(before["profile"], "fixture_profile")
        if sys.version_info >= (3, 12):
            self.assertEqual(before["monitoring"], [None, None, "fixture-profiler", None, None, None])
        self.assertIsNone(target.proc.poll())  # still running
        # The token of the first attach is stale now.
        stale = self.attach(target, self.server(), token=used)
        self.assertEqual(stale.reply, {"t": "refused", "reason": "wrong token"})
        # Attaching again works, and closing the agent connection detaches too.
        server2 = self.server()
        again = self.attach(target, server2)
        self.assertEqual(again.reply["t"], "attached")
        server2.wait(lambda: "work" in server2.calls())
        again.close()
        server2.wait(lambda: server2.messages[-1]["t"] == "end")
        after2 = target.hooks(target.hooks()["iteration"])
        self.assertEqual(after2["trace"], before["trace"])
        self.assertEqual(after2.get("monitoring"), before.get("monitoring"))

    def test_a_second_client_is_refused_while_one_is_attached(self) -> None:
        target = self.start()
        server = self.server()
        first = self.attach(target, server)
        self.assertEqual(first.reply["t"], "attached")
        second = self.attach(target, self.server())  # with the current, valid token
        self.assertEqual(second.reply, {
            "t": "refused",
            "reason": "another Tracelens session is attached to this process; detach it first"})
        server.wait(lambda: "work" in server.calls())  # the first one is undisturbed
        first.send({"t": "detach"})
        self.assertEqual(first.receive()["t"], "detached")
        third = self.attach(target, self.server())
        self.assertEqual(third.reply["t"], "attached")

    def test_the_adapter_going_away_detaches(self) -> None:
        target = self.start("--own-hooks")
        before = target.hooks()
        server = self.server()
        client = self.attach(target, server)
        server.wait(lambda: "work" in server.calls())
        server.close()  # the trace connection breaks
        self.assertEqual(client.receive(), {"t": "detached", "reason": "lost"})
        after = target.hooks(target.hooks()["iteration"])
        self.assertEqual(after["trace"], before["trace"])
        self.assertEqual(after.get("monitoring"), before.get("monitoring"))
        self.assertIsNone(target.proc.poll())

    def test_only_loopback_addresses(self) -> None:
        target = self.start()
        client = self.attach(target, self.server(), connect="192.0.2.1:80")
        self.assertEqual(client.reply, {
            "t": "refused", "reason": "the agent only connects to a loopback address, not 192.0.2.1"})

    def test_program_exit_while_attached_ends_the_trace(self) -> None:
        target = self.start("--seconds", "1.5")
        server = self.server()
        client = self.attach(target, server)
        self.assertEqual(client.reply["t"], "attached")
        self.assertEqual(target.proc.wait(15), 0)
        server.wait(lambda: server.messages[-1]["t"] == "end")
        self.assertEqual(server.messages[-1], {"t": "end", "exit_code": None, "reason": "exit"})
        self.assertEqual(os.listdir(self.agent_dir), [])

    def test_threads_running_before_the_attach_are_traced_and_restored(self) -> None:
        # A worker thread sets its own trace function, then the agent starts: on 3.12+
        # (sys.monitoring) and on 3.9-3.11 with the accelerator its calls are recorded while
        # attached, and after detach it has its own trace function again.
        script = os.path.join(self.tmp, "running_thread.py")
        with open(script, "w") as f:
            f.write(RUNNING_THREAD)
        target = self.start(script=script)
        from tracelens.attach_threads import AllThreadsTrace
        all_threads = sys.version_info >= (3, 12) or AllThreadsTrace.load() is not None
        before = target.hooks()
        self.assertEqual(before["trace"], "worker_trace")
        server = self.server()
        client = self.attach(target, server)
        self.assertEqual(client.reply["t"], "attached", client.reply)
        server.wait(lambda: server.calls().count("main_tick") >= 4)
        if all_threads:
            server.wait(lambda: server.calls().count("worker_tick") >= 4)
            threads = {t[2] for m in server.messages if m["t"] == "batch" for t in m["threads"]}
            self.assertIn("running-worker", threads)
            if sys.version_info < (3, 12):
                during = target.hooks(target.hooks()["iteration"])
                self.assertNotEqual(during["trace"], "worker_trace")
        else:
            time.sleep(0.5)
            self.assertNotIn("worker_tick", server.calls())  # documented limit without it
        client.send({"t": "detach"})
        self.assertEqual(client.receive(), {"t": "detached", "reason": "detach"})
        server.wait(lambda: server.messages[-1]["t"] == "end")
        after = target.hooks(target.hooks()["iteration"])
        self.assertEqual(after["trace"], "worker_trace")
        self.assertIsNone(target.proc.poll())
        # Attaching again works and restores again.
        server2 = self.server()
        again = self.attach(target, server2)
        self.assertEqual(again.reply["t"], "attached")
        if all_threads:
            server2.wait(lambda: "worker_tick" in server2.calls())
        again.close()
        server2.wait(lambda: server2.messages[-1]["t"] == "end")
        after2 = target.hooks(target.hooks()["iteration"])
        self.assertEqual(after2["trace"], "worker_trace")


# A program whose worker thread is running, with its own trace function, before the agent starts;
# the worker writes the trace function it sees (sys.gettrace() in that thread) each round.
RUNNING_THREAD = """
import json, os, sys, threading, time

args = sys.argv[1:]
STATE = args[args.index("--state") + 1]
SECONDS = float(args[args.index("--seconds") + 1])


def worker_trace(frame, event, arg):
    return None


def worker_tick(n):
    return n + 1


def main_tick(n):
    return n * 2


def worker(stop):
    sys.settrace(worker_trace)
    i = 0
    while not stop.wait(0.03):
        i = worker_tick(i)
        trace = sys.gettrace()
        state = {"iteration": i, "trace": getattr(trace, "__qualname__", repr(trace))}
        with open(STATE + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(STATE + ".tmp", STATE)


stop = threading.Event()
threading.Thread(target=worker, args=(stop,), name="running-worker", daemon=True).start()
time.sleep(0.1)
import tracelens.agent
tracelens.agent.install()
print("ready", flush=True)
deadline = time.monotonic() + SECONDS
i = 0
while time.monotonic() < deadline:
    i = main_tick(i + 1) % 1000
    time.sleep(0.03)
stop.set()
"""


if __name__ == "__main__":
    unittest.main()
