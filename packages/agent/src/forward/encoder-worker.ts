import { gzipSync } from 'node:zlib';
import { parentPort } from 'node:worker_threads';
import { TraceIdHighCache } from '@ecs-trace/protocol';
import { encodeJob } from './encode-job.js';
import type { EncoderRequest, EncoderResponse } from './encoder-thread.js';

/* The encoding thread (encoder-thread.ts): jobs in order, one at a time; bodies go back transferred. */

const port = parentPort!;
const highs = new TraceIdHighCache();

port.on('message', (m: EncoderRequest) => {
  try {
    // Level 1: most of the size win for a fraction of the CPU, as the trace-agent's writers choose.
    const body = gzipSync(encodeJob(m.job, highs), { level: 1 });
    const out = new Uint8Array(body);
    port.postMessage({ id: m.id, ok: true, body: out } satisfies EncoderResponse, [out.buffer]);
  } catch (err) {
    port.postMessage({ id: m.id, ok: false, message: (err as Error).message } satisfies EncoderResponse);
  }
});
