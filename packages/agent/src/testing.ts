import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent, type StartOptions } from './agent.js';
import { loadConfig } from './config.js';
import { createLogger } from './runtime/index.js';

/** An agent on ephemeral loopback ports with its own data dir, for tests. */
export interface TestAgent extends RunningAgent {
  intake: string;
  /** The OTLP/HTTP intake's base URL, when on (DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT or ECS_TRACE_OTLP). */
  otlpUrl: string;
  /** The OTLP/gRPC intake's address (host:port), when on. */
  otlpGrpc: string;
  apiUrl: string;
  dataDir: string;
}

export async function startTestAgent(env: Record<string, string> = {}, start: Pick<StartOptions, 'transports'> = {}): Promise<TestAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ecs-trace-agent-'));
  const config = loadConfig({ env: { DD_APM_NON_LOCAL_TRAFFIC: 'false', ECS_TRACE_DATA_DIR: dataDir, DD_LOG_LEVEL: 'off', ...env } });
  const agent = await startAgent(config, { ephemeralPorts: true, containerized: false, env, log: createLogger(config.logLevel), ...start });
  return {
    ...agent,
    intake: agent.receiver ? `http://127.0.0.1:${agent.receiver.port}` : '',
    otlpUrl: agent.otlpHttp ? `http://127.0.0.1:${agent.otlpHttp.port}` : '',
    otlpGrpc: agent.otlpGrpcPort !== undefined ? `127.0.0.1:${agent.otlpGrpcPort}` : '',
    apiUrl: `http://127.0.0.1:${agent.api.port}`,
    dataDir,
    async close() {
      await agent.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
