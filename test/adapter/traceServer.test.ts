// Tests of the trace server (adapter/traceServer.ts) over real local sockets (TCP, Unix): a tracer with the
// right token and version is accepted and its messages reach the sink in order; wrong tokens,
// versions, first messages, silence, oversize and broken frames are refused and deliver nothing.

import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { ProcessKey, TraceSink } from '../../adapter/protocol/dap';
import { encodeFrame, FrameDecoder, WIRE_VERSION } from '../../adapter/protocol/wire';
import { TraceServer } from '../../adapter/traceServer';
import { connectTo } from './dapHarness';

type Delivered = [string, ProcessKey, unknown];

function recordingSink(): { sink: TraceSink; got: Delivered[] } {
  const got: Delivered[] = [];
  const sink: TraceSink = {
    hello: (k, m) => got.push(['hello', k, m]),
    batch: (k, m) => got.push(['batch', k, m]),
    error: (k, m) => got.push(['error', k, m]),
    end: (k, m) => got.push(['end', k, m]),
  };
  return { sink, got };
}

function helloWith(token: string, version = WIRE_VERSION) {
  return {
    t: 'hello',
    version,
    token,
    pid: 42,
    ppid: 1,
    python: '3.12.1',
    backend: 'monitoring',
    argv: ['x.py'],
    cwd: '/',
    start_ns: 5,
  };
}
const batch = {
  t: 'batch',
  seq: 1,
  strings: [[1, 'v']],
  files: [],
  codes: [],
  threads: [],
  events: [],
  dropped: 0,
};
const end = { t: 'end', exit_code: 0, reason: 'exit' };

let servers: TraceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(helloTimeoutMs = 2000, transport: 'tcp' | 'unix' = 'tcp') {
  const { sink, got } = recordingSink();
  const refused: string[] = [];
  const server = new TraceServer({
    sessionId: 's1',
    sink,
    helloTimeoutMs,
    onRefused: (r) => refused.push(r),
    transport,
  });
  servers.push(server);
  const address = await server.listen();
  assert.equal(address, server.connectAddress);
  if (transport === 'tcp') assert.match(address, /^127\.0\.0\.1:\d+$/);
  const connect = () => connectTo(address);
  return { server, got, refused, connect, address };
}

/** Resolves when the peer closes the socket; rejects if it stays open for `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

describe('TraceServer', () => {
  it('makes a 64-hex-digit random token per server', () => {
    const a = new TraceServer({ sessionId: 'a', sink: recordingSink().sink });
    const b = new TraceServer({ sessionId: 'b', sink: recordingSink().sink });
    assert.match(a.token, /^[0-9a-f]{64}$/);
    assert.notEqual(a.token, b.token);
  });

  it('listens on a Unix socket in a private directory, removed on close', async () => {
    const { server, got, refused, connect, address } = await start(2000, 'unix');
    assert.match(address, /^unix:\//);
    const dir = path.dirname(address.slice(5));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const socket = await connect();
    socket.end(Buffer.concat([encodeFrame(helloWith(server.token)), encodeFrame(end)]));
    await server.whenIdle(2000);
    assert.deepEqual(
      got.map((g) => g[0]),
      ['hello', 'end'],
    );
    assert.deepEqual(refused, []);
    await server.close();
    assert.equal(existsSync(dir), false);
  });

  it('accepts the right hello and delivers messages in order, split or coalesced', async () => {
    const { server, got, refused, connect } = await start();
    const socket = await connect();
    const bytes = Buffer.concat([
      encodeFrame(helloWith(server.token)),
      encodeFrame(batch),
      encodeFrame(end),
    ]);
    socket.write(bytes.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 50));
    socket.end(bytes.subarray(7));
    await server.whenIdle(2000);
    const key = { session: 's1', connection: 1 };
    assert.deepEqual(got, [
      ['hello', key, { ...helloWith(''), token: '' }],
      ['batch', key, batch],
      ['end', key, end],
    ]);
    assert.deepEqual(refused, []);
    assert.equal(server.acceptedCount, 1);
  });

  it('numbers accepted connections from 1 and sends control messages to them', async () => {
    const { server, got, connect } = await start();
    const sockets = [await connect(), await connect()];
    for (const s of sockets) s.write(encodeFrame(helloWith(server.token)));
    await waitFor(() => got.length === 2);
    assert.deepEqual(got.map(([, k]) => k.connection).sort(), [1, 2]);
    assert.equal(server.send({ t: 'filter', include: ['app.*'], exclude: [] }), 2);
    for (const s of sockets) {
      const decoder = new FrameDecoder();
      const frames = await new Promise<Buffer[]>((resolve) =>
        s.once('data', (d: Buffer) => resolve(decoder.push(d))),
      );
      assert.deepEqual(JSON.parse(frames[0].toString()), {
        t: 'filter',
        include: ['app.*'],
        exclude: [],
      });
      s.destroy();
    }
  });

  const refusals: [string, (token: string) => Buffer, RegExp][] = [
    ['a wrong token', () => encodeFrame(helloWith('0'.repeat(64))), /^wrong token$/],
    ['a token of another length', (t) => encodeFrame(helloWith(t + '0')), /^wrong token$/],
    [
      'another wire version',
      (t) => encodeFrame(helloWith(t, WIRE_VERSION + 1)),
      /wire version 2 is not supported/,
    ],
    [
      'a batch before the hello',
      () => encodeFrame(batch),
      /first message was "batch", not a hello/,
    ],
    [
      'a frame that is not JSON',
      () => Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]),
      /not valid JSON/,
    ],
    ['an oversize frame header', () => Buffer.from([0x7f, 0, 0, 0]), /exceeds the limit/],
    ['a hello missing fields', (t) => encodeFrame({ t: 'hello', token: t }), /malformed "version"/],
  ];
  for (const [what, bytes, reason] of refusals) {
    it(`refuses ${what}, closes the socket and delivers nothing`, async () => {
      const { server, got, refused, connect } = await start();
      const socket = await connect();
      // Whatever follows the bad first frame must not be delivered either.
      socket.write(
        Buffer.concat([
          bytes(server.token),
          encodeFrame(helloWith(server.token)),
          encodeFrame(batch),
        ]),
      );
      await closedWithin(socket, 2000);
      assert.deepEqual(got, []);
      assert.equal(refused.length, 1);
      assert.match(refused[0], reason);
      assert.equal(server.acceptedCount, 0);
    });
  }

  it('accepts frames far above the pre-hello limit once the hello is accepted', async () => {
    const { server, got, connect } = await start();
    const socket = await connect();
    const big = { ...batch, strings: [[1, 'x'.repeat(1024 * 1024)]] };
    socket.end(Buffer.concat([encodeFrame(helloWith(server.token)), encodeFrame(big)]));
    await waitFor(() => got.length === 2, 3000);
    assert.deepEqual(
      got.map(([kind]) => kind),
      ['hello', 'batch'],
    );
    assert.deepEqual(got[1][2], big);
  });

  it('refuses a connection that sends no hello in time', async () => {
    const { got, refused, connect } = await start(300);
    const socket = await connect();
    const t0 = Date.now();
    await closedWithin(socket, 2000);
    assert.ok(Date.now() - t0 >= 250, 'closed too early');
    assert.deepEqual(got, []);
    assert.deepEqual(refused, ['no hello within 300 ms']);
  });

  it('closes an accepted connection that breaks the protocol, keeping what came before', async () => {
    const { server, got, connect } = await start();
    const socket = await connect();
    socket.write(
      Buffer.concat([
        encodeFrame(helloWith(server.token)),
        encodeFrame(batch),
        encodeFrame(helloWith(server.token)),
      ]),
    );
    await closedWithin(socket, 2000);
    const key = { session: 's1', connection: 1 };
    assert.deepEqual(
      got.map(([kind]) => kind),
      ['hello', 'batch', 'error'],
    );
    assert.deepEqual(got[2], [
      'error',
      key,
      { t: 'error', message: 'protocol error: a second hello on the same connection' },
    ]);
  });
});

async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
