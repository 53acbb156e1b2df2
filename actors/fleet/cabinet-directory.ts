import type { Sealed } from '../../common/sealing';
import type { CabinetRecord, DirectoryRow, FleetStore } from './fleet.ports';

/** Where an entry came from, which tells the fleet where the cabinet's durable facts are to be read. */
export type DirectoryOrigin =
  /** In the start-up listing: its open visit and raised alarms were read in the same start-up pass. */
  | 'listed'
  /** Provisioned by this process after start: it has no visit or alarm yet. */
  | 'registered'
  /** Read by its key on first use (registered elsewhere after start): its facts are read per cabinet. */
  | 'fetched';

interface Entry {
  record: CabinetRecord;
  origin: DirectoryOrigin;
  /** Sealed device secret; dropped once opened. Absent for a cabinet registered here until first needed. */
  sealed?: Sealed;
  /** The opened secret, cached from the first handshake on. */
  opened?: string;
}

/**
 * The fleet's in-memory cabinet directory (cabinetId → record, sealed secret, disabled): loaded in one read
 * at start, kept current by provisioning (`add`) and disabling (`setDisabled`). Handshakes and actor spawns
 * read it instead of the store, because on FerretDB v1 every lookup by anything but `_id` reads the whole
 * collection, and a fleet reconnecting at once would stall the database. A cabinet it does not hold is read
 * by its key (a point read) and then kept.
 */
export class CabinetDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly fetching = new Map<string, Promise<Entry | undefined>>();

  constructor(private readonly store: Pick<FleetStore, 'loadCabinet'>) {}

  /** Replaces the contents with the start-up listing. */
  load(rows: readonly DirectoryRow[]): void {
    this.entries.clear();
    for (const r of rows) this.entries.set(r.cabinetId, { record: recordOf(r), origin: 'listed', sealed: r.secret });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The record held in memory, without any I/O. */
  get(cabinetId: string): CabinetRecord | undefined {
    return this.entries.get(cabinetId)?.record;
  }

  origin(cabinetId: string): DirectoryOrigin | undefined {
    return this.entries.get(cabinetId)?.origin;
  }

  /** The record, read by its key and kept when it is not held yet; undefined for an unknown cabinet. */
  async record(cabinetId: string): Promise<CabinetRecord | undefined> {
    return (this.entries.get(cabinetId) ?? (await this.fetch(cabinetId)))?.record;
  }

  /** A cabinet provisioned by this process (its secret is read on its first handshake). */
  add(record: CabinetRecord): void {
    const known = this.entries.get(record.cabinetId);
    this.entries.set(record.cabinetId, { ...known, record: { ...record }, origin: known?.origin ?? 'registered' });
  }

  /** A planogram version took effect (at a restock unlock): recognition reads these lanes from now on. */
  setPlanogram(cabinetId: string, version: number, lanes: CabinetRecord['lanes']): void {
    const e = this.entries.get(cabinetId);
    if (e) e.record = { ...e.record, planogramVersion: version, lanes: lanes.map((l) => ({ ...l })) };
  }

  setDisabled(cabinetId: string, disabled: boolean): void {
    const e = this.entries.get(cabinetId);
    if (e) e.record = { ...e.record, disabled };
  }

  /**
   * The cabinet's plaintext device secret and whether it is disabled; undefined when unknown. `open` unseals
   * the stored secret; it runs once per cabinet, later handshakes use the cached result.
   */
  async credentials(cabinetId: string, open: (sealed: Sealed) => string): Promise<{ secret: string; disabled: boolean } | undefined> {
    let e = this.entries.get(cabinetId);
    if (!e || (e.opened === undefined && !e.sealed)) e = await this.fetch(cabinetId);
    if (!e) return undefined;
    if (e.opened === undefined) {
      if (!e.sealed) return undefined;
      e.opened = open(e.sealed);
      e.sealed = undefined;
    }
    return { secret: e.opened, disabled: e.record.disabled };
  }

  /** One point read per cabinet however many callers ask at once. */
  private fetch(cabinetId: string): Promise<Entry | undefined> {
    let pending = this.fetching.get(cabinetId);
    if (!pending) {
      pending = this.store
        .loadCabinet(cabinetId)
        .then((row) => {
          if (!row) return undefined;
          const known = this.entries.get(cabinetId);
          // Keep what is already held (a record registered here, a disabled flag set since); add the secret.
          const entry: Entry = known ? { ...known, sealed: known.opened === undefined ? row.secret : undefined } : { record: recordOf(row), origin: 'fetched', sealed: row.secret };
          this.entries.set(cabinetId, entry);
          return entry;
        })
        .finally(() => this.fetching.delete(cabinetId));
      this.fetching.set(cabinetId, pending);
    }
    return pending;
  }
}

function recordOf(r: DirectoryRow): CabinetRecord {
  return { cabinetId: r.cabinetId, name: r.name, kind: r.kind, siteId: r.siteId, disabled: r.disabled, cameras: r.cameras, lanes: r.lanes, planogramVersion: r.planogramVersion ?? 1 };
}
