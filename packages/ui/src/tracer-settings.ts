import type { ApiRemoteConfigClient, ApiTracingSettings } from '@ecs-trace/agent/api-types';

/*
 * What the service page says of each tracer polling for its settings: whether it has applied the
 * version set for it, is still to (its next poll), or said it could not; kept apart from the page
 * so that it is tested without a browser.
 */

export type ClientWord = { kind: 'applied' | 'pending' | 'error' | 'none' | 'unsupported'; text: string };

/** The settings a tracer of `env` is served: its env's and the service's every-env ones. */
export function settingsFor(settings: ApiTracingSettings[], env: string): ApiTracingSettings[] {
  return settings.filter((s) => s.env === '*' || s.env === env);
}

export function describeClient(client: ApiRemoteConfigClient, settings: ApiTracingSettings[]): ClientWord {
  const mine = settingsFor(settings, client.env);
  if (mine.length === 0) {
    return client.configStates.length > 0 ? { kind: 'pending', text: 'dropping removed settings at its next poll' } : { kind: 'none', text: 'its own settings (none set here)' };
  }
  const wanted = mine.some((s) => s.sampleRate !== undefined || s.samplingRules !== undefined);
  if (wanted && !client.supports.sampleRate) return { kind: 'unsupported', text: 'this tracer cannot take sample rates remotely' };
  const states = mine.map((s) => ({ s, state: client.configStates.find((c) => c.id === s.id) }));
  const failed = states.find((x) => x.state?.applyState === 3);
  if (failed) return { kind: 'error', text: `could not apply v${failed.s.version}: ${failed.state!.applyError || 'no reason given'}` };
  if (states.every((x) => x.state && x.state.version === x.s.version && x.state.applyState === 2)) {
    return { kind: 'applied', text: `applied ${states.map((x) => `v${x.s.version}`).join(', ')}` };
  }
  return { kind: 'pending', text: `applies ${states.map((x) => `v${x.s.version}`).join(', ')} at its next poll` };
}

/** One line for a setting: what it changes. */
export function summarize(s: ApiTracingSettings): string {
  const parts: string[] = [];
  if (s.sampleRate !== undefined) parts.push(`sample rate ${Math.round(s.sampleRate * 10000) / 100}%`);
  if (s.samplingRules?.length) parts.push(`${s.samplingRules.length} sampling rule${s.samplingRules.length > 1 ? 's' : ''}`);
  if (s.logInjection !== undefined) parts.push(`log injection ${s.logInjection ? 'on' : 'off'}`);
  return parts.join(', ');
}
