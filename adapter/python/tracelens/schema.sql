-- The Tracelens trace store, schema version 1: one file, used by the extension's store (sql.js in
-- a worker thread) and by `python -m tracelens run --output FILE` (Python's sqlite3). A saved trace
-- is an ordinary SQLite file with this schema; meta('format') = 'tracelens' tells it apart.
--
-- Ids are the store's own (a traced process's wire ids are mapped on ingest). Times are integer
-- nanoseconds since the trace's origin (meta 'origin_ns': wall clock of the first process's start,
-- ns since the Unix epoch). Value columns hold ids into `strings` (bounded reprs, interned).

CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS processes (
  id INTEGER PRIMARY KEY,
  pid INTEGER NOT NULL,
  ppid INTEGER,
  python TEXT,
  backend TEXT,
  argv TEXT,             -- JSON array
  cwd TEXT,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER,
  exit_code INTEGER,
  end_reason TEXT,
  dropped INTEGER NOT NULL DEFAULT 0,
  error TEXT             -- the tracer's internal error, if it stopped itself
);

CREATE TABLE IF NOT EXISTS threads (
  id INTEGER PRIMARY KEY,
  process INTEGER NOT NULL,
  native_id INTEGER,
  name TEXT
);

-- Row 0 (path '') stands for "no file": the code of C functions (wire code defs with file 0).
CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS strings (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS codes (
  id INTEGER PRIMARY KEY,
  process INTEGER NOT NULL,
  file INTEGER NOT NULL,
  module TEXT NOT NULL,
  qualname TEXT NOT NULL,
  line INTEGER NOT NULL,  -- first line (the def line)
  argnames TEXT NOT NULL, -- JSON array
  flags INTEGER NOT NULL DEFAULT 0 -- wire CodeFlags
);

-- One row per call (a generator or coroutine: one row per run between resume and suspend).
CREATE TABLE IF NOT EXISTS calls (
  id INTEGER PRIMARY KEY,
  process INTEGER NOT NULL,
  thread INTEGER NOT NULL,
  parent INTEGER,         -- calls.id, NULL at the top
  depth INTEGER NOT NULL, -- 0 at the top
  code INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER,         -- NULL while running (or when the trace ended first)
  args TEXT,              -- JSON array of strings ids, one per codes.argnames
  return_value INTEGER,   -- strings.id; also the yielded value of a suspended segment
  return_line INTEGER,
  exc_type INTEGER,       -- strings.id of the exception that ended the call
  exc_message INTEGER,
  exc_line INTEGER,
  flags INTEGER NOT NULL DEFAULT 0, -- 1 resumed segment, 2 suspended (yield/await), 4 ended by exception, 8 C call,
                          -- 16 outermost of its code: no call of the same code is open below it on its
                          -- thread (set at ingest; a function's total time sums only these, so
                          -- recursion counts once; a reader recomputes it for files without it)
  task INTEGER            -- strings.id of the asyncio task's name, when the call ran in one
);

-- Every exception event: raised (3), propagated out of the frame (4), handled (5) (wire kinds).
CREATE TABLE IF NOT EXISTS exceptions (
  id INTEGER PRIMARY KEY,
  call INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  ts_ns INTEGER NOT NULL,
  line INTEGER,
  type INTEGER NOT NULL,  -- strings.id
  message INTEGER NOT NULL
);

-- Per-line figures (line mode exact, or sampled), summed per process.
CREATE TABLE IF NOT EXISTS line_stats (
  process INTEGER NOT NULL,
  file INTEGER NOT NULL,
  line INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  own_ns INTEGER NOT NULL,
  total_ns INTEGER NOT NULL,
  sampled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (process, file, line, sampled)
);

-- Instant probe events (garbage collection, audit events).
CREATE TABLE IF NOT EXISTS probes (
  id INTEGER PRIMARY KEY,
  process INTEGER NOT NULL,
  thread INTEGER NOT NULL,
  call INTEGER,           -- the call it happened in, if known
  ts_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  detail INTEGER,         -- strings.id
  file INTEGER,
  line INTEGER
);

CREATE INDEX IF NOT EXISTS calls_parent ON calls (parent, start_ns);
CREATE INDEX IF NOT EXISTS calls_code ON calls (code, start_ns);
CREATE INDEX IF NOT EXISTS calls_thread_start ON calls (thread, start_ns);
CREATE INDEX IF NOT EXISTS exceptions_call ON exceptions (call);
CREATE INDEX IF NOT EXISTS codes_file ON codes (file);
