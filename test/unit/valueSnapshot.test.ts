// Unit tests of extension/valueSnapshot.ts on snapshots made by the real tracer's value code
// (tracelens.values.make_repr(structured=True) run in python3): the tree of a dataclass, a
// namedtuple, a dict, a set and a cut list, the texts of its rows, and plain values left alone.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { shortenValue } from '../../extension/format';
import {
  isExpandable,
  isStructured,
  lengthText,
  moreText,
  parseValue,
  valueText,
  type ValueNode,
} from '../../extension/valueSnapshot';

const tracerDir = path.resolve(__dirname, '..', '..', 'adapter', 'python');

const SCRIPT = `
import collections, dataclasses, json, sys
from tracelens.values import make_repr

@dataclasses.dataclass
class Point:
    x: int
    tags: list

Pair = collections.namedtuple("Pair", "left right")

class Plain:
    def __init__(self):
        self.name = "p"
        self.size = 2

rep = make_repr(structured=True, depth=2, width=3)
values = [
    Point(1, ["a", "b"]),
    Pair(1, "b"),
    {"k": (2,), "n": None},
    list(range(10)),
    {5},
    Plain(),
    7,
    "text",
    [[[1]]],
]
json.dump([rep(v) for v in values], sys.stdout)
`;

let values: string[];
before(() => {
  const out = execFileSync('python3', ['-c', SCRIPT], {
    env: { ...process.env, PYTHONPATH: tracerDir },
    encoding: 'utf8',
  });
  values = JSON.parse(out) as string[];
});

/** The tree as nested arrays: [label, type, repr, length, more?, children?]. */
function shape(node: ValueNode): unknown[] {
  const out: unknown[] = [node.type, node.repr, lengthText(node)];
  if (node.cut) out.push(moreText(node));
  if (node.children.length) out.push(node.children.map((c) => [c.label, ...shape(c.node)]));
  return out;
}

test('a dataclass opens to its fields, nested to the recorded depth', () => {
  assert.ok(isStructured(values[0]));
  const node = parseValue(values[0]);
  assert.deepEqual(shape(node), [
    'Point',
    "Point(x=1, tags=['a', 'b'])",
    '',
    [
      ['x', 'int', '1', ''],
      [
        'tags',
        'list',
        "['a', 'b']",
        '2 items',
        [
          ['[0]', 'str', "'a'", ''],
          ['[1]', 'str', "'b'", ''],
        ],
      ],
    ],
  ]);
  assert.equal(isExpandable(node), true);
  assert.equal(valueText(values[0]), "Point(x=1, tags=['a', 'b'])");
});

test('a namedtuple has fields with a length; a dict has keys; a set has unlabelled items', () => {
  assert.deepEqual(shape(parseValue(values[1])), [
    'Pair',
    "Pair(left=1, right='b')",
    '2 fields',
    [
      ['left', 'int', '1', ''],
      ['right', 'str', "'b'", ''],
    ],
  ]);
  assert.deepEqual(shape(parseValue(values[2])), [
    'dict',
    "{'k': (2,), 'n': None}",
    '2 keys',
    [
      ["'k'", 'tuple', '(2,)', '1 item', [['[0]', 'int', '2', '']]],
      ["'n'", 'NoneType', 'None', ''],
    ],
  ]);
  assert.deepEqual(shape(parseValue(values[4])), ['set', '{5}', '1 item', [['', 'int', '5', '']]]);
});

test('a list cut at the width says how many more; an object without a length says "… more"', () => {
  const list = parseValue(values[3]);
  assert.deepEqual(shape(list), [
    'list',
    '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]',
    '10 items',
    '… 7 more',
    [
      ['[0]', 'int', '0', ''],
      ['[1]', 'int', '1', ''],
      ['[2]', 'int', '2', ''],
    ],
  ]);
  assert.equal(list.more, 7);
  const cutObject = parseValue(
    '\u001e{"t":"Big","r":"<Big>","k":[["a",{"t":"int","r":"1"}]],"x":true}',
  );
  assert.equal(moreText(cutObject), '… more');
  // Too big for the snapshot limit: the top level only, still openable to say what is missing.
  const top = parseValue('\u001e{"t":"list","r":"[[…], …]","n":64,"x":true}');
  assert.deepEqual(shape(top), ['list', '[[…], …]', '64 items', '… 64 more']);
  assert.equal(isExpandable(top), true);
});

test('below the depth a value is a leaf with its type; scalars and plain reprs stay text', () => {
  const nested = parseValue(values[8]);
  assert.deepEqual(shape(nested), [
    'list',
    '[[[1]]]',
    '1 item',
    [['[0]', 'list', '[[1]]', '1 item', [['[0]', 'list', '[1]', '']]]],
  ]);
  assert.equal(values[6], '7');
  assert.equal(values[7], "'text'");
  for (const plain of [values[6], values[7], 'Point(x=1)']) {
    assert.equal(isStructured(plain), false);
    assert.equal(valueText(plain), plain);
    const node = parseValue(plain);
    assert.deepEqual([node.type, node.repr, isExpandable(node)], [null, plain, false]);
  }
});

test('broken snapshots never throw: the text after the marker is shown', () => {
  assert.equal(valueText('\u001e{not json'), '{not json');
  assert.deepEqual(shape(parseValue('\u001e[1, 2]')), [null, '[1, 2]', '']);
});

test('a plain object opens to its attributes; shortened values show a snapshot as its repr', () => {
  const plain = parseValue(values[5]);
  assert.match(plain.repr, /^<__main__\.Plain object at 0x[0-9a-f]+>$/);
  assert.deepEqual(shape(plain).slice(2), [
    '',
    [
      ['name', 'str', "'p'", ''],
      ['size', 'int', '2', ''],
    ],
  ]);
  // What the editor, the call tree and the hovers show (extension/format.ts shortenValue).
  assert.equal(shortenValue(values[0], 20), "Point(x=1, tags=['a…");
  assert.equal(shortenValue(values[5], 200), plain.repr);
});
