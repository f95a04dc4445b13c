// Batched INSERT into one table through prepared multi-row statements (`VALUES (...), (...)`):
// the store's ingest writes every row through one of these. Used inside the store worker only;
// knows nothing of the wire or the schema beyond the table and column names it is given.

import type initSqlJs from 'sql.js';

type Database = initSqlJs.Database;
type Statement = initSqlJs.Statement;
type SqlValue = initSqlJs.SqlValue;

export class MultiInsert {
  /** Flat row values waiting to be written; callers push one row's values, then call `added()`. */
  readonly values: SqlValue[] = [];
  private rows = 0;
  private readonly bySize = new Map<number, Statement>();

  constructor(
    private readonly db: Database,
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly rowsPerStatement = 128,
  ) {}

  /** Counts the row whose values were just pushed; writes a full statement's worth when ready. */
  added(): void {
    if (++this.rows === this.rowsPerStatement) {
      this.statement(this.rows).run(this.values);
      this.values.length = 0;
      this.rows = 0;
    }
  }

  /** Writes the rows still waiting. */
  flush(): void {
    if (this.rows === 0) return;
    this.statement(this.rows).run(this.values);
    this.values.length = 0;
    this.rows = 0;
  }

  /** Forgets rows not yet written (after a failed transaction). */
  discard(): void {
    this.values.length = 0;
    this.rows = 0;
  }

  free(): void {
    for (const s of this.bySize.values()) s.free();
    this.bySize.clear();
  }

  private statement(rows: number): Statement {
    let s = this.bySize.get(rows);
    if (!s) {
      const one = `(${this.columns.map(() => '?').join(',')})`;
      const sql = `INSERT INTO ${this.table} (${this.columns.join(',')}) VALUES ${Array(rows).fill(one).join(',')}`;
      s = this.db.prepare(sql);
      this.bySize.set(rows, s);
    }
    return s;
  }
}
