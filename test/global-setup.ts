import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb } from '../store/ferretdb';

/**
 * One FerretDB for the whole run, on its own port and directory; each test file works in a database of its
 * own (see test/db.ts). Workers inherit TEST_MONGODB_URI from this process.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cabinet-fleet-test-db-'));
  const db = await startFerretDb({ dataDir: dir });
  process.env.TEST_MONGODB_URI = db.uri;
  process.env.TEST_FERRETDB_DIR = dir;
  (globalThis as { __FERRETDB__?: typeof db }).__FERRETDB__ = db;
}
