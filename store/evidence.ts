import type { Models } from './models';
import { NaturalKeys } from './natural-keys';
import { frameId, type FrameDoc, type VisitDoc } from './models/visit';

/** What a frame listing shows (no JPEG). */
export type FrameRef = Pick<FrameDoc, 'camera' | 'seq' | 'phase'>;

/**
 * Visits and their frames by point reads. On FerretDB v1 any filter other than an exact `_id` reads and
 * decodes the whole collection (for frames, JPEGs included), so a visit is read by its `_id` (the visit id)
 * and its frames never by `visitId`: the visit says how many each camera sent (upload.done, or what was
 * received) and each frame is read by its `_id` (frameId). Documents stored before that keying have
 * ObjectIds and are found by their fields; whether any exist is asked once per instance (a scan).
 */
export class VisitEvidence {
  private readonly keys = new NaturalKeys();

  constructor(private readonly m: Pick<Models, 'Visit' | 'Frame'>) {}

  hasLegacyVisits(): Promise<boolean> {
    return this.keys.hasObjectIds(this.m.Visit);
  }

  findVisit<T = VisitDoc>(visitId: string, projection?: Record<string, 1>): Promise<T | null> {
    return this.keys.findOne<VisitDoc, T>(this.m.Visit, visitId, { visitId }, projection);
  }

  /** One frame, or null when it is not stored. */
  findFrame<T = FrameDoc>(visitId: string, camera: string, seq: number, projection?: Record<string, 1>): Promise<T | null> {
    return this.keys.findOne<FrameDoc, T>(this.m.Frame, frameId(visitId, camera, seq), { visitId, camera, seq }, projection);
  }

  /** The stored frames (with their JPEGs) among seq 0…n−1 of each camera in `counts`, camera then seq order. */
  loadFrames(visitId: string, counts: Record<string, number>): Promise<FrameDoc[]> {
    return this.collect<FrameDoc>(visitId, counts, undefined);
  }

  /** Camera, seq and phase of the stored frames among seq 0…n−1 of each camera in `counts`, at most `limit`. */
  listFrames(visitId: string, counts: Record<string, number>, limit?: number): Promise<FrameRef[]> {
    return this.collect<FrameRef>(visitId, counts, limit, { camera: 1, seq: 1, phase: 1 });
  }

  private async collect<T>(visitId: string, counts: Record<string, number>, limit: number | undefined, projection?: Record<string, 1>): Promise<T[]> {
    const wanted = Object.keys(counts)
      .sort()
      .flatMap((camera) => Array.from({ length: Math.max(0, counts[camera] ?? 0) }, (_, seq) => ({ camera, seq })))
      .slice(0, limit ?? Infinity);
    const rows = await Promise.all(wanted.map((w) => this.findFrame<T>(visitId, w.camera, w.seq, projection)));
    return rows.filter((r): r is Awaited<T> & NonNullable<T> => r !== null);
  }
}
