// Tracelens's additions to the Debug Adapter Protocol: the launch/attach arguments of a
// `tracelens` session, the custom events the standalone adapter sends, the custom requests it
// answers, and the TraceSink through which the inline adapter hands the stream to the store.
// Imported by the adapter, the extension and the tests; imports nothing from vscode.

import type { Batch, End, Hello, Lines, TracerError } from './wire';

export const DEBUG_TYPE = 'tracelens';

export interface LaunchArguments {
  /** Script to run (absolute, or relative to cwd). Exactly one of program / module. */
  program?: string;
  /** Module to run as `python -m module`. */
  module?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string | null>;
  /** Interpreter path; default: the Python extension's interpreter, else python3/python on PATH. */
  python?: string;
  /** Module globs to trace (replaces the default: the program's own code). */
  include?: string[];
  /** Module globs never to trace. */
  exclude?: string[];
  /**
   * Line heat: "off" (default), "sampled" (the tracer's sampler, `--sample HZ`, whole program) or
   * "exact" (line mode, `--lines GLOB`, for lineHeatFiles; default the program itself).
   */
  lineHeat?: 'off' | 'sampled' | 'exact';
  /** Files (paths or globs) or module globs whose lines are recorded exactly. */
  lineHeatFiles?: string[];
  /** Samples per second for sampled line heat (default 100). */
  lineHeatSampleRate?: number;
  /**
   * false: record no calls (no arguments, values, exceptions or timeline), only sampled line heat
   * (`--no-calls --sample HZ`): much cheaper. lineHeat must then be "sampled" or unset (exact
   * line heat needs call recording). Default true.
   */
  calls?: boolean;
  /**
   * How values are recorded: "repr" (default, the bounded repr text) or "structured" (containers,
   * dataclasses, namedtuples and objects also as a small structure the timeline's details pane
   * opens as a tree: `--values structured`, see wire.ts STRUCTURED_PREFIX).
   */
  values?: 'repr' | 'structured';
  /**
   * Probe events drawn as marks on the timeline (`--probes`): "gc" (each collection: generation,
   * collected count, duration), "audit" (audit events such as open, socket.connect,
   * subprocess.Popen), "audit:EVENT" (one more audit event), "audit:*" (all). Not recorded when
   * `calls` is false.
   */
  probes?: string[];
  /** Stop on entry is meaningless here; accepted and ignored. */
  noDebug?: boolean;
}

/** `"request": "attach"`: trace a running Python process (see adapter/attach/). */
export interface AttachArguments {
  /** The process to attach to: a pid, or its decimal string (from `${command:tracelens.pickProcess}`). */
  processId: number | string;
  /** Interpreter (3.14+) that runs sys.remote_exec when the process has no agent; default its own. */
  python?: string;
  /** Module globs to trace (replaces the default: the program's own code). */
  include?: string[];
  /** Module globs never to trace. */
  exclude?: string[];
}

/** Identifies one traced process within a session (a session may have several). */
export interface ProcessKey {
  session: string;
  /** Connection number within the session, from 1. */
  connection: number;
}

/** Where the adapter delivers what tracers send. The inline adapter gets the store's sink. */
export interface TraceSink {
  hello(key: ProcessKey, hello: Hello): void;
  batch(key: ProcessKey, batch: Batch): void;
  error(key: ProcessKey, error: TracerError): void;
  end(key: ProcessKey, end: End): void;
  /** Per-line figures (wire `lines` message: line mode or the sampler), for sinks that take them. */
  lines?(key: ProcessKey, lines: Lines): void;
}

/** Custom DAP events (standalone adapter; the body carries the key and the wire message). */
export const enum TraceEvent {
  Hello = 'tracelens/hello',
  Batch = 'tracelens/batch',
  Error = 'tracelens/error',
  End = 'tracelens/end',
  /** Per-line figures (body: TraceEventBody<Lines>). */
  Lines = 'tracelens/lines',
  /** A connection was refused (bad token, bad hello); body: RefusedBody. */
  Refused = 'tracelens/refused',
}

export interface TraceEventBody<M> {
  key: ProcessKey;
  message: M;
}

export interface RefusedBody {
  reason: string;
}

/** Custom DAP requests (extension -> adapter). */
export const enum TraceRequest {
  Pause = 'tracelens/pause',
  Resume = 'tracelens/resume',
  SetFilter = 'tracelens/setFilter',
}

export interface SetFilterArguments {
  include: string[];
  exclude: string[];
}
