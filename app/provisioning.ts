import { z } from 'zod';
import { AppError } from '../common/errors';
import { newDeviceSecret, type SecretBox } from '../common/sealing';
import { CabinetSpec, Lane, type FlowKind } from '../contracts/domain';
import type { Models } from '../store/models';
import { isDuplicateKey } from '../store/connection';
import { DEMO_FLEET } from '../contracts/demo-data';

/** A provisioning request: the cabinet's identity, flow kind, site and cameras; lanes default to a demo planogram. */
export const ProvisionRequest = CabinetSpec.extend({ lanes: z.array(Lane).max(200).optional() });
export type ProvisionRequest = z.infer<typeof ProvisionRequest>;

export interface Provisioned {
  cabinet: { cabinetId: string; name: string; kind: FlowKind; siteId: string; cameras: string[]; lanes: Lane[] };
  /** Shown once; stored only sealed. */
  secret: string;
}

const defaultLanes = (kind: ProvisionRequest['kind']): Lane[] => (DEMO_FLEET.find((c) => c.kind === kind) ?? DEMO_FLEET[0]!).lanes;

/** Registers a cabinet and returns its device secret once. DUPLICATE if the id exists. */
export async function provisionCabinet(models: Models, box: SecretBox, req: ProvisionRequest, actor: { id: string; role: string }, now: Date): Promise<Provisioned> {
  const spec = ProvisionRequest.parse(req);
  const secret = newDeviceSecret();
  const lanes = spec.lanes ?? defaultLanes(spec.kind);
  try {
    await models.Cabinet.create({ ...spec, lanes, secret: box.seal(secret, `cabinet:${spec.cabinetId}`), disabled: false });
  } catch (e) {
    if (isDuplicateKey(e)) throw new AppError('DUPLICATE', `cabinet ${spec.cabinetId} is already registered`);
    throw e;
  }
  const cabinet = { cabinetId: spec.cabinetId, name: spec.name, kind: spec.kind, siteId: spec.siteId, cameras: spec.cameras, lanes };
  await models.Audit.create({ at: now, actorId: actor.id, actorRole: actor.role, action: 'cabinet.provision', objectType: 'cabinet', objectId: spec.cabinetId, siteId: spec.siteId, before: null, after: cabinet });
  return { cabinet, secret };
}
