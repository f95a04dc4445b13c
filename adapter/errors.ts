// Numbered, user-facing errors of the Tracelens adapter (after js-debug's src/dap/errors.ts).
// Each says what is wrong and what to do; the session turns them into DAP error responses with
// showUser set. Pure data: imports nothing from vscode or the DAP library.

export const enum ErrorCode {
  NoProgramOrModule = 4101,
  ProgramAndModule = 4102,
  ProgramNotFound = 4103,
  ProgramNotFile = 4104,
  CwdNotFound = 4105,
  CwdNotDirectory = 4106,
  InvalidArgument = 4107,
  PythonNotFound = 4110,
  PythonNotRunnable = 4111,
  NoPythonFound = 4112,
  PythonTooOld = 4113,
  TracerMissing = 4120,
  SpawnFailed = 4121,
  ServerFailed = 4122,
  AlreadyRunning = 4130,
  AttachUnsupported = 4131,
  NotRunning = 4132,
  Unexpected = 4199,
}

/** An error the user sees, with its code. */
export class TracelensError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly showUser = true,
  ) {
    super(message);
    this.name = 'TracelensError';
  }
}

const LAUNCH_JSON = 'in launch.json';
const MIN_PYTHON = '3.9';

export const errors = {
  noProgramOrModule: () =>
    new TracelensError(
      ErrorCode.NoProgramOrModule,
      `Nothing to trace: set \`program\` (a Python file) or \`module\` ${LAUNCH_JSON}, or open a saved Python file and run "Tracelens: Trace This File".`,
    ),
  programAndModule: () =>
    new TracelensError(
      ErrorCode.ProgramAndModule,
      `Both \`program\` and \`module\` are set ${LAUNCH_JSON}; keep only one of them.`,
    ),
  programNotFound: (path: string) =>
    new TracelensError(
      ErrorCode.ProgramNotFound,
      `The program to trace does not exist: ${path}. Fix \`program\` ${LAUNCH_JSON}, or open a saved Python file and run "Tracelens: Trace This File".`,
    ),
  programNotFile: (path: string) =>
    new TracelensError(
      ErrorCode.ProgramNotFile,
      `The program to trace is not a file: ${path}. Fix \`program\` ${LAUNCH_JSON} to name a Python file (or use \`module\` for a package), or open a saved Python file and run "Tracelens: Trace This File".`,
    ),
  cwdNotFound: (path: string) =>
    new TracelensError(
      ErrorCode.CwdNotFound,
      `The working directory does not exist: ${path}. Fix \`cwd\` ${LAUNCH_JSON}, or remove it to run in the program's folder.`,
    ),
  cwdNotDirectory: (path: string) =>
    new TracelensError(
      ErrorCode.CwdNotDirectory,
      `The working directory is not a directory: ${path}. Fix \`cwd\` ${LAUNCH_JSON}.`,
    ),
  invalidArgument: (name: string, expected: string) =>
    new TracelensError(
      ErrorCode.InvalidArgument,
      `\`${name}\` ${LAUNCH_JSON} must be ${expected}. Fix it and start again.`,
    ),
  pythonNotFound: (path: string) =>
    new TracelensError(
      ErrorCode.PythonNotFound,
      `The Python interpreter set in \`python\` does not exist: ${path}. Fix \`python\` ${LAUNCH_JSON}, or remove it to use the selected interpreter.`,
    ),
  pythonNotRunnable: (path: string, source: string, detail: string) =>
    new TracelensError(
      ErrorCode.PythonNotRunnable,
      `The Python interpreter ${path} (${source}) could not be run: ${detail}. ${
        source === 'from `python`'
          ? `Fix \`python\` ${LAUNCH_JSON}`
          : `Select another interpreter ("Python: Select Interpreter") or set \`python\` ${LAUNCH_JSON}`
      }.`,
    ),
  noPythonFound: () =>
    new TracelensError(
      ErrorCode.NoPythonFound,
      `No Python interpreter found: none is selected and neither \`python3\` nor \`python\` is on PATH. Install Python ${MIN_PYTHON} or newer, or set \`python\` ${LAUNCH_JSON} to the interpreter's path.`,
    ),
  pythonTooOld: (path: string, version: string) =>
    new TracelensError(
      ErrorCode.PythonTooOld,
      `Tracelens needs Python ${MIN_PYTHON} or newer, but ${path} is Python ${version}. Set \`python\` ${LAUNCH_JSON} to a Python ${MIN_PYTHON}+ interpreter, or select one with "Python: Select Interpreter".`,
    ),
  tracerMissing: (dir: string) =>
    new TracelensError(
      ErrorCode.TracerMissing,
      `The Tracelens tracer is missing from ${dir}. Reinstall the Tracelens extension.`,
    ),
  spawnFailed: (command: string, detail: string) =>
    new TracelensError(
      ErrorCode.SpawnFailed,
      `Could not start ${command}: ${detail}. Check \`python\` ${LAUNCH_JSON}.`,
    ),
  serverFailed: (detail: string) =>
    new TracelensError(
      ErrorCode.ServerFailed,
      `Tracelens could not open its loopback socket: ${detail}. Check that 127.0.0.1 is available and try again.`,
    ),
  alreadyRunning: () =>
    new TracelensError(
      ErrorCode.AlreadyRunning,
      'This Tracelens session is already tracing a program; start a new session instead.',
    ),
  attachUnsupported: () =>
    new TracelensError(
      ErrorCode.AttachUnsupported,
      'Attaching to a running process is not available yet: use `"request": "launch"` to trace a program from its start.',
    ),
  badFilter: () =>
    new TracelensError(
      ErrorCode.InvalidArgument,
      'A filter change needs `include` and `exclude`, each a list of module globs.',
    ),
  notRunning: () =>
    new TracelensError(ErrorCode.NotRunning, 'No traced program is running in this session.'),
  unexpected: (detail: string) =>
    new TracelensError(
      ErrorCode.Unexpected,
      `Tracelens hit an unexpected problem: ${detail}. Try again; if it persists, report it with this message.`,
    ),
};

/** Any thrown value as a TracelensError (unknown errors become `unexpected`, without stack). */
export function asTracelensError(error: unknown): TracelensError {
  if (error instanceof TracelensError) return error;
  return errors.unexpected(error instanceof Error ? error.message : String(error));
}
