# The optional recordings, off by default: line mode (exact per-line hits, own and total time,
# sent as `lines` deltas), the sampler (sampled lines), probes (gc and audit events with the line
# that caused them), C calls on 3.12+; and what reaches the trace file from each.
import os
import sqlite3
import sys
import tempfile
import unittest

from support import fixture, run_connected, run_traced

F = fixture("features.py")


def summed(stream, sampled):
    out = {}
    for m in stream.lines:
        if m["sampled"] != sampled:
            continue
        for fid, line, hits, own, total in m["stats"]:
            self_path = stream.files[fid]
            v = out.setdefault((os.path.basename(self_path), line), [0, 0, 0])
            v[0] += hits
            v[1] += own
            v[2] += total
    return out


class LineModeTest(unittest.TestCase):
    def test_exact_lines(self):
        proc, streams = run_connected([F], ["--lines", "features.py"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "40425\n3\n")
        s = streams[0]
        self.assertTrue(s.lines)
        self.assertEqual([m for m in s.lines if m["sampled"]], [])
        lines = summed(s, False)
        hits = {line: v[0] for (f, line), v in lines.items()}
        self.assertEqual((hits[12], hits[17], hits[18], hits[19], hits[37]), (50, 51, 50, 1, 1))
        for key, (h, own, total) in lines.items():
            self.assertGreaterEqual(total, own, key)
            self.assertGreaterEqual(own, 0, key)
        # Line 18 calls square (traced): its total includes square's time, its own does not.
        self.assertGreater(lines[("features.py", 18)][2], lines[("features.py", 18)][1])
        self.assertEqual(lines[("features.py", 12)][1], lines[("features.py", 12)][2])
        # The lines messages come after the batch defining their file, as the wire requires.
        seen_files = set()
        for m in s.messages:
            if m["t"] == "batch":
                seen_files.update(f[0] for f in m["files"])
            elif m["t"] == "lines":
                self.assertTrue({st[0] for st in m["stats"]} <= seen_files)

    def test_lines_glob_chooses_the_code(self):
        proc, streams = run_connected([F], ["--lines", "nothing_like_it"])
        self.assertEqual(streams[0].lines, [])
        proc, streams = run_connected([F], ["--lines", "__main__"])
        self.assertEqual(summed(streams[0], False)[("features.py", 18)][0], 50)

    def test_line_stats_in_the_trace_file(self):
        proc, t = run_traced([F], ["--lines", "features.py"])
        db = sqlite3.connect(t.path)
        rows = dict(((line), hits) for line, hits in db.execute(
            "SELECT line, hits FROM line_stats WHERE sampled = 0 AND line IN (12, 17, 18)"))
        self.assertEqual(rows, {12: 50, 17: 51, 18: 50})

    def test_off_by_default(self):
        proc, streams = run_connected([F])
        self.assertEqual(streams[0].lines, [])
        self.assertEqual([e for e in streams[0].events if e[0] in (8, 10, 11)], [])


class SamplerTest(unittest.TestCase):
    def test_sampled_lines(self):
        proc, streams = run_connected([F, "busy"], ["--sample", "200"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), "40425\n3\nTrue\n")
        s = streams[0]
        lines = summed(s, True)
        self.assertEqual(summed(s, False), {})
        busy = sum(lines.get(("features.py", n), [0])[0] for n in (31, 32, 33))
        # 0.3 s at 200 Hz, fewer as the busy loop holds the GIL (and more under a loaded machine)
        self.assertGreaterEqual(busy, 2)
        others = [v[0] for (f, n), v in lines.items() if n not in (31, 32, 33)]
        self.assertGreaterEqual(busy, max(others or [0]))
        # The call of busy() from main (line 42) is on the stack of every busy sample.
        self.assertGreaterEqual(lines[("features.py", 42)][2], busy * 5_000_000)
        for (h, own, total) in lines.values():
            self.assertEqual(own, h * 5_000_000)
            self.assertGreaterEqual(total, own)


class ProbeTest(unittest.TestCase):
    def test_gc_and_audit(self):
        proc, streams = run_connected([F], ["--probes", "gc,audit"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        s = streams[0]
        # The program's own gc.collect() at line 40 (an automatic collection may happen anywhere).
        probes = [d for d in s.described([8]) if (d[1], d[2], d[3][:2]) in (
            ("touch", 23, "au"), ("touch", 25, "au"), ("main", 40, "gc"))]
        path = "/tmp/tracelens-probe-%d.txt" % s.hello["pid"]
        self.assertEqual([d[:4] for d in probes], [
            (8, "touch", 23, "audit"), (8, "touch", 25, "audit"),
            (8, "main", 40, "gc.start"), (8, "main", 40, "gc.stop")])
        self.assertTrue(probes[0][4].startswith("open ('%s', 'w', " % path), probes[0][4])
        self.assertEqual(probes[1][4], "os.remove ('%s', -1)" % path)
        self.assertEqual(probes[2][4], "gen=2")
        self.assertRegex(probes[3][4], r"^gen=2 collected=\d+$")
        # Audit events from before the program ran (the interpreter's own imports) are left out.
        first_call = next(i for i, e in enumerate(s.events) if e[0] == 1)
        self.assertEqual([e for e in s.events[:first_call] if e[0] == 8 and e[5] == 0], [])

    def test_probes_in_the_trace_file(self):
        proc, t = run_traced([F], ["--probes", "audit:os.remove"])
        db = sqlite3.connect(t.path)
        rows = db.execute("SELECT probes.name, strings.text, probes.line, codes.qualname "
                          "FROM probes JOIN strings ON strings.id = probes.detail "
                          "JOIN calls ON calls.id = probes.call JOIN codes ON codes.id = calls.code "
                          "ORDER BY probes.ts_ns").fetchall()
        # tempfile.gettempdir() tries the directory with a file of its own the first time it
        # is called (line 39), as untraced: the tracer itself never calls tempfile.
        self.assertEqual([(r[0], r[2], r[3]) for r in rows],
                         [("audit", 39, "main"), ("audit", 25, "touch")])
        self.assertTrue(rows[0][1].startswith("os.remove ('%s/" % tempfile.gettempdir()))
        self.assertTrue(rows[1][1].startswith("os.remove ('/tmp/tracelens-probe-"))

    def test_bad_probe_name(self):
        proc, t = run_traced([F], ["--probes", "gc,dtrace"])
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr.decode().splitlines()[0],
                         "tracelens: --probes: unknown probe 'dtrace' (probes: gc, audit, "
                         "audit:EVENT, audit:*)")


class ProbeThreadTest(unittest.TestCase):
    """Probes leave out the tracer's own threads (ownthreads.OwnThread), and keep the program's,
    whatever their names, and threads threading never saw."""

    def test_whose_thread(self):
        import _thread
        import threading
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "adapter", "python"))
        from tracelens import probes
        from tracelens.ownthreads import OwnThread
        seen = {}
        started = threading.Event()

        t = OwnThread(lambda: seen.__setitem__("ours", probes._ours()), "tracelens-test")
        t.start()
        t.join(5)
        self.assertFalse(t.is_alive())
        u = threading.Thread(target=lambda: seen.__setitem__("program", probes._ours()),
                             name="tracelens-named")
        u.start()
        u.join()

        def foreign():
            seen["foreign"] = probes._ours()
            started.set()
        _thread.start_new_thread(foreign, ())
        started.wait(5)
        self.assertEqual(seen, {"ours": True, "program": False, "foreign": False})
        self.assertFalse(probes._ours())
        self.assertNotIn(t.ident, [x.ident for x in threading.enumerate()])


class CCallTest(unittest.TestCase):
    def test_c_calls(self):
        proc, streams = run_connected([F], ["--c-calls"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        s = streams[0]
        c = [(e[0], s.name(e[2])) for e in s.events if e[0] in (10, 11)]
        if sys.version_info < (3, 12):
            self.assertEqual(c, [])
            return
        i = c.index((10, "sorted"))
        self.assertEqual(c[i:i + 4], [(10, "sorted"), (11, "sorted"), (10, "len"), (11, "len")])
        self.assertEqual(c.count((10, "collect")), 1)
        self.assertEqual(len([x for x in c if x[0] == 10]), len([x for x in c if x[0] == 11]))
        code = [cd for cd in s.codes.values() if cd[3] == "sorted"][0]
        self.assertEqual(code[1:], [0, "builtins", "sorted", 0, [], 0])  # file 0: a C function
        # In the trace file: C calls are calls with flag 8 under the Python call that made them.
        proc, t = run_traced([F], ["--c-calls"])
        db = sqlite3.connect(t.path)
        rows = db.execute("SELECT c.qualname, p.qualname, calls.flags FROM calls "
                          "JOIN codes c ON c.id = calls.code JOIN calls pc ON pc.id = calls.parent "
                          "JOIN codes p ON p.id = pc.code WHERE c.qualname = 'sorted'").fetchall()
        self.assertEqual(rows, [("sorted", "main", 8)])


if __name__ == "__main__":
    unittest.main()
