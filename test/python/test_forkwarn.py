# os.fork() under the tracer warns exactly when it would untraced: since 3.12 it warns that the
# process is multi-threaded; the tracer's own threads must not make a single-threaded program
# see that warning, and a program with threads of its own still sees it (as untraced).
import os
import sys
import tempfile
import unittest

from support import run_python, run_traced

PROGRAM = """\
import os, sys, threading, time
if sys.argv[1] == "threaded":
    threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
import warnings
print("filters", len(warnings.filters))
"""


@unittest.skipUnless(hasattr(os, "fork"), "no os.fork here")
class ForkWarningTest(unittest.TestCase):
    def program(self) -> str:
        d = tempfile.mkdtemp(prefix="tracelens-fork-")
        path = os.path.join(d, "forks.py")
        with open(path, "w") as f:
            f.write(PROGRAM)
        return path

    def both(self, mode: str):
        path = self.program()
        plain = run_python([path, mode])
        traced, _ = run_traced([path, mode])
        self.assertEqual(plain.returncode, 0, plain.stderr.decode())
        self.assertEqual(traced.returncode, 0, traced.stderr.decode())
        return plain, traced

    def test_single_threaded_program_forks_quietly(self):
        plain, traced = self.both("single")
        self.assertNotIn(b"multi-threaded", plain.stderr)
        self.assertNotIn(b"multi-threaded", traced.stderr)
        if sys.version_info < (3, 13):
            # The warnings filters are as they were (the temporary filter is gone; 3.13+ warns
            # after the after-fork hooks, so there it stays in place).
            self.assertEqual(traced.stdout, plain.stdout)

    @unittest.skipUnless(sys.version_info >= (3, 12), "os.fork warns about threads since 3.12")
    def test_threaded_program_still_sees_the_warning(self):
        plain, traced = self.both("threaded")
        self.assertIn(b"multi-threaded", plain.stderr)
        self.assertIn(b"multi-threaded", traced.stderr)
        self.assertEqual(traced.stdout, plain.stdout)

    @unittest.skipUnless(sys.version_info >= (3, 12), "os.fork warns about threads since 3.12")
    def test_quiet_fork_then_threaded_fork_warns(self):
        path = self.program()
        with open(path, "a") as f:
            f.write("import threading, time\n"
                    "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
                    "pid = os.fork()\n"
                    "if pid == 0:\n    os._exit(0)\n"
                    "os.waitpid(pid, 0)\n")
        plain = run_python([path, "single"])
        traced, _ = run_traced([path, "single"])
        self.assertEqual(plain.stderr.count(b"multi-threaded"), 1)
        self.assertEqual(traced.stderr.count(b"multi-threaded"), 1, traced.stderr.decode())


if __name__ == "__main__":
    unittest.main()
