// The tracer wire protocol, TypeScript side: the messages the Python tracer
// (adapter/python/tracelens/wire.py) sends to the adapter and the control messages it accepts.
// Both sides are checked against the recorded byte streams in test/vectors/.
// This file holds types, constants and the frame codec only; it imports nothing from vscode.
//
// Framing: every message is one frame: a 4-byte unsigned big-endian payload length N, then N
// bytes of UTF-8 JSON encoding one object whose "t" names the kind. A frame larger than
// MAX_FRAME is a protocol error and closes the connection.
//
// Tracer -> adapter, in this order:
//   hello   first and once; carries the session token. A connection whose first frame is not a
//           hello with the right token and a supported version is closed, and nothing from it is
//           stored.
//   batch   any number. Interned definitions (strings, files, codes, threads) come before the
//           events that use them, in the same or an earlier batch of the same connection.
//   error   the tracer hit an internal error and stopped tracing; the program goes on.
//   end     last; tracing stopped (exit, uncaught exception, signal, detach).
// Adapter -> tracer: control messages (pause, resume, filter, detach).
//
// Ids in a batch are per connection (per traced process), small integers from 1.
// Timestamps are integer nanoseconds since the tracer's own start (hello.start_ns is the wall
// clock at that moment, nanoseconds since the Unix epoch).

export const WIRE_VERSION = 1;
export const MAX_FRAME = 64 * 1024 * 1024;
/** Environment variable through which the adapter hands the session token to the tracer. */
export const TOKEN_ENV = 'TRACELENS_TOKEN';
/**
 * Environment variable through which a traced process hands its child processes (subprocess,
 * multiprocessing spawn) what they need to connect back on their own: JSON with the address,
 * the session token and the filter. Set by the tracer for the program's children, on purpose.
 */
export const CHILD_ENV = 'TRACELENS_CHILD';

/**
 * Structured values (`run --values structured`): a value string that starts with this character
 * holds a compact JSON snapshot instead of a plain repr (plain reprs never start with it):
 *   {"t": type name, "r": repr cut to the limit, "n"?: length of a container,
 *    "i"?: items, each a snapshot (list, tuple, set: in order, cut to the width),
 *    "k"?: [key repr, snapshot] pairs (dict, dataclass fields, namedtuple fields, object
 *          attributes), "x"?: true when items or keys were cut}
 * Nested snapshots go to the configured depth; deeper ones carry only "t" and "r".
 */
export const STRUCTURED_PREFIX = '\u001e';

/** Event kinds: the first element of every event array. */
export const enum EventKind {
  /** [1, thread, code, ts, ...argValue]: one string id per name in the code's argnames. */
  Call = 1,
  /** [2, thread, code, ts, line, value]: the frame returned value from line. */
  Return = 2,
  /** [3, thread, code, ts, line, excType, excMessage]: raised (or re-raised) in this frame. */
  Raise = 3,
  /** [4, thread, code, ts, line, excType, excMessage]: the frame exits by the exception. */
  Unwind = 4,
  /** [5, thread, code, ts, line, excType, excMessage]: the exception was caught in this frame. */
  Handled = 5,
  /** [6, thread, code, ts, line, value]: a generator/coroutine suspended (yield/await). */
  Yield = 6,
  /** [7, thread, code, ts]: a generator/coroutine resumed: a new segment of the same call. */
  Resume = 7,
  /**
   * [8, thread, code, ts, line, name, detail]: an instant probe event (names: 'gc.start',
   * 'gc.stop', 'audit'; detail a string id, e.g. "gen=2 collected=14" or the audit event and its
   * arguments). code 0 / line 0 when no Python frame caused it.
   */
  Probe = 8,
  /**
   * [9, thread, code, ts, taskName]: the next Call or Resume of `code` on `thread` runs inside the
   * asyncio task named by the string id taskName.
   */
  Task = 9,
  /** [10, thread, code, ts]: a call into a C function named by code (a code def with file 0). */
  CCall = 10,
  /** [11, thread, code, ts]: the C call returned (or raised). */
  CReturn = 11,
}

/** Bits of CodeDef flags. */
export const enum CodeFlags {
  Generator = 1,
  Coroutine = 2,
  AsyncGenerator = 4,
  /** argnames ends with the *args name (before **kwargs if both). */
  VarArgs = 8,
  /** argnames ends with the **kwargs name. */
  VarKeywords = 16,
}

export type Event = number[];

export interface Hello {
  t: 'hello';
  version: number;
  token: string;
  pid: number;
  ppid: number;
  /** "3.12.1" */
  python: string;
  /** "monitoring" (sys.monitoring) or "settrace" (sys.setprofile/settrace) */
  backend: string;
  argv: string[];
  cwd: string;
  /** Wall clock at the tracer's start, ns since the epoch (precision beyond 2^53 is lost in JS). */
  start_ns: number;
}

/** [id, text] */
export type StringDef = [number, string];
/** [id, absolute path] */
export type FileDef = [number, string];
/** [id, file id, module, qualname, first line, argnames, flags] */
export type CodeDef = [number, number, string, string, number, string[], number];
/** [id, native thread id, name] */
export type ThreadDef = [number, number, string];

export interface Batch {
  t: 'batch';
  /** 1, 2, 3... per connection. */
  seq: number;
  strings: StringDef[];
  files: FileDef[];
  codes: CodeDef[];
  threads: ThreadDef[];
  events: Event[];
  /** Events dropped because the buffer was full since the previous batch. */
  dropped: number;
  /**
   * Optional, with dropped > 0: [first, last] timestamps (ns, as events' ts) of the records
   * dropped since the previous batch, so the timeline can show where records are missing.
   */
  dropped_ns?: [number, number];
}

export interface TracerError {
  t: 'error';
  message: string;
}

export interface End {
  t: 'end';
  /** The program's exit code when known. */
  exit_code: number | null;
  reason: 'exit' | 'exception' | 'signal' | 'detach';
}

/**
 * Per-line figures since the previous `lines` message of this connection (deltas): exact ones
 * from line mode, or sampled ones (hits = samples, times estimated from the sampling period).
 * Uses file ids from batches already sent.
 */
export interface Lines {
  t: 'lines';
  sampled: boolean;
  /** [file id, line, hits, own ns, total ns (including callees)] */
  stats: [number, number, number, number, number][];
}

export type TracerMessage = Hello | Batch | Lines | TracerError | End;

/** Control messages, adapter -> tracer. */
export type ControlMessage =
  | { t: 'pause' }
  | { t: 'resume' }
  | { t: 'detach' }
  | {
      t: 'filter';
      include: string[];
      exclude: string[];
      /**
       * A filter spec applied on top of include/exclude (python-hunter style; the tracer's
       * `run --help` documents it): {"field": "module", "op": "glob", "value": "app.*"},
       * {"function_regex": "^load", "depth_lt": 3}, {"and"|"or": [...]}, {"not": spec}.
       */
      spec?: unknown;
      /** Record calls at most this deep (0: only the top calls). */
      max_depth?: number | null;
      /** Record only under calls to functions whose qualified name matches this glob. */
      from?: string | null;
    };

/** Encodes one message as a frame. */
export function encodeFrame(message: object): Buffer {
  const payload = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  return frame;
}

// ---- Decoding (adapter side) ----------------------------------------------------------------

/** A broken frame or message: the connection that sent it is closed. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/**
 * Splits a byte stream into frame payloads. Feed it chunks as they arrive; frames may be split
 * across chunks and a chunk may hold several frames. A length above `maxFrame` throws a
 * WireError (the decoder is unusable afterwards: close the connection).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being read, or -1 while reading its 4-byte header. */
  private need = -1;

  constructor(public maxFrame: number = MAX_FRAME) {}

  /** Bytes received and not yet returned as part of a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk; returns the payloads of the frames it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Adds a chunk without decoding: take frames one by one with next(). */
  append(chunk: Buffer): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  /**
   * The next complete frame's payload, or undefined until more bytes arrive. One at a time, so
   * a reader may change maxFrame between frames (after a hello, say).
   */
  next(): Buffer | undefined {
    if (this.need < 0) {
      if (this.buffered < 4) return undefined;
      const length = this.take(4).readUInt32BE(0);
      if (length > this.maxFrame) {
        throw new WireError(`frame of ${length} bytes exceeds the limit of ${this.maxFrame}`);
      }
      this.need = length;
    }
    if (this.buffered < this.need) return undefined;
    const frame = this.take(this.need);
    this.need = -1;
    return frame;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0];
      const k = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, k);
      offset += k;
      if (k === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function check(ok: boolean, kind: string, field: string): void {
  if (!ok) throw new WireError(`${kind} message has a missing or malformed "${field}"`);
}

/**
 * Parses one frame payload into a tracer message, checking the kind and the type of each
 * top-level field (not every element of a batch's arrays: that would cost more than it saves).
 * Unknown extra fields are kept. Throws WireError.
 */
export function parseMessage(payload: Buffer | string): TracerMessage {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    throw new WireError('frame is not valid JSON');
  }
  if (!isObject(value)) throw new WireError('frame is not a JSON object');
  const num = (k: string) => typeof value[k] === 'number' && Number.isFinite(value[k]);
  const str = (k: string) => typeof value[k] === 'string';
  const arr = (k: string) => Array.isArray(value[k]);
  switch (value.t) {
    case 'hello':
      for (const k of ['version', 'pid', 'ppid', 'start_ns']) check(num(k), 'hello', k);
      for (const k of ['token', 'python', 'backend', 'cwd']) check(str(k), 'hello', k);
      check(arr('argv'), 'hello', 'argv');
      return value as unknown as Hello;
    case 'batch':
      check(num('seq'), 'batch', 'seq');
      for (const k of ['strings', 'files', 'codes', 'threads', 'events']) check(arr(k), 'batch', k);
      check(num('dropped'), 'batch', 'dropped');
      return value as unknown as Batch;
    case 'lines':
      check(typeof value.sampled === 'boolean', 'lines', 'sampled');
      check(arr('stats'), 'lines', 'stats');
      return value as unknown as Lines;
    case 'error':
      check(str('message'), 'error', 'message');
      return value as unknown as TracerError;
    case 'end':
      check(value.exit_code === null || num('exit_code'), 'end', 'exit_code');
      check(str('reason'), 'end', 'reason');
      return value as unknown as End;
    default:
      throw new WireError(`unknown message kind ${JSON.stringify(value.t)}`);
  }
}
