import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { receiverHost } from './intake/index.js';
import { ConfigError, isOrchestrated } from './runtime/index.js';

describe('loadConfig', () => {
  it('has the Datadog Agent defaults and ours', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      apmEnabled: true, nonLocalTraffic: undefined, receiverPort: 8126, env: 'none', maxPayloadBytes: 26_214_400,
      receiverTimeoutMs: 5000, decoderTimeoutMs: 1000, maxConnections: 1000, dataDir: './data', apiPort: 8127,
      apiHost: '127.0.0.1', retentionMs: 72 * 3600_000, maxDiskBytes: 2e9,
    });
  });

  it('reads env vars, aliases and flags, flags first', () => {
    const c = loadConfig({
      env: { DD_APM_ENABLED: 'false', DD_RECEIVER_PORT: '9126', DD_ENV: 'prod', ECS_TRACE_RETENTION: '7d', ECS_TRACE_MAX_DISK: '500MB', DD_APM_FEATURES: '429, big_resource', DD_APM_RECEIVER_TIMEOUT: '10' },
      flags: { dataDir: '/tmp/x', apiPort: '9999' },
    });
    expect(c).toMatchObject({ apmEnabled: false, receiverPort: 9126, env: 'prod', retentionMs: 7 * 86_400_000, maxDiskBytes: 500e6, features: ['429', 'big_resource'], receiverTimeoutMs: 10_000, dataDir: '/tmp/x', apiPort: 9999 });
    expect(loadConfig({ env: { DD_APM_ENV: 'a', DD_ENV: 'b' } }).env).toBe('a');
  });

  it.each([
    [{ DD_APM_NON_LOCAL_TRAFFIC: 'maybe' }, 'DD_APM_NON_LOCAL_TRAFFIC="maybe" is not valid: expected true or false'],
    [{ DD_APM_RECEIVER_PORT: '70000' }, 'DD_APM_RECEIVER_PORT="70000" is not valid: expected a port number from 0 to 65535'],
    [{ ECS_TRACE_RETENTION: 'forever' }, 'ECS_TRACE_RETENTION="forever" is not valid: expected a duration such as 500ms, 30s, 15m, 72h or 7d (a bare number is seconds)'],
    [{ ECS_TRACE_MAX_DISK: 'lots' }, 'ECS_TRACE_MAX_DISK="lots" is not valid: expected a size such as 0, 500MB, 2GB or 1GiB (a bare number is bytes)'],
    [{ DD_APM_DECODERS: '-1' }, 'DD_APM_DECODERS="-1" is not valid: expected a whole number'],
  ])('refuses %j naming the variable and the accepted values', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });

  it('names the flag when a flag is wrong', () => {
    expect(() => loadConfig({ env: {}, flags: { apiPort: 'x' } })).toThrow('--api-port="x" is not valid');
  });

  it('decodes as many payloads at once as half the cores the task\'s CPU quota gives, and two with the writer thread', () => {
    const root = (cgroup: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'ecs-trace-cgroup-'));
      for (const [file, text] of Object.entries(cgroup)) {
        mkdirSync(join(dir, file, '..'), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      return dir + '/';
    };
    const cores = availableParallelism();
    // A Fargate task of 0.5 vCPU (cgroup v2), and an EC2 task with cpu 1024 (cgroup v1): one.
    expect(loadConfig({ env: {}, root: root({ 'sys/fs/cgroup/cpu.max': '50000 100000\n' }) })).toMatchObject({ writerThread: false, decoders: 1 });
    expect(loadConfig({ env: {}, root: root({ 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }) }).decoders).toBe(1);
    // No quota, or four cores of it: half of what the machine has, up to the quota.
    expect(loadConfig({ env: {}, root: root({ 'sys/fs/cgroup/cpu.max': 'max 100000\n' }) }).decoders).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(loadConfig({ env: {}, root: root({ 'sys/fs/cgroup/cpu.max': '400000 100000\n' }) }).decoders).toBe(Math.max(1, Math.floor(Math.min(cores, 4) / 2)));
    // The writer thread, asked for, takes two whatever the quota.
    expect(loadConfig({ env: { ECS_TRACE_WRITER_THREAD: 'true' }, root: root({ 'sys/fs/cgroup/cpu.max': '50000 100000' }) })).toMatchObject({ writerThread: true, decoders: 2 });
  });
});

describe('receiver bind address', () => {
  const cfg = (env: Record<string, string>) => loadConfig({ env });
  it('is loopback by default, all interfaces when asked or when containerized and unset', () => {
    expect(receiverHost(cfg({}), false)).toBe('127.0.0.1');
    expect(receiverHost(cfg({}), true)).toBe('0.0.0.0');
    expect(receiverHost(cfg({ DD_APM_NON_LOCAL_TRAFFIC: 'true' }), false)).toBe('0.0.0.0');
    expect(receiverHost(cfg({ DD_APM_NON_LOCAL_TRAFFIC: 'false' }), true)).toBe('127.0.0.1');
    expect(receiverHost(cfg({ DD_BIND_HOST: '127.0.0.2', DD_APM_NON_LOCAL_TRAFFIC: 'true' }), true)).toBe('127.0.0.2');
  });

  it('opens intake beyond loopback by itself only where an orchestrator or the image says so', () => {
    expect(isOrchestrated({})).toBe(false);
    expect(isOrchestrated({ ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' })).toBe(true);
    expect(isOrchestrated({ KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toBe(true);
    expect(isOrchestrated({ DOCKER_DD_AGENT: 'true' })).toBe(true);
    // A developer's box in a container (a /.dockerenv, a container cgroup) is not enough.
    expect(isOrchestrated({ HOME: '/root' })).toBe(false);
  });
});

describe('the API beyond loopback', () => {
  it('asks for a token, naming the variable, unless told in so many words', () => {
    expect(() => loadConfig({ env: { ECS_TRACE_API_HOST: '0.0.0.0' } })).toThrow('ECS_TRACE_API_HOST=0.0.0.0 opens the API and UI beyond loopback: set ECS_TRACE_API_TOKEN (or --api-token-file)');
    expect(loadConfig({ env: { ECS_TRACE_API_HOST: '0.0.0.0', ECS_TRACE_API_TOKEN: 'x'.repeat(24) } }).apiToken).toBe('x'.repeat(24));
    expect(loadConfig({ env: { ECS_TRACE_API_HOST: '0.0.0.0' }, flags: { apiInsecureNoAuth: 'true' } }).apiInsecureNoAuth).toBe(true);
    expect(loadConfig({ env: { ECS_TRACE_API_HOST: '127.0.0.1' } }).apiToken).toBeUndefined();
  });

  it('reads the token from a file (an ECS secret) and refuses a short one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-'));
    writeFileSync(join(dir, 'token'), 'y'.repeat(32) + '\n');
    expect(loadConfig({ env: { ECS_TRACE_API_HOST: '0.0.0.0' }, flags: { apiTokenFile: join(dir, 'token') } }).apiToken).toBe('y'.repeat(32));
    expect(() => loadConfig({ env: {}, flags: { apiTokenFile: join(dir, 'missing') } })).toThrow(/--api-token-file .*missing cannot be read: ENOENT/);
    expect(() => loadConfig({ env: { ECS_TRACE_API_TOKEN: 'short' } })).toThrow('ECS_TRACE_API_TOKEN is too short');
  });
});
