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
  AttachBadProcessId = 4140,
  ProcessGone = 4141,
  ProcessNotOurs = 4142,
  NoAgent = 4143,
  AgentUnsafe = 4144,
  AgentRefused = 4145,
  AgentUnreachable = 4146,
  AttachTimeout = 4147,
  InjectionFailed = 4148,
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
      `Tracelens could not open its trace socket: ${detail}. Check that the temporary directory (TMPDIR) is writable and 127.0.0.1 is available, then try again.`,
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
  attachBadProcessId: (given: unknown) =>
    new TracelensError(
      ErrorCode.AttachBadProcessId,
      `\`processId\` in launch.json must be the number of a running process (got ${JSON.stringify(given) ?? 'nothing'}). Use "Tracelens: Attach to Python Process..." or \`"processId": "\${command:tracelens.pickProcess}"\` to choose one.`,
    ),
  processGone: (pid: number) =>
    new TracelensError(
      ErrorCode.ProcessGone,
      `There is no process ${pid} (it may have ended). Pick a running process with "Tracelens: Attach to Python Process...".`,
    ),
  processNotOurs: (pid: number, uid: number, ours: number) =>
    new TracelensError(
      ErrorCode.ProcessNotOurs,
      `Process ${pid} belongs to another user (uid ${uid}; you are uid ${ours}). Tracelens only attaches to your own processes: run VS Code as that user, or start the program as yourself.`,
    ),
  noAgent: (pid: number, detail: string) =>
    new TracelensError(
      ErrorCode.NoAgent,
      `Process ${pid} has no Tracelens agent, so Tracelens cannot attach to it. ${detail} To make a program attachable, add \`import tracelens.agent; tracelens.agent.install()\` to it (with the tracer's folder on PYTHONPATH), start it with \`python -m tracelens.agent program.py\`, or set TRACELENS_AGENT=1 with PYTHONPATH=<tracer>/tracelens/attach_site. On Python 3.14+ Tracelens installs the agent itself through sys.remote_exec.`,
    ),
  agentUnsafe: (detail: string) =>
    new TracelensError(
      ErrorCode.AgentUnsafe,
      `Tracelens did not trust the agent's files: ${detail}. Only a directory of your own with mode 0700 and files with mode 0600 are used; fix or remove them, then restart the program.`,
    ),
  agentRefused: (pid: number, reason: string) =>
    new TracelensError(
      ErrorCode.AgentRefused,
      `The Tracelens agent in process ${pid} refused to attach: ${reason}.`,
    ),
  agentUnreachable: (pid: number, detail: string) =>
    new TracelensError(
      ErrorCode.AgentUnreachable,
      `The Tracelens agent of process ${pid} does not answer (${detail}). Its announcement may be stale: restart the program with the agent installed.`,
    ),
  attachTimeout: (pid: number, ms: number) =>
    new TracelensError(
      ErrorCode.AttachTimeout,
      `Process ${pid} accepted the attach but sent no trace within ${ms} ms. It may be busy in native code; try again.`,
    ),
  injectionFailed: (pid: number, detail: string) =>
    new TracelensError(
      ErrorCode.InjectionFailed,
      `Tracelens could not install its agent into process ${pid}: ${detail}`,
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
