// Installing the attach agent into a process that did not opt in: sys.remote_exec on Python 3.14+
// and gdb/lldb on older interpreters. The commands are built by pure functions (unit-tested); the
// debugger calls Py_AddPendingCall(PyRun_SimpleString, code) rather than PyGILState_Ensure, so it
// never waits for a GIL held by a thread it stopped: the main thread runs the code at its next
// bytecode. gdb makes the call from a Python script that restores the registers when it fails. diagnoseDebugger says why ptrace cannot work here. Imports nothing from vscode.

import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface Command {
  command: string;
  args: string[];
}

/** The Python code that puts the tracer on sys.path and installs the agent. */
export function agentBootstrapCode(tracerDir: string): string {
  const hex = Buffer.from(tracerDir, 'utf8').toString('hex');
  return (
    `import sys; p = bytes.fromhex('${hex}').decode('utf-8'); ` +
    `p in sys.path or sys.path.insert(0, p); ` +
    `import tracelens.agent; tracelens.agent.install()`
  );
}

/** `code` as the body of a C string literal (for gdb's and lldb's expression parsers). */
export function cString(code: string): string {
  return code.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The C expression both debuggers evaluate in the target. */
export function pendingCallExpression(code: string): string {
  return `(int)Py_AddPendingCall((void*)PyRun_SimpleString, (char*)strdup("${cString(code)}"))`;
}

/** The general registers gdb saves before the call and writes back if the call fails. */
const GDB_SAVED_REGISTERS = [
  // x86-64
  ...['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'rip', 'eflags', 'orig_rax'],
  ...Array.from({ length: 8 }, (_, i) => `r${i + 8}`),
  // AArch64
  ...Array.from({ length: 31 }, (_, i) => `x${i}`),
  'sp',
  'pc',
  'cpsr',
];

/**
 * The gdb Python script that makes the call. Where gdb cannot finish a call (it fails to write
 * the extended register state on some virtual machines), it leaves the thread's registers
 * half-changed and the system call it interrupted returns a kernel-internal error to the
 * program (OSError 514 from time.sleep): the script saves the general registers (orig_rax
 * too, which decides the system call's restart) and writes them back when the call fails, so
 * the program carries on as if nothing happened. Registers this machine lacks are skipped.
 */
export function gdbCallScript(code: string): string {
  return [
    'import gdb',
    'saved = []',
    `for name in ${JSON.stringify(GDB_SAVED_REGISTERS)}:`,
    '    try:',
    '        saved.append((name, int(gdb.parse_and_eval("(long)$" + name))))',
    '    except gdb.error:',
    '        pass',
    'try:',
    `    gdb.execute(${JSON.stringify(`call ${pendingCallExpression(code)}`)})`,
    'except gdb.error as e:',
    '    print("tracelens: the call failed: %s" % e)',
    '    for name, value in saved:',
    '        try:',
    '            gdb.execute("set $%s = %d" % (name, value))',
    '        except gdb.error:',
    '            pass',
  ].join('\n');
}

export function gdbCommand(pid: number, code: string, gdb = 'gdb'): Command {
  const script = Buffer.from(gdbCallScript(code), 'utf8').toString('hex');
  return {
    command: gdb,
    args: [
      '-p',
      String(pid),
      '-batch',
      '-nx',
      '-q',
      '-ex',
      'set confirm off',
      '-ex',
      `python exec(bytes.fromhex('${script}').decode('utf-8'))`,
      '-ex',
      'detach',
    ],
  };
}

export function lldbCommand(pid: number, code: string, lldb = 'lldb'): Command {
  return {
    command: lldb,
    args: [
      '--no-lldbinit',
      '--batch',
      '-p',
      String(pid),
      '-o',
      `expression -- ${pendingCallExpression(code)}`,
      '-o',
      'process detach',
    ],
  };
}

/** `python -c "import sys; sys.remote_exec(pid, script)"` (Python 3.14+ on both sides). */
export function remoteExecCommand(python: string, pid: number, scriptPath: string): Command {
  return {
    command: python,
    args: ['-c', `import sys; sys.remote_exec(${pid}, ${JSON.stringify(scriptPath)})`],
  };
}

/** "3.14.0" -> [3, 14]; undefined when it is not a version. */
export function parseVersion(text: string | undefined): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function hasRemoteExec(version: string | undefined): boolean {
  const v = parseVersion(version);
  return !!v && (v[0] > 3 || (v[0] === 3 && v[1] >= 14));
}

export interface DebuggerFacts {
  /** Contents of /proc/sys/kernel/yama/ptrace_scope, or undefined when Yama is absent. */
  ptraceScope?: number;
  /** Paths of gdb and lldb when on PATH. */
  gdb?: string;
  lldb?: string;
  /** Whether this process runs as root (CAP_SYS_PTRACE is then likely). */
  root: boolean;
}

/** What blocks debugger injection, or undefined when it may work. */
export function diagnoseDebugger(facts: DebuggerFacts): string | undefined {
  if (!facts.gdb && !facts.lldb) {
    return 'Neither gdb nor lldb is installed, so the agent cannot be injected into an interpreter older than 3.14: install gdb (e.g. `sudo apt-get install gdb`).';
  }
  const scope = facts.ptraceScope;
  if (scope === 3) {
    return 'ptrace is switched off on this machine (/proc/sys/kernel/yama/ptrace_scope is 3) until the next reboot, so no debugger can attach.';
  }
  if (scope === 2 && !facts.root) {
    return 'Only administrators may ptrace here (/proc/sys/kernel/yama/ptrace_scope is 2): run VS Code with CAP_SYS_PTRACE, or install the agent in the program.';
  }
  if (scope === 1 && !facts.root) {
    return 'A debugger may only attach to its own children here (/proc/sys/kernel/yama/ptrace_scope is 1). Allow it with `echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope`, or install the agent in the program.';
  }
  return undefined;
}

/** What a failed debugger run printed, as advice. */
export function explainDebuggerOutput(output: string): string {
  if (/Operation not permitted|ptrace: Permission denied|attach failed/i.test(output)) {
    return 'The debugger was not allowed to attach (ptrace: operation not permitted). In a container, run it with --cap-add=SYS_PTRACE; otherwise check /proc/sys/kernel/yama/ptrace_scope.';
  }
  if (
    /No symbol "Py_AddPendingCall"|No symbol table|undefined identifier|use of undeclared identifier/i.test(
      output,
    )
  ) {
    return 'The interpreter does not export the Python C API symbols the debugger needs (a static or stripped build). Install the agent in the program instead.';
  }
  if (/Python scripting is not supported/i.test(output)) {
    return 'This gdb has no Python support, which Tracelens needs to call into the process and put its registers back if the call fails. Install a gdb built with Python (Debian and Ubuntu: `sudo apt-get install gdb`), or install the agent in the program.';
  }
  if (
    /Couldn't write extended state status|Couldn't get registers|Cannot access memory/i.test(output)
  ) {
    return 'The debugger attached but could not run code in the process (it could not set up the call; gdb does this on some virtual machines). Install the agent in the program instead.';
  }
  const last = output.trim().split('\n').slice(-3).join(' ').slice(0, 300);
  return `The debugger failed${last ? `: ${last}` : ''}.`;
}

/** Looks up an executable on PATH. */
export function which(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The facts of this machine. */
export function debuggerFacts(): DebuggerFacts {
  let ptraceScope: number | undefined;
  try {
    ptraceScope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    ptraceScope = undefined;
  }
  return {
    ptraceScope,
    gdb: which('gdb'),
    lldb: which('lldb'),
    root: process.getuid?.() === 0,
  };
}

/** Runs a command with a timeout; resolves with its exit code and combined output. */
export function runCommand(
  cmd: Command,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd.command,
      cmd.args,
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error && typeof (error as NodeJS.ErrnoException).code === 'string') {
          resolve({ code: null, output, error: (error as NodeJS.ErrnoException).code as string });
          return;
        }
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output });
      },
    );
  });
}
