import type { AddressInfo } from 'node:net';
import type { AgentConfig } from './config.js';
import { intakeBaseUrl } from './forward/index.js';
import { ECS_TRACE_VERSION } from './runtime/index.js';
import { maskedStoreUrl, storeKind } from './store/index.js';

/** Where a person finds each part of a running agent, in one screen (the CLI prints it at start). */
export function startupBanner(config: AgentConfig, running: { receiver: AddressInfo | undefined; receiverSocket: string | undefined; api: AddressInfo }, role: 'agent' | 'ui' = 'agent'): string {
  const url = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  const open = (host: string) => (host === '127.0.0.1' || host === '::1' || host === 'localhost' ? 'loopback only' : 'open beyond loopback');
  const intake = running.receiver
    ? `${url(running.receiver)} (${open(running.receiver.address)})${running.receiverSocket ? `, and unix socket ${running.receiverSocket}` : ''}`
    : running.receiverSocket ? `unix socket ${running.receiverSocket}` : 'off (DD_APM_ENABLED=false or DD_APM_RECEIVER_PORT=0)';
  const uiHost = running.api.address === '0.0.0.0' || running.api.address === '::' ? '127.0.0.1' : running.api.address;
  const disk = config.maxDiskBytes > 0 ? `at most ${(config.maxDiskBytes / 1e6).toFixed(0)} MB` : 'no disk bound';
  const settings = `  settings  ecs-trace config shows those in effect; logs are JSON lines on stdout unless it is a terminal`;
  if (role === 'ui') {
    // A UI replica takes no traces and keeps nothing of its own: it reads what the agents store.
    return [
      `ecs-trace ${ECS_TRACE_VERSION} ui: the query API and web UI of a shared store`,
      `  web UI    ${url({ ...running.api, address: uiHost })}/ (${open(running.api.address)}); query API under /api/v1`,
      `  data      PostgreSQL ${maskedStoreUrl(config.store)}, read (the agents write it and keep its retention)`,
      settings,
      '',
    ].join('\n');
  }
  return [
    `ecs-trace ${ECS_TRACE_VERSION} agent`,
    `  intake    ${intake}`,
    `  web UI    ${url({ ...running.api, address: uiHost })}/ (${open(running.api.address)}); query API under /api/v1`,
    dataLine(config, disk),
    ...(config.apiKey ? [`  forward   to Datadog, ${intakeBaseUrl(config)}`] : []),
    settings,
    '',
  ].join('\n');
}

function dataLine(config: AgentConfig, disk: string): string {
  const kept = `traces kept ${Math.round(config.retentionMs / 3_600_000)} h`;
  switch (storeKind(config)) {
    case 'none': return '  data      none kept (ECS_TRACE_STORE=none: forwarding only)';
    case 'postgres': return `  data      PostgreSQL ${maskedStoreUrl(config.store)} (${kept}; a spool in ${config.dataDir}, ${disk})`;
    case 'clickhouse': return `  data      ClickHouse ${maskedStoreUrl(config.store)} (${kept}; a spool in ${config.dataDir}, ${disk})`;
    default: return `  data      ${config.dataDir} (embedded SQLite; ${kept}, ${disk})`;
  }
}
