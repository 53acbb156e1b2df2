import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cancel, Clock } from '../../common/clock';
import type { CabinetSpec, FlowKind } from '../../contracts/domain';
import { DEMO_FLEET } from '../../contracts/demo-data';
import { SimCabinet, type CabinetOptions, type SimCabinetSpec, type SimEvent } from './cabinet';
import { hashSeed, seededRng, type Rng } from './rng';
import { randomShopper, type Shopper } from './shelf';
import { Samples, newCounters, type FleetCounters } from './stats';
import { DEFAULT_FRIDGE, type FridgeOptions } from './thermal';

// ---- the simulated fleet's cabinets ----

export interface SimSpecOptions {
  /** Id prefix: `SIM` gives SIM-00001, SIM-00002, … */
  prefix?: string;
  /** First number (1-based). */
  from?: number;
  /** Cabinets per site: sim-site-1 holds the first `perSite`. */
  perSite?: number;
}

/** 2 in 10 open shelves, 3 semi-automatic, 5 fully automatic — the mix of a fleet mid-replacement. */
export function kindFor(i: number): FlowKind {
  const r = i % 10;
  return r < 2 ? 'open' : r < 5 ? 'semi' : 'auto';
}

/**
 * Registration payloads for a simulated fleet: ids `SIM-00001…`, kinds mixed, sites of `perSite`, cameras
 * and planogram from the demo cabinet of the same kind (full lanes).
 */
export function simSpecs(count: number, o: SimSpecOptions = {}): CabinetSpec[] {
  const prefix = o.prefix ?? 'SIM';
  const from = o.from ?? 1;
  const perSite = o.perSite ?? 100;
  const byKind = new Map<FlowKind, CabinetSpec[]>();
  for (const c of DEMO_FLEET) byKind.set(c.kind, [...(byKind.get(c.kind) ?? []), c]);
  const out: CabinetSpec[] = [];
  for (let n = from; n < from + count; n++) {
    const kind = kindFor(n);
    const models = byKind.get(kind) ?? [];
    const model = models[n % Math.max(1, models.length)] as CabinetSpec;
    out.push({
      cabinetId: `${prefix}-${String(n).padStart(5, '0')}`,
      name: `Simulated ${kind} cabinet ${n}`,
      kind,
      siteId: `sim-site-${Math.floor((n - 1) / perSite) + 1}`,
      cameras: [...model.cameras],
      lanes: model.lanes.map((l) => ({ ...l, count: l.capacity })),
    });
  }
  return out;
}

/** Fully automatic cabinets hold drinks and are fridges here. */
export const isFridge = (spec: Pick<CabinetSpec, 'kind'>): boolean => spec.kind === 'auto';

export function withSecrets(specs: readonly CabinetSpec[], secrets: Readonly<Record<string, string>>, fridge: FridgeOptions = DEFAULT_FRIDGE): SimCabinetSpec[] {
  const out: SimCabinetSpec[] = [];
  for (const s of specs) {
    const secret = secrets[s.cabinetId];
    if (!secret) continue;
    out.push({ cabinetId: s.cabinetId, secret, kind: s.kind, cameras: s.cameras, lanes: s.lanes, ...(isFridge(s) ? { fridge } : {}) });
  }
  return out;
}

// ---- provisioning over the service's admin API ----

export interface ProvisionResult {
  secrets: Record<string, string>;
  /** Cabinets the service refused, by id: `DUPLICATE` means it exists and its secret is not known here. */
  errors: Record<string, { code: string; message: string }>;
}

export interface ProvisionOptions {
  url: string;
  adminToken: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Registers cabinets through `POST /admin/cabinets/batch` (at most 1000 a call). */
export async function provision(specs: readonly CabinetSpec[], o: ProvisionOptions): Promise<ProvisionResult> {
  const size = Math.min(1000, o.batchSize ?? 1000);
  const result: ProvisionResult = { secrets: {}, errors: {} };
  for (let i = 0; i < specs.length; i += size) {
    const batch = specs.slice(i, i + size);
    const res = await fetch(`${o.url}/admin/cabinets/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.adminToken}` },
      body: JSON.stringify({ cabinets: batch }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /admin/cabinets/batch answered ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { results?: Array<{ cabinetId: string; secret?: string; error?: { code: string; message: string } }> };
    for (const r of body.results ?? []) {
      if (r.secret) result.secrets[r.cabinetId] = r.secret;
      else result.errors[r.cabinetId] = r.error ?? { code: 'UNKNOWN', message: 'no secret and no error' };
    }
    o.onProgress?.(Math.min(specs.length, i + size), specs.length);
  }
  return result;
}

/** The admin token as the service finds it: ADMIN_TOKEN, else `<dataDir>/admin.token`. */
export function readAdminToken(dataDir: string, fromEnv: string | undefined): string | undefined {
  if (fromEnv) return fromEnv;
  const file = join(dataDir, 'admin.token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** `{cabinetId: secret}` from a JSON file (the service's demo-cabinets.json, or the simulator's own). */
export function readSecrets(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof raw !== 'object' || raw === null) throw new Error(`${file}: expected {cabinetId: secret}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function writeSecrets(file: string, secrets: Record<string, string>): void {
  writeFileSync(file, JSON.stringify(secrets, null, 1) + '\n', { mode: 0o600 });
}

/** The demo fleet with the secrets `npm start` wrote into `<dataDir>/demo-cabinets.json`. */
export function demoCabinets(dataDir: string): SimCabinetSpec[] {
  return withSecrets(DEMO_FLEET, readSecrets(join(dataDir, 'demo-cabinets.json')));
}

// ---- running many cabinets ----

export interface FleetOptions extends Omit<CabinetOptions, 'rng' | 'counters' | 'shopper' | 'statusRtt'> {
  seed?: number;
  /** The shopper behind each cabinet's unlocks; default: a seeded random shopper per cabinet. */
  shopperFor?: (cabinetId: string, rng: Rng) => Shopper;
  /** Per-cabinet overrides (a few cabinets in fault mode, say). */
  tweak?: (spec: SimCabinetSpec, index: number) => Partial<CabinetOptions>;
  /** Connections opened per second while ramping up (0: all at once). */
  connectRate?: number;
  /**
   * At most this many first connections in progress at once while ramping up (default 200): on a busy machine
   * a burst of handshakes outlasts socket.io's 20 s connect timeout, and the retries make it worse.
   */
  maxConnecting?: number;
}

/** N simulated cabinets with shared counters, ramped up at a steady rate. */
export class SimFleet {
  readonly counters: FleetCounters = newCounters();
  readonly statusRtt = new Samples(100_000);
  readonly cabinets = new Map<string, SimCabinet>();
  private ramp: Cancel | undefined;
  private started = 0;
  private listeners: Array<(e: SimEvent) => void> = [];

  constructor(
    readonly specs: readonly SimCabinetSpec[],
    private readonly o: FleetOptions,
  ) {
    const seed = o.seed ?? 1;
    specs.forEach((spec, i) => {
      const rng = seededRng(hashSeed(spec.cabinetId, seed));
      const cab = new SimCabinet(spec, {
        ...o,
        ...o.tweak?.(spec, i),
        rng,
        counters: this.counters,
        statusRtt: this.statusRtt,
        shopper: o.shopperFor ? o.shopperFor(spec.cabinetId, rng) : randomShopper(rng),
        onEvent: (e) => {
          o.onEvent?.(e);
          for (const l of this.listeners) l(e);
        },
      });
      this.cabinets.set(spec.cabinetId, cab);
    });
  }

  get clock(): Clock {
    return this.o.clock;
  }

  /** Starts connecting; resolves once every cabinet has started (not necessarily connected). */
  start(): Promise<void> {
    const all = [...this.cabinets.values()];
    const rate = this.o.connectRate ?? 500;
    if (rate <= 0) {
      for (const c of all) c.start();
      this.started = all.length;
      return Promise.resolve();
    }
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const maxConnecting = this.o.maxConnecting ?? 200;
    return new Promise((resolve) => {
      const tick = (): void => {
        const firstConnects = this.counters.connects - this.counters.reconnects;
        const inProgress = this.started - firstConnects - this.refusedCount();
        const room = Math.min(perTick, maxConnecting - inProgress);
        for (let k = 0; k < room && this.started < all.length; k++) (all[this.started++] as SimCabinet).start();
        if (this.started >= all.length) {
          this.ramp = undefined;
          resolve();
        } else this.ramp = this.o.clock.schedule(tickMs, tick);
      };
      tick();
    });
  }

  /** Subscribes to every cabinet's events; returns the unsubscribe function. */
  on(listener: (e: SimEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  get(cabinetId: string): SimCabinet | undefined {
    return this.cabinets.get(cabinetId);
  }

  onlineCount(): number {
    let n = 0;
    for (const c of this.cabinets.values()) if (c.online) n++;
    return n;
  }

  refusedCount(): number {
    let n = 0;
    for (const c of this.cabinets.values()) if (c.state === 'refused') n++;
    return n;
  }

  pendingItems(): number {
    let n = 0;
    for (const c of this.cabinets.values()) n += c.pending;
    return n;
  }

  stop(): void {
    this.ramp?.();
    this.ramp = undefined;
    for (const c of this.cabinets.values()) c.stop();
  }

  /** One line for progress output. */
  progressLine(): string {
    const c = this.counters;
    const fmt = (m: Record<string, number>): string =>
      Object.entries(m)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ') || '0';
    const ms = (v: number): string => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));
    return [
      `online ${this.onlineCount()}/${this.cabinets.size}`,
      `refused ${fmt(c.refused)}`,
      `drops ${c.linkDrops} reconnects ${c.reconnects}`,
      `status ok ${c.statusAcked}/${c.statusSent} (rtt p50 ${ms(this.statusRtt.percentile(50))} p99 ${ms(this.statusRtt.percentile(99))} ms)`,
      `unlocks ${c.unlocks} refused ${fmt(c.unlockRefused)}`,
      `doors opened ${c.doorsOpened} closed ${c.closed} relocked ${c.relocked} forced ${c.forcedOpen}`,
      `uploads ${c.visitsUploaded}`,
      `sent ${c.outbox.sent} resent ${c.outbox.resent} rejected ${fmt(c.rejected)}`,
      `pending ${this.pendingItems()}`,
      `alarms ${fmt(c.alarms)}`,
    ].join(' · ');
  }
}
