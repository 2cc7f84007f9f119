import type { Logger } from '../runtime/index.js';
import type { Channel, Monitor, MonitorsFile } from './definition.js';
import { nextState, notifies, thresholdOf, type MonitorState, type Reading } from './evaluate.js';
import { deliver, type SendResult, type Transition } from './notify.js';

/*
 * The monitors evaluated every round (30 s by default): each reads its window, takes its next
 * state, and a change of state is recorded (with the value that caused it) and told to its
 * channels once; a monitor that stays in ALERT is told again after its renotify interval, never
 * more often. Notifications go out in the background: a slow channel delays no evaluation.
 */

export interface MonitorEvent {
  /** ms since the epoch. */
  at: number;
  /** undefined: the monitor's first state, at start. */
  from: MonitorState | undefined;
  to: MonitorState;
  value: number | undefined;
  threshold: number | undefined;
  /** Whether it was told (notifies() says which are, unless the monitor is muted); how each channel took it (filled in as the sends end). */
  notified: boolean;
  /** Not told because the monitor was muted. */
  muted?: boolean;
  sent: SendResult[];
}

export interface MonitorStatus {
  monitor: Monitor;
  /** Where it is defined: the monitors file (read-only here), or the UI and API (kept by the store). */
  source: 'file' | 'ui';
  /** undefined until its first evaluation. */
  state: MonitorState | undefined;
  value: number | undefined;
  requests: number;
  /** ms since the epoch: when it entered its state, and when it was last evaluated. */
  since: number;
  evaluatedAt: number | undefined;
  /** What went wrong reading it, if the last round could not. */
  problem?: string;
  /** Another process of the shared store evaluates it (this one's state is its own last, if it ever led). */
  elsewhere?: boolean;
  /** ms since the epoch: muted until then (its changes recorded, nothing sent). */
  mutedUntil?: number;
  /** Transitions, newest first (the last 100, since this process started). */
  history: MonitorEvent[];
}

export interface RunnerOptions {
  file: MonitorsFile;
  read: (m: Monitor, now: number) => Promise<Reading>;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
  /** Backoff between tries of a send (tests shorten it). */
  retryDelays?: readonly number[];
  /**
   * With a shared store, whether this process is the one that evaluates (a lease one holds at a
   * time): the others read nothing and send nothing, so N replicas notify once.
   */
  leader?: () => Promise<boolean>;
  /** The mutes people set (the store's, shared by every replica), read every round. */
  mutes?: () => Promise<{ monitor: string; until: bigint }[]>;
  /** The monitors made in the UI or the API (the store's), read every round. */
  saved?: () => Promise<Monitor[]>;
  /**
   * Where changes of state are kept (the store): the evaluating process writes them; every other
   * reads them, and one that starts or takes over continues from them (an alert still on is not
   * told again).
   */
  events?: { save(monitor: string, at: bigint, event: string): Promise<void>; recent(limit: number): Promise<{ monitor: string; at: bigint; event: string }[]> };
}

/** What the store keeps of a change of state. */
interface StoredEvent { from: MonitorState | null; to: MonitorState; value: number | null; threshold: number | null; notified: boolean; muted?: boolean; sent: SendResult[] }

const HISTORY = 100;

export class MonitorRunner {
  private readonly status = new Map<string, MonitorStatus>();
  private readonly channels: Map<string, Channel>;
  private readonly lastNotified = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private readonly sending = new Set<Promise<unknown>>();
  /** Whether this process evaluated the last round (it took up the stored states when it began to). */
  private leading = false;

  constructor(private readonly o: RunnerOptions) {
    this.channels = new Map(o.file.channels.map((c) => [c.name, c]));
    const now = (o.now ?? Date.now)();
    for (const m of o.file.monitors) this.status.set(m.id, { monitor: m, source: 'file', state: undefined, value: undefined, requests: 0, since: now, evaluatedAt: undefined, history: [] });
  }

  start(): void {
    this.timer = setInterval(() => { this.round = this.round.then(() => this.evaluateAll()); }, this.o.intervalMs ?? 30_000);
    this.timer.unref();
    this.round = this.evaluateAll();
  }

  /** One round over every monitor; each reads on its own, one that fails says why and keeps its state. */
  async evaluateAll(): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    await this.readSaved(now);
    // No monitor at all: nothing to lead (a shared store's lease is asked for only when there is).
    if (this.status.size === 0) return;
    const leads = this.o.leader ? await this.o.leader() : true;
    await this.readMutes(now);
    if (!leads) {
      // Another process evaluates: its states, as it keeps them in the store.
      this.leading = false;
      await this.loadEvents(true);
      return;
    }
    if (!this.leading) {
      // Starting, or taking over: from the states the store has, so an alert still on is not told again.
      await this.loadEvents(false);
      this.leading = true;
    }
    await Promise.all([...this.status.values()].map(async (st) => {
      let r: Reading;
      try {
        r = await this.o.read(st.monitor, now);
      } catch (err) {
        st.problem = (err as Error).message;
        st.evaluatedAt = now;
        return;
      }
      delete st.problem;
      delete st.elsewhere;
      st.evaluatedAt = now;
      st.value = r.value;
      st.requests = r.requests;
      const to = nextState(st.monitor, r, st.state ?? 'OK');
      const muted = st.mutedUntil !== undefined && st.mutedUntil > now;
      if (to !== st.state) {
        const notified = !muted && notifies(st.monitor, st.state, to);
        const event: MonitorEvent = { at: now, from: st.state, to, value: r.value, threshold: thresholdOf(st.monitor, to), notified, ...(muted ? { muted: true } : {}), sent: [] };
        st.history.unshift(event);
        st.history.length = Math.min(st.history.length, HISTORY);
        this.keep(st.monitor.id, event);
        this.o.log.info({ monitor: st.monitor.id, from: st.state, to, value: r.value }, 'monitor changed state');
        st.state = to;
        st.since = now;
        if (notified) this.notify(st.monitor, { monitor: st.monitor, from: event.from ?? 'OK', to, value: r.value, threshold: event.threshold, at: now }, event);
      } else if (!muted && to === 'ALERT' && st.monitor.renotifyMs > 0 && now - (this.lastNotified.get(st.monitor.id) ?? st.since) >= st.monitor.renotifyMs) {
        this.notify(st.monitor, { monitor: st.monitor, from: to, to, value: r.value, threshold: thresholdOf(st.monitor, to), at: now }, undefined);
      }
    }));
  }

  /**
   * The monitors made in the UI or the API, as the store has them now: a new one starts with no
   * state, a changed one keeps its state and history, a deleted one goes.
   */
  async readSaved(now = (this.o.now ?? Date.now)()): Promise<void> {
    if (!this.o.saved) return;
    let saved: Monitor[];
    try {
      saved = await this.o.saved();
    } catch {
      return;
    }
    const ids = new Set(saved.map((m) => m.id));
    for (const [id, st] of this.status) if (st.source === 'ui' && !ids.has(id)) this.status.delete(id);
    for (const m of saved) {
      const st = this.status.get(m.id);
      if (st?.source === 'file') continue;
      if (st) st.monitor = m;
      else this.status.set(m.id, { monitor: m, source: 'ui', state: undefined, value: undefined, requests: 0, since: now, evaluatedAt: undefined, history: [] });
    }
  }

  /** The channels monitors may notify: the monitors file's. */
  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** A change of state to the store (again once its sends are done); one the store cannot take is logged, not fatal. */
  private keep(monitor: string, e: MonitorEvent): void {
    if (!this.o.events) return;
    const stored: StoredEvent = { from: e.from ?? null, to: e.to, value: e.value ?? null, threshold: e.threshold ?? null, notified: e.notified, ...(e.muted ? { muted: true } : {}), sent: e.sent };
    this.o.events.save(monitor, BigInt(e.at) * 1_000_000n, JSON.stringify(stored)).catch((err: unknown) => {
      this.o.log.warn({ monitor, err: (err as Error).message }, 'cannot keep a monitor\'s change of state');
    });
  }

  /** The monitors' states and histories as the store has them; `elsewhere`: another process evaluates them. */
  private async loadEvents(elsewhere: boolean): Promise<void> {
    if (!this.o.events) {
      if (elsewhere) for (const st of this.status.values()) Object.assign(st, { elsewhere: true, state: undefined, value: undefined, requests: 0, evaluatedAt: undefined });
      return;
    }
    let rows: { monitor: string; at: bigint; event: string }[];
    try {
      rows = await this.o.events.recent(HISTORY * Math.max(1, this.status.size));
    } catch {
      return;
    }
    const by = new Map<string, MonitorEvent[]>();
    for (const r of rows) {
      const e = JSON.parse(r.event) as StoredEvent;
      const list = by.get(r.monitor) ?? [];
      if (list.length < HISTORY) list.push({ at: Number(r.at / 1_000_000n), from: e.from ?? undefined, to: e.to, value: e.value ?? undefined, threshold: e.threshold ?? undefined, notified: e.notified, ...(e.muted ? { muted: true } : {}), sent: e.sent });
      by.set(r.monitor, list);
    }
    for (const st of this.status.values()) {
      const history = by.get(st.monitor.id) ?? [];
      const last = history[0];
      Object.assign(st, { history, state: last?.to, since: last?.at ?? st.since, ...(elsewhere ? { value: last?.value, requests: 0, evaluatedAt: undefined } : {}) });
      if (elsewhere) st.elsewhere = true;
      else delete st.elsewhere;
    }
  }

  /** The store's mutes, onto the monitors they name; one the store cannot give keeps the last known. */
  private async readMutes(now: number): Promise<void> {
    if (!this.o.mutes) return;
    let mutes: { monitor: string; until: bigint }[];
    try {
      mutes = await this.o.mutes();
    } catch {
      return;
    }
    const until = new Map(mutes.map((x) => [x.monitor, Number(x.until / 1_000_000n)]));
    for (const st of this.status.values()) {
      const u = until.get(st.monitor.id);
      if (u !== undefined && u > now) st.mutedUntil = u;
      else delete st.mutedUntil;
    }
  }

  /** A mute just set here (the store has it for the others): seen at once, not at the next round. */
  muted(id: string, untilMs: number | null): boolean {
    const st = this.status.get(id);
    if (!st) return false;
    if (untilMs === null) delete st.mutedUntil;
    else st.mutedUntil = untilMs;
    return true;
  }

  private notify(m: Monitor, t: Transition, event: MonitorEvent | undefined): void {
    this.lastNotified.set(m.id, t.at);
    for (const name of m.notify) {
      const c = this.channels.get(name)!;
      const p = deliver(c, t, this.o.file.uiUrl, this.o.retryDelays).then((r) => {
        event?.sent.push(r);
        if (event && event.sent.length === m.notify.length) this.keep(m.id, event);
        if (!r.ok) this.o.log.warn({ monitor: m.id, channel: c.name, attempts: r.attempts, error: r.error }, 'monitor notification not delivered');
      });
      this.sending.add(p);
      void p.finally(() => this.sending.delete(p));
    }
  }

  /** A test notification of a monitor to each of its channels, as it would be sent now; resolves with how each took it. */
  async test(id: string): Promise<SendResult[] | undefined> {
    const st = this.status.get(id);
    if (!st) return undefined;
    const t: Transition = { monitor: st.monitor, from: 'OK', to: st.state === undefined || st.state === 'OK' || st.state === 'NO DATA' ? 'ALERT' : st.state, value: st.value, threshold: thresholdOf(st.monitor, 'ALERT'), at: (this.o.now ?? Date.now)(), test: true };
    return Promise.all(st.monitor.notify.map((name) => {
      const c = this.channels.get(name)!;
      return deliver(c, t, this.o.file.uiUrl, []);
    }));
  }

  statuses(): MonitorStatus[] {
    return [...this.status.values()];
  }

  /** Waits for the round under way and the notifications in flight (tests, and a clean stop). */
  async settle(): Promise<void> {
    await this.round;
    await Promise.all([...this.sending]);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.settle();
  }
}

