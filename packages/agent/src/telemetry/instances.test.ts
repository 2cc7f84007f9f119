import { describe, expect, it } from 'vitest';
import { Instances, TelemetryError } from './instances.js';

/* Tracers' telemetry as they send it (v2 requests, batches), and what is kept of it. */

const app = { service_name: 'shop', env: 'prod', service_version: '1.2', tracer_version: '2.10.0', language_name: 'python', language_version: '3.12.1', runtime_name: 'CPython', runtime_version: '3.12.1' };
const req = (type: string, payload: unknown, runtime = 'r-1') => ({ api_version: 'v2', request_type: type, runtime_id: runtime, seq_id: 1, tracer_time: 0, application: app, host: { hostname: 'ip-10-0-1-7' }, payload });

describe('tracer instances', () => {
  it('from app-started, integrations, dependencies and batches; a credential setting is never kept', () => {
    let now = 1_000;
    const inst = new Instances(() => now);
    inst.add(req('app-started', { configuration: [{ name: 'DD_ENV', value: 'prod', origin: 'env_var' }, { name: 'DD_API_KEY', value: 'abc123', origin: 'env_var' }] }));
    now = 2_000;
    inst.add(req('message-batch', [
      { request_type: 'app-integrations-change', payload: { integrations: [{ name: 'flask', enabled: true, version: '3.0' }, { name: 'redis', enabled: false }] } },
      { request_type: 'app-dependencies-loaded', payload: { dependencies: [{ name: 'requests', version: '2.31.0' }] } },
    ]));
    const [i] = inst.list({ service: 'shop' });
    expect(i).toMatchObject({ runtimeId: 'r-1', service: 'shop', env: 'prod', version: '1.2', language: 'python', runtimeName: 'CPython', tracerVersion: '2.10.0', hostname: 'ip-10-0-1-7', firstSeen: 1_000, lastSeen: 2_000, closed: false, truncated: false });
    expect(i!.integrations).toEqual([{ name: 'flask', enabled: true, version: '3.0' }, { name: 'redis', enabled: false }]);
    expect(i!.dependencies).toEqual([{ name: 'requests', version: '2.31.0' }]);
    expect(i!.configuration).toEqual([{ name: 'DD_API_KEY', value: '(set, not shown)', origin: 'env_var' }, { name: 'DD_ENV', value: 'prod', origin: 'env_var' }]);
    inst.add(req('app-closing', {}));
    expect(inst.list()[0]!.closed).toBe(true);
    expect(inst.list({ service: 'cart' })).toEqual([]);
    // Silent for a day: forgotten.
    now += 86_400_001;
    expect(inst.list()).toEqual([]);
  });

  it('answers "which services still run lodash 4.17.20?": each library at each version, with the services running it', () => {
    const inst = new Instances(() => 1_000);
    const deps = (service: string, runtime: string, list: [string, string][]) => inst.add({ ...req('app-dependencies-loaded', { dependencies: list.map(([name, version]) => ({ name, version })) }, runtime), application: { ...app, service_name: service } });
    deps('shop', 'r-1', [['lodash', '4.17.20'], ['express', '4.18.2']]);
    deps('shop', 'r-2', [['lodash', '4.17.20']]);
    deps('cart', 'r-3', [['lodash', '4.17.21'], ['Lodash.merge', '4.6.2']]);
    expect(inst.inventory({ name: 'lodash', version: '4.17.20' })).toEqual([
      { name: 'lodash', version: '4.17.20', instances: 2, services: [{ service: 'shop', env: 'prod', instances: 2 }] },
    ]);
    expect(inst.inventory({ name: 'LODASH' }).map((d) => `${d.name}@${d.version}`)).toEqual(['Lodash.merge@4.6.2', 'lodash@4.17.20', 'lodash@4.17.21']);
    expect(inst.inventory({ name: 'lodash', version: '4.17' }).map((d) => d.version)).toEqual(['4.17.20', '4.17.21']);
    expect(inst.inventory()).toHaveLength(4);
  });

  it('refuses what is not a telemetry request, saying why', () => {
    expect(() => new Instances().add([])).toThrow(TelemetryError);
    expect(() => new Instances().add({ request_type: 'app-started' })).toThrow(/runtime_id and application are required/);
  });
});
