/*
 * Redis commands as the Datadog Agent scrubs them (trace-agent spec 7.2): the resource is
 * quantized to at most three upper-cased command names, and `redis.raw_command` keeps its keys
 * but loses the values, per command.
 */

const TWO_WORD_COMMANDS = new Set(['CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG', 'DEBUG', 'SCRIPT']);
const MAX_COMMANDS = 3;

/** "SET k v\nGET k" -> "SET GET"; more than three commands, or a cut-off last one, end in "...". */
export function quantizeRedis(query: string): string {
  const names: string[] = [];
  let truncated = false;
  let lines = 0;
  for (const raw of query.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    let cmd = words[0]!;
    if (cmd.endsWith('...')) {
      truncated = true;
      continue;
    }
    truncated = false;
    cmd = cmd.toUpperCase();
    if (TWO_WORD_COMMANDS.has(cmd) && words[1] !== undefined && !words[1].endsWith('...')) cmd += ' ' + words[1].toUpperCase();
    lines++;
    if (lines > MAX_COMMANDS) {
      truncated = true;
      break;
    }
    names.push(cmd);
  }
  const out = names.join(' ');
  if (!truncated) return out;
  return out === '' ? '...' : out + ' ...';
}

const SECOND = new Set(['APPEND', 'GETSET', 'LPUSHX', 'GEORADIUSBYMEMBER', 'RPUSHX', 'SET', 'SETNX', 'SISMEMBER', 'ZRANK', 'ZREVRANK', 'ZSCORE']);
const THIRD = new Set(['LREM', 'LSET', 'SETBIT', 'SETEX', 'PSETEX', 'SETRANGE', 'ZINCRBY', 'SMOVE', 'RESTORE']);
const KEEP_KEY_THEN_ONE = new Set(['GEOHASH', 'GEOPOS', 'GEODIST', 'LPUSH', 'RPUSH', 'SREM', 'ZREM', 'SADD']);
const ZADD_FLAGS = new Set(['NX', 'XX', 'CH', 'INCR', 'GT', 'LT']);

function obfuscateArgs(cmd: string, args: string[]): string[] {
  const c = cmd.toUpperCase();
  const a = [...args];
  if (c === 'AUTH') return a.length > 0 ? ['?'] : [];
  if (SECOND.has(c)) { if (a.length >= 2) a[1] = '?'; return a; }
  if (THIRD.has(c)) { if (a.length >= 3) a[2] = '?'; return a; }
  if (c === 'LINSERT') { if (a.length >= 4) a[3] = '?'; return a; }
  if (KEEP_KEY_THEN_ONE.has(c)) return a.length >= 2 ? [a[0]!, '?'] : a;
  if (c === 'GEOADD') { for (let i = 3; i < a.length; i += 3) a[i] = '?'; return a; }
  if (c === 'HSET' || c === 'HSETNX' || c === 'HMSET') { for (let i = 2; i < a.length; i += 2) a[i] = '?'; return a; }
  if (c === 'MSET' || c === 'MSETNX') { for (let i = 1; i < a.length; i += 2) a[i] = '?'; return a; }
  if (c === 'CONFIG') { if (a[0]?.toUpperCase() === 'SET' && a.length >= 3) a[2] = '?'; return a; }
  if (c === 'BITFIELD') {
    for (let i = 1; i < a.length; i++) if (a[i]!.toUpperCase() === 'SET' && i + 3 < a.length) a[i + 3] = '?';
    return a;
  }
  if (c === 'ZADD') {
    let i = 1;
    while (i < a.length && ZADD_FLAGS.has(a[i]!.toUpperCase())) i++;
    for (i += 1; i < a.length; i += 2) a[i] = '?';
    return a;
  }
  return a;
}

/** `redis.raw_command` with values replaced by `?`, line by line. */
export function obfuscateRedisCommand(raw: string): string {
  const out: string[] = [];
  for (const line of raw.split('\n')) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const [cmd, ...args] = words as [string, ...string[]];
    out.push([cmd, ...obfuscateArgs(cmd, args)].join(' '));
  }
  return out.join('\n');
}

/** `remove_all_args`: the command (and its subcommand) and one `?`. */
export function removeAllRedisArgs(raw: string): string {
  const words = raw.trim().split(/\s+/).filter(Boolean);
  if (words.length <= 1) return words.join(' ');
  const [cmd, ...args] = words as [string, ...string[]];
  const c = cmd.toUpperCase();
  if (c === 'CONFIG') {
    const sub = args[0]!.toUpperCase();
    return sub === 'SET' || sub === 'GET' || sub === 'RESETSTAT' || sub === 'REWRITE' ? `${cmd} ${args[0]} ?` : `${cmd} ?`;
  }
  if (c === 'BITFIELD') {
    const out = [cmd, '?'];
    for (const w of args.slice(1)) if (/^(SET|GET|INCRBY)$/i.test(w)) out.push(w, '?');
    return out.join(' ');
  }
  return `${cmd} ?`;
}
