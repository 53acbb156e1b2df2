import type { SimCabinetSpec } from '../simulator/cabinet';
import type { FleetCounters } from '../simulator/stats';

/** Messages between the benchmark's processes (Node IPC, JSON). */

export interface ClientStart {
  type: 'start';
  url: string;
  cabinets: SimCabinetSpec[];
  statusIntervalMs: number;
  connectRate: number;
  maxConnecting: number;
  ackTimeoutMs: number;
  seed: number;
}

export type ToClients = ClientStart | { type: 'report' } | { type: 'stop' };

export interface ClientProgress {
  type: 'progress';
  online: number;
  total: number;
  refused: number;
  connectErrors: number;
}

export interface ClientReport {
  type: 'report';
  counters: FleetCounters;
  /** Status ack round-trips seen by this process's cabinets, ms (a sample when there were very many). */
  statusRtt: { count: number; samples: number[] };
  memory: NodeJS.MemoryUsage;
  online: number;
}

export type FromClients = ClientProgress | ClientReport;

export interface MemoryFigures {
  heapUsed: number;
  rss: number;
  external: number;
}

export interface RowResult {
  row: 'bare' | 'service';
  count: number;
  online: number;
  connectMs: number;
  before: MemoryFigures;
  after: MemoryFigures;
  /** Per connection, in bytes: (after − before) / online. */
  perConnection: MemoryFigures;
  unlock: { count: number; ok: number; failures: Record<string, number>; p50: number; p90: number; p99: number; max: number };
  statusRtt: { count: number; p50: number; p99: number };
  statusAcked: number;
  statusSent: number;
  eventLoopDelay: { p50: number; p99: number; max: number };
  clientRssPerConnection: number;
  /** Highest RSS of the server process during the unlock phase (bytes), without forced collections. */
  peakRssUnderLoad: number;
  notes: string[];
}
