import { parentPort, workerData } from 'node:worker_threads';
import { encodeSketches } from './records.js';
import { SqliteStore } from './sqlite/index.js';
import type { ReaderRequest, ReaderResponse } from './reader-thread.js';

/*
 * The query API's reads, on their own thread with their own read-only connection: a slow query
 * holds this thread, never the one that takes traces, and the deadline can end it (reader-thread.ts).
 */

const port = parentPort!;
const store = new SqliteStore({ dataDir: (workerData as { dataDir: string }).dataDir, readonly: true });

port.on('message', (m: ReaderRequest) => {
  void (async () => {
    try {
      let value: unknown;
      switch (m.op) {
        case 'getTrace': value = await store.getTrace(m.traceId); break;
        case 'searchTraces': value = await store.searchTraces(m.query); break;
        case 'queryStats': value = encodeSketches(await store.queryStats(m.query)); break;
        case 'serviceStats': value = encodeSketches(await store.serviceStats(m.range)); break;
        case 'readRollups': value = await store.readRollups(m.kind, m.range, m.width); break;
        case 'stats': value = await store.stats(); break;
      }
      port.postMessage({ id: m.id, ok: true, value } satisfies ReaderResponse);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, message: (err as Error).message } satisfies ReaderResponse);
    }
  })();
});
