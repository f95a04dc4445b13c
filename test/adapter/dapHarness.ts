// Helpers for the adapter tests: build dist/adapter.js once, start it under a DebugClient that
// records every event, send raw requests (to see error ids), wait for events, find interpreters,
// and check whether a process is gone. Test support only; not part of the product.

import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');
export const fixtures = path.join(root, 'test', 'fixtures');
const adapterJs = path.join(root, 'dist', 'adapter.js');

let built = false;
/** Bundles the standalone adapter (once per test process). */
export function buildAdapter(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), 'adapter'], {
    cwd: root,
    stdio: 'pipe',
  });
  built = true;
}

export class RecordingClient extends DebugClient {
  readonly events: DebugProtocol.Event[] = [];

  constructor(env: NodeJS.ProcessEnv = {}) {
    super(
      process.execPath,
      adapterJs,
      'tracelens',
      { env: { ...process.env, ...env } },
      !!process.env.TRACELENS_TEST_VERBOSE,
    );
    this.defaultTimeout = 15000;
  }

  override emit(name: string | symbol, ...args: unknown[]): boolean {
    const event = args[0] as DebugProtocol.Event | undefined;
    if (event && event.type === 'event') this.events.push(event);
    return super.emit(name, ...args);
  }

  /** A request whose failure is returned as the response (with body.error) instead of thrown. */
  raw(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    return new Promise((resolve) => {
      (
        this as unknown as {
          doSend(c: string, a: unknown, cb: (r: DebugProtocol.Response) => void): void;
        }
      ).doSend(command, args, resolve);
    });
  }

  /** initialize, then launch; returns the launch response (failed or not). */
  async launchRaw(args: Record<string, unknown>): Promise<DebugProtocol.Response> {
    await this.initializeRequest();
    return this.raw('launch', args);
  }

  /** Waits until an event satisfying `match` has been recorded (already or later). */
  async eventually<E extends DebugProtocol.Event>(
    match: (e: DebugProtocol.Event) => boolean,
    ms = 20000,
  ): Promise<E> {
    const t0 = Date.now();
    for (;;) {
      const found = this.events.find(match);
      if (found) return found as E;
      if (Date.now() - t0 > ms) {
        throw new Error(
          `no matching event after ${ms} ms; got: ${this.events.map((e) => e.event).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  named(name: string): DebugProtocol.Event[] {
    return this.events.filter((e) => e.event === name);
  }

  /** All output of one category, concatenated. */
  output(category: string): string {
    return this.named('output')
      .filter((e) => (e as DebugProtocol.OutputEvent).body.category === category)
      .map((e) => (e as DebugProtocol.OutputEvent).body.output)
      .join('');
  }
}

/** Installed interpreters ~/.pyenv/versions/<prefix>*\/bin/python3, sorted by version. */
export function pyenvPythons(prefix: RegExp): string[] {
  const base = path.join(os.homedir(), '.pyenv', 'versions');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((v) => prefix.test(v))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((v) => path.join(base, v, 'bin', 'python3'))
    .filter((p) => existsSync(p));
}

/** True when no such process runs (gone, or a zombie nobody has reaped yet). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Connects to a `run --connect` address ("unix:PATH" or "HOST:PORT"). */
export function connectTo(address: string): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const done = () => resolve(socket);
    const socket = address.startsWith('unix:')
      ? net.createConnection(address.slice(5), done)
      : net.createConnection(Number(address.split(':')[1]), address.split(':')[0], done);
    socket.on('error', reject);
  });
}
