import { parentPort, workerData } from 'node:worker_threads';
import { unpackBatch, type PackedBatch } from '../batch-segment.js';
import { prepareWrite } from '../prepare-write.js';
import type { ErrorStatus } from '../contract.js';
import { SqliteStore, type EncodedStatsRow } from './sqlite-store.js';

/*
 * The embedded store's writer, on its own thread: the intake thread decodes the next payload and
 * encodes its segment while this one makes the previous one's rows and commits them. Every write
 * of the agent goes through here, so one connection holds SQLite's write lock; the intake thread
 * reads through a second connection.
 */

export type WriterRequest =
  | { id: number; op: 'write'; batch: PackedBatch }
  | { id: number; op: 'stats'; rows: EncodedStatsRow[] }
  | { id: number; op: 'retention'; olderThan: bigint; maxBytes: number }
  | { id: number; op: 'flushRollups' }
  | { id: number; op: 'errorStatus'; group: string; status: ErrorStatus; at: bigint }
  | { id: number; op: 'monitorMute'; monitor: string; until: bigint | null }
  | { id: number; op: 'saveMonitor'; id_: string; definition: string | null }
  | { id: number; op: 'saveRemoteConfig'; id_: string; definition: string | null }
  | { id: number; op: 'monitorEvent'; monitor: string; at: bigint; event: string }
  | { id: number; op: 'close' };

export type WriterResponse = { id: number; ok: true; value?: unknown } | { id: number; ok: false; message: string };

const port = parentPort!;
let store: SqliteStore;
try {
  const { dataDir, maxDiskBytes } = workerData as { dataDir: string; maxDiskBytes: number };
  store = new SqliteStore({ dataDir, maxDiskBytes });
  port.postMessage({ id: 0, ok: true } satisfies WriterResponse);
} catch (err) {
  // A foreign schema or an unwritable directory: the agent reports it and does not start.
  port.postMessage({ id: 0, ok: false, message: (err as Error).message } satisfies WriterResponse);
  process.exit(0);
}

port.on('message', (m: WriterRequest) => {
  void (async () => {
    try {
      let value: unknown;
      if (m.op === 'write') store.applyWrite(prepareWrite(unpackBatch(m.batch)));
      else if (m.op === 'stats') store.insertStats(m.rows);
      else if (m.op === 'retention') value = await store.enforceRetention(m.olderThan, m.maxBytes);
      else if (m.op === 'flushRollups') store.flushRollups();
      else if (m.op === 'errorStatus') await store.setErrorStatus(m.group, m.status, m.at);
      else if (m.op === 'monitorMute') await store.setMonitorMute(m.monitor, m.until);
      else if (m.op === 'saveMonitor') await store.saveMonitor(m.id_, m.definition);
      else if (m.op === 'saveRemoteConfig') await store.saveRemoteConfig(m.id_, m.definition);
      else if (m.op === 'monitorEvent') await store.saveMonitorEvent(m.monitor, m.at, m.event);
      else {
        await store.close();
        port.postMessage({ id: m.id, ok: true } satisfies WriterResponse);
        port.close();
        return;
      }
      port.postMessage({ id: m.id, ok: true, value } satisfies WriterResponse);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, message: (err as Error).message } satisfies WriterResponse);
    }
  })();
});
