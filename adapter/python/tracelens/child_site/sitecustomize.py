# Put on PYTHONPATH by a traced program for its children (tracelens/children.py): when
# TRACELENS_CHILD is set, this Python process traces itself and connects back; then the next
# sitecustomize on sys.path (the user's or the distribution's own) runs as it would have.
# Must never break the child: every failure is swallowed (reported once on stderr).
import os
import sys


def _trace_child():
    if not os.environ.get("TRACELENS_CHILD") or sys.version_info < (3, 9):
        return
    try:
        from tracelens import children
        children.start_from_env()
    except Exception as exc:  # never break the child
        try:
            sys.stderr.write("tracelens: could not trace this child process: %s\n" % exc)
        except Exception:
            pass


def _chain():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        import importlib.machinery
        import importlib.util
        path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
    except Exception:
        import traceback
        traceback.print_exc()


_trace_child()
_chain()
