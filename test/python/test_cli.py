# The command line: --help documents every option, wrong command lines exit 2 with a clear
# message, the default output file, and `stats` (text and --json) on a real trace file.
import json
import os
import tempfile
import unittest

from support import fixture, run_python, run_traced

RUN_OPTIONS = ["--connect", "--output", "--include", "--exclude", "--value-limit", "--buffer",
               "--token-env", "-m MODULE", "--", "-h, --help", "TRACELENS_TOKEN"]


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

    def test_usage_errors(self):
        for args, message in (
            (["run", "--bogus", "x.py"], "tracelens: unknown option '--bogus'\n"),
            (["run"], "tracelens: no program given"),
            (["run", "--output"], "tracelens: --output needs a value\n"),
            (["run", "--value-limit", "lots", "x.py"], "tracelens: --value-limit needs a whole number"),
            (["run", "--connect", "nowhere", "--", fixture("hello.py")], "tracelens: --connect: expected HOST:PORT"),
            (["frobnicate"], "tracelens: unknown command 'frobnicate'"),
            (["stats"], "tracelens: stats needs exactly one trace file\n"),
        ):
            with self.subTest(args=args):
                proc = run_python(["-m", "tracelens"] + args)
                self.assertEqual(proc.returncode, 2)
                self.assertTrue(proc.stderr.decode().startswith(message), proc.stderr.decode())
                self.assertNotIn("Traceback", proc.stderr.decode())

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


if __name__ == "__main__":
    unittest.main()
