# The Python API: `with tracelens.trace(...)` and `@tracelens.trace(...)` trace what runs inside
# (to a trace file or a real socket server), nested use inside a running trace does nothing,
# and a bad filter is refused before anything starts.
import os
import tempfile
import unittest

from support import Collector, Stream, Trace, run_python, tracer_env

PROGRAM = """\
import sys
import tracelens

def add(a, b):
    return a + b

@tracelens.trace(output=sys.argv[2])
def decorated(n):
    return add(n, 1)

with tracelens.trace(output=sys.argv[1], filter={"function": "add"}):
    add(1, 2)
    with tracelens.trace(output=sys.argv[1] + ".inner"):  # already tracing: nothing more
        add(3, 4)
add(5, 6)  # not traced
print(decorated(10))
with tracelens.trace(connect=sys.argv[3], token="api-token"):
    add(7, 8)
try:
    tracelens.trace(output="x.db", filter={"colour": "red"})
except ValueError as exc:
    print("refused:", exc)
"""


class ApiTest(unittest.TestCase):
    def test_context_manager_decorator_and_connect(self):
        d = tempfile.mkdtemp(prefix="tracelens-api-")
        path = os.path.join(d, "prog.py")
        with open(path, "w") as f:
            f.write(PROGRAM)
        first, second = os.path.join(d, "a.db"), os.path.join(d, "b.db")
        collector = Collector()
        proc = run_python([path, first, second, collector.address], env=tracer_env())
        streams = [Stream(m) for m in collector.close()]
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode(),
                         "11\nrefused: unknown filter field 'colour' (fields: module, function, "
                         "filename, depth, thread, stdlib, site_packages)\n")
        self.assertEqual(Trace(first).calls(), [("add", 0, ["1", "2"], "3"),
                                                ("add", 0, ["3", "4"], "7")])
        self.assertFalse(os.path.exists(first + ".inner"))
        self.assertEqual(Trace(second).calls(), [("decorated", 0, ["10"], "11"),
                                                 ("add", 1, ["10", "1"], "11")])
        self.assertEqual(len(streams), 1)
        self.assertEqual(streams[0].hello["token"], "api-token")
        self.assertEqual(streams[0].described([1, 2]), [(1, "add", "7", "8"), (2, "add", 5, "15")])
        self.assertEqual(streams[0].end, {"t": "end", "exit_code": None, "reason": "exit"})


if __name__ == "__main__":
    unittest.main()
