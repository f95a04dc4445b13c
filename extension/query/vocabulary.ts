// The words of the Tracelens query language: every field (with its type, what a bare mention of
// it means, and its hover text) and every operator and keyword. The parser, the compilers, the
// completion and the hover all read this one table. Pure data; imports nothing from vscode.

/** What a field's values are. */
export type FieldType = 'text' | 'number' | 'duration';

/** Which list of names from the trace completes (and checks) a field's values. */
export type NamesKey = 'functions' | 'modules' | 'exceptionTypes' | 'threads';

export interface FieldDef {
  /** Canonical name, as written in queries (`arg.` for `arg.NAME`). */
  name: string;
  aliases: string[];
  type: FieldType;
  /** What a bare mention means (`exception` alone: "ended by an exception"); absent: not allowed. */
  presence?: string;
  /** thread: a number value compares with the native thread id instead of the name. */
  numberMeans?: string;
  /** Fixed set of values (kind). */
  values?: string[];
  names?: NamesKey;
  /** Only names code (module, function, file, ...): decided once per code object. */
  code: boolean;
  doc: string;
  example: string;
}

export const FIELDS: readonly FieldDef[] = [
  {
    name: 'function',
    aliases: ['qualname', 'func'],
    type: 'text',
    names: 'functions',
    code: true,
    doc: 'The qualified name of the called function, e.g. `Parser.parse` or `main.<locals>.inner`.',
    example: 'function == "Parser.parse"',
  },
  {
    name: 'module',
    aliases: [],
    type: 'text',
    names: 'modules',
    code: true,
    doc: 'The module the function is defined in, e.g. `app.models`.',
    example: 'module startswith "app."',
  },
  {
    name: 'file',
    aliases: ['filename', 'path'],
    type: 'text',
    code: true,
    doc: 'The absolute path of the source file of the function.',
    example: 'file endswith "/models.py"',
  },
  {
    name: 'line',
    aliases: [],
    type: 'number',
    code: true,
    doc: 'The first line of the function (its `def` line).',
    example: 'line >= 100',
  },
  {
    name: 'kind',
    aliases: [],
    type: 'text',
    values: ['function', 'generator', 'coroutine', 'asyncgen'],
    code: true,
    doc: 'What the code is: `function`, `generator`, `coroutine` or `asyncgen` (async generator).',
    example: 'kind == coroutine',
  },
  {
    name: 'thread',
    aliases: [],
    type: 'text',
    names: 'threads',
    numberMeans: 'the native thread id',
    code: false,
    doc: 'The name of the thread the call ran on, e.g. `MainThread`. A number compares with the native thread id.',
    example: 'thread == MainThread',
  },
  {
    name: 'process',
    aliases: ['pid'],
    type: 'number',
    code: false,
    doc: 'The process id (pid) of the traced process the call ran in.',
    example: 'process == 4242',
  },
  {
    name: 'depth',
    aliases: [],
    type: 'number',
    code: false,
    doc: 'How deep the call is in its thread’s call stack as recorded (0 at the top).',
    example: 'depth <= 3',
  },
  {
    name: 'duration',
    aliases: ['time'],
    type: 'duration',
    presence: 'the call has ended (its duration is known)',
    code: false,
    doc: 'How long the call took, end minus start. Write it with a unit: `ns`, `us` (or `µs`), `ms`, `s`, `m`. A call still running has no duration and matches no comparison.',
    example: 'duration > 5ms',
  },
  {
    name: 'start',
    aliases: [],
    type: 'duration',
    code: false,
    doc: 'When the call started, measured from the start of the trace, with a unit: `start > 2s`.',
    example: 'start >= 1.5s',
  },
  {
    name: 'arg.',
    aliases: [],
    type: 'text',
    presence: 'the function has a parameter of that name',
    code: false,
    doc: 'The recorded value (its repr) of the argument NAME, e.g. `arg.user_id == 42` or `arg.path contains "tmp"`.',
    example: 'arg.user_id == 42',
  },
  {
    name: 'arg',
    aliases: ['args'],
    type: 'text',
    presence: 'the call has at least one argument',
    code: false,
    doc: 'Any argument of the call: `arg contains "secret"` matches a call where some argument’s value contains it.',
    example: 'arg contains "secret"',
  },
  {
    name: 'return',
    aliases: ['returned', 'result'],
    type: 'text',
    presence: 'the call returned (did not end by an exception)',
    code: false,
    doc: 'The value the call returned (its repr), e.g. `return == None`. For a generator’s suspended run, the value it yielded.',
    example: 'return == "None"',
  },
  {
    name: 'exception',
    aliases: ['exc'],
    type: 'text',
    presence: 'the call ended by an exception',
    names: 'exceptionTypes',
    code: false,
    doc: 'Alone: the call ended by an exception. Compared: the type of that exception (the same as `exception.type`).',
    example: 'exception == ValueError',
  },
  {
    name: 'exception.type',
    aliases: ['exc.type'],
    type: 'text',
    presence: 'the call ended by an exception',
    names: 'exceptionTypes',
    code: false,
    doc: 'The type of the exception that ended the call, e.g. `KeyError`.',
    example: 'exception.type in (KeyError, IndexError)',
  },
  {
    name: 'exception.message',
    aliases: ['exc.message'],
    type: 'text',
    presence: 'the call ended by an exception',
    code: false,
    doc: 'The message of the exception that ended the call.',
    example: 'exception.message contains "timeout"',
  },
];

/** Every name a field may be written with (canonical names and aliases; `arg.` stands for `arg.NAME`). */
export const FIELD_NAMES: readonly string[] = FIELDS.flatMap((f) => [f.name, ...f.aliases]);

const byName = new Map<string, FieldDef>();
for (const f of FIELDS) for (const n of [f.name, ...f.aliases]) byName.set(n, f);

/** The field a written name stands for (`arg.x` gives the `arg.` field), or undefined. */
export function lookupField(written: string): FieldDef | undefined {
  if (written.startsWith('arg.') && written.length > 4 && !written.slice(4).includes('.')) {
    return byName.get('arg.');
  }
  if (written.startsWith('args.') && written.length > 5 && !written.slice(5).includes('.')) {
    return byName.get('arg.');
  }
  return written === 'arg.' ? undefined : byName.get(written);
}

/** Comparison operators, as the AST names them. */
export type CompareOp =
  '==' | '!=' | '~' | '!~' | 'contains' | 'startswith' | 'endswith' | '<' | '<=' | '>' | '>=';

export interface OperatorDef {
  /** As written. */
  text: string;
  /** Which field types it applies to. */
  types: FieldType[];
  doc: string;
}

export const OPERATORS: readonly OperatorDef[] = [
  {
    text: '==',
    types: ['text', 'number', 'duration'],
    doc: 'Equal: exactly this value (text is compared case-sensitively).',
  },
  {
    text: '!=',
    types: ['text', 'number', 'duration'],
    doc: 'Not equal. A call without the value (no exception, still running) counts as not equal.',
  },
  {
    text: '~',
    types: ['text'],
    doc: 'Matches a regular expression anywhere in the text (JavaScript syntax; start with `(?i)` to ignore case): `function ~ "^test_"`.',
  },
  { text: '!~', types: ['text'], doc: 'Does not match the regular expression.' },
  {
    text: 'contains',
    types: ['text'],
    doc: 'The text contains this (case-sensitive): `arg.path contains "tmp"`.',
  },
  {
    text: 'startswith',
    types: ['text'],
    doc: 'The text starts with this: `module startswith "app."`.',
  },
  {
    text: 'endswith',
    types: ['text'],
    doc: 'The text ends with this: `file endswith "_test.py"`.',
  },
  {
    text: 'in',
    types: ['text', 'number', 'duration'],
    doc: 'Equal to one of a list: `exception.type in (KeyError, IndexError)`. `not in` is its opposite.',
  },
  { text: '<', types: ['number', 'duration'], doc: 'Less than: `duration < 1ms`.' },
  { text: '<=', types: ['number', 'duration'], doc: 'Less than or equal.' },
  { text: '>', types: ['number', 'duration'], doc: 'Greater than: `duration > 5ms`.' },
  { text: '>=', types: ['number', 'duration'], doc: 'Greater than or equal.' },
];

export const KEYWORDS: Readonly<Record<string, string>> = {
  and: 'Both sides must hold: `module == app and duration > 1ms`. Binds tighter than `or`.',
  or: 'Either side may hold: `exception or duration > 1s`.',
  not: 'The opposite of what follows: `not exception`, `not (module startswith "test")`; also `not in`, `not contains`, `not startswith`, `not endswith`.',
};

/** Words that operators and keywords use; bare values cannot be one of these (quote them). */
export const RESERVED = new Set(['and', 'or', 'not', 'in', 'contains', 'startswith', 'endswith']);

/** Duration units and their size in nanoseconds. */
export const UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
};

export function operatorDef(text: string): OperatorDef | undefined {
  return OPERATORS.find((o) => o.text === text);
}
