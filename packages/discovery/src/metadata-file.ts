import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { asIpAddress } from './ip.js';

/*
 * The ECS container metadata file (ecs-spec 2): written at container create without a
 * MetadataFileStatus key, rewritten with "READY" once the container runs. Current ECS agents put
 * HostPrivateIPv4Address in the first version already, so a file that is not READY in time is
 * still used when it has the address.
 */

export type MetadataFileOutcome =
  | { ok: true; host: string; ready: boolean; waitedMs: number }
  | { ok: false; reason: string };

export interface ReadMetadataFileOptions {
  path: string;
  /** How long to wait for READY (and for the file to appear or become valid JSON). */
  waitMs: number;
  pollMs?: number;
}

export async function readHostFromMetadataFile(o: ReadMetadataFileOptions): Promise<MetadataFileOutcome> {
  const started = Date.now();
  const deadline = started + o.waitMs;
  const poll = o.pollMs ?? 50;
  let last: { problem: string; host?: string; final?: boolean } = { problem: 'not read' };
  for (;;) {
    last = await readOnce(o.path);
    if (last.problem === '' && last.host !== undefined) return { ok: true, host: last.host, ready: true, waitedMs: Date.now() - started };
    if (last.final === true) break;
    if (Date.now() + poll > deadline) break;
    await sleep(poll);
  }
  if (last.host !== undefined) return { ok: true, host: last.host, ready: false, waitedMs: Date.now() - started };
  return { ok: false, reason: last.final === true ? last.problem : `${last.problem} (waited ${o.waitMs} ms)` };
}

async function readOnce(path: string): Promise<{ problem: string; host?: string; final?: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EISDIR') return { problem: `${path} cannot be read (${code})`, final: true };
    return { problem: `${path} does not exist` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { problem: `${path} is not valid JSON (${(err as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { problem: `${path} is not a JSON object` };
  const fields = doc as Record<string, unknown>;
  const raw = fields['HostPrivateIPv4Address'] ?? fields['HostIPv6Address'];
  const host = asIpAddress(raw);
  const ready = fields['MetadataFileStatus'] === 'READY';
  if (raw !== undefined && host === undefined) return { problem: `${path}: HostPrivateIPv4Address is not an IP address`, final: ready };
  if (!ready) return { problem: `${path} never reached MetadataFileStatus READY${host === undefined ? ' and has no HostPrivateIPv4Address' : ''}`, ...(host !== undefined ? { host } : {}) };
  if (host === undefined) {
    // READY without the field: the ECS agent could not read the instance's IP from IMDS at start.
    return { problem: `${path} is READY but has no HostPrivateIPv4Address (the ECS agent could not read it from IMDS when it started)`, final: true };
  }
  return { problem: '', host };
}
