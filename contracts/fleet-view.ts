import type { FleetCounts, FleetFilter, FleetRow, FleetSort } from './console-api';

/**
 * How the console reads a fleet row, in one place for the read API, the live feed and the page: what counts
 * as a fault, as in use, as stale; which rows a filter keeps; how a sort orders them.
 */

/** A cabinet is in fault when its phase says so or its device refuses unlocks with DOOR_FAULT. */
export const isFault = (r: Pick<FleetRow, 'state' | 'doorFault'>): boolean => r.state === 'fault' || r.doorFault === true;

/** In use means a visit holds an online cabinet; an offline cabinet's last known visit is not a shopper now. */
export const inUse = (r: Pick<FleetRow, 'online' | 'visitId'>): boolean => r.online && r.visitId !== undefined;

/** Door, lock and temperature of an offline cabinet are what it said last, not what it is: shown as stale. */
export const isStale = (r: Pick<FleetRow, 'online'>): boolean => !r.online;

export function emptyCounts(): FleetCounts {
  return { total: 0, online: 0, offline: 0, inVisit: 0, alarms: 0, fault: 0, restocking: 0 };
}

export function addToCounts(c: FleetCounts, r: FleetRow): void {
  c.total++;
  if (r.online) c.online++;
  else c.offline++;
  if (inUse(r)) c.inVisit++;
  if (r.alarms.length) c.alarms++;
  if (isFault(r)) c.fault++;
  if (r.state === 'restocking') c.restocking++;
}

export function countsOf(rows: Iterable<FleetRow>): FleetCounts {
  const c = emptyCounts();
  for (const r of rows) addToCounts(c, r);
  return c;
}

/** Offline for at least `minutes` (a cabinet never seen since the service started counts from its last-seen time, or always). */
export function offlineLongerThan(r: Pick<FleetRow, 'online' | 'offlineSince' | 'lastSeenAt'>, minutes: number, now: number): boolean {
  if (r.online) return false;
  const since = r.offlineSince ?? r.lastSeenAt;
  return since === undefined || now - since >= minutes * 60_000;
}

/** The state filter's 'fault' also keeps door faults, so the Fault tile and the filter agree. */
export function matchesFilter(r: FleetRow, f: FleetFilter, now = 0): boolean {
  return (
    (f.offlineForMin === undefined || offlineLongerThan(r, f.offlineForMin, now)) &&
    (f.siteId === undefined || r.siteId === f.siteId) &&
    (f.kind === undefined || r.kind === f.kind) &&
    (f.state === undefined || (f.state === 'fault' ? isFault(r) : f.state === 'inVisit' ? inUse(r) : f.state === 'online' ? r.online : r.state === f.state)) &&
    (f.q === undefined || f.q === '' || r.cabinetId.toLowerCase().startsWith(f.q.toLowerCase())) &&
    (!f.alarmsOnly || r.alarms.length > 0)
  );
}

const byId = (a: FleetRow, b: FleetRow): number => (a.cabinetId < b.cabinetId ? -1 : a.cabinetId > b.cabinetId ? 1 : 0);
/** Undefined values sort last whichever the direction. */
const num = (a: number | undefined, b: number | undefined, dir: 1 | -1): number => (a === b ? 0 : a === undefined ? 1 : b === undefined ? -1 : (a - b) * dir);
const STATE_RANK: Record<string, number> = { fault: 0, offline: 1, open: 2, unlocking: 3, awaiting_upload: 4, restocking: 5, idle: 6 };

/** A comparator for a sort; ties always fall back to cabinet id so a window of rows is stable. */
export function fleetComparator(sort: FleetSort | undefined, desc = false): (a: FleetRow, b: FleetRow) => number {
  const dir = desc ? -1 : 1;
  const key = ((): ((a: FleetRow, b: FleetRow) => number) => {
    switch (sort ?? 'id') {
      case 'id':
        return (a, b) => byId(a, b) * dir;
      case 'site':
        return (a, b) => (a.siteId === b.siteId ? 0 : a.siteId < b.siteId ? -dir : dir);
      // Most alarms first by default: the question is "which cabinets need me".
      case 'alarms':
        return (a, b) => (b.alarms.length - a.alarms.length) * dir || (isFault(b) ? 1 : 0) - (isFault(a) ? 1 : 0);
      case 'state':
        return (a, b) => ((STATE_RANK[isFault(a) ? 'fault' : a.state] ?? 9) - (STATE_RANK[isFault(b) ? 'fault' : b.state] ?? 9)) * dir;
      case 'lastSeen':
        return (a, b) => num(a.lastSeenAt, b.lastSeenAt, dir);
      case 'temp':
        return (a, b) => num(a.temperatureC, b.temperatureC, dir);
      case 'mailbox':
        return (a, b) => (a.mailbox - b.mailbox) * dir;
    }
  })();
  return (a, b) => key(a, b) || byId(a, b);
}
