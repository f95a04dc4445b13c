// The Tracelens query language server, run as its own process by the extension's language client
// (`node dist/server.js --stdio` or over IPC). Serves `.tlq` documents (diagnostics, completion,
// hover) and, through custom requests, the timeline's filter box. It learns the names in the
// current trace by asking the client (tracelens/names). Imports no vscode; owns no other files.

import {
  CompletionItemKind,
  createConnection,
  InsertTextFormat,
  MarkupKind,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type CompletionItem,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzeQuery } from '../query/analyzeQuery';
import { completeAt } from '../query/complete';
import { hoverAt } from '../query/hover';
import {
  CHECK_REQUEST,
  COMPLETE_REQUEST,
  EMPTY_NAMES,
  HOVER_REQUEST,
  NAMES_CHANGED_NOTIFICATION,
  NAMES_REQUEST,
  type CheckParams,
  type CheckResult,
  type CompleteParams,
  type CompleteResult,
  type CompletionKind,
  type HoverParams,
  type HoverResult,
  type TraceNames,
} from '../query/lspProtocol';
import { lineDiagnostics } from './lineDiagnostics';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

/** Names of the current trace; asked of the client once, again after tracelens/namesChanged. */
let names: Promise<TraceNames> | undefined;

function currentNames(): Promise<TraceNames> {
  names ??= connection.sendRequest<TraceNames>(NAMES_REQUEST).then(
    (n) => ({ ...EMPTY_NAMES, ...(n ?? {}) }),
    () => EMPTY_NAMES, // a client that cannot tell: complete fields and operators only
  );
  return names;
}

connection.onInitialize(() => ({
  capabilities: {
    textDocumentSync: TextDocumentSyncKind.Incremental,
    completionProvider: { triggerCharacters: ['.', '"', "'", '(', ',', ' '] },
    hoverProvider: true,
  },
  serverInfo: { name: 'Tracelens query language server' },
}));

async function validate(doc: TextDocument): Promise<void> {
  const version = doc.version;
  const n = await currentNames();
  if (documents.get(doc.uri)?.version !== version) return; // a newer edit will report
  await connection.sendDiagnostics({
    uri: doc.uri,
    version,
    diagnostics: lineDiagnostics(doc.getText(), n),
  });
}

documents.onDidChangeContent((e) => void validate(e.document));
documents.onDidClose(
  (e) => void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }),
);

connection.onNotification(NAMES_CHANGED_NOTIFICATION, () => {
  names = undefined;
  for (const doc of documents.all()) void validate(doc);
});

const KINDS: Record<CompletionKind, CompletionItemKind> = {
  field: CompletionItemKind.Field,
  operator: CompletionItemKind.Operator,
  keyword: CompletionItemKind.Keyword,
  value: CompletionItemKind.Value,
  punctuation: CompletionItemKind.Text,
};

connection.onCompletion(async (params): Promise<CompletionItem[]> => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return [];
  const line = params.position.line;
  const text = doc
    .getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
    .replace(/\r?\n$/, '');
  const result = completeAt(text, params.position.character, await currentNames());
  return result.items.map((item, i) => ({
    label: item.label,
    kind: KINDS[item.kind],
    detail: item.detail,
    documentation: item.documentation
      ? { kind: MarkupKind.Markdown, value: item.documentation }
      : undefined,
    sortText: String(i).padStart(4, '0'),
    insertTextFormat: InsertTextFormat.PlainText,
    textEdit: {
      range: { start: { line, character: result.from }, end: { line, character: result.to } },
      newText: item.insertText,
    },
  }));
});

connection.onHover((params) => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return null;
  const line = params.position.line;
  const text = doc
    .getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
    .replace(/\r?\n$/, '');
  const h = hoverAt(text, params.position.character);
  if (!h) return null;
  return {
    contents: { kind: MarkupKind.Markdown, value: h.markdown },
    range: { start: { line, character: h.start }, end: { line, character: h.end } },
  };
});

// The timeline's filter box, through the extension: the same answers for a single query.
connection.onRequest(
  CHECK_REQUEST,
  async (p: CheckParams): Promise<CheckResult> =>
    analyzeQuery(p.text, await currentNames()).problems,
);
connection.onRequest(COMPLETE_REQUEST, async (p: CompleteParams): Promise<CompleteResult> =>
  completeAt(p.text, p.offset, await currentNames()),
);
connection.onRequest(HOVER_REQUEST, (p: HoverParams): HoverResult => hoverAt(p.text, p.offset));

documents.listen(connection);
connection.listen();
