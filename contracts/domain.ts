import { z } from 'zod';

/**
 * Domain vocabulary shared by the service, the simulator, the web admin and the mini-program.
 * Money is always integer fen (1 yuan = 100 fen).
 */
export const FlowKind = z.enum(['open', 'semi', 'auto']);
export type FlowKind = z.infer<typeof FlowKind>;

export const Packaging = z.enum(['can', 'bottle', 'bag', 'box']);
export type Packaging = z.infer<typeof Packaging>;

export const Fen = z.number().int().nonnegative();

/** A reviewed visit netted: paid (net of refunds), the decided value, and the difference billed (> 0) or refunded (< 0). */
export const Netting = z.object({ paidFen: Fen, decidedFen: Fen, differenceFen: z.number().int(), againstOrderId: z.string().optional() });

export const CabinetId = z.string().regex(/^[A-Za-z0-9_-]{3,40}$/, 'cabinet id: 3–40 letters, digits, _ or -');
export const SiteId = z.string().regex(/^[a-z0-9-]{2,40}$/, 'site id: 2–40 lowercase letters, digits or -');
export const Sku = z.string().regex(/^[A-Z0-9-]{3,32}$/, 'sku: 3–32 uppercase letters, digits or -');
export const CameraId = z.string().regex(/^[a-z0-9_-]{1,16}$/, 'camera id: 1–16 lowercase letters, digits, _ or -');
export const LaneId = z.string().regex(/^[A-Z][0-9]{1,2}$/, 'lane id: a letter and one or two digits, e.g. A1');

export const ProductSpec = z.object({
  sku: Sku,
  name: z.string().min(1),
  nameEn: z.string().min(1),
  brand: z.string().min(1),
  flavour: z.string().min(1),
  packaging: Packaging,
  priceFen: Fen,
  /** Base colour of the package as #rrggbb; look-alike flavours of one brand share it. */
  colour: z.string().regex(/^#[0-9a-f]{6}$/),
  /** Accent colour that tells flavours of one brand apart. */
  accent: z.string().regex(/^#[0-9a-f]{6}$/),
});
export type ProductSpec = z.infer<typeof ProductSpec>;

export const Lane = z.object({
  laneId: LaneId,
  sku: Sku,
  capacity: z.number().int().min(1).max(50),
  count: z.number().int().min(0).max(50),
  /** Restock at or below this count (contracts/restock.ts); 30 % of capacity when left out. */
  par: z.number().int().min(0).max(50).optional(),
});
export type Lane = z.infer<typeof Lane>;

export const CabinetSpec = z.object({
  cabinetId: CabinetId,
  name: z.string().min(1),
  kind: FlowKind,
  siteId: SiteId,
  cameras: z.array(CameraId).max(8),
  lanes: z.array(Lane),
});
export type CabinetSpec = z.infer<typeof CabinetSpec>;
