# Start-up hook for TRACELENS_AGENT=1: with this directory on PYTHONPATH, Python imports this
# sitecustomize at start-up; it installs the Tracelens attach agent only when TRACELENS_AGENT=1
# (and TRACELENS_AGENT_DISABLE is not set), then runs the sitecustomize it shadows, if any.
# Never raises: a program must start the same with or without it.
import os
import sys


def _tracelens_start() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    tracer_dir = os.path.dirname(os.path.dirname(here))
    if os.environ.get("TRACELENS_AGENT", "") not in ("", "0"):
        try:
            if tracer_dir not in sys.path:
                sys.path.append(tracer_dir)
            import tracelens.agent
            tracelens.agent.install()
        except Exception as exc:
            sys.stderr.write("tracelens: the attach agent did not start: %s\n" % exc)
    # Chain to the sitecustomize this one hides (a distribution's or a virtualenv's).
    try:
        import importlib.machinery
        import importlib.util
        path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            sys.modules["sitecustomize"] = module
            spec.loader.exec_module(module)
    except Exception as exc:
        sys.stderr.write("tracelens: the program's own sitecustomize failed: %s\n" % exc)


_tracelens_start()
