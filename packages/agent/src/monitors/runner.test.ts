import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../runtime/index.js';
import { parseMonitors } from './definition.js';
import { MonitorRunner } from './runner.js';

/*
 * Monitors over readings given by the test, notifying receivers on loopback that stand for a
 * webhook, Slack and PagerDuty: what each is sent, once per transition, retried, and a test send.
 */

interface Received { path: string; headers: IncomingHttpHeaders; body: string }
let server: Server;
let base = '';
const received: Received[] = [];
/** Paths answered 500 this many times before 200. */
const failures = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      const left = failures.get(req.url!) ?? 0;
      if (left > 0) {
        failures.set(req.url!, left - 1);
        res.statusCode = 500;
        res.end();
        return;
      }
      received.push({ path: req.url!, headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => { server.close(); });

const file = () => parseMonitors(`
ui_url: https://tracing.example.com
channels:
  - { name: hook, kind: webhook, url: "${base}/hook", secret: s3cret, headers: { X-Team: payments } }
  - { name: slack, kind: slack, url: "${base}/slack" }
  - { name: pager, kind: pagerduty, routing_key: R0UT1NG, url: "${base}/pd" }
monitors:
  - { id: checkout-errors, name: Checkout errors, service: checkout, env: prod, metric: error_rate, warning: 2, critical: 5, notify: [hook, slack, pager], renotify: 1h }
`);

describe('monitors notifying', () => {
  it('tells each channel once per transition, in its own form, and again after the renotify interval only', async () => {
    received.length = 0;
    let now = Date.UTC(2026, 11, 7, 21, 0, 0);
    const readings = [{ value: 1, requests: 100 }, { value: 12.5, requests: 80 }, { value: 13, requests: 80 }, { value: 14, requests: 80 }, { value: 0.5, requests: 90 }];
    let i = 0;
    const runner = new MonitorRunner({ file: file(), log: createLogger('silent'), now: () => now, read: async () => readings[i]!, retryDelays: [10, 10] });
    const round = async () => { await runner.evaluateAll(); await runner.settle(); i++; now += 60_000; };
    await round();
    expect(received).toEqual([]);
    await round();
    expect(received.map((r) => r.path).sort()).toEqual(['/hook', '/pd', '/slack']);
    const hook = received.find((r) => r.path === '/hook')!;
    const body = JSON.parse(hook.body) as Record<string, unknown>;
    expect(body).toMatchObject({ state: 'ALERT', previous: 'OK', value: 12.5, threshold: 5, test: false, monitor: { id: 'checkout-errors', service: 'checkout', env: 'prod', metric: 'error_rate' } });
    expect(body['summary']).toBe('[ALERT] Checkout errors: error rate 12.5% (above 5%) over 5m on checkout prod');
    // The window that alerted (the round before `now` moved on a minute).
    const at = now - 60_000;
    expect(body['url']).toBe(`https://tracing.example.com/services/checkout?start=${at - 300_000}&end=${at}&env=prod`);
    expect(hook.headers['x-ecs-trace-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(hook.body).digest('hex')}`);
    expect(hook.headers['x-team']).toBe('payments');
    const slack = JSON.parse(received.find((r) => r.path === '/slack')!.body) as { text: string };
    expect(slack.text).toMatch(/^:red_circle: \*\[ALERT\] Checkout errors: error rate 12\.5% \(above 5%\) over 5m on checkout prod\*\nwas OK, since 2026-12-07 21:01:00 UTC · <https:\/\/tracing\.example\.com\/services\/checkout\?[^|]+\|open in ecs-trace>$/);
    expect(JSON.parse(received.find((r) => r.path === '/pd')!.body)).toMatchObject({ routing_key: 'R0UT1NG', event_action: 'trigger', dedup_key: 'ecs-trace:checkout-errors', payload: { severity: 'critical', source: 'ecs-trace', component: 'checkout' } });
    // Still alerting: nothing more until the hour of renotify has passed.
    received.length = 0;
    await round();
    expect(received).toEqual([]);
    now += 3_600_000;
    await round();
    expect(received.map((r) => r.path).sort()).toEqual(['/hook', '/pd', '/slack']);
    // Recovered: PagerDuty resolves the same incident.
    received.length = 0;
    await round();
    expect(JSON.parse(received.find((r) => r.path === '/pd')!.body)).toEqual({ routing_key: 'R0UT1NG', event_action: 'resolve', dedup_key: 'ecs-trace:checkout-errors' });
    const st = runner.statuses()[0]!;
    // Its first state (at start, not told), the alert and the recovery.
    expect(st.history.map((e) => [e.from, e.to, e.value, e.notified])).toEqual([['ALERT', 'OK', 0.5, true], ['OK', 'ALERT', 12.5, true], [undefined, 'OK', 1, false]]);
    expect(st.history[1]!.sent.map((s) => s.ok)).toEqual([true, true, true]);
    await runner.close();
  });

  it('retries a channel that fails with backoff, and records one that never takes it', async () => {
    received.length = 0;
    failures.set('/hook', 1);
    failures.set('/slack', 5);
    const values = [10];
    const runner = new MonitorRunner({ file: file(), log: createLogger('silent'), read: async () => ({ value: values[0], requests: 10 }), retryDelays: [10, 10] });
    await runner.evaluateAll();
    await runner.settle();
    const sent = runner.statuses()[0]!.history[0]!.sent;
    expect(sent.find((s) => s.channel === 'hook')).toEqual({ channel: 'hook', ok: true, attempts: 2 });
    expect(sent.find((s) => s.channel === 'slack')).toEqual({ channel: 'slack', ok: false, attempts: 3, error: 'HTTP 500' });
    failures.clear();
    await runner.close();
  });

  it('sends a test to every channel of a monitor on asking, marked as a test', async () => {
    received.length = 0;
    const runner = new MonitorRunner({ file: file(), log: createLogger('silent'), read: async () => ({ value: 1, requests: 10 }) });
    expect((await runner.test('checkout-errors'))!.map((r) => [r.channel, r.ok])).toEqual([['hook', true], ['slack', true], ['pager', true]]);
    expect(JSON.parse(received.find((r) => r.path === '/hook')!.body)).toMatchObject({ test: true, summary: expect.stringMatching(/^\[TEST\] \[ALERT\] Checkout errors/) });
    expect(JSON.parse(received.find((r) => r.path === '/pd')!.body)).toMatchObject({ dedup_key: 'ecs-trace:checkout-errors:test', event_action: 'trigger' });
    expect(await runner.test('nope')).toBeUndefined();
    await runner.close();
  });
});

describe('monitors notifying an SNS topic', () => {
  it('publish through the real AWS SDK (its credentials and endpoint), the state and monitor as attributes', async () => {
    const published: Record<string, string>[] = [];
    const sns = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        published.push({ ...Object.fromEntries(new URLSearchParams(body)), authorization: req.headers.authorization ?? '' });
        res.setHeader('Content-Type', 'text/xml');
        res.end('<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>5a7e0000-0000-4000-8000-000000000001</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>');
      });
    });
    await new Promise<void>((r) => sns.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(sns.address() as AddressInfo).port}`, AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'secret-test-key' });
    try {
      const f = parseMonitors(`
channels: [{ name: topic, kind: sns, topic_arn: "arn:aws:sns:eu-west-1:123456789012:oncall" }]
monitors: [{ id: shop-errors, name: Shop errors, service: shop, metric: error_rate, critical: 5, notify: [topic] }]
`);
      const runner = new MonitorRunner({ file: f, log: createLogger('silent'), read: async () => ({ value: 12, requests: 100 }) });
      await runner.evaluateAll();
      await runner.settle();
      expect(runner.statuses()[0]!.history[0]!.sent).toEqual([{ channel: 'topic', ok: true, attempts: 1 }]);
      expect(published).toHaveLength(1);
      const p = published[0]!;
      expect(p).toMatchObject({ Action: 'Publish', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall', Subject: '[ALERT] Shop errors: error rate 12% (above 5%) over 5m on shop',
        'MessageAttributes.entry.1.Name': 'state', 'MessageAttributes.entry.1.Value.StringValue': 'ALERT', 'MessageAttributes.entry.2.Name': 'monitor', 'MessageAttributes.entry.2.Value.StringValue': 'shop-errors' });
      expect(p['Message']).toMatch(/^\[ALERT\] Shop errors: .*\nwas OK, since /);
      // Signed as AWS signs it: the key id and the region of the topic.
      expect(p['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\/\d{8}\/eu-west-1\/sns\/aws4_request/);
      await runner.close();
    } finally {
      process.env = saved;
      sns.close();
    }
  });

  it('refuses a topic that is not an SNS ARN, naming the field', () => {
    expect(() => parseMonitors('channels: [{ name: t, kind: sns, topic_arn: "oncall" }]')).toThrow(/^channels\[0\]\.topic_arn: "oncall" is not an SNS topic ARN/);
  });
});

describe('monitors notifying by e-mail', () => {
  it('send one message a transition through the SMTP server, as nodemailer speaks it', async () => {
    const { SMTPServer } = await import('smtp-server');
    const mails: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: false, disabledCommands: ['STARTTLS'], logger: false,
      onAuth: (auth, _session, cb) => (auth.username === 'alerts' && auth.password === 'pw' ? cb(null, { user: 'alerts' }) : cb(new Error('bad credentials'))),
      onData: (stream, session, cb) => {
        let data = '';
        stream.on('data', (d: Buffer) => { data += d.toString(); });
        stream.on('end', () => {
          mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    try {
      const f = parseMonitors(`
channels: [{ name: mail, kind: email, smtp_url: "\${SMTP_URL}", from: "ecs-trace@example.com", to: [oncall@example.com, lead@example.com] }]
monitors: [{ id: shop-errors, name: Shop errors, service: shop, metric: error_rate, critical: 5, notify: [mail] }]
`, 'monitors.yaml', { SMTP_URL: `smtp://alerts:pw@127.0.0.1:${port}` });
      const runner = new MonitorRunner({ file: f, log: createLogger('silent'), read: async () => ({ value: 12, requests: 100 }), retryDelays: [10] });
      await runner.evaluateAll();
      await runner.settle();
      expect(runner.statuses()[0]!.history[0]!.sent).toEqual([{ channel: 'mail', ok: true, attempts: 1 }]);
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ from: 'ecs-trace@example.com', to: ['oncall@example.com', 'lead@example.com'] });
      expect(mails[0]!.data).toMatch(/^Subject: \[ALERT\] Shop errors: error rate 12% \(above 5%\) over 5m on shop\r?$/m);
      expect(mails[0]!.data).toMatch(/^X-Ecs-Trace-State: ALERT\r?$/m);
      // Wrong credentials: the server's refusal, after its retries.
      const bad = parseMonitors(`channels: [{ name: mail, kind: email, smtp_url: "smtp://alerts:nope@127.0.0.1:${port}", from: "a@example.com", to: [b@example.com] }]
monitors: [{ id: m, service: shop, metric: error_rate, critical: 5, notify: [mail] }]`);
      const refused = new MonitorRunner({ file: bad, log: createLogger('silent'), read: async () => ({ value: 12, requests: 100 }), retryDelays: [10] });
      await refused.evaluateAll();
      await refused.settle();
      expect(refused.statuses()[0]!.history[0]!.sent).toEqual([expect.objectContaining({ channel: 'mail', ok: false, attempts: 2, error: expect.stringMatching(/Invalid login|bad credentials|535/) })]);
      await runner.close();
      await refused.close();
    } finally {
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });
});

describe('monitors across a restart', () => {
  it('take up the states the store kept: an alert still on when the process starts again is not told twice', async () => {
    received.length = 0;
    const kept: { monitor: string; at: bigint; event: string }[] = [];
    const events = {
      save: async (monitor: string, at: bigint, event: string) => {
        const i = kept.findIndex((e) => e.monitor === monitor && e.at === at);
        if (i >= 0) kept.splice(i, 1);
        kept.unshift({ monitor, at, event });
      },
      recent: async (limit: number) => [...kept].sort((a, b) => (b.at > a.at ? 1 : -1)).slice(0, limit),
    };
    const first = new MonitorRunner({ file: file(), log: createLogger('silent'), events, read: async () => ({ value: 12, requests: 100 }), retryDelays: [10] });
    await first.evaluateAll();
    await first.settle();
    await first.close();
    expect(received.map((r) => r.path).sort()).toEqual(['/hook', '/pd', '/slack']);
    // The store has the change, and how each channel took it.
    expect(JSON.parse(kept[0]!.event)).toMatchObject({ from: null, to: 'ALERT', value: 12, notified: true, sent: expect.arrayContaining([expect.objectContaining({ channel: 'hook', ok: true })]) });
    received.length = 0;
    const again = new MonitorRunner({ file: file(), log: createLogger('silent'), events, read: async () => ({ value: 12, requests: 100 }), retryDelays: [10] });
    await again.evaluateAll();
    await again.settle();
    expect(received).toEqual([]);
    expect(again.statuses()[0]).toMatchObject({ state: 'ALERT' });
    expect(again.statuses()[0]!.history.map((h) => h.to)).toEqual(['ALERT']);
    await again.close();
  });
});
