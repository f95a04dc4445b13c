# Runs the Python tracer's tests (unittest, standard library only) under the interpreter that
# runs this file: `python3 test/python/run.py [-v] [pattern]`. Prints the interpreter's version
# first and exits non-zero when a test fails. When the C accelerator is available (and
# TRACELENS_ACCEL unset) the suite runs twice: pure Python, then accelerated (on 3.10 and 3.11
# also accelerated without the eval gate); where a compiler is
# found but the accelerator does not build or import, the run fails. Temp files only.
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def both_implementations() -> int:
    """When the C accelerator loads and TRACELENS_ACCEL is not set: the suite once with the pure-
    Python tracer (TRACELENS_ACCEL=0) and once accelerated (=1); on 3.10 and 3.11 a third time
    accelerated without the eval gate (TRACELENS_EVAL_GATE=0, what a program with a debugger's
    trace function gets); non-zero if any fails."""
    import subprocess
    codes = []
    runs = [("0", "pure Python", {}), ("1", "C accelerator", {})]
    if (3, 10) <= sys.version_info < (3, 12):
        runs.append(("1", "C accelerator without the eval gate", {"TRACELENS_EVAL_GATE": "0"}))
    for flag, name, extra in runs:
        print("== tracer implementation: %s (TRACELENS_ACCEL=%s%s)"
              % (name, flag, "".join(" %s=%s" % kv for kv in extra.items())))
        sys.stdout.flush()
        env = dict(os.environ, TRACELENS_ACCEL=flag, **extra)
        codes.append(subprocess.call([sys.executable] + sys.argv, env=env))
    return 0 if not any(codes) else 1


def main() -> int:
    if "TRACELENS_ACCEL" not in os.environ:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "adapter", "python"))
        from tracelens import accel
        if accel.load() is not None:
            return both_implementations()
        if accel.enabled() and ("ImportError" in accel.reason or "compiler failed" in accel.reason
                                or "earlier build failed" in accel.reason):
            # A compiler and headers are here, so the accelerator must build and import: a
            # source that does not (a symbol this version lacks) is a defect, not a pure run.
            print("the C accelerator does not build or import under Python %s: %s"
                  % (sys.version.split()[0], accel.reason))
            return 1
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
