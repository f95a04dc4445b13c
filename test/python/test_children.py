# Child processes: Python children started with subprocess and multiprocessing (fork, spawn)
# connect back with their own hello (pid, parent's pid) and their own calls, over a real socket
# and into the same trace file; --no-children leaves them out. The program's output is unchanged.
import json
import os
import sqlite3
import unittest

from support import fixture, run_connected, run_python, run_traced

OUT = "child 4\nchild 9\nparent 1\n"
SUB_OUT = "cube 8\ncube 27\nparent 1\n"


def calls(stream):
    return [d for d in stream.described([1])]


FORKS = """\
import os


def child_work(x):
    return x * 2


def parent_work(x):
    return x + 1


def main():
    pid = os.fork()
    if pid == 0:
        print("child", child_work(21), flush=True)
        child_work(22)
        return  # and ends as the program does, so what it recorded is sent
    os.waitpid(pid, 0)
    print("parent", parent_work(1))


main()
"""


class ChildrenTest(unittest.TestCase):
    def family(self, method, options=()):
        proc, streams = run_connected([fixture("family.py"), method], options)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), SUB_OUT if method == "subprocess" else OUT)
        self.assertEqual(proc.stderr.decode(), "")
        parent = [s for s in streams if s.hello["ppid"] == os.getpid()]
        self.assertEqual(len(parent), 1)
        parent = parent[0]
        self.assertEqual(calls(parent), [(1, "<module>"), (1, "main", repr(method)),
                                         (1, "square", "1")])
        self.assertEqual(parent.end, {"t": "end", "exit_code": 0, "reason": "exit"})
        kids = [s for s in streams if s is not parent]
        for s in kids:
            self.assertEqual(s.hello["ppid"], parent.hello["pid"])
            self.assertEqual(s.hello["token"], "test-token")
            self.assertNotEqual(s.hello["pid"], parent.hello["pid"])
            self.assertEqual(s.end["t"], "end")
        return parent, kids

    def test_subprocess(self):
        parent, kids = self.family("subprocess")
        self.assertEqual([calls(k) for k in kids], [
            [(1, "<module>"), (1, "cube", "2")], [(1, "<module>"), (1, "cube", "3")]])
        self.assertEqual([k.hello["argv"] for k in kids],
                         [[fixture("child_work.py"), "2"], [fixture("child_work.py"), "3"]])

    def test_multiprocessing_fork(self):
        parent, kids = self.family("fork")
        self.assertEqual([calls(k) for k in kids], [
            [(1, "in_child", "2"), (1, "square", "2")],
            [(1, "in_child", "3"), (1, "square", "3")]])
        # What the child did after the fork only: the parent's calls stay with the parent.
        for k in kids:
            self.assertEqual([d[1] for d in k.described([2])], ["square", "in_child"])

    def test_multiprocessing_spawn(self):
        parent, kids = self.family("spawn")
        workers = [k for k in kids if k.hello["argv"] == ["-c", "--multiprocessing-fork"]]
        others = [k for k in kids if k not in workers]
        self.assertEqual([calls(k) for k in workers], [
            [(1, "<module>"), (1, "in_child", "2"), (1, "square", "2")],
            [(1, "<module>"), (1, "in_child", "3"), (1, "square", "3")]])
        # multiprocessing's resource tracker is a Python child too (nothing of it in scope).
        for k in others:
            self.assertEqual((k.hello["argv"], calls(k)), (["-c"], []))
        self.assertLessEqual(len(others), 1)

    def test_orphan_names_its_traced_parent(self):
        # The parent exits at once; the child starts (and says hello) after it is gone, when
        # its own parent is init. Its hello still names the traced parent.
        import tempfile
        d = tempfile.mkdtemp(prefix="tracelens-orphan-")
        prog = os.path.join(d, "leaves.py")
        with open(prog, "w") as f:
            f.write("import subprocess, sys\n"
                    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(0.2)'])\n")
        proc, streams = run_connected([prog])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        parent = [s for s in streams if s.hello["argv"] == [prog]]
        kids = [s for s in streams if s.hello["argv"] == ["-c"]]
        self.assertEqual((len(parent), len(kids)), (1, 1), [s.hello for s in streams])
        self.assertEqual(kids[0].hello["ppid"], parent[0].hello["pid"])

    def test_subprocess_with_its_own_env(self):
        # env= built from nothing (str and bytes keys, a PYTHONPATH of its own): the child is
        # traced all the same, sees the variables it was given, and the program's mapping is
        # left as it was.
        import tempfile
        d = tempfile.mkdtemp(prefix="tracelens-env-")
        lib = os.path.join(d, "lib")
        os.mkdir(lib)
        with open(os.path.join(lib, "helper.py"), "w") as f:
            f.write("def value():\n    return 'from lib'\n")
        child = os.path.join(d, "child.py")
        with open(child, "w") as f:
            f.write("import os, helper\n"
                    "def work(n):\n    return n * 2\n"
                    "print(os.environ.get('ONLY'), helper.value(), work(21))\n")
        prog = os.path.join(d, "parent.py")
        with open(prog, "w") as f:
            f.write("import os, subprocess, sys\n"
                    "env = {'ONLY': 'one', 'PYTHONPATH': %r}\n"
                    "benv = {b'ONLY': b'two', b'PYTHONPATH': os.fsencode(%r)}\n"
                    "for e in (env, benv):\n"
                    "    out = subprocess.run([sys.executable, %r], env=e, stdout=subprocess.PIPE)\n"
                    "    print(out.stdout.decode().strip(), out.returncode)\n"
                    "print(sorted(env), sorted(benv))\n" % (lib, lib, child))
        proc, streams = run_connected([prog])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(),
                         "one from lib 42 0\ntwo from lib 42 0\n"
                         "['ONLY', 'PYTHONPATH'] [b'ONLY', b'PYTHONPATH']\n")
        kids = [s for s in streams if s.hello["argv"] == [child]]
        self.assertEqual(len(kids), 2, [s.hello for s in streams])
        for k in kids:
            self.assertEqual(k.hello["ppid"], [s for s in streams if s not in kids][0].hello["pid"])
            # helper.py is under the program's directory, so in scope too.
            self.assertEqual(calls(k), [(1, "<module>"), (1, "<module>"), (1, "value"),
                                        (1, "work", "21")])

    def test_child_env_of_a_mapping(self):
        # What a subprocess given its own env= gets: a copy with the child variable and the
        # tracer first on PYTHONPATH (once), str or bytes as the mapping has them.
        from tracelens import children
        saved = dict(children._state)
        try:
            children._state["config"] = {"connect": "127.0.0.1:9", "token": "t"}
            env = {"A": "1", "PYTHONPATH": os.pathsep.join(["/x", children.SITE_DIR])}
            new = children.child_env(env)
            self.assertEqual(env, {"A": "1", "PYTHONPATH": os.pathsep.join(["/x", children.SITE_DIR])})
            self.assertEqual(new["PYTHONPATH"].split(os.pathsep),
                             [children.SITE_DIR, children.TRACER_DIR, "/x"])
            self.assertEqual(json.loads(new[children.CHILD_ENV]),
                             {"connect": "127.0.0.1:9", "token": "t"})
            self.assertEqual(new["A"], "1")
            bnew = children.child_env({b"A": b"1"})
            self.assertEqual(sorted(bnew), [b"A", b"PYTHONPATH", os.fsencode(children.CHILD_ENV)])
            self.assertEqual(bnew[b"PYTHONPATH"], os.fsencode(
                os.pathsep.join([children.SITE_DIR, children.TRACER_DIR])))
            # A mapping that already has the variable keeps it.
            self.assertEqual(children.child_env({children.CHILD_ENV: "theirs"})[children.CHILD_ENV],
                             "theirs")
            children._state["config"] = None  # children not traced: the mapping as it is
            self.assertIs(children.child_env(env), env)
        finally:
            children._state.update(saved)

    def test_no_children(self):
        proc, streams = run_connected([fixture("family.py"), "subprocess"], ["--no-children"])
        self.assertEqual(proc.stdout.decode(), SUB_OUT)
        self.assertEqual(len(streams), 1)

    def test_children_in_the_trace_file(self):
        proc, t = run_traced([fixture("family.py"), "fork"])
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(), OUT)
        db = sqlite3.connect(t.path)
        procs = db.execute("SELECT id, pid, ppid, end_reason FROM processes ORDER BY id").fetchall()
        self.assertEqual(len(procs), 3)
        self.assertEqual(procs[0][2:], (os.getpid(), "exit"))
        self.assertEqual([p[2] for p in procs[1:]], [procs[0][1], procs[0][1]])
        self.assertEqual(len({p[1] for p in procs}), 3)
        rows = db.execute("SELECT calls.process, codes.qualname, calls.depth, strings.text "
                          "FROM calls JOIN codes ON codes.id = calls.code "
                          "LEFT JOIN strings ON strings.id = calls.return_value "
                          "ORDER BY calls.process, calls.start_ns").fetchall()
        self.assertEqual(rows, [
            (1, "<module>", 0, "None"), (1, "main", 1, "None"), (1, "square", 2, "1"),
            (2, "in_child", 0, "None"), (2, "square", 1, "4"),
            (3, "in_child", 0, "None"), (3, "square", 1, "9")])
        # Codes and threads belong to their process; files are shared.
        self.assertEqual(db.execute("SELECT COUNT(*) FROM files").fetchone()[0], 1)
        self.assertEqual(db.execute(
            "SELECT COUNT(*) FROM calls JOIN codes ON codes.id = calls.code "
            "WHERE codes.process != calls.process").fetchone()[0], 0)
        self.assertEqual(db.execute(
            "SELECT COUNT(*) FROM calls JOIN threads ON threads.id = calls.thread "
            "WHERE threads.process != calls.process").fetchone()[0], 0)

    @unittest.skipUnless(hasattr(os, "fork"), "os.fork")
    def test_os_fork_from_recorded_code(self):
        # The fork happens in a recorded frame (not in the standard library, as with
        # multiprocessing): the child's calls are recorded as its own process all the same.
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "forks.py")
            with open(script, "w") as f:
                f.write(FORKS)
            proc, t = run_traced([script])
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())
            self.assertEqual(proc.stdout.decode(), "child 42\nparent 2\n")
            db = sqlite3.connect(t.path)
            rows = db.execute("SELECT calls.process, codes.qualname, strings.text "
                              "FROM calls JOIN codes ON codes.id = calls.code "
                              "LEFT JOIN strings ON strings.id = calls.return_value "
                              "ORDER BY calls.process, calls.start_ns").fetchall()
            db.close()
            self.assertEqual(rows, [(1, "<module>", "None"), (1, "main", "None"),
                                    (1, "parent_work", "2"),
                                    (2, "child_work", "42"), (2, "child_work", "44")])

    def test_existing_sitecustomize_still_runs(self):
        import tempfile
        site = tempfile.mkdtemp(prefix="tracelens-site-")
        d = tempfile.mkdtemp(prefix="tracelens-prog-")
        with open(os.path.join(site, "sitecustomize.py"), "w") as f:
            f.write("import os\nos.environ['FROM_USER_SITE'] = 'yes'\n")
        child = os.path.join(d, "child.py")
        with open(child, "w") as f:
            f.write("import os\nprint('site', os.environ.get('FROM_USER_SITE'))\n")
        parent = os.path.join(d, "parent.py")
        with open(parent, "w") as f:
            f.write("import subprocess, sys\nsubprocess.run([sys.executable, %r])\n" % child)
        from support import tracer_env
        env = tracer_env({"TRACELENS_TOKEN": "test-token"})
        env["PYTHONPATH"] = env["PYTHONPATH"] + os.pathsep + site
        proc, streams = run_connected([parent], env=env)
        self.assertEqual(proc.stdout.decode(), "site yes\n")
        self.assertEqual(len(streams), 2)
        self.assertEqual(calls(streams[1]), [(1, "<module>")])


if __name__ == "__main__":
    unittest.main()
