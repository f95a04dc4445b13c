// Starts the query language client in the extension host: it runs dist/server.js as its own
// process (IPC), serves `tracelens-query` documents (.tlq), answers the server's tracelens/names
// request from the store, and gives the timeline's filter box check/complete/hover for one query.
// Called by extension/extension.ts (not edited here); touches no other part of the extension.

import type * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  CHECK_REQUEST,
  COMPLETE_REQUEST,
  EMPTY_NAMES,
  HOVER_REQUEST,
  LANGUAGE_ID,
  NAMES_CHANGED_NOTIFICATION,
  NAMES_REQUEST,
  type CheckResult,
  type CompleteResult,
  type HoverResult,
  type TraceNames,
} from './lspProtocol';

export const QUERY_CLIENT_ID = 'tracelensQuery';

export interface QueryLanguageClient {
  readonly client: LanguageClient;
  /** Problems of one query (the filter box). */
  check(text: string): Promise<CheckResult>;
  complete(text: string, offset: number): Promise<CompleteResult>;
  hover(text: string, offset: number): Promise<HoverResult>;
  /** Tell the server the trace changed: it asks for names again and re-checks open documents. */
  namesChanged(): void;
  dispose(): Promise<void>;
}

/** Names in the current trace; the store answers (e.g. with readTraceNames on its database). */
export type NamesProvider = () => TraceNames | Promise<TraceNames>;

export async function startQueryLanguageClient(
  context: vscode.ExtensionContext,
  namesProvider: NamesProvider,
): Promise<QueryLanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: {
      module,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6019'] },
    },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: LANGUAGE_ID }],
  };
  const client = new LanguageClient(
    QUERY_CLIENT_ID,
    'Tracelens Query Language',
    serverOptions,
    clientOptions,
  );
  client.onRequest(NAMES_REQUEST, async () => {
    try {
      return await namesProvider();
    } catch {
      return EMPTY_NAMES;
    }
  });
  await client.start();
  const api: QueryLanguageClient = {
    client,
    check: (text) => client.sendRequest<CheckResult>(CHECK_REQUEST, { text }),
    complete: (text, offset) =>
      client.sendRequest<CompleteResult>(COMPLETE_REQUEST, { text, offset }),
    hover: (text, offset) => client.sendRequest<HoverResult>(HOVER_REQUEST, { text, offset }),
    namesChanged: () => void client.sendNotification(NAMES_CHANGED_NOTIFICATION),
    dispose: () => client.stop(),
  };
  context.subscriptions.push({ dispose: () => void client.stop() });
  return api;
}
