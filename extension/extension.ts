// Tracelens's entry point: activate() builds the extension's objects and registers them with
// VS Code; deactivate() lets the store close. Everything else lives in the files it wires.
// Owns no behaviour of its own beyond the wiring and the small command handlers.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { attachToProcess } from './attach/attachCommand';
import { pickProcess } from './attach/processPicker';
import { changeRecordedScope, pauseRecording, resumeRecording } from './commands/recordingCommands';
import { exportChromeTrace, openTrace, saveTrace } from './commands/savedTraceCommands';
import { traceFile } from './commands/traceFileCommand';
import { Commands, DEBUG_TYPE, Settings, Views } from './constants';
import { InlineAdapterFactory, type ITraceSessionListener } from './debug/inlineAdapterFactory';
import { PythonExtensionInterpreter } from './debug/pythonInterpreter';
import { TraceConfigurationProvider } from './debug/traceConfigurationProvider';
import { CallSelection } from './callSelection';
import { CallNavigator } from './editor/callNavigator';
import { registerEditorCommands } from './editor/editorCommands';
import { LaunchDefaults } from './editor/launchDefaults';
import { EditorDecorator } from './editor/editorDecorator';
import { TraceCodeLensProvider } from './editor/traceCodeLensProvider';
import { TraceHoverProvider } from './editor/traceHoverProvider';
import { TraceStatusBar } from './status/traceStatusBar';
import type { ITraceStore } from './store/api';
import { StoreClient } from './store/storeClient';
import { LazyTraceStore } from './lazyTraceStore';
import { startQueryLanguageClient } from './query/languageClient';
import { LANGUAGE_ID } from './query/lspProtocol';
import { CallRevealer } from './timeline/callRevealer';
import { TimelinePanel } from './timeline/timelinePanel';
import { TraceContextKey } from './traceContextKey';

/*
 * How the object graph is wired (by hand, in activate; no container):
 *
 *   log ─────────────────────────────────────────────── the "Tracelens" output channel
 *   store: ITraceStore = LazyTraceStore(() => StoreClient(dist/storeWorker.js, dist/sql-wasm.wasm))
 *     │   sql.js in a worker thread, started when the first trace begins (or a save asks);
 *     │   also the TraceSink every inline adapter writes into
 *     ├── selection: CallSelection      the selected call, shared by the editor and the timeline
 *     ├── EditorDecorator(store, selection, heat => statusBar.setHeat(heat))
 *     │     │   end-of-line values/arguments/exceptions and line heat in visible editors
 *     │     ├── TraceHoverProvider(decorator, store, CallNavigator(store), selection)
 *     │     ├── TraceCodeLensProvider(decorator)
 *     │     └── registerEditorCommands: previous/next call, select call, toggle heat, show a
 *     │           function's calls in the timeline, trace with heat, profile heat only
 *     ├── CallRevealer(store) ◄──────── TimelinePanel(extensionUri, store, revealer, log, selection)
 *     │                                   the webview panel, also its WebviewPanelSerializer
 *     ├── TraceStatusBar(store)         calls/dropped while a trace runs
 *     ├── TraceContextKey(store, setContext)  `tracelens.hasTrace` for package.json `when` clauses
 *     └── InlineAdapterFactory(store, <extension>/adapter/python, PythonExtensionInterpreter(log),
 *           sessions: ITraceSessionListener)
 *           per debug session: TracelensSession({ sink: store, tracerDir, resolveInterpreter })
 *           wrapped in DebugAdapterInlineImplementation. Before it starts, `sessions` clears the
 *           store (one trace at a time), resets the decorations and opens the timeline.
 *   TraceConfigurationProvider()       launch.json defaults; F5 with no config traces the file
 *
 * Only the store knows about sql.js, only the adapter knows about Python processes; the UI parts
 * depend on ITraceStore alone, so each can be built in tests with a real store and no VS Code.
 */

let store: ITraceStore | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Tracelens');
  const log = (message: string) => output.appendLine(`[${new Date().toISOString()}] ${message}`);
  const dist = vscode.Uri.joinPath(context.extensionUri, 'dist').fsPath;
  let toldUser = false;

  const traceStore = new LazyTraceStore(
    () =>
      new StoreClient({
        workerPath: path.join(dist, 'storeWorker.js'),
        wasmPath: path.join(dist, 'sql-wasm.wasm'),
        onError: (message) => {
          log(message);
          if (toldUser) return;
          toldUser = true;
          void vscode.window.showErrorMessage(
            `Tracelens: part of the trace could not be stored (see the Tracelens output). If it keeps happening, reload the window.`,
          );
        },
      }),
  );
  store = traceStore;

  const selection = new CallSelection();
  const statusBar = new TraceStatusBar(traceStore);
  const traceContext = new TraceContextKey(traceStore, (key, value) =>
    vscode.commands.executeCommand('setContext', key, value),
  );
  const decorator = new EditorDecorator(traceStore, selection, (heat) => statusBar.setHeat(heat));
  const navigator = new CallNavigator(traceStore);
  const revealer = new CallRevealer(traceStore);
  const timeline = new TimelinePanel(context.extensionUri, traceStore, revealer, log, selection);

  const sessions: ITraceSessionListener = {
    async traceStarting(session) {
      log(`Trace session "${session.name}" starting; clearing the previous trace.`);
      try {
        await traceStore.clear();
      } catch (error) {
        log(`Could not clear the trace store: ${String(error)}`);
      }
      selection.select(null, 'command');
      decorator.reset();
      timeline.cleared();
      // A heat-only launch (`calls: false`) records no calls: nothing for the timeline to show.
      const recordsCalls = session.configuration.calls !== false;
      if (
        recordsCalls &&
        vscode.workspace.getConfiguration().get<boolean>(Settings.OpenTimelineOnStart, true)
      )
        timeline.show(true);
    },
  };
  const adapterFactory = new InlineAdapterFactory(
    traceStore,
    vscode.Uri.joinPath(context.extensionUri, 'adapter', 'python').fsPath,
    new PythonExtensionInterpreter(log),
    sessions,
  );
  const configProvider = new TraceConfigurationProvider();

  // The query language server (saved queries in .tlq files) runs as its own process, started
  // when the first query document opens; it completes names from the store.
  let queryClientStarted = false;
  const startQueryClient = (document: vscode.TextDocument) => {
    if (queryClientStarted || document.languageId !== LANGUAGE_ID) return;
    queryClientStarted = true;
    startQueryLanguageClient(context, () => traceStore.names()).then(
      (client) => context.subscriptions.push(traceStore.onDidChange(() => client.namesChanged())),
      (error) => log(`The query language server did not start: ${String(error)}`),
    );
  };
  vscode.workspace.textDocuments.forEach(startQueryClient);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(startQueryClient));

  context.subscriptions.push(
    output,
    decorator,
    timeline,
    statusBar,
    traceContext,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, adapterFactory),
    // The last batches may land just after the session ends: draw once more from the final state.
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type === DEBUG_TYPE) setTimeout(() => decorator.refresh(), 500);
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, configProvider),
    // Line heat, values and probes from the settings, for configurations that do not set them.
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new LaunchDefaults()),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      configProvider,
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.languages.registerHoverProvider(
      { language: 'python', scheme: 'file' },
      new TraceHoverProvider(decorator, traceStore, navigator, selection),
    ),
    vscode.languages.registerCodeLensProvider(
      { language: 'python', scheme: 'file' },
      new TraceCodeLensProvider(decorator),
    ),
    ...registerEditorCommands({ store: traceStore, selection, decorator, navigator }),
    vscode.window.registerWebviewPanelSerializer(Views.Timeline, timeline),
    vscode.commands.registerCommand(Commands.TraceFile, (uri?: vscode.Uri) => traceFile(uri)),
    vscode.commands.registerCommand(Commands.AttachToProcess, () => attachToProcess()),
    vscode.commands.registerCommand(Commands.PickProcess, () => pickProcess()),
    vscode.commands.registerCommand(Commands.ShowTimeline, (options?: { filter?: string }) =>
      timeline.show(false, typeof options?.filter === 'string' ? options.filter : undefined),
    ),
    vscode.commands.registerCommand(Commands.ClearTrace, async () => {
      await traceStore.clear();
      decorator.reset();
      timeline.cleared();
    }),
    vscode.commands.registerCommand(Commands.SaveTrace, () => saveTrace(traceStore)),
    vscode.commands.registerCommand(Commands.OpenTrace, async (file?: vscode.Uri) => {
      if (!(await openTrace(traceStore, file))) return;
      decorator.reset();
      timeline.cleared();
      timeline.show(false);
    }),
    vscode.commands.registerCommand(Commands.ExportChrome, () => exportChromeTrace(traceStore)),
    vscode.commands.registerCommand(Commands.PauseRecording, pauseRecording),
    vscode.commands.registerCommand(Commands.ResumeRecording, resumeRecording),
    vscode.commands.registerCommand(Commands.ChangeRecordedScope, changeRecordedScope),
  );
}

export async function deactivate(): Promise<void> {
  const s = store;
  store = undefined;
  await s?.dispose();
}
