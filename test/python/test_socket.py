# The tracer talking to a real socket server (TCP loopback and Unix socket) as the adapter
# would: hello first with the token from the environment, batches in order, end; the token is
# gone from the program's environment; detach and a lost connection leave the program running.
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

from support import TIMEOUT, fixture, tracer_env

from tracelens import wire

PROGRAM = """\
import os, sys, time
def tick(i):
    return i * 2
print("token", os.environ.get("TRACELENS_TOKEN"))
sys.stdout.flush()
for i in range(int(sys.argv[1])):
    tick(i)
    time.sleep(0.01)
print("done")
"""


class Server:
    """Accepts one connection and collects every message; can answer with control messages."""

    def __init__(self, family=socket.AF_INET, on_hello=None):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.sock.bind(("127.0.0.1", 0))
            self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        else:
            self.dir = tempfile.mkdtemp(prefix="tracelens-sock-")
            path = os.path.join(self.dir, "t.sock")
            self.sock.bind(path)
            self.address = "unix:" + path
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.messages = []
        self.on_hello = on_hello
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        conn.settimeout(TIMEOUT)
        reader = wire.FrameReader()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                for m in reader.feed(data):
                    self.messages.append(m)
                    if m["t"] == "hello" and self.on_hello == "close":
                        self.sock.close()
                        return  # closes the connection right after the hello
                    if m["t"] == "hello" and self.on_hello is not None:
                        self.on_hello(conn)
        self.sock.close()


def trace_to(server, args, token="s3cret-token"):
    script_dir = tempfile.mkdtemp(prefix="tracelens-prog-")
    script = os.path.join(script_dir, "ticker.py")
    with open(script, "w") as f:
        f.write(PROGRAM)
    env = tracer_env({"TRACELENS_TOKEN": token})
    proc = subprocess.Popen([sys.executable, "-m", "tracelens", "run", "--connect", server.address,
                             "--", script] + args, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=TIMEOUT)
    server.thread.join(TIMEOUT)
    return proc, out.decode(), err.decode(), script


class SocketTest(unittest.TestCase):
    def check_session(self, server):
        proc, out, err, script = trace_to(server, ["5"])
        self.assertEqual((proc.returncode, out, err), (0, "token None\ndone\n", ""))
        msgs = server.messages
        hello = msgs[0]
        self.assertEqual(hello["t"], "hello")
        self.assertEqual(list(hello), ["t", "version", "token", "pid", "ppid", "python", "backend",
                                       "argv", "cwd", "start_ns"])
        self.assertEqual(hello["token"], "s3cret-token")
        self.assertEqual(hello["version"], wire.WIRE_VERSION)
        self.assertEqual(hello["pid"], proc.pid)
        self.assertEqual(hello["ppid"], os.getpid())
        self.assertEqual(hello["python"], "%d.%d.%d" % sys.version_info[:3])
        self.assertEqual(hello["backend"], "monitoring" if sys.version_info >= (3, 12) else "settrace")
        self.assertEqual(hello["argv"], [script, "5"])
        self.assertEqual(msgs[-1], {"t": "end", "exit_code": 0, "reason": "exit"})
        batches = msgs[1:-1]
        self.assertTrue(all(m["t"] == "batch" for m in batches))
        self.assertEqual([b["seq"] for b in batches], list(range(1, len(batches) + 1)))
        self.assertGreater(len(batches), 1)  # sent while the program ran, not only at the end
        strings, codes, events = {}, {}, []
        for b in batches:
            for s in b["strings"]:
                strings[s[0]] = s[1]
            for c in b["codes"]:
                codes[c[0]] = c
            for e in b["events"]:
                self.assertIn(e[2], codes)  # definitions come before use
                events.append(e)
        tick = [c for c in codes.values() if c[3] == "tick"][0]
        self.assertEqual(tick[2:6], ["__main__", "tick", 2, ["i"]])
        calls = [strings[e[4]] for e in events if e[0] == wire.CALL and e[2] == tick[0]]
        returns = [(e[4], strings[e[5]]) for e in events if e[0] == wire.RETURN and e[2] == tick[0]]
        self.assertEqual(calls, ["0", "1", "2", "3", "4"])
        self.assertEqual(returns, [(3, "0"), (3, "2"), (3, "4"), (3, "6"), (3, "8")])
        stamps = [e[3] for e in events]
        self.assertEqual(stamps, sorted(stamps))

    def test_tcp(self):
        self.check_session(Server())

    def test_unix_socket(self):
        self.check_session(Server(socket.AF_UNIX))

    def test_detach_leaves_the_program_running(self):
        server = Server(on_hello=lambda conn: conn.sendall(wire.encode_frame({"t": "detach"})))
        proc, out, err, script = trace_to(server, ["30"])
        self.assertEqual((proc.returncode, out, err), (0, "token None\ndone\n", ""))
        self.assertEqual(server.messages[-1], {"t": "end", "exit_code": None, "reason": "detach"})
        ticks = sum(1 for m in server.messages if m["t"] == "batch"
                    for e in m["events"] if e[0] == wire.CALL)
        self.assertLess(ticks, 30)

    def test_lost_connection_leaves_the_program_running(self):
        server = Server(on_hello="close")
        proc, out, err, script = trace_to(server, ["20"])
        self.assertEqual((proc.returncode, out, err), (0, "token None\ndone\n", ""))
        self.assertEqual([m["t"] for m in server.messages], ["hello"])

    def test_unreachable_adapter(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        proc = subprocess.run([sys.executable, "-m", "tracelens", "run", "--connect",
                               "127.0.0.1:%d" % port, "--", fixture("hello.py")], env=tracer_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 2)
        self.assertTrue(proc.stderr.decode().startswith(
            "tracelens: cannot connect to the Tracelens adapter at 127.0.0.1:%d" % port))
        self.assertEqual(proc.stdout, b"")


if __name__ == "__main__":
    unittest.main()
