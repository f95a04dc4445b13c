# The program behaves exactly as untraced: same stdout, stderr and exit status (including
# sys.exit codes and messages, uncaught exceptions, KeyboardInterrupt, SIGTERM, os._exit,
# RecursionError), same __main__, sys.argv and sys.path[0]; and the trace records how it ended.
import os
import signal
import sys
import tempfile
import unittest

from support import FIXTURES, Trace, fixture, run_connected, run_python, run_traced, tracer_env


class FidelityTest(unittest.TestCase):
    def compare(self, target, cwd=None):
        plain = run_python(target, cwd=cwd)
        proc, trace = run_traced(target, cwd=cwd)
        self.assertEqual(proc.stdout.decode(), plain.stdout.decode())
        self.assertEqual(proc.stderr.decode(), plain.stderr.decode())
        self.assertEqual(proc.returncode, plain.returncode)
        return plain, trace

    def test_argv_name_path_and_exit_codes(self):
        for args in (["0"], ["3"], ["a", "b c"], ["-x", "--y=1", "9"]):
            with self.subTest(args=args):
                plain, trace = self.compare([fixture("argv_exit.py")] + args)
                out = plain.stdout.decode()
                self.assertIn("name __main__\n", out)
                self.assertIn("path0 %s\n" % FIXTURES, out)
                self.assertIn("main is me True\npickle 3\n", out)
        plain, trace = self.compare(["argv_exit.py", "5"])  # relative path, as typed
        self.assertEqual(plain.returncode, 5)
        self.assertIn("argv ['argv_exit.py', '5']", plain.stdout.decode())
        self.assertEqual(trace.process[4:6], (5, "exit"))

    def test_sys_exit_with_a_message(self):
        plain, trace = self.compare([fixture("argv_exit.py"), "stopped: bad input"])
        self.assertEqual(plain.returncode, 1)
        self.assertEqual(plain.stderr.decode(), "stopped: bad input\n")

    def test_module_mode(self):
        plain, trace = self.compare(["-m", "argv_exit", "4"], cwd=FIXTURES)
        out = plain.stdout.decode()
        self.assertIn("argv ['%s', '4']" % fixture("argv_exit.py"), out)
        self.assertIn("path0 %s\n" % FIXTURES, out)
        self.assertEqual(plain.returncode, 4)

    def test_module_mode_after_the_option_end(self):
        # `run -- -m module args`: the module form is accepted after `--` too.
        out = os.path.join(tempfile.mkdtemp(prefix="tracelens-test-"), "t.db")
        proc = run_python(["-m", "tracelens", "run", "--output", out, "--", "-m", "argv_exit", "3"],
                          cwd=FIXTURES)
        self.assertEqual(proc.returncode, 3, proc.stderr.decode())
        self.assertIn("argv ['%s', '3']" % fixture("argv_exit.py"), proc.stdout.decode())
        self.assertTrue(Trace(out).calls())

    def test_command_mode(self):
        # `run -c CODE args`, as `python -c`: argv, path0 '', no __file__, the same traceback;
        # the code itself (no file of its own) and the files under the current directory are
        # the program's.
        code = ("import sys, argv_exit\n"
                "def twice(x):\n    return x * 2\n"
                "print(sys.argv, repr(sys.path[0]), __name__, '__file__' in globals(), twice(21))\n"
                "if sys.argv[1:] == ['boom']:\n    raise ValueError('boom')\n")
        for args in (["a", "b c"], ["boom"]):
            with self.subTest(args=args):
                plain, trace = self.compare(["-c", code] + args, cwd=FIXTURES)
                self.assertEqual(plain.returncode, 1 if args == ["boom"] else 0)
                self.assertIn("%r '' __main__ False 42\n" % (["-c"] + args),
                              plain.stdout.decode())
                calls = trace.calls()
                self.assertEqual(calls[0][:2], ("<module>", 0))
                self.assertIn(("twice", 1, ["21"], "42"), calls)
                self.assertEqual(sum(1 for c in calls if c[0] == "<module>"), 2)  # and argv_exit
                if args == ["boom"]:
                    err = plain.stderr.decode()
                    self.assertIn('File "<string>", line 6, in <module>\n', err)
                    self.assertTrue(err.endswith("ValueError: boom\n"), err)

    def test_uncaught_exception_traceback(self):
        plain, trace = self.compare([fixture("exceptions.py")])
        self.assertEqual(plain.returncode, 1)
        self.assertTrue(plain.stderr.decode().startswith("Traceback (most recent call last):\n"))
        self.assertNotIn("tracelens", plain.stderr.decode())
        plain, trace = self.compare(["-m", "exceptions"], cwd=FIXTURES)

    def test_keyboard_interrupt(self):
        plain, trace = self.compare([fixture("signals.py"), "interrupt"])
        self.assertEqual(plain.returncode, -signal.SIGINT)
        self.assertEqual(trace.process[5], "exception")

    def test_sigterm(self):
        plain, trace = self.compare([fixture("signals.py"), "sigterm"])
        self.assertEqual(plain.returncode, -signal.SIGTERM)
        self.assertEqual(trace.process[4:6], (-signal.SIGTERM, "signal"))
        self.assertIn(("work", 2, ["1"], "2"), trace.calls())

    def test_os_exit_keeps_what_was_sent(self):
        plain, trace = self.compare([fixture("signals.py"), "hard"])
        self.assertEqual(plain.returncode, 7)
        self.assertIn(("work", 2, ["1"], "2"), trace.calls())

    def test_recursion_error(self):
        plain, trace = self.compare([fixture("signals.py"), "deep"])
        self.assertEqual(plain.stdout.decode().splitlines()[1], "caught RecursionError")

    def test_arguments_freed_as_untraced(self):
        # A function that lets go of an argument frees it then, traced too: the tracer keeps no
        # reference to argument values (a frame's f_locals snapshot would: it reads them in
        # place), nor to the classes of values it has shown. Where CPython itself holds them
        # (positional arguments in the caller before 3.11) the untraced run says so too. Not
        # compared: pure Python before 3.12 (CPython's settrace fills f_locals for a Python
        # trace function) and 3.11's eval gate (the caller holds positional arguments under a
        # frame-evaluation hook, as before 3.11).
        plain = run_python([fixture("lifetimes.py")])
        self.assertEqual(len(plain.stdout.decode().split()), 12)
        if sys.version_info >= (3, 11):
            self.assertEqual(plain.stdout.decode(), "True True True True True True\n" * 2)
        modes = [{"TRACELENS_ACCEL": "1", "TRACELENS_EVAL_GATE": "0"}]
        if sys.version_info >= (3, 12):
            modes.append({"TRACELENS_ACCEL": "0"})
        for mode in modes:
            with self.subTest(mode=mode):
                proc, trace = run_traced([fixture("lifetimes.py")], env=tracer_env(mode))
                self.assertEqual(proc.stdout.decode(), plain.stdout.decode())
                calls = [c for c in trace.calls() if c[0] in ("plain", "gen", "cell", "star", "caught")]
                # Before 3.13 the generator's close() when it is freed runs it again: a row.
                calls = [c for i, c in enumerate(calls) if i == 0 or c[0] != calls[i - 1][0]]
                self.assertEqual([c[0] for c in calls], ["plain", "gen", "cell", "star", "caught"] * 2)
                for c in calls:
                    self.assertTrue(all(a.startswith(("<__main__.A object at 0x", "(<__main__.A",
                                                      "{'k': <__main__.A"))
                                        for a in c[2]), c)

    def test_the_tracers_threads_are_not_the_programs(self):
        # threading.enumerate() and active_count() list the program's threads only, whatever
        # the tracer runs beside it (writer, sampler, line ticker, children's server, control
        # reader), and joining every other thread ends.
        plain = run_python([fixture("thread_census.py")])
        self.assertEqual(plain.stdout.decode(), "1 ['MainThread']\njoined\n")
        for options in ([], ["--sample", "200", "--lines", "thread_census.py"], ["--no-children"]):
            with self.subTest(options=options):
                proc, trace = run_traced([fixture("thread_census.py")], options)
                self.assertEqual(proc.stdout.decode(), plain.stdout.decode(), proc.stderr.decode())
                self.assertIn(("work", 0, ["1"], "2", "worker"), trace.calls(thread=True))
        proc, streams = run_connected([fixture("thread_census.py")])
        self.assertEqual(proc.stdout.decode(), plain.stdout.decode())

    def test_syntax_error(self):
        import tempfile
        d = tempfile.mkdtemp(prefix="tracelens-syntax-")
        path = os.path.join(d, "broken.py")
        with open(path, "w") as f:
            f.write("print('hi')\ndef (:\n")
        plain, trace = self.compare([path])
        self.assertEqual(plain.returncode, 1)
        self.assertIn("SyntaxError", plain.stderr.decode())

    def test_missing_program(self):
        proc, trace = run_traced([os.path.join(FIXTURES, "no_such_program.py")])
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "tracelens: can't open file %r: [Errno 2] No such file or directory\n"
                         % os.path.join(FIXTURES, "no_such_program.py"))
        self.assertIsNone(trace)


if __name__ == "__main__":
    unittest.main()
