import type { Rng } from './rng';

/**
 * A fridge cabinet's temperature: a noisy walk around its set point, plus an optional steady drift (a failing
 * compressor). The alarm fires once when the reading crosses `alarmAboveC` and re-arms below it.
 */
export interface FridgeOptions {
  setPointC: number;
  /** Steady drift in °C per minute (0: healthy). */
  driftCPerMin: number;
  noiseC: number;
  alarmAboveC: number;
}

export const DEFAULT_FRIDGE: FridgeOptions = { setPointC: 4, driftCPerMin: 0, noiseC: 0.15, alarmAboveC: 8 };

export interface FridgeState {
  readonly tempC: number;
  readonly alarmed: boolean;
}

export function stepFridge(s: FridgeState, o: FridgeOptions, dtMs: number, r: Rng): { state: FridgeState; alarm: boolean } {
  const pull = o.driftCPerMin === 0 ? (o.setPointC - s.tempC) * 0.2 : 0; // a healthy compressor pulls back to the set point
  const t = s.tempC + pull + (o.driftCPerMin * dtMs) / 60_000 + (r() * 2 - 1) * o.noiseC;
  const tempC = Math.round(t * 10) / 10;
  const over = tempC > o.alarmAboveC;
  return { state: { tempC, alarmed: over }, alarm: over && !s.alarmed };
}
