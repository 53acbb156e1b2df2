import mongoose from 'mongoose';
import { createGrouped, inWriteLane } from './cas';
import type { Models } from './models';

const { EJSON } = mongoose.mongo.BSON;

interface PersistedEventIn {
  key: string;
  sequenceNumber: number;
  data: unknown;
  tags: string[];
  createdAt: number;
}

/**
 * nact persistence engine on mongoose (duck-typed: the store never imports nact). Events are stored as EJSON
 * text so any message shape survives FerretDB's rules on field names. The unique (key, sequenceNumber) index
 * makes a second live owner of one key fail on its first write instead of forking the history.
 */
export class MongooseJournal {
  constructor(private readonly models: Pick<Models, 'JournalEvent' | 'JournalSnapshot'>) {}

  async persist(e: PersistedEventIn): Promise<void> {
    // Group commit with other actors' events; a duplicate (key, sequenceNumber) still fails only this one.
    await createGrouped(this.models.JournalEvent, {
      key: e.key,
      sequenceNumber: e.sequenceNumber,
      data: EJSON.stringify(e.data, { relaxed: false }),
      tags: e.tags,
      createdAt: new Date(e.createdAt),
    });
  }

  async takeSnapshot(s: { key: string; sequenceNumber: number; data: unknown; createdAt: number }): Promise<void> {
    await inWriteLane(this.models.JournalSnapshot.db, () =>
      this.models.JournalSnapshot.updateOne(
        { key: s.key, sequenceNumber: s.sequenceNumber },
        { $setOnInsert: { data: EJSON.stringify(s.data, { relaxed: false }), createdAt: new Date(s.createdAt) } },
        { upsert: true },
      ),
    );
  }

  async latestSnapshot(key: string): Promise<{ key: string; sequenceNumber: number; data: unknown } | undefined> {
    const row = await this.models.JournalSnapshot.findOne({ key }).sort({ sequenceNumber: -1 }).lean();
    return row ? { key, sequenceNumber: row.sequenceNumber, data: EJSON.parse(row.data as string) } : undefined;
  }

  events(key: string, offset: number, limit?: number, tags?: string[]) {
    const load = async () => {
      const q = this.models.JournalEvent.find({ key, sequenceNumber: { $gt: offset }, ...(tags?.length ? { tags: { $all: tags } } : {}) }).sort({ sequenceNumber: 1 });
      if (limit) q.limit(limit);
      const rows = await q.lean();
      return rows.map((r) => ({ key, sequenceNumber: r.sequenceNumber, data: EJSON.parse(r.data as string), isDeleted: false }));
    };
    return {
      reduce<T>(f: (acc: T, e: { key: string; sequenceNumber: number; data: unknown; isDeleted: boolean }, i: number) => T, init: T): Promise<T> {
        return load().then((rows) => rows.reduce(f, init));
      },
    };
  }

  /** Events of one key, oldest first (for tests and tools). */
  async count(key: string): Promise<number> {
    return this.models.JournalEvent.countDocuments({ key });
  }
}
