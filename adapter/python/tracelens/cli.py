# The command line: `python -m tracelens run ...` (trace a program to the adapter or to a trace
# file) and `python -m tracelens stats ...` (per-function figures of a trace file).
# Parses arguments, prints clear errors (exit code 2), and wires session, sinks and runner.
from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional

from . import __version__, wire

__all__ = ["main", "RUN_HELP", "MAIN_HELP"]

MAIN_HELP = """\
usage: python -m tracelens COMMAND [options]

Tracelens records what a Python program does: every call with its arguments, every return
value and every exception, per thread, with nanosecond timestamps.

commands:
  run      run a program under the tracer (python -m tracelens run --help)
  stats    per-function calls and times of a trace file (python -m tracelens stats --help)
  export   convert a trace file for other viewers (python -m tracelens export --help)

options:
  -h, --help     show this help and exit
  --version      show the tracer's version and exit
"""

RUN_HELP = """\
usage: python -m tracelens run [options] [--] PROGRAM [ARGS...]
       python -m tracelens run [options] -m MODULE [ARGS...]

Runs PROGRAM (or MODULE, as `python -m` would) under the tracer. The program sees itself exactly
as under `python PROGRAM ARGS`: __main__, sys.argv, sys.path[0], output and exit code.

options:
  --connect ADDR    send the trace to the Tracelens adapter listening at ADDR: HOST:PORT
                    (TCP, loopback) or unix:PATH (Unix socket). The session token is read from
                    the environment variable TRACELENS_TOKEN (see --token-env), which is
                    removed before the program runs.
  --output FILE     write the trace to FILE, a SQLite trace file (Tracelens's store schema;
                    open it with `sqlite3` or `python -m tracelens stats FILE`). Without
                    --connect and --output the trace goes to ./tracelens-PROGRAM.db (PROGRAM:
                    the script's name without .py, or the module name).
  --include GLOB    trace only modules whose name matches GLOB (fnmatch, e.g. 'mypkg.*';
                    repeatable). Replaces the default scope, which is the program's own code:
                    files under the program's directory (under the current directory for -m),
                    leaving out the standard library, site-packages and tracelens itself.
  --exclude GLOB    never trace modules whose name matches GLOB (repeatable).
  --filter JSON     record only calls the filter spec accepts, on top of the scope (widen the
                    scope with --include '*' to look beyond the program's own code). A test is
                    {"field": F, "op": OP, "value": V} or hunter's short form {"F_OP": V}
                    (several keys are and-ed; no _OP means equals); combine with
                    {"and": [...]}, {"or": [...]}, {"not": ...}. Fields: module, function
                    (qualified name), filename, depth (recorded calls open on the thread, 0 at
                    the top), thread (thread name), stdlib, site_packages (true/false).
                    Operators: equals, glob, regex, startswith, endswith, contains, in, lt, lte,
                    gt, gte. What depends on the code alone is decided once per code object
                    (excluded code runs untraced); depth and thread are checked per call.
                    Example: --filter '{"module_glob": "app.*", "function_regex": "^load"}'
  --max-depth N     record calls at most N deep (0: only the calls at the top).
  --from GLOB       record only calls under (and including) calls to functions whose
                    qualified name (or module.qualname) matches GLOB, as hunter's From.
  --value-limit N   cut value reprs to N characters (default 120; cut ones end with '…').
  --values KIND     repr (default): values are their bounded repr text. structured: lists,
                    tuples, sets, dicts, dataclasses, namedtuples and plain objects are sent as
                    a small JSON structure (type, repr, length, items or fields) the editor can
                    expand, behind the marker character U+001E (see wire.ts).
  --value-depth N   structured values: nested levels kept (default 2).
  --value-width N   structured values: items or fields kept per level (default 8).
  --reprs POLICY    all (default): user __repr__ methods are called (contained: one that
                    raises, recurses or is slow is not asked again for its type). builtins:
                    only built-in types are shown by their repr; others as <Type object>.
                    tracelens.register_repr(type, func) supplies a repr for one type.
  --c-calls         also record calls into C functions (builtins, methods of C types) made by
                    traced code, with their time (Python 3.12+; ignored before).
  --lines GLOB      line mode for modules (module-name glob) or files (path or file-name
                    glob) in scope: per-line hits, own time and time including callees,
                    aggregated in the process and sent about every 100 ms (repeatable). Own
                    time leaves out calls to traced code; calls to code out of scope count as
                    the line's own.
  --sample HZ       sample every thread's current line HZ times a second (e.g. 100) for
                    whole-program line heat of the code in scope, sent as sampled figures.
  --no-calls        do not record calls (no arguments, values, exceptions or timeline): with
                    --sample HZ, sampled line heat of the code in scope at low cost. Not with
                    --lines or --c-calls, which need call recording.
  --probes LIST     instant probe events, comma-separated: gc (collection start and stop,
                    generation, collected count), audit (audit events: open, socket.connect,
                    subprocess.Popen, os.system, ...), audit:EVENT (one more audit event),
                    audit:* (all of them). Each carries the Python line that caused it.
  --buffer N        most records held (recorded, not yet sent) before new ones are dropped
                    and counted (default 4000000).
  --token-env NAME  read the session token from environment variable NAME instead of
                    TRACELENS_TOKEN.
  --no-children     do not trace child processes. By default Python children started with
                    subprocess, os.fork or multiprocessing (fork and spawn) are traced too: each
                    connects back with its own hello (pid, parent pid) and is a process of its
                    own in the trace (with --output, the same file). Children learn where to
                    connect, the session token and the filter from the environment variable
                    TRACELENS_CHILD and a sitecustomize put first on PYTHONPATH (both set in the
                    program's environment on purpose: children need them).
  -m MODULE         run library module MODULE as a script (ends the options).
  -c CODE           run the program passed as a string (ends the options); its own code is
                    in the default scope, as are the files under the current directory.
  --                ends the options; what follows is the program and its arguments
                    (`-- -m MODULE args` runs a module, `-- -c CODE args` a string).
  -h, --help        show this help and exit

exit status: the program's own; 2 when the command line is wrong or the program cannot be
started (as python does for a missing script).
"""

STATS_HELP = """\
usage: python -m tracelens stats [--json] FILE

Per function of the trace file FILE: module, function (qualified name), file, first line,
calls, total time (ns, nested recursive calls counted once) and own time (ns, without callees).
Sorted by own time, largest first.

options:
  --json        print a JSON list of objects with the keys module, function, file, line,
                calls, total_ns, own_ns
  -h, --help    show this help and exit
"""


class UsageError(Exception):
    pass


def _err(message: str, help_hint: str = "") -> int:
    sys.stderr.write("tracelens: %s\n" % message)
    if help_hint:
        sys.stderr.write("Try 'python -m tracelens %s --help' for the options.\n" % help_hint)
    return 2


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(MAIN_HELP)
        return 0 if args else 2
    if args[0] == "--version":
        sys.stdout.write("tracelens %s (wire version %d)\n" % (__version__, wire.WIRE_VERSION))
        return 0
    command, rest = args[0], args[1:]
    if command == "run":
        return run_command(rest)
    if command == "stats":
        from .stats import stats_command
        return _to_closed_pipe(stats_command, rest, STATS_HELP)
    if command == "export":
        from .export import export_command
        return _to_closed_pipe(export_command, rest)
    return _err("unknown command %r (commands: run, stats, export)" % command, "")


def _to_closed_pipe(command: Any, *args: Any) -> int:
    """Runs a command whose output may go to a pipe closed early (`stats FILE | head`): it ends
    quietly with exit code 1, as the Python documentation advises, rather than with a traceback."""
    try:
        code = command(*args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the flush at exit fails no more
        return 1


def _is_module_flag(a: str) -> bool:
    """-m, -mMODULE, -c or -cCODE."""
    return a[:2] in ("-m", "-c")


def _module_target(opts: Dict[str, Any], args: List[str], i: int) -> Dict[str, Any]:
    """`-m MODULE args` (or `-mMODULE args`) at args[i]: the module to run as __main__;
    `-c CODE args` (or `-cCODE args`): the code to run as __main__."""
    a = args[i]
    key = "module" if a[:2] == "-m" else "command"
    if len(a) == 2:
        if i + 1 >= len(args):
            raise UsageError("-m needs a module name" if key == "module"
                             else "-c needs the code to run")
        opts[key], opts["args"] = args[i + 1], args[i + 2:]
    else:
        opts[key], opts["args"] = a[2:], args[i + 1:]
    return opts


def _say(text: str) -> None:
    try:
        sys.stderr.write("tracelens: %s\n" % text)
        sys.stderr.flush()
    except BaseException:
        pass


def _wait_at_os_exit(writer_process: Any, main_pid: int, recorder: Any) -> None:
    """os._exit in the traced process (not in its forked children) first sends what was
    recorded and lets the trace file's process finish it, so the file is complete when the
    program's exit is seen."""
    real_exit = os._exit

    def _exit(code: int) -> None:
        if os.getpid() == main_pid:
            try:
                recorder.flush()
            except BaseException as exc:
                _say("the last records before os._exit were not sent: %s" % exc)
            try:
                problem = writer_process.finish(timeout=30.0)
            except BaseException as exc:
                problem = "could not wait for the trace file: %s" % exc
            if problem is not None:
                _say(problem)
        real_exit(code)
    _exit.__doc__ = real_exit.__doc__
    os._exit = _exit


def parse_run(args: List[str]) -> Dict[str, Any]:
    opts: Dict[str, Any] = {"connect": None, "output": None, "include": [], "exclude": [],
                            "filter": None, "max_depth": None, "from_glob": None,
                            "children": True, "c_calls": False, "calls": True, "lines": [], "sample": 0.0,
                            "probes": None, "values": "repr", "reprs": "all", "value_depth": 2,
                            "value_width": 8,
                            "value_limit": 120, "buffer": 4_000_000, "token_env": wire.TOKEN_ENV,
                            "module": None, "command": None, "program": None, "args": [],
                            "help": False}
    with_value = {"--connect": "connect", "--output": "output", "--include": "include",
                  "--exclude": "exclude", "--value-limit": "value_limit", "--buffer": "buffer",
                  "--token-env": "token_env", "--filter": "filter", "--max-depth": "max_depth",
                  "--from": "from_glob", "--lines": "lines", "--sample": "sample",
                  "--probes": "probes", "--values": "values", "--reprs": "reprs",
                  "--value-depth": "value_depth", "--value-width": "value_width"}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "--help"):
            opts["help"] = True
            return opts
        if a == "--no-children":
            opts["children"] = False
            i += 1
            continue
        if a == "--c-calls":
            opts["c_calls"] = True
            i += 1
            continue
        if a == "--no-calls":
            opts["calls"] = False
            i += 1
            continue
        if a == "--":
            if i + 1 >= len(args):
                raise UsageError("no program given after --")
            if _is_module_flag(args[i + 1]):
                # `run -- -m module args` / `-- -c code args`, as python's own are written.
                return _module_target(opts, args, i + 1)
            opts["program"], opts["args"] = args[i + 1], args[i + 2:]
            return opts
        if _is_module_flag(a):
            return _module_target(opts, args, i)
        name, eq, inline = a.partition("=")
        if name in with_value:
            if eq:
                value = inline
            else:
                if i + 1 >= len(args):
                    raise UsageError("%s needs a value" % name)
                i += 1
                value = args[i]
            key = with_value[name]
            if key in ("include", "exclude", "lines"):
                opts[key].append(value)
            elif key == "sample":
                try:
                    opts[key] = float(value)
                except ValueError:
                    raise UsageError("--sample needs a rate per second, got %r" % value) from None
                if not 0 < opts[key] <= 10000:
                    raise UsageError("--sample must be between 0 and 10000 per second")
            elif key == "probes":
                from .probes import ProbeError, parse_probes
                try:
                    parse_probes(value)
                except ProbeError as exc:
                    raise UsageError("--probes: %s" % exc) from None
                opts[key] = value
            elif key in ("values", "reprs"):
                allowed = ("repr", "structured") if key == "values" else ("builtins", "all")
                if value not in allowed:
                    raise UsageError("--%s must be %s, got %r" % (key, " or ".join(allowed), value))
                opts[key] = value
            elif key in ("value_depth", "value_width"):
                try:
                    opts[key] = int(value)
                except ValueError:
                    raise UsageError("%s needs a whole number, got %r" % (name, value)) from None
                if not 0 <= opts[key] <= 64:
                    raise UsageError("%s must be between 0 and 64" % name)
            elif key in ("value_limit", "buffer"):
                try:
                    number = int(value)
                except ValueError:
                    raise UsageError("%s needs a whole number, got %r" % (name, value)) from None
                if number < (8 if key == "value_limit" else 1000):
                    raise UsageError("%s is too small: %d" % (name, number))
                opts[key] = number
            elif key == "max_depth":
                try:
                    opts[key] = int(value)
                except ValueError:
                    raise UsageError("--max-depth needs a whole number, got %r" % value) from None
                if opts[key] < 0:
                    raise UsageError("--max-depth must be 0 or more, got %d" % opts[key])
            elif key == "filter":
                import json
                try:
                    opts[key] = json.loads(value)
                except ValueError as exc:
                    raise UsageError("--filter is not valid JSON (%s): %s" % (exc, value)) from None
            else:
                opts[key] = value
            i += 1
            continue
        if a.startswith("-") and a != "-":
            raise UsageError("unknown option %r" % a)
        opts["program"], opts["args"] = a, args[i + 1:]
        return opts
    raise UsageError("no program given (python -m tracelens run [options] -- PROGRAM [ARGS...])")


def run_command(args: List[str]) -> int:
    try:
        opts = parse_run(args)
    except UsageError as exc:
        return _err(str(exc), "run")
    if opts["help"]:
        sys.stdout.write(RUN_HELP)
        return 0
    if not opts["calls"] and (opts["lines"] or opts["c_calls"]):
        return _err("--no-calls cannot be used with %s, which needs call recording: drop one"
                    % ("--lines" if opts["lines"] else "--c-calls"), "run")

    from . import runner
    from .scope import Scope
    from .session import Session

    token = os.environ.pop(opts["token_env"], "")
    try:
        if opts["module"] is not None:
            target = runner.prepare("module", opts["module"], opts["args"])
        elif opts["command"] is not None:
            target = runner.prepare("command", opts["command"], opts["args"])
        else:
            target = runner.prepare("script", opts["program"], opts["args"])
    except runner.TargetError as exc:
        return _err(str(exc))

    from .filters import Filter, FilterError
    try:
        flt = Filter(Scope(target.root, opts["include"], opts["exclude"],
                           command=target.kind == "command"), opts["filter"],
                     opts["max_depth"], opts["from_glob"])
    except FilterError as exc:
        return _err("--filter: %s" % exc, "run")

    output = opts["output"]
    if output is None and opts["connect"] is None:
        if target.kind == "command":
            stem = "command"
        else:
            stem = opts["module"] or os.path.splitext(
                os.path.basename(target.path.rstrip(os.sep)))[0]
        output = os.path.abspath("tracelens-%s.db" % stem)
        note_output = True
    else:
        note_output = False

    sinks: List[Any] = []
    connection = None
    collector = None
    writer = None
    writer_process = None
    if opts["connect"] is not None:
        from .connection import AddressError, Connection, parse_address
        try:
            parse_address(opts["connect"])
            connection = Connection(opts["connect"])
        except AddressError as exc:
            return _err("--connect: %s" % exc, "run")
        except OSError as exc:
            return _err("cannot connect to the Tracelens adapter at %s: %s"
                        % (opts["connect"], exc.strerror or exc))
        sinks.append(connection.send)
    if output is not None:
        # After the connection (a bad address leaves no file behind); the writer process does
        # not keep the connection's socket.
        from . import writerproc
        if opts["children"] and opts["connect"] is None:
            from . import children
            try:
                collector = children.Collector(None)  # started by whoever writes the file
            except Exception as exc:
                sys.stderr.write("tracelens: child processes will not be traced: %s\n" % exc)
        try:
            if writerproc.available() and os.environ.get("TRACELENS_WRITER_PROCESS") != "0":
                writer_process = writerproc.WriterProcess(
                    output, collector, close=[connection.sock] if connection is not None else [])
                sinks.append(writer_process.send)
            else:
                from .tracefile import TraceFileWriter
                writer = TraceFileWriter(output)
                if collector is not None:
                    collector.start(writer.child_sink)
                sinks.append(writer.send)
        except Exception as exc:
            if collector is not None:
                collector.close()
            if connection is not None:
                connection.close()
            return _err("cannot write the trace file %s: %s" % (
                output, getattr(exc, "strerror", None) or exc))

    if len(sinks) == 1:
        send = sinks[0]
    else:
        def send(message: Dict[str, Any]) -> None:
            for s in sinks:
                s(message)

    session = Session(send, flt, argv=target.argv, token=token,
                      value_limit=opts["value_limit"], capacity=opts["buffer"],
                      c_calls=opts["c_calls"], lines=opts["lines"], sample_hz=opts["sample"],
                      probes=opts["probes"], values=opts["values"], reprs=opts["reprs"],
                      value_depth=opts["value_depth"], value_width=opts["value_width"],
                      calls=opts["calls"], packed=connection is None)
    if connection is not None:
        connection.on_lost = session.connection_lost
        connection.on_control = session.control
    from . import api
    api._active.append(session)  # tracelens.trace() inside the program does nothing more
    main_pid = os.getpid()
    if writer_process is not None:
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=writer_process.forget)
        _wait_at_os_exit(writer_process, main_pid, session.recorder)
        session.before_signal_exit = writer_process.finish
    if opts["children"] and (connection is not None or collector is not None):
        from . import children
        try:
            if connection is not None:
                where, child_token = opts["connect"], token
            else:
                where, child_token = collector.address, collector.token
            config = children.child_config(
                where, child_token, flt, value_limit=opts["value_limit"], c_calls=opts["c_calls"],
                buffer=opts["buffer"], extra={k: opts[k] for k in (
                    "lines", "sample", "probes", "values", "reprs", "value_depth", "value_width",
                    "calls")})

            def forget() -> None:
                # In a forked child: the connection and the trace file are the parent's.
                if writer is not None:
                    writer.closed = True
                if writer_process is not None:
                    writer_process.forget()
                if connection is not None:
                    connection.broken = True
                    connection.sock.close()
            children.enable(config, session, forget)
        except Exception as exc:
            sys.stderr.write("tracelens: child processes will not be traced: %s\n" % exc)

    state: Dict[str, Any] = {"outcome": None}

    def finish() -> None:
        # Runs at interpreter exit, after the program's own atexit handlers.
        if os.getpid() != main_pid:
            return  # a forked child: its own tracing ends elsewhere
        outcome = state["outcome"]
        if outcome is None:
            session.end(None, "exit")
        else:
            session.end(outcome.exit_code, outcome.reason)
        if collector is not None and writer_process is None:
            collector.close()
        if writer is not None:
            try:
                writer.close()
            except Exception as exc:
                sys.stderr.write("tracelens: could not finish the trace file %s: %s\n" % (output, exc))
            else:
                if note_output:
                    sys.stderr.write("tracelens: trace written to %s\n" % output)
        if writer_process is not None:
            problem = writer_process.finish()
            if problem is not None:
                sys.stderr.write("tracelens: %s\n" % problem)
            elif note_output:
                sys.stderr.write("tracelens: trace written to %s\n" % output)
        if connection is not None:
            connection.close()
        if outcome is not None and isinstance(outcome.exc, KeyboardInterrupt):
            # As the interpreter does for an uncaught KeyboardInterrupt: die of SIGINT.
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except Exception:
                pass
            import signal
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)

    atexit.register(finish)
    try:
        session.start()
    except Exception as exc:
        sys.stderr.write("tracelens: could not start tracing (%s: %s); running untraced\n"
                         % (type(exc).__name__, exc))
        session.internal_error(exc, stderr=False)
    if connection is not None:
        connection.start_reader()

    outcome = runner.run(target)
    state["outcome"] = outcome
    if outcome.reason == "exception":
        runner.print_uncaught(outcome.exc)  # type: ignore[arg-type]
        outcome.exc = outcome.exc if isinstance(outcome.exc, KeyboardInterrupt) else None
        raise SystemExit(1)
    if outcome.exc is not None:
        raise outcome.exc
    return 0
