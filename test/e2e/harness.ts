// End-to-end harness: a real code-server (VS Code 1.100) with the packaged VSIX installed, on a
// free loopback port with a fresh profile under .test-output/, driven by Playwright in Debian's
// Chromium. Helpers read what a person sees (decorations, Debug Console, the timeline webview).
// It always kills what it started; it never edits the repository (workspaces are temp copies).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { poll as waitFor } from './workbench';

export const root = path.resolve(__dirname, '..', '..');
const output = path.join(root, '.test-output');
export const screenshotsDir = path.join(output, 'screenshots');

export const codeServerBin =
  process.env.TRACELENS_CODE_SERVER ||
  path.join(
    process.env.TRACELENS_TOOLS ||
      path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tracelens'),
    `code-server-${process.env.CODE_SERVER_VERSION || '4.100.3'}`,
    'node_modules',
    '.bin',
    'code-server',
  );
export const chromiumPath = process.env.TRACELENS_CHROMIUM || '/usr/bin/chromium';
export const vsixPath = process.env.TRACELENS_VSIX || path.join(root, 'dist', 'tracelens.vsix');

/** The served VS Code's settings: the base `npm start` uses too, and what the tests need. */
const settings = {
  ...(JSON.parse(
    readFileSync(path.join(root, 'scripts', 'workbench-settings.json'), 'utf8'),
  ) as Record<string, unknown>),
  'debug.internalConsoleOpenBehavior': 'openOnSessionStart',
  'window.commandCenter': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
};

export interface WorkbenchOptions {
  /** A name for logs and screenshots. */
  name: string;
  /** Folder copied to a temp dir and opened (default: test/fixtures). */
  folder?: string;
}

/** One row of the timeline's call tree as the webview shows it. */
export interface TimelineRow {
  id: number;
  depth: number;
  qualname: string;
  args: string;
  result: string;
}

/** Which line numbers are visible, and the `after` decoration texts on each. */
export type LineDecorations = Map<number, string[]>;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 60): string {
  if (!existsSync(file)) return '(no file)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function findLogs(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findLogs(p, out);
    else if (e.name.endsWith('.log')) out.push(p);
  }
  return out;
}

/** Every code-server started by this process, killed even if a test forgets to. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) killGroup(c);
});
// code-server runs in its own process group, so a test run that is interrupted or timed out
// (SIGINT, SIGTERM) must end it here; exit handlers alone do not run on a signal.
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.once(sig, () => {
    for (const c of live) killGroup(c);
    process.exit(code);
  });
}

function killGroup(c: ChildProcess): void {
  if (c.pid === undefined || c.exitCode !== null) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export class Workbench {
  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly workspace: string,
    readonly server: ChildProcess,
    readonly serverLog: string,
    readonly browser: Browser,
    readonly page: Page,
    readonly url: string,
  ) {}

  /** Starts code-server with the VSIX installed, opens a copy of the folder in Chromium. */
  static async start(opts: WorkbenchOptions): Promise<Workbench> {
    for (const [what, file, fix] of [
      ['code-server', codeServerBin, 'run: bash scripts/install-code-server.sh'],
      ['Chromium', chromiumPath, 'run: sudo apt-get install chromium'],
      ['the VSIX', vsixPath, 'run: npm run package'],
    ]) {
      if (!existsSync(file)) throw new Error(`${what} not found at ${file}; ${fix}`);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = path.join(output, 'e2e', `${opts.name}-${stamp}`);
    const userData = path.join(dir, 'user-data');
    const extensions = path.join(dir, 'extensions');
    mkdirSync(path.join(userData, 'User'), { recursive: true });
    mkdirSync(extensions, { recursive: true });
    mkdirSync(screenshotsDir, { recursive: true });
    writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

    const install = spawnSync(
      codeServerBin,
      [
        '--user-data-dir',
        userData,
        '--extensions-dir',
        extensions,
        '--install-extension',
        vsixPath,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (install.status !== 0) {
      throw new Error(
        `installing the VSIX into code-server failed (exit ${install.status ?? install.signal}):\n` +
          `${install.stdout}\n${install.stderr}`,
      );
    }

    const workspace = mkdtempSync(path.join(os.tmpdir(), `tracelens-e2e-${opts.name}-`));
    cpSync(opts.folder ?? path.join(root, 'test', 'fixtures'), workspace, { recursive: true });

    const port = await freePort();
    const serverLog = path.join(dir, 'code-server.log');
    const log = openSync(serverLog, 'w');
    const server = spawn(
      codeServerBin,
      [
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--user-data-dir',
        userData,
        '--extensions-dir',
        extensions,
        workspace,
      ],
      { cwd: workspace, stdio: ['ignore', log, log], detached: true },
    );
    live.add(server);
    const url = `http://127.0.0.1:${port}/`;
    let browser: Browser | undefined;
    try {
      await waitFor(
        'code-server to listen',
        async () => {
          if (server.exitCode !== null) throw new Error(`code-server exited: ${tail(serverLog)}`);
          return (await fetch(`${url}healthz`)).ok;
        },
        60_000,
      );
      browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        timeout: 60_000,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const consoleLog = path.join(dir, 'browser-console.log');
      page.on('console', (m) => {
        writeFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`, { flag: 'a' });
      });
      await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`, { timeout: 60_000 });
      const wb = new Workbench(opts.name, dir, workspace, server, serverLog, browser, page, url);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.statusbar').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({
        timeout: 60_000,
      });
      return wb;
    } catch (e) {
      await browser?.close().catch(() => undefined);
      killGroup(server);
      live.delete(server);
      console.log(`--- code-server log (${serverLog}) ---\n${tail(serverLog)}`);
      throw e;
    }
  }

  /** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor. */
  async openFile(relPath: string): Promise<void> {
    const base = path.basename(relPath);
    await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } });
    // Into the first editor group, not beside the timeline.
    await this.page.keyboard.press('Control+1');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(relPath);
    await waitFor(
      `Quick Open to list ${relPath}`,
      async () => {
        const label = await this.page
          .locator('.quick-input-list .monaco-list-row')
          .first()
          .getAttribute('aria-label', { timeout: 1000 });
        return label?.includes(base);
      },
      20_000,
    );
    await this.page.keyboard.press('Enter');
    await this.page
      .locator(`.tab.active[aria-label^="${base}"], .tab.active[title$="${base}"]`)
      .first()
      .waitFor({ timeout: 15_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor();
  }

  /** Runs a command by its palette title ("Tracelens: Trace This File") through F1. */
  async runCommand(title: string): Promise<void> {
    await waitFor(
      `the command "${title}" in the palette`,
      async () => {
        if (!(await this.page.locator('.quick-input-widget input').isVisible())) {
          await this.page.keyboard.press('F1');
        }
        const input = this.page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 5000 });
        await input.fill(`>${title}`);
        const rows = this.page.locator('.quick-input-list .monaco-list-row');
        await rows.first().waitFor({ timeout: 3000 });
        const labels = await rows.evaluateAll((els) =>
          els.map((e) => e.getAttribute('aria-label') ?? ''),
        );
        const i = labels.findIndex((l) => l === title || l.startsWith(`${title},`));
        if (i < 0) return false;
        await rows.nth(i).click();
        return true;
      },
      30_000,
      500,
    );
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /**
   * Palette entries whose titles contain the text (the palette is left closed). Extensions
   * register a moment after the workbench shows, so it retries until something matches (or,
   * given `expect`, until that title is listed).
   */
  async paletteCommands(text: string, expect?: string, timeoutMs = 30_000): Promise<string[]> {
    let labels: string[] = [];
    const input = this.page.locator('.quick-input-widget input');
    try {
      await waitFor(
        `palette entries matching "${text}"`,
        async () => {
          if (!(await input.isVisible())) await this.page.keyboard.press('F1');
          await input.waitFor({ state: 'visible', timeout: 5000 });
          await input.fill('>');
          await input.fill(`>${text}`);
          const rows = this.page.locator('.quick-input-list .monaco-list-row');
          await rows.first().waitFor({ timeout: 3000 });
          labels = await rows.evaluateAll((els) =>
            els.map((e) => (e.getAttribute('aria-label') ?? '').split(',')[0].trim()),
          );
          return expect ? labels.includes(expect) : labels.some((l) => l.includes(text));
        },
        timeoutMs,
        1000,
      );
    } catch {
      /* nothing matched in time: the caller asserts on the (empty) list */
    }
    await this.page.keyboard.press('Escape');
    return labels.filter((l) => l.includes(text));
  }

  /**
   * The `after` decoration texts of the visible lines of the active editor, keyed by line
   * number. View lines are virtualised and placed by `top`; the gutter's line numbers carry the
   * same `top`, which maps each view line to its line number.
   */
  async lineDecorations(file?: string): Promise<LineDecorations> {
    const base = file ? path.basename(file) : null;
    const pairs = await this.page.evaluate((base) => {
      // The editor group showing the file (by its active tab), else the active group.
      const groups = Array.from(document.querySelectorAll('.editor-group-container'));
      const group = base
        ? groups.find((g) =>
            (g.querySelector('.tab.active')?.getAttribute('aria-label') ?? '').startsWith(base),
          )
        : document.querySelector('.editor-group-container.active');
      const editor = group?.querySelector('.editor-instance .monaco-editor');
      if (!editor) return [];
      const numbers = new Map<string, number>();
      for (const el of Array.from(
        editor.querySelectorAll<HTMLElement>('.margin-view-overlays > div'),
      )) {
        const n = el.querySelector('.line-numbers')?.textContent?.trim();
        if (n && /^\d+$/.test(n)) numbers.set(el.style.top, Number(n));
      }
      const out: [number, string[]][] = [];
      for (const line of Array.from(
        editor.querySelectorAll<HTMLElement>('.view-lines > .view-line'),
      )) {
        const n = numbers.get(line.style.top);
        if (n === undefined) continue;
        const texts: string[] = [];
        for (const el of Array.from(line.querySelectorAll('*'))) {
          const c = getComputedStyle(el, '::after').content;
          if (c && c !== 'none' && c !== 'normal') texts.push(c);
        }
        out.push([n, texts]);
      }
      return out;
    }, base);
    return new Map(pairs.map(([n, texts]) => [n, texts.map(unquoteCss)]));
  }

  /** Waits until the given line of the file shows an `after` decoration that passes the test; returns it. */
  async waitForLineDecoration(
    file: string,
    line: number,
    test: (text: string) => boolean,
    timeoutMs = 30_000,
  ): Promise<string> {
    let seen: string[] | undefined;
    try {
      return await waitFor(
        `a decoration on line ${line} of ${file}`,
        async () => {
          seen = (await this.lineDecorations(file)).get(line);
          return seen?.find(test);
        },
        timeoutMs,
      );
    } catch (e) {
      const all = [...(await this.lineDecorations(file))].map(
        ([n, t]) => `${n}: ${JSON.stringify(t)}`,
      );
      throw new Error(
        `${(e as Error).message}; line ${line} has ${JSON.stringify(seen)}; ` +
          `visible lines:\n${all.join('\n')}`,
      );
    }
  }

  /** The Debug Console's text (opens the panel if it is closed). */
  async debugConsoleText(): Promise<string> {
    const repl = this.page.locator('.repl');
    if (!(await repl.isVisible())) {
      await this.runCommand('Debug Console: Focus on Debug Console View');
      await repl.waitFor({ state: 'visible', timeout: 10_000 });
    }
    return repl.locator('.monaco-list-rows').innerText();
  }

  /** Waits until the Debug Console's text passes the test. */
  async waitForDebugConsole(test: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        'the Debug Console text',
        async () => {
          last = await this.debugConsoleText();
          return test(last) ? last : undefined;
        },
        timeoutMs,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; it shows:\n${last}`);
    }
  }

  /**
   * Runs one step of a test against this workbench; on failure takes a screenshot and prints
   * the logs before rethrowing (for tests that share one workbench between several cases).
   */
  async guard(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      await this.screenshot(`${this.name}-${name}-failure`).catch(() => undefined);
      this.dumpLogs();
      throw e;
    }
  }

  /** The rows of the timeline's call tree, every expandable row expanded first. */
  async timelineRows(timeoutMs = 30_000): Promise<TimelineRow[]> {
    const frame = this.webview();
    await frame.locator('.call-row').first().waitFor({ timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const closed = frame.locator('.call-row.expandable:not(.expanded) .twisty');
      if ((await closed.count()) === 0) break;
      if (Date.now() > deadline) throw new Error('timed out expanding the timeline');
      await closed.first().click({ timeout: 5000 });
      await this.page.waitForTimeout(150);
    }
    // Page functions are passed as source: no named inner functions (the bundler would wrap
    // them in a helper the page does not have).
    return frame.locator('.call-row').evaluateAll((rows) =>
      rows.map((r) => ({
        id: Number(r.getAttribute('data-call-id')),
        depth: Number(r.getAttribute('data-depth')),
        qualname: r.querySelector('.qualname')?.textContent ?? '',
        args: r.querySelector('.args')?.textContent ?? '',
        result: r.querySelector('.result')?.textContent ?? '',
      })),
    );
  }

  /** Waits until the timeline's rows (all expanded) pass the test; returns them. */
  async waitForTimeline(
    test: (rows: TimelineRow[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<TimelineRow[]> {
    let last: TimelineRow[] = [];
    try {
      return await waitFor(
        'the timeline rows',
        async () => {
          last = await this.timelineRows(5000);
          return test(last) ? last : undefined;
        },
        timeoutMs,
        500,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}; it shows:\n${JSON.stringify(last, null, 1)}`);
    }
  }

  /** The content frame of the active webview (the Tracelens timeline). */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(screenshotsDir, `${name}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  /** Logs worth reading when a test fails: code-server's own and the extension host's. */
  dumpLogs(): void {
    console.log(`--- code-server log (${this.serverLog}) ---\n${tail(this.serverLog)}`);
    for (const f of findLogs(path.join(this.dir, 'user-data', 'logs'))) {
      if (!/exthost|tracelens|remoteagent/i.test(f) || statSync(f).size === 0) continue;
      console.log(`--- ${path.relative(this.dir, f)} ---\n${tail(f, 40)}`);
    }
    const consoleLog = path.join(this.dir, 'browser-console.log');
    if (existsSync(consoleLog)) console.log(`--- browser console ---\n${tail(consoleLog, 30)}`);
  }

  async dispose(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.browser.close().catch(() => undefined),
      new Promise((r) => (timer = setTimeout(r, 10_000))),
    ]);
    clearTimeout(timer);
    killGroup(this.server);
    live.delete(this.server);
    rmSync(this.workspace, { recursive: true, force: true });
  }
}

/** CSS `content` values come quoted and escaped ("\"42\""); returns the text itself. */
export function unquoteCss(content: string): string {
  const m = /^"(.*)"$/s.exec(content);
  if (!m) return content;
  return m[1].replace(/\\([0-9a-fA-F]{1,6}) ?|\\(.)/g, (_all, hex: string, ch: string) =>
    hex ? String.fromCodePoint(parseInt(hex, 16)) : ch,
  );
}

/**
 * Runs a test body against a fresh workbench: on failure takes a screenshot and prints the logs;
 * always closes the browser and kills code-server.
 */
export async function withWorkbench(
  opts: WorkbenchOptions,
  body: (wb: Workbench) => Promise<void>,
): Promise<void> {
  const wb = await Workbench.start(opts);
  try {
    await body(wb);
  } catch (e) {
    await wb.screenshot(`${opts.name}-failure`).catch(() => undefined);
    wb.dumpLogs();
    throw e;
  } finally {
    await wb.dispose();
  }
}
