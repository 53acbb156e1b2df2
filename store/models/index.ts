import type { Connection } from 'mongoose';
import { catalogueModels } from './catalogue';
import { commerceModels } from './commerce';
import { journalModels } from './journal';
import { operatorModels } from './operator';
import { oversightModels } from './oversight';
import { peopleModels } from './people';
import { enrolmentModels } from './enrolment';
import { planogramModels } from './planogram';
import { restockModels } from './restock';
import { sessionModels } from './session';
import { siteModels } from './sites';
import { visitModels } from './visit';

export type Models = ReturnType<typeof createModels>;

/** Binds every model to one connection. */
export function createModels(conn: Connection) {
  return {
    ...catalogueModels(conn),
    ...peopleModels(conn),
    ...visitModels(conn),
    ...sessionModels(conn),
    ...commerceModels(conn),
    ...oversightModels(conn),
    ...operatorModels(conn),
    ...journalModels(conn),
    ...siteModels(conn),
    ...restockModels(conn),
    ...planogramModels(conn),
    ...enrolmentModels(conn),
  };
}

/**
 * Creates every collection and index declared on the schemas. Called at start-up (autoIndex is off) so a
 * missing unique index can never silently allow duplicates.
 */
export async function ensureIndexes(models: Models): Promise<void> {
  for (const model of Object.values(models)) {
    await model.createCollection().catch((e: { codeName?: string; code?: number }) => {
      if (e.codeName !== 'NamespaceExists' && e.code !== 48) throw e;
    });
    await model.createIndexes();
  }
}
