import { describe, expect, it } from 'vitest';
import { startupBanner } from './banner.js';
import { loadConfig } from './config.js';

const running = { receiver: { address: '127.0.0.1', family: 'IPv4', port: 8126 }, receiverSocket: undefined, api: { address: '127.0.0.1', family: 'IPv4', port: 8127 } };
const dataLine = (env: Record<string, string>) => startupBanner(loadConfig({ env }), running).split('\n').find((l) => l.startsWith('  data'));

describe('the start-up banner says where the data goes', () => {
  it('names the store: embedded, PostgreSQL (password masked) or none; and forwarding', () => {
    expect(dataLine({ ECS_TRACE_DATA_DIR: '/d' })).toBe('  data      /d (embedded SQLite; traces kept 72 h, at most 2000 MB)');
    expect(dataLine({ ECS_TRACE_DATA_DIR: '/d', ECS_TRACE_STORE: 'postgres://u:secret@db/traces' })).toBe('  data      PostgreSQL postgres://u:***@db/traces (traces kept 72 h; a spool in /d, at most 2000 MB)');
    expect(dataLine({ ECS_TRACE_STORE: 'none', DD_API_KEY: 'k' })).toBe('  data      none kept (ECS_TRACE_STORE=none: forwarding only)');
    const banner = startupBanner(loadConfig({ env: { DD_API_KEY: 'a-key-never-shown', DD_SITE: 'datadoghq.eu' } }), running);
    expect(banner).toContain('  forward   to Datadog, https://trace.agent.datadoghq.eu');
    expect(banner).not.toContain('a-key-never-shown');
  });
});

describe('the start-up banner of ecs-trace ui', () => {
  it('says what it is, and nothing of intake, a spool or a data directory', () => {
    const banner = startupBanner(loadConfig({ env: { ECS_TRACE_STORE: 'postgres://u:secret@db/traces' } }), { ...running, receiver: undefined }, 'ui');
    expect(banner.split('\n')[0]).toMatch(/^ecs-trace \S+ ui: the query API and web UI of a shared store$/);
    expect(banner).toContain('  data      PostgreSQL postgres://u:***@db/traces, read (the agents write it and keep its retention)');
    expect(banner).not.toMatch(/intake|spool|\.\/data|secret/);
  });
});
