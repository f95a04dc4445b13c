// A small hand-written trace in a real sql.js database with the store's schema, shared by the
// query tests. Not a test file itself (no .test suffix); touches nothing outside the database.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import initSqlJs, { type Database } from 'sql.js';

export const SCHEMA = readFileSync(
  path.join(__dirname, '../../adapter/python/tracelens/schema.sql'),
  'utf8',
);

/**
 * Calls (id: function, thread, depth, duration, args, outcome):
 *  1 index            MainThread d0 10ms    request='GET /'         returned None
 *  2 User.load        MainThread d1 6ms     self=<User>, user_id=42 raised ValueError('bad id')
 *  3 dumps            MainThread d1 500us   obj=[1, 2]              returned '"[1, 2]"'
 *  4 User.items (gen) worker-1   d0 500ns   self=<User>             yielded 3
 *  5 fetch (coro)     pid 5151   d0 running url='tmp/a.txt'         (still running)
 *  6 main.<locals>.helper MainThread d2 100us (no args)             returned "'x' OR 1=1 --"
 *  7 User.load        worker-1   d0 1ms     self=<User>, user_id=3  raised KeyError("'missing'")
 */
export async function openTrace(): Promise<Database> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec(SCHEMA);
  db.exec(`
    INSERT INTO meta VALUES ('format', 'tracelens');
    INSERT INTO processes (id, pid, start_ns) VALUES (1, 4242, 0), (2, 5151, 0);
    INSERT INTO threads VALUES (1, 1, 100, 'MainThread'), (2, 1, 101, 'worker-1'), (3, 2, 200, NULL);
    INSERT INTO files VALUES (1, '/src/app/models.py'), (2, '/src/app/views.py'), (3, '/usr/lib/python3.12/json/__init__.py');
    INSERT INTO strings VALUES
      (1, 'None'), (2, '42'), (3, '''GET /'''), (4, 'ValueError'), (5, 'bad id'), (6, '[1, 2]'),
      (7, 'KeyError'), (8, '"''x'' OR 1=1 --"'), (9, '3'), (10, '''tmp/a.txt'''), (11, '<User>'),
      (12, '''"[1, 2]"'''), (13, '''missing''');
    INSERT INTO codes VALUES
      (1, 1, 1, 'app.models', 'User.load', 10, '["self","user_id"]', 0),
      (2, 1, 2, 'app.views', 'index', 5, '["request"]', 0),
      (3, 1, 3, 'json', 'dumps', 183, '["obj"]', 0),
      (4, 1, 1, 'app.models', 'User.items', 30, '["self"]', 1),
      (5, 2, 2, 'app.views', 'fetch', 40, '["url"]', 2),
      (6, 1, 1, 'app.models', 'main.<locals>.helper', 50, '[]', 0);
    INSERT INTO calls (id, process, thread, parent, depth, code, start_ns, end_ns, args, return_value, exc_type, exc_message, flags) VALUES
      (1, 1, 1, NULL, 0, 2, 0, 10000000, '[3]', 1, NULL, NULL, 0),
      (2, 1, 1, 1, 1, 1, 1000000, 7000000, '[11,2]', NULL, 4, 5, 4),
      (3, 1, 1, 1, 1, 3, 7500000, 8000000, '[6]', 12, NULL, NULL, 0),
      (4, 1, 2, NULL, 0, 4, 2000000, 2000500, '[11]', 9, NULL, NULL, 2),
      (5, 2, 3, NULL, 0, 5, 3000000, NULL, '[10]', NULL, NULL, NULL, 0),
      (6, 1, 1, 2, 2, 6, 1500000, 1600000, '[]', 8, NULL, NULL, 0),
      (7, 1, 2, NULL, 0, 1, 20000000, 21000000, '[11,9]', NULL, 7, 13, 4);
  `);
  return db;
}
