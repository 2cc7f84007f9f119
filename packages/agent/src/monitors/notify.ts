import { createHmac } from 'node:crypto';
import type { Channel, Monitor } from './definition.js';
import type { MonitorState } from './evaluate.js';

/*
 * A transition told where people will see it: a generic webhook (JSON, signed with HMAC-SHA256
 * when the channel has a secret), a Slack incoming webhook (a message a person reads: what, how
 * bad, since when, a link into the UI at that range) or PagerDuty Events v2 (trigger and resolve
 * under one dedup key per monitor). Each send is retried with backoff; secrets never logged.
 */

export interface Transition {
  monitor: Monitor;
  from: MonitorState;
  to: MonitorState;
  value: number | undefined;
  threshold: number | undefined;
  /** ms since the epoch. */
  at: number;
  /** A test send (the UI's button, `POST /api/v1/monitors/{id}/test`), not a transition. */
  test?: boolean;
}

const PAGERDUTY_EVENTS = 'https://events.pagerduty.com/v2/enqueue';

const UNITS: Record<string, string> = {
  request_rate: ' req/s', error_rate: '%', error_count: ' errors', latency_p50: ' ms', latency_p75: ' ms', latency_p90: ' ms', latency_p95: ' ms', latency_p99: ' ms', latency_max: ' ms',
  new_error_group: ' new error groups', regressed_error_group: ' error groups back after a resolve', error_group_count: ' occurrences',
};

const shown = (m: Monitor, v: number | undefined) => (v === undefined ? 'no data' : `${Math.round(v * 100) / 100}${UNITS[m.metric] ?? ''}`);
const windowText = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);

/** One line a person reads: `[ALERT] checkout errors: error rate 12.5% (above 5%) over 5m`. */
export function summaryOf(t: Transition): string {
  const m = t.monitor;
  const where = [m.service, m.env, m.version, m.resource].filter(Boolean).join(' ');
  const back = m.comparison === 'above' ? 'below' : 'above';
  const threshold = t.threshold === undefined || t.to === 'NO DATA' ? '' : ` (${t.to === 'OK' ? `back ${back}` : m.comparison} ${shown(m, t.threshold)})`;
  return `${t.test ? '[TEST] ' : ''}[${t.to}] ${m.name}: ${m.metric.replace(/_/g, ' ')} ${shown(m, t.value)}${threshold} over ${windowText(m.windowMs)} on ${where}`;
}

/** The UI at the monitor's service and the window before the transition. */
export function linkOf(t: Transition, uiUrl: string | undefined): string | undefined {
  if (!uiUrl) return undefined;
  const q = new URLSearchParams({ start: String(t.at - t.monitor.windowMs), end: String(t.at), ...(t.monitor.env ? { env: t.monitor.env } : {}) });
  const path = t.monitor.metric.endsWith('error_group') ? '/errors' : `/services/${encodeURIComponent(t.monitor.service)}`;
  return `${uiUrl.replace(/\/+$/, '')}${path}?${q}${t.monitor.metric.endsWith('error_group') ? `&service=${encodeURIComponent(t.monitor.service)}` : ''}`;
}

export interface Request {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What a channel is sent for a transition. */
export function requestFor(c: Channel, t: Transition, uiUrl?: string): Request {
  const link = linkOf(t, uiUrl);
  const m = t.monitor;
  if (c.kind === 'slack') {
    const since = new Date(t.at).toISOString().replace('T', ' ').slice(0, 19);
    const text = `${t.to === 'OK' ? ':white_check_mark:' : t.to === 'ALERT' ? ':red_circle:' : t.to === 'WARN' ? ':warning:' : ':grey_question:'} *${summaryOf(t)}*\nwas ${t.from}, since ${since} UTC${link ? ` · <${link}|open in ecs-trace>` : ''}`;
    return { url: c.url!, headers: { 'Content-Type': 'application/json', ...c.headers }, body: JSON.stringify({ text }) };
  }
  if (c.kind === 'pagerduty') {
    const resolve = t.to === 'OK' && !t.test;
    const body = {
      routing_key: c.routingKey, event_action: resolve ? 'resolve' : 'trigger', dedup_key: `ecs-trace:${m.id}${t.test ? ':test' : ''}`,
      ...(resolve ? {} : { payload: { summary: summaryOf(t).slice(0, 1024), source: 'ecs-trace', severity: t.to === 'ALERT' ? 'critical' : t.to === 'WARN' ? 'warning' : 'info', timestamp: new Date(t.at).toISOString(), component: m.service, custom_details: { value: t.value, threshold: t.threshold, previous: t.from, window: windowText(m.windowMs) } } }),
      ...(link && !resolve ? { links: [{ href: link, text: 'open in ecs-trace' }] } : {}),
    };
    return { url: c.url ?? PAGERDUTY_EVENTS, headers: { 'Content-Type': 'application/json', ...c.headers }, body: JSON.stringify(body) };
  }
  const body = JSON.stringify({
    monitor: { id: m.id, name: m.name, service: m.service, env: m.env, version: m.version, resource: m.resource, metric: m.metric },
    state: t.to, previous: t.from, value: t.value ?? null, threshold: t.threshold ?? null, at: new Date(t.at).toISOString(), summary: summaryOf(t), test: t.test === true, ...(link ? { url: link } : {}),
  });
  const signature: Record<string, string> = c.secret ? { 'X-Ecs-Trace-Signature': `sha256=${createHmac('sha256', c.secret).update(body).digest('hex')}` } : {};
  return { url: c.url!, headers: { 'Content-Type': 'application/json', ...signature, ...c.headers }, body };
}

export interface SendResult {
  channel: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/**
 * A transition to an SNS topic (its subscribers: e-mail, SMS, chat, Lambda), published with the
 * AWS SDK's own credentials (the ECS task role), retries and endpoint (AWS_ENDPOINT_URL_SNS).
 */
export async function publishSns(c: Channel, t: Transition, uiUrl?: string): Promise<SendResult> {
  const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns');
  const region = c.topicArn!.split(':')[3]!;
  const client = new SNSClient({ region, maxAttempts: 3 });
  const link = linkOf(t, uiUrl);
  try {
    await client.send(new PublishCommand({
      TopicArn: c.topicArn,
      // SNS's subject: ASCII, at most 100 characters.
      Subject: summaryOf(t).replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: `${summaryOf(t)}\nwas ${t.from}, since ${new Date(t.at).toISOString()}${link ? `\n${link}` : ''}`,
      MessageAttributes: { state: { DataType: 'String', StringValue: t.to }, monitor: { DataType: 'String', StringValue: t.monitor.id } },
      ...(c.topicArn!.endsWith('.fifo') ? { MessageGroupId: t.monitor.id, MessageDeduplicationId: `${t.monitor.id}:${t.at}:${t.to}` } : {}),
    }));
    return { channel: c.name, ok: true, attempts: 1 };
  } catch (err) {
    const e = err as Error & { $metadata?: { attempts?: number } };
    return { channel: c.name, ok: false, attempts: e.$metadata?.attempts ?? 1, error: `${e.name}: ${e.message}` };
  } finally {
    client.destroy();
  }
}

/** A transition by e-mail, through the channel's SMTP server (nodemailer), retried with backoff. */
export async function sendEmail(c: Channel, t: Transition, uiUrl: string | undefined, delays: readonly number[] = [1000, 4000]): Promise<SendResult> {
  const { createTransport } = await import('nodemailer');
  // Timeouts in the URL's own options (nodemailer reads them there): a server that does not answer fails in seconds.
  const url = new URL(c.smtpUrl!);
  for (const [k, v] of [['connectionTimeout', '5000'], ['greetingTimeout', '5000'], ['socketTimeout', '10000']] as const) if (!url.searchParams.has(k)) url.searchParams.set(k, v);
  const transport = createTransport(url.href);
  const link = linkOf(t, uiUrl);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await transport.sendMail({
          from: c.from, to: c.to, subject: summaryOf(t),
          text: `${summaryOf(t)}\n\nwas ${t.from}, since ${new Date(t.at).toISOString().replace('T', ' ').slice(0, 19)} UTC${link ? `\n${link}` : ''}\n`,
          headers: { 'X-Ecs-Trace-Monitor': t.monitor.id, 'X-Ecs-Trace-State': t.to },
        });
        return { channel: c.name, ok: true, attempts: attempt };
      } catch (err) {
        const delay = delays[attempt - 1];
        if (delay === undefined) return { channel: c.name, ok: false, attempts: attempt, error: (err as Error).message };
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  } finally {
    transport.close();
  }
}

/** A transition told to one channel: posted (with retries), published to SNS or e-mailed. */
export function deliver(c: Channel, t: Transition, uiUrl: string | undefined, delays?: readonly number[]): Promise<SendResult> {
  if (c.kind === 'sns') return publishSns(c, t, uiUrl);
  if (c.kind === 'email') return sendEmail(c, t, uiUrl, delays);
  return send(c, requestFor(c, t, uiUrl), delays);
}

/** Posts with retries (backoff `delays`), a 5-s timeout each; a 4xx other than 429 is not retried (it would fail the same). */
export async function send(c: Channel, req: Request, delays: readonly number[] = [1000, 4000]): Promise<SendResult> {
  let last = '';
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { channel: c.name, ok: true, attempts: attempt };
      last = `HTTP ${res.status}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 429) return { channel: c.name, ok: false, attempts: attempt, error: last };
    } catch (err) {
      last = (err as Error).name === 'TimeoutError' ? 'no answer in 5 s' : (err as Error).message;
    }
    const delay = delays[attempt - 1];
    if (delay === undefined) return { channel: c.name, ok: false, attempts: attempt, error: last };
    await new Promise((r) => setTimeout(r, delay));
  }
}
