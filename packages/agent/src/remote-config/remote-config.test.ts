import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RemoteConfig, RemoteConfigRequestError, parseTracingSettings, settingsPath, TracingSettingsError, type RemoteConfigStore } from './index.js';

/** The poll the real dd-trace 5.132 sent (service checkout, env test). */
const POLL = JSON.parse(readFileSync(new URL('../../../protocol/fixtures/dd-trace-js-5.132-v0.7-config-request.json', import.meta.url), 'utf8')) as { client: { state: Record<string, unknown> }; cached_target_files: unknown[] };

/** A store in memory with the contract's rules (the conformance suite holds the real ones to them). */
function memoryStore(): RemoteConfigStore & { rows: Map<string, { definition: string | null; version: number }> } {
  const rows = new Map<string, { definition: string | null; version: number }>();
  const next = () => Math.max(0, ...[...rows.values()].map((r) => r.version)) + 1;
  return {
    rows,
    async saveRemoteConfig(id, definition) {
      if (definition === null && !rows.get(id)?.definition) return;
      rows.set(id, { definition, version: next() });
    },
    async remoteConfigs() {
      const all = [...rows.entries()];
      return { revision: Math.max(0, ...all.map(([, r]) => r.version)), configs: all.flatMap(([id, r]) => (r.definition === null ? [] : [{ id, definition: r.definition, version: r.version }])) };
    },
  };
}

interface Answer { roots: string[]; targets: string; target_files: { path: string; raw: string }[]; client_configs: string[] }
interface Targets { signatures: unknown[]; signed: { _type: string; custom: { opaque_backend_state: string }; expires: string; spec_version: string; version: number; targets: Record<string, { custom: { v: number }; hashes: { sha256: string }; length: number }> } }

/** What the tracers check of an answer, as they check it; the files applied, by path. */
function applyAnswer(text: string): { targets: Targets; files: Map<string, Record<string, unknown>>; answer: Answer } {
  const answer = JSON.parse(text) as Answer;
  const targets = JSON.parse(Buffer.from(answer.targets, 'base64').toString()) as Targets;
  // libdatadog (ddtrace) reads every one of these fields; a missing one fails the whole answer.
  expect(targets.signatures).toEqual([]);
  expect(targets.signed._type).toBe('targets');
  expect(typeof targets.signed.custom.opaque_backend_state).toBe('string');
  expect(Number.isNaN(Date.parse(targets.signed.expires))).toBe(false);
  expect(targets.signed.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(Number.isInteger(targets.signed.version)).toBe(true);
  const files = new Map<string, Record<string, unknown>>();
  for (const path of answer.client_configs) {
    // dd-trace-js's and dd-trace-go's path forms.
    expect(path).toMatch(/^(?:datadog\/\d+|employee)\/([^/]+)\/([^/]+)\/[^/]+$/);
    expect(path).toMatch(/^datadog\/(\d+)\/([^/]+)\/([^/]+)\/([^/]+)$/);
    const meta = targets.signed.targets[path]!;
    expect(Number.isInteger(meta.custom.v)).toBe(true);
    const file = answer.target_files.find((f) => f.path === path);
    if (!file) continue;
    const raw = Buffer.from(file.raw, 'base64');
    expect(createHash('sha256').update(raw).digest('hex')).toBe(meta.hashes.sha256);
    expect(raw.length).toBe(meta.length);
    files.set(path, JSON.parse(raw.toString()) as Record<string, unknown>);
  }
  return { targets, files, answer };
}

describe('remote configuration served to tracers', () => {
  it('answers a tracer with no settings for it as up to date, and records it', async () => {
    const rc = new RemoteConfig({ store: memoryStore(), defaultEnv: 'none', now: () => 1_000 });
    await rc.start();
    expect(rc.answer(POLL)).toBe('{}');
    expect(rc.seenClients()).toMatchObject([{ service: 'checkout', env: 'test', language: 'node', tracerVersion: '5.132.0', supports: { sampleRate: true, logInjection: true, samplingRules: true } }]);
    rc.close();
  });

  it("sends a service's settings in both forms tracers read, checked as they check them; then nothing until they change", async () => {
    const store = memoryStore();
    const rc = new RemoteConfig({ store, defaultEnv: 'none' });
    await rc.save(parseTracingSettings({ service: 'checkout', env: 'test', sampleRate: 0.25, logInjection: true, samplingRules: [{ resource: 'GET /health', sampleRate: 0 }] }));
    await rc.save(parseTracingSettings({ service: 'other', sampleRate: 1 }));
    const { files, targets, answer } = applyAnswer(rc.answer(POLL));
    expect(answer.client_configs).toHaveLength(1);
    const file = [...files.values()][0]!;
    expect(file).toMatchObject({
      service_target: { service: 'checkout', env: 'test' },
      lib_config: { tracing_sampling_rate: 0.25, log_injection_enabled: true, tracing_sampling_rules: [{ service: 'checkout', resource: 'GET /health', sample_rate: 0, provenance: 'customer' }] },
      sdk_config: { config: { DD_TRACE_SAMPLE_RATE: '0.25', DD_LOGS_INJECTION: 'true' } },
    });
    const rules = JSON.parse((file.sdk_config as { config: Record<string, string> }).config.DD_TRACE_SAMPLING_RULES!) as unknown;
    expect(rules).toEqual([{ service: 'checkout', resource: 'GET /health', sample_rate: 0, provenance: 'customer' }]);
    // The other service's settings are not sent to this one, not even in the index.
    expect(Object.keys(targets.signed.targets)).toEqual(answer.client_configs);

    // The tracer holds it now: up to date.
    const path = answer.client_configs[0]!;
    const sha = targets.signed.targets[path]!.hashes.sha256;
    const holding = { ...POLL, client: { ...POLL.client, state: { ...POLL.client.state, targets_version: targets.signed.version } }, cached_target_files: [{ path, length: 1, hashes: [{ algorithm: 'sha256', hash: sha }] }] };
    expect(rc.answer(holding)).toBe('{}');

    // Changed: a new version of the same path, its file sent again.
    await rc.save(parseTracingSettings({ service: 'checkout', env: 'test', sampleRate: 0.5 }));
    const again = applyAnswer(rc.answer(holding));
    expect(again.answer.client_configs).toEqual([path]);
    expect(again.targets.signed.version).toBeGreaterThan(targets.signed.version);
    expect(again.targets.signed.targets[path]!.custom.v).toBeGreaterThan(targets.signed.targets[path]!.custom.v);
    expect([...again.files.values()][0]).toMatchObject({ lib_config: { tracing_sampling_rate: 0.5 } });

    // Removed: the path is no longer listed, which is how a tracer learns to drop it.
    const id = rc.list().settings.find((s) => s.settings.service === 'checkout')!.id;
    expect(await rc.remove(id)).toBe(true);
    expect(applyAnswer(rc.answer(holding)).answer.client_configs).toEqual([]);
    expect(await rc.remove(id)).toBe(false);
  });

  it("serves a service's every-env settings to each env, and the agent's env to a tracer that names none", async () => {
    const rc = new RemoteConfig({ store: memoryStore(), defaultEnv: 'prod' });
    await rc.save(parseTracingSettings({ service: 'checkout', env: '*', sampleRate: 0.1 }));
    await rc.save(parseTracingSettings({ service: 'checkout', env: 'prod', sampleRate: 0.2 }));
    const poll = (env: string) => applyAnswer(rc.answer({ ...POLL, client: { ...POLL.client, client_tracer: { service: 'checkout', env, language: 'python' } } })).answer.client_configs;
    expect(poll('test')).toEqual([settingsPath(rc.list().settings.find((s) => s.settings.env === '*')!.id)]);
    expect(poll('prod')).toHaveLength(2);
    expect(poll('')).toHaveLength(2);
  });

  it('refuses what is not a poll, saying why', async () => {
    const rc = new RemoteConfig({ store: memoryStore(), defaultEnv: 'none' });
    expect(() => rc.answer([])).toThrow(RemoteConfigRequestError);
    expect(() => rc.answer({})).toThrow(/client: missing/);
    expect(() => rc.answer({ client: { id: '' } })).toThrow(/client.id/);
    expect(() => rc.answer({ client: { id: 'x', is_tracer: true } })).toThrow(/client_tracer/);
    expect(() => rc.answer({ client: { id: 'x', products: 'APM_TRACING' } })).toThrow(/client.products: give a list/);
  });

  it('answers any JSON a client may send with an answer or a RemoteConfigRequestError, never another failure', async () => {
    const rc = new RemoteConfig({ store: memoryStore(), defaultEnv: 'none' });
    await rc.save(parseTracingSettings({ service: 'checkout', sampleRate: 0.5 }));
    const field = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    const poll = fc.record({
      client: fc.oneof(fc.jsonValue(), fc.record({
        id: field, products: fc.oneof(field, fc.array(fc.string())), is_tracer: field, capabilities: fc.oneof(field, fc.base64String()),
        state: fc.oneof(field, fc.record({ targets_version: field, config_states: fc.oneof(field, fc.array(fc.jsonValue())) })),
        client_tracer: fc.oneof(field, fc.record({ service: fc.oneof(field, fc.constant('checkout')), env: field })),
      })),
      cached_target_files: fc.oneof(field, fc.array(fc.jsonValue())),
    });
    fc.assert(fc.property(poll, (body) => {
      try {
        JSON.parse(rc.answer(body));
      } catch (err) {
        if (!(err instanceof RemoteConfigRequestError)) throw err;
      }
    }), { numRuns: 2000 });
  });

  it('keeps the last settings when the store cannot be read, and says so', async () => {
    const store = memoryStore();
    const errors: unknown[] = [];
    const rc = new RemoteConfig({ store, defaultEnv: 'none', onError: (e) => errors.push(e) });
    await rc.save(parseTracingSettings({ service: 'checkout', env: 'test', sampleRate: 0.5 }));
    store.remoteConfigs = () => Promise.reject(new Error('connection refused'));
    await rc.refresh();
    expect(rc.list().settings).toHaveLength(1);
    expect(String(errors[0])).toContain('connection refused');
  });
});

describe('tracing settings as the API takes them', () => {
  it('names the field that is wrong', () => {
    expect(() => parseTracingSettings({ env: 'prod', sampleRate: 0.5 })).toThrow(/^service:/);
    expect(() => parseTracingSettings({ service: 'a', sampleRate: 2 })).toThrow(/^sampleRate: give a number from 0 to 1/);
    expect(() => parseTracingSettings({ service: 'a', logInjection: 'yes' })).toThrow(/^logInjection:/);
    expect(() => parseTracingSettings({ service: 'a', samplingRules: [{ resource: 'x' }] })).toThrow(/^samplingRules\[0\]\.sampleRate:/);
    expect(() => parseTracingSettings({ service: 'a', sampleRat: 0.5 })).toThrow(/^sampleRat: not a setting/);
    expect(() => parseTracingSettings({ service: 'a' })).toThrow(TracingSettingsError);
    expect(parseTracingSettings({ service: 'a', sampleRate: 0 })).toEqual({ service: 'a', env: '*', sampleRate: 0 });
  });
});
