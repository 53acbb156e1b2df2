import { rmSync } from 'node:fs';
import type { FerretDbHandle } from '../store/ferretdb';

export default async function globalTeardown(): Promise<void> {
  const db = (globalThis as { __FERRETDB__?: FerretDbHandle }).__FERRETDB__;
  await db?.stop();
  if (process.env.TEST_FERRETDB_DIR) rmSync(process.env.TEST_FERRETDB_DIR, { recursive: true, force: true });
}
