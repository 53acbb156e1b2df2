import type { Rng } from './rng';
import { between } from './rng';

/**
 * How the cabinet's mobile link behaves. `good` is a wired office; `weak` is a basement pantry on 2G: sends
 * and acks get lost, everything is late, and the link drops now and then for a while.
 */
export interface LinkProfile {
  readonly name: string;
  /** Chance a device→service send never arrives. */
  readonly dropSend: number;
  /** Chance the service got the send but its ack never comes back (the device will send it again). */
  readonly dropAck: number;
  /** Extra delay before a send leaves, uniform in [min, max] ms. */
  readonly delayMs: readonly [number, number];
  /** Mean time between link drops (exponential); 0 for never. */
  readonly meanUptimeMs: number;
  /** How long a drop lasts, uniform in [min, max] ms. */
  readonly outageMs: readonly [number, number];
  /** What the modem reports as signal strength, uniform in [min, max] dBm. */
  readonly signalDbm: readonly [number, number];
}

export const GOOD_LINK: LinkProfile = { name: 'good', dropSend: 0, dropAck: 0, delayMs: [0, 0], meanUptimeMs: 0, outageMs: [0, 0], signalDbm: [-75, -60] };

export const WEAK_LINK: LinkProfile = {
  name: 'weak',
  dropSend: 0.15,
  dropAck: 0.1,
  delayMs: [50, 1500],
  meanUptimeMs: 60_000,
  outageMs: [2_000, 15_000],
  signalDbm: [-113, -100],
};

export type SendFate = { fate: 'lost' } | { fate: 'sent'; delayMs: number; ackLost: boolean };

/** Decides what happens to one send. Pure apart from the injected Rng. */
export function sendFate(p: LinkProfile, r: Rng): SendFate {
  if (p.dropSend > 0 && r() < p.dropSend) return { fate: 'lost' };
  const delayMs = p.delayMs[1] > 0 ? Math.round(between(r, p.delayMs[0], p.delayMs[1])) : 0;
  return { fate: 'sent', delayMs, ackLost: p.dropAck > 0 && r() < p.dropAck };
}

/** Time until the next link drop, or undefined when the profile never drops. */
export function nextDropIn(p: LinkProfile, r: Rng): number | undefined {
  if (p.meanUptimeMs <= 0) return undefined;
  return Math.max(1000, Math.round(-Math.log(1 - r()) * p.meanUptimeMs));
}

export const outageLength = (p: LinkProfile, r: Rng): number => Math.round(between(r, p.outageMs[0], p.outageMs[1]));
export const signalReading = (p: LinkProfile, r: Rng): number => Math.round(between(r, p.signalDbm[0], p.signalDbm[1]));
