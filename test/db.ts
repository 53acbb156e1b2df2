import { randomBytes } from 'node:crypto';
import { connectDatabase, type DbConnection } from '../store/connection';
import { createModels, ensureIndexes, type Models } from '../store/models';

export interface TestDb {
  conn: DbConnection;
  models: Models;
  uri: string;
  name: string;
  /** Drops the database and closes the connection. */
  close(): Promise<void>;
}

/** A fresh database of its own on the run's FerretDB (test/global-setup.ts), with every index in place. */
export async function openTestDb(prefix = 't'): Promise<TestDb> {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is unset: run tests through jest (test/global-setup.ts starts FerretDB)');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const conn = await connectDatabase(uri, name);
  const models = createModels(conn);
  await ensureIndexes(models);
  return {
    conn,
    models,
    uri,
    name,
    async close() {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    },
  };
}
