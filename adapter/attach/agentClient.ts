// The adapter's end of an attach agent's Unix socket: sends the one attach request (token, where
// to connect, session token, filters), reads the answer, then keeps the connection as the lease
// whose end detaches. Speaks only the agent messages of tracelens/agent.py; imports no vscode.

import * as net from 'node:net';
import { encodeFrame, FrameDecoder, WIRE_VERSION } from '../protocol/wire';

export interface AttachRequest {
  token: string;
  /** The trace server's address as the tracer's --connect takes it ("127.0.0.1:PORT"). */
  connect: string;
  sessionToken: string;
  include?: string[];
  exclude?: string[];
}

export type AgentReply =
  | { t: 'attached'; pid: number; python: string; backend: string }
  | { t: 'refused'; reason: string };

/** The socket could not be reached (ENOENT, ECONNREFUSED...) or it closed without an answer. */
export class AgentUnreachable extends Error {}

const MAX_REPLY = 64 * 1024;

export class AgentLease {
  private closedResolve!: () => void;
  /** Resolves when the agent connection has closed (detached, program gone, or killed). */
  readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve));
  detachedReason?: string;

  constructor(private readonly socket: net.Socket) {
    socket.on('close', () => this.closedResolve());
  }

  /** Asks the agent to detach; resolves once it has closed the connection (or after ms). */
  async detach(ms = 3000): Promise<void> {
    if (!this.socket.destroyed && this.socket.writable) {
      this.socket.write(encodeFrame({ t: 'detach' }));
    }
    const timer = new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    await Promise.race([this.closed, timer]);
    this.socket.destroy();
  }

  /** Closes at once (the agent detaches when it sees the connection end). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Connects to the agent at `socketPath` and asks it to attach. */
export function requestAttach(
  socketPath: string,
  request: AttachRequest,
  timeoutMs = 10000,
): Promise<{ reply: AgentReply; lease?: AgentLease }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath });
    const decoder = new FrameDecoder(MAX_REPLY);
    let settled = false;
    const finish = (error?: Error, reply?: AgentReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      if (error) {
        socket.destroy();
        reject(error);
        return;
      }
      if (reply!.t === 'attached') {
        const lease = new AgentLease(socket);
        socket.on('data', (chunk: Buffer) => {
          try {
            for (const frame of decoder.push(chunk)) {
              const m = JSON.parse(frame.toString('utf8')) as { t?: string; reason?: string };
              if (m.t === 'detached') lease.detachedReason = m.reason;
            }
          } catch {
            socket.destroy();
          }
        });
        resolve({ reply: reply!, lease });
      } else {
        socket.destroy();
        resolve({ reply: reply! });
      }
    };
    const timer = setTimeout(
      () => finish(new AgentUnreachable(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      try {
        const frame = decoder.push(chunk)[0];
        if (!frame) return;
        const m = JSON.parse(frame.toString('utf8')) as { t?: unknown };
        if (m.t !== 'attached' && m.t !== 'refused') throw new Error(`unexpected "${String(m.t)}"`);
        finish(undefined, m as AgentReply);
      } catch (error) {
        finish(new AgentUnreachable(`a broken answer (${(error as Error).message})`));
      }
    };
    socket.on('data', onData);
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(new AgentUnreachable(error.code ?? error.message)),
    );
    socket.on('close', () => finish(new AgentUnreachable('the agent closed the connection')));
    socket.on('connect', () => {
      socket.write(
        encodeFrame({
          t: 'attach',
          version: WIRE_VERSION,
          token: request.token,
          connect: request.connect,
          session_token: request.sessionToken,
          include: request.include ?? [],
          exclude: request.exclude ?? [],
        }),
      );
    });
  });
}
