import { gzip } from 'node:zlib';

/** Level 1: most of the size win for a fraction of the CPU, as the trace-agent's writers choose. */
export const gzipped = (b: Buffer): Promise<Buffer> => new Promise((resolve, reject) => gzip(b, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))));
