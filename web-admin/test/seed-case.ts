import { openReviewCase } from '../../app/commerce';
import type { startTestService } from '../../test/service-kit';
import { solidGreyJpeg } from '../../tools/simulator/jpeg';

type Svc = Awaited<ReturnType<typeof startTestService>>;

/** Seeds a semi-automatic visit with before/after frames and a discrepancy case on it (recognised 2, paid 1). */
export async function seedCase(svc: Svc, caseId: string, visitId: string, cabinetId: string, siteId: string, shopperId: string, evidence?: unknown): Promise<void> {
  const m = svc.models;
  const now = Date.now();
  await m.Visit.create({ visitId, cabinetId, siteId, purpose: 'shopping', shopperId, status: 'complete', unlockRequestedAt: new Date(now - 60_000), unlockExpiresAt: new Date(now - 50_000), openedAt: new Date(now - 55_000), closedAt: new Date(now - 30_000), completedAt: new Date(now - 29_000), expectedFrames: { top: 2, side: 2 }, receivedFrames: { top: 2, side: 2 } });
  for (const camera of ['top', 'side']) {
    for (const [seq, phase, level] of [[0, 'before', 200], [1, 'after', 120]] as const) {
      const jpeg = solidGreyJpeg(256, 192, level);
      await m.Frame.create({ visitId, camera, seq, phase, ts: new Date(now - 40_000 + seq), jpeg, bytes: jpeg.length });
    }
  }
  const box = (x: number) => ({ x, y: 50, w: 60, h: 80 });
  await openReviewCase(m, {
    caseId,
    visitId,
    cabinetId,
    siteId,
    flow: 'semi',
    shopperId,
    reason: 'discrepancy',
    recognised: [{ sku: 'COLA-ORIG', qty: 2, confidence: 0.97 }],
    paidLines: [{ sku: 'COLA-ORIG', qty: 1 }],
    proposedLines: [{ sku: 'COLA-ORIG', qty: 2 }],
    evidence: evidence ?? {
      slots: [
        { laneId: 'A1', slot: 0, before: 'COLA-ORIG', after: 'empty', confidence: 0.97, views: [{ camera: 'top', box: box(40), diff: 0.8 }, { camera: 'side', box: box(50), diff: 0.7 }] },
        { laneId: 'A1', slot: 1, before: 'COLA-ORIG', after: 'empty', confidence: 0.55, views: [{ camera: 'top', box: box(130), diff: 0.6 }] },
      ],
      lanesChanged: ['A1'],
    },
    deadlineAt: new Date(now + 2 * 3_600_000),
  });
}
