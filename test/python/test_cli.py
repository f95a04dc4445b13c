# The command line: --help documents every option, wrong command lines exit 2 with a clear
# message, the default output file, and `stats` (text and --json) on a real trace file.
import json
import os
import tempfile
import unittest

from support import tracer_env, fixture, run_python, run_traced, Trace

RUN_OPTIONS = ["--connect", "--output", "--include", "--exclude", "--value-limit", "--buffer",
               "--token-env", "-m MODULE", "-c CODE", "--", "-h, --help", "TRACELENS_TOKEN", "--filter",
               "--max-depth", "--from", "--no-children", "TRACELENS_CHILD", "--values",
               "--value-depth", "--value-width", "--reprs", "--c-calls", "--lines", "--sample",
               "--probes"]


class CliTest(unittest.TestCase):
    def test_help(self):
        proc = run_python(["-m", "tracelens", "--help"])
        self.assertEqual(proc.returncode, 0)
        self.assertIn("run", proc.stdout.decode())
        self.assertIn("stats", proc.stdout.decode())
        proc = run_python(["-m", "tracelens", "run", "--help"])
        self.assertEqual(proc.returncode, 0)
        for option in RUN_OPTIONS:
            self.assertIn(option, proc.stdout.decode())
        proc = run_python(["-m", "tracelens", "stats", "--help"])
        self.assertIn("--json", proc.stdout.decode())
        proc = run_python(["-m", "tracelens", "export", "--help"])
        self.assertEqual(proc.returncode, 0)
        self.assertIn("--chrome", proc.stdout.decode())
        self.assertIn("export", run_python(["-m", "tracelens", "--help"]).stdout.decode())
        # Every option the parser knows is documented.
        from tracelens import cli
        import inspect
        source = inspect.getsource(cli.parse_run)
        import re
        for option in set(re.findall(r'"(--[a-z-]+)"', source)):
            self.assertIn(option, cli.RUN_HELP, option)

    def test_usage_errors(self):
        for args, message in (
            (["run", "--bogus", "x.py"], "tracelens: unknown option '--bogus'\n"),
            (["run"], "tracelens: no program given"),
            (["run", "--output"], "tracelens: --output needs a value\n"),
            (["run", "--value-limit", "lots", "x.py"], "tracelens: --value-limit needs a whole number"),
            (["run", "--connect", "nowhere", "--", fixture("hello.py")], "tracelens: --connect: expected HOST:PORT"),
            (["frobnicate"], "tracelens: unknown command 'frobnicate'"),
            (["stats"], "tracelens: stats needs exactly one trace file\n"),
            (["run", "--sample", "fast", "x.py"], "tracelens: --sample needs a rate per second"),
            (["run", "--values", "json", "x.py"], "tracelens: --values must be repr or structured"),
            (["run", "--reprs", "some", "x.py"], "tracelens: --reprs must be builtins or all"),
            (["export", "x.db", "y.json"], "tracelens: export needs a format: --chrome\n"),
            (["export", "--chrome", "x.db"], "tracelens: export needs a trace file and an output"),
            (["export", "--pdf"], "tracelens: unknown option '--pdf'"),
        ):
            with self.subTest(args=args):
                proc = run_python(["-m", "tracelens"] + args)
                self.assertEqual(proc.returncode, 2)
                self.assertTrue(proc.stderr.decode().startswith(message), proc.stderr.decode())
                self.assertNotIn("Traceback", proc.stderr.decode())

    def test_unwritable_output(self):
        # Said before the program runs (it prints nothing), with both file writers.
        d = tempfile.mkdtemp(prefix="tracelens-out-")
        for out, why in ((os.path.join(d, "missing", "t.db"), "No such file or directory"),
                         (d, "Is a directory")):
            for writer_process in ("1", "0"):
                with self.subTest(out=out, writer_process=writer_process):
                    env = tracer_env({"TRACELENS_WRITER_PROCESS": writer_process})
                    proc = run_python(["-m", "tracelens", "run", "--output", out, "--",
                                       fixture("hello.py")], env=env)
                    self.assertEqual((proc.returncode, proc.stdout), (2, b""))
                    err = proc.stderr.decode()
                    self.assertTrue(err.startswith("tracelens: cannot write the trace file %s: "
                                                   % out), err)
                    if writer_process == "1":
                        self.assertIn(why, err)
                    self.assertNotIn("Traceback", err)

    def test_bad_connect_leaves_no_trace_file(self):
        # Nothing listens there: the error says so, and the --output file was not made (an older
        # trace at that path is kept).
        import socket
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        d = tempfile.mkdtemp(prefix="tracelens-connect-")
        for old in (None, b"an older trace"):
            with self.subTest(old=old):
                out = os.path.join(d, "t.db")
                if old is not None:
                    with open(out, "wb") as f:
                        f.write(old)
                proc = run_python(["-m", "tracelens", "run", "--connect", "127.0.0.1:%d" % port,
                                   "--output", out, "--", fixture("hello.py")])
                self.assertEqual(proc.returncode, 2)
                err = proc.stderr.decode()
                self.assertTrue(err.startswith(
                    "tracelens: cannot connect to the Tracelens adapter at 127.0.0.1:%d" % port), err)
                self.assertNotIn("Traceback", err)
                if old is None:
                    self.assertFalse(os.path.exists(out))
                else:
                    with open(out, "rb") as f:
                        self.assertEqual(f.read(), old)

    def test_default_output_file(self):
        d = tempfile.mkdtemp(prefix="tracelens-cwd-")
        proc = run_python(["-m", "tracelens", "run", fixture("hello.py")], cwd=d)
        self.assertEqual(proc.returncode, 0)
        path = os.path.join(d, "tracelens-hello.db")
        self.assertEqual(proc.stderr.decode(), "tracelens: trace written to %s\n" % path)
        self.assertTrue(os.path.isfile(path))

    def test_stats(self):
        proc, trace = run_traced([fixture("recursion.py"), "5"])
        result = run_python(["-m", "tracelens", "stats", "--json", trace.path])
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        rows = {r["function"]: r for r in json.loads(result.stdout.decode())}
        self.assertEqual(sorted(rows), ["<module>", "factorial", "fib"])
        self.assertEqual(rows["fib"]["calls"], 15)
        self.assertEqual(rows["factorial"]["calls"], 5)
        self.assertEqual(rows["fib"]["line"], 12)
        self.assertEqual(rows["fib"]["module"], "__main__")
        self.assertEqual(rows["fib"]["file"], fixture("recursion.py"))
        for r in rows.values():
            self.assertEqual(list(r), ["module", "function", "file", "line", "calls", "total_ns", "own_ns"])
            self.assertGreaterEqual(r["total_ns"], r["own_ns"])
            self.assertGreater(r["own_ns"], 0)
        top = rows["<module>"]
        self.assertEqual(top["total_ns"],
                         top["own_ns"] + rows["fib"]["total_ns"] + rows["factorial"]["total_ns"])
        text = run_python(["-m", "tracelens", "stats", trace.path])
        self.assertEqual(text.returncode, 0)
        self.assertIn("fib (recursion.py:12)", text.stdout.decode())

    def test_stats_into_a_pipe_closed_early(self):
        # `stats FILE | head -1`: the reader has gone before stats writes; no traceback.
        import subprocess
        import sys
        proc, trace = run_traced([fixture("recursion.py"), "5"])
        reader = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE)
        reader.wait(timeout=60)
        stats = subprocess.Popen([sys.executable, "-m", "tracelens", "stats", trace.path],
                                 cwd=fixture("."), env=tracer_env(), stdout=reader.stdin,
                                 stderr=subprocess.PIPE)
        reader.stdin.close()
        err = stats.communicate(timeout=60)[1].decode()
        self.assertEqual(err, "")
        self.assertEqual(stats.returncode, 1)

    def test_stats_refuses_a_foreign_file(self):
        d = tempfile.mkdtemp(prefix="tracelens-foreign-")
        path = os.path.join(d, "notes.txt")
        with open(path, "w") as f:
            f.write("not a database")
        proc = run_python(["-m", "tracelens", "stats", path])
        self.assertEqual(proc.returncode, 2)
        self.assertTrue(proc.stderr.decode().startswith("tracelens: cannot read %s as a Tracelens trace file" % path))
        proc = run_python(["-m", "tracelens", "stats", os.path.join(d, "missing.db")])
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode(),
                         "tracelens: no such trace file: %s\n" % os.path.join(d, "missing.db"))
        # A SQLite file that is not a trace; a trace file that cannot be read.
        import sqlite3
        other = os.path.join(d, "other.db")
        db = sqlite3.connect(other)
        db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', 'something-else')")
        db.commit()
        db.close()
        for command in (["stats"], ["export", "--chrome"]):
            extra = [os.path.join(d, "out.json")] if command[0] == "export" else []
            proc = run_python(["-m", "tracelens"] + command + [other] + extra)
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(proc.stderr.decode(), "tracelens: cannot read %s as a Tracelens "
                             "trace file: its meta format is 'something-else'\n" % other)
            proc = run_python(["-m", "tracelens"] + command + [path] + extra)
            self.assertEqual(proc.returncode, 2)
            self.assertTrue(proc.stderr.decode().startswith(
                "tracelens: cannot read %s as a Tracelens trace file" % path))
            self.assertNotIn("Traceback", proc.stderr.decode())
        if os.getuid() != 0:  # root reads anything
            locked = os.path.join(d, "locked.db")
            with open(locked, "w"):
                pass
            os.chmod(locked, 0)
            proc = run_python(["-m", "tracelens", "stats", locked])
            self.assertEqual(proc.stderr.decode(),
                             "tracelens: cannot read %s (not a readable file)\n" % locked)

    def test_export_chrome(self):
        proc, trace = run_traced([fixture("exceptions.py")])
        out = os.path.join(os.path.dirname(trace.path), "chrome.json")
        result = run_python(["-m", "tracelens", "export", "--chrome", trace.path, out])
        self.assertEqual((result.returncode, result.stderr.decode()), (0, ""))
        with open(out, encoding="utf-8") as f:
            data = json.load(f)
        events = data["traceEvents"]
        meta = [(e["name"], e["args"]["name"]) for e in events if e["ph"] == "M"]
        self.assertEqual(meta[1], ("thread_name", "MainThread"))
        self.assertTrue(meta[0][1].endswith("exceptions.py"))
        slices = [(e["name"], e["args"].get("args"), e["args"].get("return"),
                   e["args"].get("exception")) for e in events if e["ph"] == "X"]
        self.assertEqual(slices[:3], [
            ("<module>", {}, None, "AppError: giving up"), ("AppError", {}, "None", None),
            ("safe_parse", {"text": "'12'"}, "12", None)])
        self.assertEqual(len(slices), len(trace.rows))
        for e in events:
            if e["ph"] == "X":
                self.assertGreaterEqual(e["dur"], 0)
        instants = [e["name"] for e in events if e["ph"] == "i"]
        self.assertEqual(instants[:3], ["ValueError raised", "ValueError propagated",
                                        "ValueError handled"])
        proc = run_python(["-m", "tracelens", "export", "--chrome", trace.path,
                           os.path.join(out, "nope", "x.json")])
        self.assertEqual(proc.returncode, 2)
        self.assertTrue(proc.stderr.decode().startswith("tracelens: cannot write "))


if __name__ == "__main__":
    unittest.main()


class CurrentDirectoryTest(unittest.TestCase):
    """`python -m tracelens` puts the current directory first on sys.path; modules there named
    like the standard library's must not be run by the tracer's own imports."""

    def test_modules_in_the_current_directory_do_not_shadow_the_tracers(self):
        cwd = tempfile.mkdtemp(prefix="tracelens-cwd-")
        prog = tempfile.mkdtemp(prefix="tracelens-prog-")
        for name in ("threading", "json", "socket", "sqlite3", "signal"):
            with open(os.path.join(cwd, name + ".py"), "w") as f:
                f.write("import sys\nsys.stderr.write('shadowed %s\\n')\n" % name)
        with open(os.path.join(prog, "p.py"), "w") as f:
            f.write("import sys\nprint('ok', sys.path[0] == %r)\n" % prog)
        plain = run_python([os.path.join(prog, "p.py")], cwd=cwd)
        traced, trace = run_traced([os.path.join(prog, "p.py")], cwd=cwd)
        self.assertEqual((plain.stdout, plain.stderr), (b"ok True\n", b""))
        self.assertEqual(traced.returncode, 0, traced.stderr.decode())
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertNotIn(b"shadowed", traced.stderr)
        self.assertIsNotNone(trace)


class OwnBytecodeTest(unittest.TestCase):
    """Under -B / PYTHONDONTWRITEBYTECODE the tracer's own modules are compiled once and kept
    (every traced run would otherwise compile them again, ~30 ms each start); the program's
    modules are not cached and the program sees the setting it was given."""

    def test_tracer_modules_keep_bytecode_program_modules_do_not(self):
        import shutil
        import sys
        from support import TRACER_DIR
        root = tempfile.mkdtemp(prefix="tracelens-pyc-")
        pkg = os.path.join(root, "tracelens")
        shutil.copytree(os.path.join(TRACER_DIR, "tracelens"), pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
        prog = os.path.join(root, "prog")
        os.mkdir(prog)
        with open(os.path.join(prog, "helper.py"), "w") as f:
            f.write("def value():\n    return 42\n")
        with open(os.path.join(prog, "main.py"), "w") as f:
            f.write("import sys, helper\nprint(helper.value(), sys.dont_write_bytecode)\n")
        env = tracer_env({"PYTHONPATH": root, "PYTHONDONTWRITEBYTECODE": "1"})
        out = os.path.join(root, "t.db")
        args = ["-B", "-m", "tracelens", "run", "--output", out, "--", os.path.join(prog, "main.py")]
        first = run_python(args, cwd=prog, env=env)
        self.assertEqual(first.returncode, 0, first.stderr.decode())
        self.assertEqual(first.stdout, b"42 True\n")
        self.assertFalse(os.path.exists(os.path.join(prog, "__pycache__")))
        tag = sys.implementation.cache_tag
        cached = os.path.join(pkg, "__pycache__")
        sources = sorted(n[:-3] for n in os.listdir(pkg) if n.endswith(".py"))
        self.assertEqual(sorted(n.split(".")[0] for n in os.listdir(cached) if tag in n), sources)
        stamps = {n: os.stat(os.path.join(cached, n)).st_mtime_ns for n in os.listdir(cached)}
        second = run_python(args, cwd=prog, env=env)
        self.assertEqual(second.stdout, b"42 True\n")
        self.assertEqual({n: os.stat(os.path.join(cached, n)).st_mtime_ns
                          for n in os.listdir(cached)}, stamps)
        self.assertIn("value", {c[0] for c in Trace(out).calls()})
