// The local socket tracers connect to (a Unix socket in a private directory, or TCP on 127.0.0.1),
// one per session, with a random token. A connection must
// open with a hello carrying that token and WIRE_VERSION within a short time, else it is closed and
// nothing from it reaches the sink. Each accepted connection is one traced process (ProcessKey); the
// hello reaches the sink with its token blanked. Knows nothing of DAP or vscode.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProcessKey, TraceSink } from './protocol/dap';
import {
  encodeFrame,
  FrameDecoder,
  MAX_FRAME,
  parseMessage,
  WIRE_VERSION,
  type ControlMessage,
  type Hello,
  type TracerMessage,
} from './protocol/wire';

/** Frames before an accepted hello are small; an unknown peer may not make us buffer 64 MiB. */
const PRE_HELLO_MAX_FRAME = 64 * 1024;
/** Connections still waiting for their hello, at most. */
const MAX_PENDING = 16;

export interface TraceServerOptions {
  /** ProcessKey.session of every connection. */
  sessionId: string;
  sink: TraceSink;
  /** A connection was refused (bad or missing hello); nothing from it was delivered. */
  onRefused?: (reason: string) => void;
  /** An accepted connection broke the protocol and was closed; what came before was kept. */
  onProtocolError?: (key: ProcessKey, reason: string) => void;
  /** The sink threw; the stream goes on. */
  onSinkError?: (error: unknown) => void;
  /** How long a new connection has to send its hello; default 5000 ms. */
  helloTimeoutMs?: number;
  /** The token tracers must present; default 32 random bytes, hex. */
  token?: string;
  /**
   * "unix": a Unix socket in a new private directory (no port for editors to offer forwarding,
   * unreachable by other users); "tcp" (default): 127.0.0.1 at a free port.
   */
  transport?: 'tcp' | 'unix';
}

interface Connection {
  socket: net.Socket;
  decoder: FrameDecoder;
  key?: ProcessKey;
  done: boolean;
}

export class TraceServer {
  readonly token: string;
  private readonly server = net.createServer((socket) => this.onConnection(socket));
  private readonly connections = new Set<Connection>();
  private readonly drainWaiters = new Set<() => void>();
  private accepted = 0;
  private closed = false;
  private socketDir: string | undefined;

  constructor(private readonly options: TraceServerOptions) {
    this.token = options.token ?? randomBytes(32).toString('hex');
  }

  /** Starts listening (see TraceServerOptions.transport); resolves with connectAddress. */
  listen(): Promise<string> {
    if (this.options.transport === 'unix') {
      this.socketDir = mkdtempSync(path.join(os.tmpdir(), 'tracelens-'));
      chmodSync(this.socketDir, 0o700);
    }
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => {
        this.removeSocketDir();
        reject(error);
      };
      this.server.once('error', failed);
      const listening = () => {
        this.server.off('error', failed);
        resolve(this.connectAddress!);
      };
      if (this.socketDir) this.server.listen(path.join(this.socketDir, 'trace.sock'), listening);
      else this.server.listen(0, '127.0.0.1', listening);
    });
  }

  /** The TCP address while listening on TCP. */
  get address(): net.AddressInfo | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Where tracers connect, as `run --connect` takes it: "unix:PATH" or "127.0.0.1:PORT". */
  get connectAddress(): string | undefined {
    const a = this.server.address();
    if (typeof a === 'string') return `unix:${a}`;
    return a ? `127.0.0.1:${a.port}` : undefined;
  }

  /** Connections accepted so far (the last ProcessKey.connection handed out). */
  get acceptedCount(): number {
    return this.accepted;
  }

  /** Open connections, accepted or still waiting for their hello. */
  get openCount(): number {
    return this.connections.size;
  }

  /** Sends a control message to every accepted open connection; returns how many got it. */
  send(message: ControlMessage): number {
    const frame = encodeFrame(message);
    let sent = 0;
    for (const c of this.connections) {
      if (c.key && !c.done && c.socket.writable) {
        c.socket.write(frame);
        sent++;
      }
    }
    return sent;
  }

  /** Resolves once no connection is open, or after timeoutMs. */
  whenIdle(timeoutMs: number): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.drainWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drainWaiters.add(done);
    });
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const c of this.connections) c.socket.destroy();
    return new Promise((resolve) =>
      this.server.close(() => {
        this.removeSocketDir();
        resolve();
      }),
    );
  }

  private removeSocketDir(): void {
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    this.socketDir = undefined;
  }

  private onConnection(socket: net.Socket): void {
    const pending = [...this.connections].filter((c) => !c.key).length;
    if (this.closed || pending >= MAX_PENDING) {
      socket.destroy();
      this.options.onRefused?.(
        this.closed ? 'the session has ended' : 'too many connections waiting for a hello',
      );
      return;
    }
    socket.setNoDelay(true);
    const conn: Connection = {
      socket,
      decoder: new FrameDecoder(PRE_HELLO_MAX_FRAME),
      done: false,
    };
    this.connections.add(conn);
    const timer = setTimeout(
      () => this.refuse(conn, `no hello within ${this.options.helloTimeoutMs ?? 5000} ms`),
      this.options.helloTimeoutMs ?? 5000,
    );
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk, timer));
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('close', () => {
      clearTimeout(timer);
      conn.done = true;
      this.connections.delete(conn);
      if (this.connections.size === 0) for (const w of [...this.drainWaiters]) w();
    });
  }

  private onData(conn: Connection, chunk: Buffer, timer: NodeJS.Timeout): void {
    if (conn.done) return;
    conn.decoder.append(chunk);
    for (;;) {
      if (conn.done) return;
      let frame: Buffer | undefined;
      let message: TracerMessage;
      try {
        frame = conn.decoder.next();
        if (!frame) return;
        message = parseMessage(frame);
      } catch (error) {
        this.fail(conn, (error as Error).message);
        return;
      }
      if (!conn.key) {
        const problem = this.checkHello(message);
        if (problem) {
          this.refuse(conn, problem);
          return;
        }
        clearTimeout(timer);
        conn.key = { session: this.options.sessionId, connection: ++this.accepted };
        conn.decoder.maxFrame = MAX_FRAME;
        // The token has done its job; it goes no further (events may be logged).
        const hello: Hello = { ...(message as Hello), token: '' };
        this.deliver(() => this.options.sink.hello(conn.key!, hello));
        continue;
      }
      this.dispatch(conn, conn.key, message);
    }
  }

  private dispatch(conn: Connection, key: ProcessKey, message: TracerMessage): void {
    const sink = this.options.sink;
    switch (message.t) {
      case 'batch':
        this.deliver(() => sink.batch(key, message));
        break;
      case 'lines':
        // Per-line figures go to sinks that take them (the store, DAP events); others ignore them.
        if (sink.lines) this.deliver(() => sink.lines?.(key, message));
        break;
      case 'error':
        this.deliver(() => sink.error(key, message));
        break;
      case 'end':
        this.deliver(() => sink.end(key, message));
        break;
      case 'hello':
        this.fail(conn, 'a second hello on the same connection');
        break;
    }
  }

  /** Why a first message is not an acceptable hello, or undefined when it is. */
  private checkHello(message: TracerMessage): string | undefined {
    if (message.t !== 'hello') return `the first message was "${message.t}", not a hello`;
    if (!tokensEqual(message.token, this.token)) return 'wrong token';
    if (message.version !== WIRE_VERSION) {
      return `wire version ${message.version} is not supported (this adapter speaks version ${WIRE_VERSION})`;
    }
    return undefined;
  }

  private refuse(conn: Connection, reason: string): void {
    if (conn.done) return;
    conn.done = true;
    conn.socket.destroy();
    this.options.onRefused?.(reason);
  }

  private fail(conn: Connection, reason: string): void {
    if (!conn.key) {
      this.refuse(conn, reason);
      return;
    }
    if (conn.done) return;
    conn.done = true;
    conn.socket.destroy();
    const key = conn.key;
    this.deliver(() =>
      this.options.sink.error(key, { t: 'error', message: `protocol error: ${reason}` }),
    );
    this.options.onProtocolError?.(key, reason);
  }

  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.onSinkError?.(error);
    }
  }
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
