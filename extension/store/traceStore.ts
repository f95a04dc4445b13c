// The store proper, as it lives inside the worker: one sql.js database created from schema.sql,
// the Ingestor that writes it and the TraceQueries that read it, plus the summary, clear and
// save. Synchronous and single-threaded; worker.ts feeds it messages. No vscode imports.

import { renameSync, writeFileSync } from 'node:fs';
import type initSqlJs from 'sql.js';
import type { ProcessKey } from '../../adapter/protocol/dap';
import type { Batch, End, Hello, TracerError } from '../../adapter/protocol/wire';
import schema from '../../adapter/python/tracelens/schema.sql';
import type { CallRow, FileAnnotations, StoreSummary } from './api';
import { Ingestor } from './ingestor';
import { TraceQueries } from './queries';

export const STORE_FORMAT = 'tracelens';
export const SCHEMA_VERSION = 1;

/** A new, empty trace database: the schema and its meta rows. */
export function createTraceDb(SQL: initSqlJs.SqlJsStatic): initSqlJs.Database {
  const db = new SQL.Database();
  db.exec(schema);
  db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?), (?, ?)', [
    'format',
    STORE_FORMAT,
    'schema_version',
    String(SCHEMA_VERSION),
  ]);
  return db;
}

export class TraceStore {
  private db!: initSqlJs.Database;
  private ingestor!: Ingestor;
  private queries!: TraceQueries;
  private generation = 0;

  constructor(private readonly SQL: initSqlJs.SqlJsStatic) {
    this.open();
  }

  hello(key: ProcessKey, hello: Hello): void {
    if (this.ingestor.hello(key, hello)) this.generation++;
  }

  /** Returns a warning when some events did not fit the protocol and were skipped. */
  batch(key: ProcessKey, batch: Batch): string | undefined {
    const bad = this.ingestor.badEvents;
    if (this.ingestor.batch(key, batch)) this.generation++;
    const skipped = this.ingestor.badEvents - bad;
    return skipped > 0
      ? `${skipped} event(s) of batch ${batch.seq} did not fit the wire protocol and were skipped.`
      : undefined;
  }

  error(key: ProcessKey, error: TracerError): void {
    if (this.ingestor.error(key, error)) this.generation++;
  }

  end(key: ProcessKey, end: End): void {
    if (this.ingestor.end(key, end)) this.generation++;
  }

  summary(): StoreSummary {
    const i = this.ingestor;
    return {
      processes: i.processes,
      calls: i.calls,
      dropped: i.dropped,
      running: i.running,
      generation: this.generation,
    };
  }

  children(parent: number | null, offset: number, limit: number): CallRow[] {
    return this.queries.children(parent, offset, limit);
  }

  call(id: number): CallRow | undefined {
    return this.queries.call(id);
  }

  fileAnnotations(path: string): FileAnnotations {
    return this.queries.fileAnnotations(path);
  }

  /** Empties the store. Processes still sending are forgotten: their later messages are ignored. */
  clear(): void {
    this.close();
    this.open();
    this.generation++;
  }

  /** Writes the database as a SQLite file (through a temporary file, so a reader never sees half). */
  save(path: string): void {
    const bytes = this.db.export();
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }

  close(): void {
    this.queries.free();
    this.ingestor.free();
    this.db.close();
  }

  private open(): void {
    this.db = createTraceDb(this.SQL);
    this.ingestor = new Ingestor(this.db);
    this.queries = new TraceQueries(this.db, this.ingestor);
  }
}
