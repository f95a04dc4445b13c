# Tests of the trace file's own process (writerproc.py, `run --output` on POSIX): a program killed
# with SIGKILL or ended by os._exit or by Ctrl-C on its process group still leaves a complete
# file (every call sent, indexes built, SQLite's integrity check clean); the writer process is
# not a child the program could wait for; and the in-process writer (where there is no fork)
# still writes the file.
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import closing
from typing import Optional

from support import TIMEOUT, Trace, fixture, run_python, run_traced, tracer_env

PROGRAM = """\
import os, sys, time

def work(n):
    return n * 2

for i in range(200):
    work(i)
print("ready", flush=True)
how = sys.argv[1]
if how == "wait":
    for call in (os.wait, lambda: os.waitpid(-1, os.WNOHANG)):
        try:
            print(call())
        except ChildProcessError as exc:
            print("no children", exc.errno)
elif how == "exit":
    for i in range(300000):  # enough that finishing the file takes a while
        work(i)
    os._exit(7)
elif how == "sleep":
    while True:
        time.sleep(0.05)
"""


def unfinished(path: str) -> Optional[str]:
    """None when the file is finished (the calls indexes are in it and it is sound), else what
    is wrong with it."""
    with closing(sqlite3.connect(path)) as db:
        names = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        if "calls_parent" not in names:
            return "no calls_parent index among %s" % names
        check = db.execute("PRAGMA integrity_check(5)").fetchall()
        if check != [("ok",)]:
            rows = db.execute("SELECT count(*) FROM calls NOT INDEXED").fetchall()[0][0]
            return "%d calls rows, integrity check: %s" % (rows, check)
        return None


@unittest.skipUnless(hasattr(os, "fork"), "the writer process needs fork")
class WriterProcessTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="tracelens-writer-")
        self.program = os.path.join(self.tmp, "program.py")
        with open(self.program, "w") as f:
            f.write(PROGRAM)
        self.output = os.path.join(self.tmp, "trace.db")

    def start(self, how: str) -> subprocess.Popen:
        p = subprocess.Popen([sys.executable, "-m", "tracelens", "run", "--output", self.output,
                              "--", self.program, how], env=tracer_env(), cwd=self.tmp,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        self.assertEqual(p.stdout.readline(), b"ready\n")
        time.sleep(0.3)  # the calls so far go out in the next batches
        return p

    def wait_complete(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.output):
                try:
                    if unfinished(self.output) is None:
                        return
                except sqlite3.Error:
                    pass
            time.sleep(0.1)
        self.fail("the trace file was not finished")

    def work_calls(self) -> int:
        return sum(1 for c in Trace(self.output).calls() if c[0] == "work")

    def test_a_killed_program_leaves_a_complete_file(self) -> None:
        p = self.start("sleep")
        os.kill(p.pid, signal.SIGKILL)
        self.assertEqual(p.wait(TIMEOUT), -signal.SIGKILL)
        p.stdout.close()
        p.stderr.close()
        self.wait_complete()
        self.assertEqual(self.work_calls(), 200)

    def test_ctrl_c_on_the_process_group(self) -> None:
        # The terminal's Ctrl-C reaches every process of the group; the writer has its own.
        p = self.start("sleep")
        os.killpg(p.pid, signal.SIGINT)
        # The program's exit, not the end of its output (which the writer process does not hold
        # either: the file is finished before the program exits).
        self.assertEqual(p.wait(TIMEOUT), -signal.SIGINT)
        self.assertIsNone(unfinished(self.output))
        err = p.stderr.read().decode()
        self.assertTrue(err.startswith("Traceback (most recent call last):"), err)
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(self.work_calls(), 200)

    def test_os_exit_waits_for_the_file(self) -> None:
        p = subprocess.Popen([sys.executable, "-m", "tracelens", "run", "--output", self.output,
                              "--", self.program, "exit"], env=tracer_env(), cwd=self.tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.communicate(timeout=TIMEOUT)[1].decode()
        self.assertEqual(p.returncode, 7, err)
        self.assertEqual(err, "")
        self.assertIsNone(unfinished(self.output))  # at once: os._exit waited for it
        self.assertEqual(self.work_calls(), 300200)

    def test_killed_program_output_ends_with_it(self) -> None:
        # Whoever reads the program's output sees it end when the program does, as untraced.
        p = self.start("sleep")
        os.kill(p.pid, signal.SIGKILL)
        t0 = time.monotonic()
        p.communicate(timeout=TIMEOUT)
        self.assertEqual(p.returncode, -signal.SIGKILL)
        self.assertLess(time.monotonic() - t0, 5)
        self.wait_complete()

    def test_the_writer_is_no_child_of_the_program(self) -> None:
        plain = run_python([self.program, "wait"], cwd=self.tmp)
        traced, trace = run_traced([self.program, "wait"], cwd=self.tmp)
        self.assertEqual(plain.stdout.decode().count("no children"), 2, plain.stdout)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.returncode, 0, traced.stderr.decode())
        self.assertIsNone(unfinished(trace.path))

    def test_frames_cut_short_and_packed_events(self) -> None:
        # The frames as the writer process reads them: a batch's packed events after its marshal
        # part, and writes the kernel cuts short (a signal) carried on where they stopped.
        import tracelens.writerproc as writerproc
        from tracelens.wire import pack_events
        events = [[1, 1, 10, 100 + 2 * i, 5] for i in range(3000)] + \
            [[2, 1, 10, 101 + 2 * i, 3, 7] for i in range(3000)]
        events = [e for pair in zip(events[:3000], events[3000:]) for e in pair]
        hello = {"t": "hello", "start_ns": 1000, "pid": 1, "ppid": 0, "python": "3", "cwd": "/",
                 "backend": "test", "argv": []}
        batch = {"t": "batch", "seq": 1, "strings": [[5, "x"], [7, "y"]], "files": [],
                 "codes": [[10, 0, "m", "f", 1, [], 0]], "threads": [[1, 0, "MainThread"]],
                 "dropped": 0, "events": [], "packed": pack_events(events)}
        cut = []
        real_writev = os.writev

        def short_writev(fd, parts):  # the first 3 bytes only, once per frame
            data = b"".join(parts)
            cut.append(len(data))
            return os.write(fd, data[:3]) if len(data) > 3 else real_writev(fd, parts)

        writer = writerproc.WriterProcess(self.output)
        writerproc.os.writev = short_writev
        try:
            writer.send(hello)
            writer.send(batch)
            writer.send({"t": "end", "dropped": 0})
        finally:
            writerproc.os.writev = real_writev
        self.assertIsNone(writer.finish(timeout=TIMEOUT))
        # The events went as the batch frame's tail, once: not inside its marshal part as well.
        self.assertGreater(max(cut), len(batch["packed"]))
        self.assertLess(max(cut), len(batch["packed"]) + 1000)
        self.assertIsNone(unfinished(self.output))
        with closing(sqlite3.connect(self.output)) as db:
            rows = db.execute("SELECT count(*), min(start_ns), max(end_ns) FROM calls").fetchall()
        self.assertEqual(rows, [(3000, 100, 101 + 2 * 2999)])

    def test_in_process_writer(self) -> None:
        # Where there is no fork (or TRACELENS_WRITER_PROCESS=0) the program's process writes.
        proc, trace = run_traced([self.program, "done"], cwd=self.tmp,
                                 env=tracer_env({"TRACELENS_WRITER_PROCESS": "0"}))
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertIsNone(unfinished(trace.path))
        self.assertEqual(sum(1 for c in trace.calls() if c[0] == "work"), 200)


if __name__ == "__main__":
    unittest.main()
