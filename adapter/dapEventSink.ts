// A TraceSink that turns the trace stream into custom DAP events (tracelens/hello, /batch,
// /lines, /error, /end with a TraceEventBody), for the standalone adapter: tests and other clients see
// the stream over DAP. The inline adapter hands the store's sink to the session instead.

import { Event } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TraceEvent, type ProcessKey, type TraceEventBody, type TraceSink } from './protocol/dap';
import type { Batch, End, Hello, Lines, TracerError } from './protocol/wire';

export class DapEventSink implements TraceSink {
  constructor(private readonly send: (event: DebugProtocol.Event) => void) {}

  hello(key: ProcessKey, message: Hello): void {
    this.emit(TraceEvent.Hello, key, message);
  }

  batch(key: ProcessKey, message: Batch): void {
    this.emit(TraceEvent.Batch, key, message);
  }

  error(key: ProcessKey, message: TracerError): void {
    this.emit(TraceEvent.Error, key, message);
  }

  end(key: ProcessKey, message: End): void {
    this.emit(TraceEvent.End, key, message);
  }

  lines(key: ProcessKey, message: Lines): void {
    this.emit(TraceEvent.Lines, key, message);
  }

  private emit<M>(name: TraceEvent, key: ProcessKey, message: M): void {
    const body: TraceEventBody<M> = { key, message };
    this.send(new Event(name, body));
  }
}
