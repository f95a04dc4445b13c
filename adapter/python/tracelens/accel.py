# Loads the optional C accelerator (_speedups.c): a prebuilt module next to this file, else one
# built on first use with this interpreter's own compiler settings (sysconfig) into a per-user
# cache. Never required: any failure means the pure-Python tracer. TRACELENS_ACCEL=0 switches it
# off. Touches nothing but its cache directory; knows nothing of tracing itself. Start-up counts:
# what only a build needs (subprocess, sysconfig, tempfile) is imported when building.
from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional

__all__ = ["load", "enabled", "build", "source_hash", "cache_dir", "ENV", "monitoring_callbacks",
           "settrace_tracer", "eval_gate_install", "eval_gate_remove"]

ENV = "TRACELENS_ACCEL"
_HERE = os.path.dirname(os.path.abspath(__file__))
_SOURCE = os.path.join(_HERE, "_speedups.c")
_loaded: Any = None
_tried = False
#: Why the accelerator is not in use (None when it is, or before load()).
reason: Optional[str] = None


def enabled() -> bool:
    """False when TRACELENS_ACCEL=0 (or off/no/false) asks for the pure-Python tracer."""
    return os.environ.get(ENV, "").strip().lower() not in ("0", "off", "no", "false")


def _sha256() -> Any:
    """hashlib.sha256 without importing hashlib (and OpenSSL) when the builtin module is there."""
    for name in ("_sha256", "_sha2"):  # 3.9-3.11, 3.12+
        try:
            return getattr(__import__(name), "sha256")
        except (ImportError, AttributeError):
            pass
    import hashlib
    return hashlib.sha256


def source_hash() -> str:
    """The first 16 hex digits of _speedups.c's SHA-256, which name its builds. Hashing the
    180 KB source costs ~3 ms of every start, so the digest is remembered in the cache next to
    the builds, under the file's identity and change time (device, inode, size, mtime)."""
    memo = None
    try:
        st = os.stat(_SOURCE)
        memo = os.path.join(cache_dir(), "source-%x-%x-%x-%x" % (st.st_dev, st.st_ino, st.st_size,
                                                               st.st_mtime_ns))
        with open(memo, encoding="ascii") as f:
            digest = f.read(17)
        if len(digest) == 16 and all(c in "0123456789abcdef" for c in digest):
            return digest
    except (OSError, ValueError):
        pass
    with open(_SOURCE, "rb") as f:
        digest = _sha256()(f.read()).hexdigest()[:16]
    if memo is not None:
        try:
            os.makedirs(os.path.dirname(memo), exist_ok=True)
            tmp = "%s.%d" % (memo, os.getpid())
            with open(tmp, "w", encoding="ascii") as f:
                f.write(digest)
            os.replace(tmp, memo)
        except OSError:
            pass
    return digest


def _ext_suffix() -> str:
    """The interpreter's extension module suffix (sysconfig's EXT_SUFFIX)."""
    from importlib.machinery import EXTENSION_SUFFIXES
    if EXTENSION_SUFFIXES:
        return EXTENSION_SUFFIXES[0]
    import sysconfig
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def module_name() -> str:
    """File name of the built module for this interpreter and this source."""
    return "_speedups_%s%s" % (source_hash(), _ext_suffix())


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tracelens", "accel")


def _import(path: str) -> Any:
    import importlib.util
    # The module's init function is PyInit__speedups whatever the file is called.
    from importlib.machinery import ExtensionFileLoader
    loader = ExtensionFileLoader("tracelens._speedups", path)
    spec = importlib.util.spec_from_loader("tracelens._speedups", loader, origin=path)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def compiler_command(source: str, out: str) -> List[str]:
    """The compile-and-link command of this interpreter's own build (CC, CFLAGS, LDSHARED)."""
    import shlex
    import sysconfig
    cv = sysconfig.get_config_var
    cc = shlex.split(cv("CC") or "cc")
    cflags = shlex.split(cv("CFLAGS") or "") + shlex.split(cv("CCSHARED") or "")
    include = sysconfig.get_paths().get("include") or cv("INCLUDEPY") or ""
    ldshared = shlex.split(cv("LDSHARED") or "")
    link = ldshared[1:] if ldshared else ["-shared"]
    # Only the flags that matter for a standalone module: drop the interpreter's own warnings
    # and profile-guided options.
    keep = [f for f in cflags if not f.startswith(("-fprofile", "-Werror", "-W"))]
    if sys.platform == "darwin":
        link = [f for f in link if f != "-bundle"] + ["-bundle", "-undefined", "dynamic_lookup"]
    return cc + keep + ["-O2", "-I" + include, source, "-o", out] + \
        [f for f in link if not f.startswith("-fprofile") and f not in cc]


def build(target_dir: Optional[str] = None) -> str:
    """Compiles _speedups.c for this interpreter into target_dir (default: the cache); returns
    the module's path. Raises OSError / RuntimeError when it cannot."""
    import subprocess
    import sysconfig
    import tempfile
    target_dir = target_dir or cache_dir()
    os.makedirs(target_dir, exist_ok=True)
    final = os.path.join(target_dir, module_name())
    if os.path.exists(final):
        return final
    include = sysconfig.get_paths().get("include") or ""
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise RuntimeError("no Python.h under %s (install the interpreter's headers)" % include)
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=sysconfig.get_config_var("EXT_SUFFIX") or ".so",
                               dir=target_dir)
    os.close(fd)
    try:
        cmd = compiler_command(_SOURCE, tmp)
        # A child started with an environment of its own may have no PATH, and the compiler
        # finds its own parts (cc1, as, ld) through it.
        env = dict(os.environ)
        if not env.get("PATH"):
            env["PATH"] = os.defpath
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                           env=env)
        if r.returncode < 0:
            # Stopped by a signal (Ctrl-C in the terminal reaches the compiler too): not a
            # failure of this source, so nothing is remembered and the next run builds again.
            raise OSError("compiler stopped by signal %d" % -r.returncode)
        if r.returncode != 0:
            raise RuntimeError("compiler failed: %s\n%s" % (" ".join(cmd),
                                                            r.stdout.decode("utf-8", "replace")[-2000:]))
        os.replace(tmp, final)  # atomic: concurrent builds are harmless
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return final


def load() -> Any:
    """The accelerator module, or None (switched off, no compiler, no headers, any failure)."""
    global _loaded, _tried, reason
    if _tried:
        return _loaded
    _tried = True
    if not enabled():
        reason = "switched off by %s" % ENV
        return None
    if sys.implementation.name != "cpython":
        reason = "not CPython"
        return None
    try:
        name = module_name()
        candidates = [os.path.join(_HERE, "_accel", name), os.path.join(cache_dir(), name)]
        for path in candidates:
            if os.path.exists(path):
                _loaded = _import(path)
                return _loaded
        failed = os.path.join(cache_dir(), name + ".failed")
        if os.path.exists(failed):
            # Built and failed before for this source and interpreter: do not retry every run.
            with open(failed, encoding="utf-8", errors="replace") as f:
                reason = "earlier build failed (%s): %s" % (failed, f.readline().strip())
            return None
        try:
            _loaded = _import(build())
        except RuntimeError as exc:
            try:
                with open(failed, "w", encoding="utf-8") as f:
                    f.write(str(exc) + "\n")
            except OSError:
                pass
            raise
    except Exception as exc:  # never required
        reason = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        _loaded = None
    return _loaded


def monitoring_callbacks(callbacks: Dict[str, Any], known: Dict[int, Any], buf: List[Any],
                         rep: Callable[[Any], Any], fail: Callable[[BaseException], None],
                         disable: Any) -> Dict[str, Any]:
    """The sys.monitoring callback set with PY_START/PY_RETURN/PY_YIELD/PY_RESUME done in C when
    the accelerator is loaded (coroutines' too, with their task names; code not yet decided and
    every other case still go to the given Python callbacks), and the exception events of code
    out of scope ended in C (the rest go to the Python callbacks); else the set unchanged."""
    mod = load()
    if mod is None or not getattr(mod, "MONITORING", 0):
        return callbacks
    try:
        limit = len(rep("x" * 100000))  # the value limit: a long string is cut to exactly it
        from .tasks import TaskNames, task_name
        given = dict(callbacks, TASK_NAMES=TaskNames, TASK_NAME=task_name)  # coroutines in C too
        given["PY_UNWIND"] = callbacks.get("PY_UNWIND_STRICT", callbacks.get("PY_UNWIND"))
        c = mod.Callbacks(known, buf, rep, fail, disable, given, limit)
    except Exception:
        return callbacks
    out = dict(callbacks)
    for name, method in (("PY_START", c.on_start), ("PY_RETURN", c.on_return),
                         ("PY_YIELD", c.on_yield), ("PY_RESUME", c.on_resume),
                         ("RAISE", c.on_raise), ("PY_UNWIND", c.on_unwind),
                         ("EXCEPTION_HANDLED", c.on_handled), ("RERAISE", c.on_reraise),
                         ("PY_THROW", c.on_throw)):
        if name in out:
            out[name] = method
    return out


def settrace_tracer(local: Callable[..., Any], global_trace: Callable[..., Any],
                    decide: Callable[[Any, Any], Any], buf: List[Any], rep: Callable[[Any], Any],
                    fail: Callable[[BaseException], None], pending: Dict[int, Any]) -> Any:
    """The settrace backend's C trace function (3.9-3.11) standing for global_trace, with the
    given pure-Python functions for everything it does not do itself; None without the
    accelerator."""
    mod = load()
    if mod is None or not hasattr(mod, "Tracer"):
        return None
    try:
        import dis
        op = dis.opmap
        limit = len(rep("x" * 100000))  # the value limit: a long string is cut to exactly it
        return mod.Tracer(local, global_trace, decide, buf, rep, fail, pending, limit,
                          op["RETURN_VALUE"], op["YIELD_VALUE"], op.get("YIELD_FROM", -1))
    except Exception:
        return None


def eval_gate_install(tracer: Any, on_fallback: Callable[[], None]) -> bool:
    """Lets the C eval gate give threads the tracer only while code the filter looks at runs
    (3.10, 3.11); False when it cannot (no accelerator, another frame-evaluation hook, a thread
    with a trace function, or turned off with TRACELENS_EVAL_GATE=0). on_fallback() is called
    if it gives way (a thread's C stack nearly used up on 3.11): every thread must then get the
    tracer as without the gate."""
    if os.environ.get("TRACELENS_EVAL_GATE", "1") == "0":
        return False
    mod = load()
    if mod is None or not hasattr(mod, "gate_install"):
        return False
    try:
        return bool(mod.gate_install(tracer, on_fallback))
    except Exception:
        return False


def eval_gate_remove(tracer: Any) -> None:
    mod = load()
    if mod is not None and hasattr(mod, "gate_remove"):
        mod.gate_remove(tracer)


if __name__ == "__main__":
    # python -m tracelens.accel [DIR]: build for this interpreter (into DIR, default the cache).
    try:
        print(build(sys.argv[1] if len(sys.argv) > 1 else None))
    except Exception as exc:
        sys.stderr.write("tracelens: cannot build the accelerator: %s\n" % exc)
        sys.exit(1)
