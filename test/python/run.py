# Runs the Python tracer's tests (unittest, standard library only) under the interpreter that
# runs this file: `python3 test/python/run.py [-v] [pattern]`. Prints the interpreter's version
# first and exits non-zero when a test fails. Touches nothing outside a temporary directory.
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    verbosity = 2 if "-v" in sys.argv[1:] else 1
    patterns = [a for a in sys.argv[1:] if not a.startswith("-")]
    print("tracelens Python tests under Python %s (%s)" % (sys.version.split()[0], sys.executable))
    sys.stdout.flush()
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if patterns:
        suite = unittest.TestSuite(loader.loadTestsFromName(p) for p in patterns)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
