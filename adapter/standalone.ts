// The standalone Tracelens adapter: DAP over stdin/stdout (bundled to dist/adapter.js), used by
// the adapter tests and by any DAP client. The trace stream goes out as custom DAP events. Runs
// the same TracelensSession the extension runs inline; imports nothing from vscode.

import * as path from 'node:path';
import { DapEventSink } from './dapEventSink';
import { TracelensSession } from './tracelensSession';

/** dist/adapter.js -> <root>/adapter/python; TRACELENS_TRACER_DIR overrides it. */
const tracerDir =
  process.env.TRACELENS_TRACER_DIR || path.join(__dirname, '..', 'adapter', 'python');

// The sink sends through the session that owns it (called only once the session runs).
const session: TracelensSession = new TracelensSession({
  sink: new DapEventSink((event) => session.sendEvent(event)),
  tracerDir,
});

const stop = () => {
  void session.shutdownTrace().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.on('exit', () => session.killNow());

session.start(process.stdin, process.stdout);
