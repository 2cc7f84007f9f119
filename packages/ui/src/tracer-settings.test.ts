import { describe, expect, it } from 'vitest';
import type { ApiRemoteConfigClient, ApiTracingSettings } from '@ecs-trace/agent/api-types';
import { describeClient, summarize } from './tracer-settings.js';

const client = (over: Partial<ApiRemoteConfigClient> = {}): ApiRemoteConfigClient => ({
  id: 'c1', runtimeId: 'r1', service: 'checkout', env: 'prod', appVersion: '1', language: 'python', tracerVersion: '4.16.0', products: ['APM_TRACING'],
  supports: { sampleRate: true, samplingRules: true, logInjection: true }, configStates: [], targetsVersion: 0, firstSeen: 0, lastSeen: 0, ...over,
});
const setting = (over: Partial<ApiTracingSettings> = {}): ApiTracingSettings => ({ id: 'a', version: 3, service: 'checkout', env: 'prod', sampleRate: 0.5, ...over });

describe("what the service page says of a tracer's settings", () => {
  it('applied only when it reports the version set, acknowledged', () => {
    expect(describeClient(client(), [setting()])).toEqual({ kind: 'pending', text: 'applies v3 at its next poll' });
    expect(describeClient(client({ configStates: [{ id: 'a', version: 2, product: 'APM_TRACING', applyState: 2, applyError: '' }] }), [setting()]).kind).toBe('pending');
    expect(describeClient(client({ configStates: [{ id: 'a', version: 3, product: 'APM_TRACING', applyState: 2, applyError: '' }] }), [setting()])).toEqual({ kind: 'applied', text: 'applied v3' });
    expect(describeClient(client({ configStates: [{ id: 'a', version: 3, product: 'APM_TRACING', applyState: 3, applyError: 'bad rule' }] }), [setting()])).toEqual({ kind: 'error', text: 'could not apply v3: bad rule' });
  });

  it("another env's settings are not this tracer's; a tracer that cannot take a rate says so", () => {
    expect(describeClient(client({ env: 'staging' }), [setting()]).kind).toBe('none');
    expect(describeClient(client({ env: 'staging' }), [setting({ env: '*' })]).kind).toBe('pending');
    expect(describeClient(client({ supports: { sampleRate: false, samplingRules: false, logInjection: true } }), [setting()]).kind).toBe('unsupported');
    expect(describeClient(client({ configStates: [{ id: 'gone', version: 1, product: 'APM_TRACING', applyState: 2, applyError: '' }] }), []).kind).toBe('pending');
  });

  it('summarizes a setting', () => {
    expect(summarize(setting({ sampleRate: 0.125, logInjection: true, samplingRules: [{ resource: 'GET /health', sampleRate: 0 }] }))).toBe('sample rate 12.5%, 1 sampling rule, log injection on');
  });
});
