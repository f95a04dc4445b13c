// Tests of the TypeScript wire decoder (adapter/protocol/wire.ts): the recorded streams in
// test/vectors/ (written by the Python tracer's encoder) decode to the messages in the .json
// beside each, whole and cut at every byte; framing edge cases and message validation.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  encodeFrame,
  FrameDecoder,
  MAX_FRAME,
  parseMessage,
  WireError,
} from '../../adapter/protocol/wire';

const vectorsDir = path.join(__dirname, '..', 'vectors');

function decodeAll(chunks: Buffer[], decoder = new FrameDecoder()): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks)
    for (const frame of decoder.push(chunk)) out.push(parseMessage(frame));
  assert.equal(decoder.pendingBytes, 0, 'bytes left over after the last frame');
  return out;
}

const hello = {
  t: 'hello',
  version: 1,
  token: 'abc',
  pid: 10,
  ppid: 1,
  python: '3.12.1',
  backend: 'monitoring',
  argv: ['prog.py', 'é'],
  cwd: '/tmp',
  start_ns: 1700000000000000000,
};
const batch = {
  t: 'batch',
  seq: 1,
  strings: [[1, 'héllo ✓ 😀']],
  files: [[1, '/tmp/prog.py']],
  codes: [[1, 1, '__main__', 'f', 3, ['x'], 0]],
  threads: [[1, 1234, 'MainThread']],
  events: [
    [1, 1, 1, 100, 1],
    [2, 1, 1, 200, 4, 1],
  ],
  dropped: 0,
};
const end = { t: 'end', exit_code: 0, reason: 'exit' };

describe('FrameDecoder', () => {
  const stream = Buffer.concat([encodeFrame(hello), encodeFrame(batch), encodeFrame(end)]);

  it('decodes several frames from one chunk', () => {
    assert.deepEqual(decodeAll([stream]), [hello, batch, end]);
  });

  it('decodes frames cut at every byte position', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      assert.deepEqual(
        decodeAll([stream.subarray(0, cut), stream.subarray(cut)]),
        [hello, batch, end],
        `cut at ${cut}`,
      );
    }
  });

  it('decodes a stream fed one byte at a time (multi-byte UTF-8 split)', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    assert.deepEqual(decodeAll(bytes), [hello, batch, end]);
  });

  it('returns nothing until a frame is complete and keeps the rest', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(end);
    assert.deepEqual(decoder.push(frame.subarray(0, 3)), []);
    assert.deepEqual(decoder.push(frame.subarray(3, 10)), []);
    assert.equal(decoder.pendingBytes, 6);
    const frames = decoder.push(frame.subarray(10));
    assert.equal(frames.length, 1);
    assert.deepEqual(JSON.parse(frames[0].toString('utf8')), end);
  });

  it('rejects a frame longer than its limit as soon as the header arrives', () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME + 1);
    assert.throws(() => new FrameDecoder().push(header), WireError);
    const small = new FrameDecoder(100);
    header.writeUInt32BE(101);
    assert.throws(() => small.push(header), /101 bytes exceeds the limit of 100/);
    header.writeUInt32BE(100);
    assert.deepEqual(new FrameDecoder(100).push(header), []);
  });
});

describe('parseMessage', () => {
  it('accepts every kind and keeps unknown extra fields', () => {
    assert.deepEqual(parseMessage(JSON.stringify(hello)), hello);
    assert.deepEqual(parseMessage(JSON.stringify({ ...end, extra: 1 })), { ...end, extra: 1 });
    assert.deepEqual(parseMessage(JSON.stringify({ t: 'error', message: 'boom' })), {
      t: 'error',
      message: 'boom',
    });
    assert.deepEqual(parseMessage(JSON.stringify({ ...end, exit_code: null })), {
      ...end,
      exit_code: null,
    });
    const lines = { t: 'lines', sampled: true, stats: [[1, 3, 10, 500, 900]] };
    assert.deepEqual(parseMessage(JSON.stringify(lines)), lines);
  });

  it('rejects what is not a well-formed message', () => {
    const cases: [string, RegExp][] = [
      ['{"t":"hello"', /not valid JSON/],
      ['[1,2]', /not a JSON object/],
      ['null', /not a JSON object/],
      ['{"t":"nope"}', /unknown message kind "nope"/],
      ['{}', /unknown message kind undefined/],
      [JSON.stringify({ ...hello, token: 5 }), /hello message has a missing or malformed "token"/],
      [JSON.stringify({ ...hello, version: '1' }), /"version"/],
      [
        JSON.stringify({ ...batch, events: {} }),
        /batch message has a missing or malformed "events"/,
      ],
      [JSON.stringify({ ...batch, dropped: undefined }), /"dropped"/],
      [JSON.stringify({ t: 'error' }), /error message has a missing or malformed "message"/],
      [JSON.stringify({ ...end, exit_code: '0' }), /"exit_code"/],
      [JSON.stringify({ t: 'lines', sampled: 1, stats: [] }), /lines message .* "sampled"/],
      [JSON.stringify({ t: 'lines', sampled: false }), /lines message .* "stats"/],
    ];
    for (const [text, pattern] of cases) assert.throws(() => parseMessage(text), pattern, text);
  });
});

/** Tracer messages go through parseMessage; control messages (adapter -> tracer) are plain JSON. */
const CONTROL_KINDS = new Set(['pause', 'resume', 'filter', 'detach']);
function decodeVector(chunks: Buffer[]): unknown[] {
  const decoder = new FrameDecoder();
  const out: unknown[] = [];
  for (const chunk of chunks) {
    for (const frame of decoder.push(chunk)) {
      const plain = JSON.parse(frame.toString('utf8')) as { t: string };
      out.push(CONTROL_KINDS.has(plain.t) ? plain : parseMessage(frame));
    }
  }
  assert.equal(decoder.pendingBytes, 0, 'bytes left over after the last frame');
  return out;
}

describe('shared vectors (test/vectors)', () => {
  const names = readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.bin'))
    .sort();

  it('exist', () => {
    assert.ok(names.length > 0, `no .bin vectors in ${vectorsDir}`);
  });

  for (const name of names) {
    const load = () => {
      const bytes = readFileSync(path.join(vectorsDir, name));
      const json = readFileSync(path.join(vectorsDir, name.replace(/\.bin$/, '.json')), 'utf8');
      return { bytes, messages: JSON.parse(json) as object[] };
    };

    it(`${name} decodes to its .json, whole and cut anywhere`, () => {
      const { bytes, messages } = load();
      assert.ok(Array.isArray(messages) && messages.length > 0);
      assert.deepEqual(decodeVector([bytes]), messages);
      const step = Math.max(1, Math.floor(bytes.length / 300));
      for (let cut = 0; cut <= bytes.length; cut += step) {
        assert.deepEqual(
          decodeVector([bytes.subarray(0, cut), bytes.subarray(cut)]),
          messages,
          `cut at ${cut}`,
        );
      }
    });

    it(`${name} is what encodeFrame makes of its .json, byte for byte`, () => {
      const { bytes, messages } = load();
      assert.ok(Buffer.concat(messages.map((m) => encodeFrame(m))).equals(bytes));
    });
  }
});
