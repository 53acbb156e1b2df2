import { z } from 'zod';
import { Fen, Packaging, SiteId, Sku } from './domain';

/**
 * The catalogue in the operator API: products (SKU, names, brand family, list price in fen, barcode,
 * status) and their price schedule (contracts/pricing.ts: changes from a time, for every site or one).
 * Reads need fleet.view; changes need catalogue.edit and are audited.
 */
export const ProductStatus = z.enum(['active', 'delisted']);
export type ProductStatus = z.infer<typeof ProductStatus>;

const Colour = z.string().regex(/^#[0-9a-f]{6}$/, 'a colour as #rrggbb');
const Barcode = z.string().regex(/^\d{8,14}$/, 'barcode: 8–14 digits (EAN-8, UPC, EAN-13, GTIN-14)');

export const PriceChangeRow = z.object({ priceFen: Fen.nullable(), from: z.number().int(), siteId: SiteId.optional(), setBy: z.string(), setAt: z.number().int() });

export const ProductRow = z.object({
  sku: Sku,
  name: z.string(),
  nameEn: z.string(),
  brand: z.string(),
  flavour: z.string(),
  packaging: Packaging,
  barcode: z.string().optional(),
  status: ProductStatus,
  /** The list price (before any scheduled change). */
  priceFen: Fen,
  /** The price for every site now, and the next change to come (if any). */
  priceNowFen: Fen,
  nextChange: PriceChangeRow.optional(),
  prices: z.array(PriceChangeRow),
  colour: z.string(),
  accent: z.string(),
  version: z.number().int(),
});
export type ProductRow = z.infer<typeof ProductRow>;

export const ProductsQuery = z.object({
  /** Part of the SKU, a name or the brand (case-insensitive). */
  q: z.string().max(40).optional(),
  status: ProductStatus.optional(),
});
export type ProductsQuery = z.infer<typeof ProductsQuery>;
export const ProductsResponse = z.object({ products: z.array(ProductRow) });
export type ProductsResponse = z.infer<typeof ProductsResponse>;

export const CreateProductRequest = z
  .object({
    sku: Sku,
    name: z.string().min(1).max(40),
    nameEn: z.string().min(1).max(60),
    brand: z.string().min(1).max(30),
    flavour: z.string().min(1).max(30),
    packaging: Packaging,
    priceFen: Fen.min(1).max(1_000_000),
    barcode: Barcode.optional(),
    /** The package's base and accent colours (what the recogniser's enrolment shots are drawn with); grey and white by default. */
    colour: Colour.default('#808080'),
    accent: Colour.default('#ffffff'),
  })
  .strict();
export type CreateProductRequest = z.input<typeof CreateProductRequest>;

export const UpdateProductRequest = z
  .object({
    name: z.string().min(1).max(40),
    nameEn: z.string().min(1).max(60),
    brand: z.string().min(1).max(30),
    flavour: z.string().min(1).max(30),
    barcode: Barcode.nullable(),
    status: ProductStatus,
    /** The version read: a change made meanwhile by someone else is refused (CONFLICT), not overwritten. */
    version: z.number().int().min(0),
  })
  .partial()
  .required({ version: true })
  .strict();
export type UpdateProductRequest = z.infer<typeof UpdateProductRequest>;

export const SchedulePriceRequest = z
  .object({
    /** The new price; null ends a site's override (only with `siteId`). */
    priceFen: Fen.min(1).max(1_000_000).nullable(),
    /** Epoch ms it applies from; now when left out. Not in the past (a visit already priced stays priced). */
    from: z.number().int().optional(),
    /** One site's override; every site when left out. */
    siteId: SiteId.optional(),
  })
  .strict()
  .refine((r) => r.priceFen !== null || r.siteId !== undefined, { message: 'priceFen null ends a site override: name the siteId', path: ['priceFen'] });
export type SchedulePriceRequest = z.infer<typeof SchedulePriceRequest>;

// ---- enrolment: product photos into the recogniser's gallery (app/enrolment.service.ts) ----

/** Most photos one enrolment takes, and the most bytes of one photo. */
export const MAX_ENROL_PHOTOS = 12;
export const MAX_PHOTO_BYTES = 1_500_000;

export const EnrolRequest = z
  .object({
    /** Photos of the product standing as a cabinet's camera sees it, one item each (JPEG, PNG or WebP). */
    photos: z
      .array(
        z
          .object({
            contentType: z.enum(['image/jpeg', 'image/png', 'image/webp']),
            dataBase64: z.string().min(16).max(Math.ceil((MAX_PHOTO_BYTES * 4) / 3) + 4).regex(/^[A-Za-z0-9+/]+=*$/, 'base64'),
          })
          .strict(),
      )
      .min(3)
      .max(MAX_ENROL_PHOTOS),
  })
  .strict();
export type EnrolRequest = z.infer<typeof EnrolRequest>;

export const EnrolmentRow = z.object({
  sku: Sku,
  modelVersion: z.string(),
  photoIds: z.array(z.string()),
  /** How far the enrolment sits from its nearest other product, against the model's separation. */
  gap: z.number(),
  separation: z.number(),
  /** Closer to another product than the model separates: expect its visits held for review more often. */
  lookAlike: z.boolean(),
  nearest: z.array(z.object({ sku: Sku, similarity: z.number() })),
  enrolledBy: z.string(),
  enrolledAt: z.number().int(),
});
export type EnrolmentRow = z.infer<typeof EnrolmentRow>;

export const EnrolmentsResponse = z.object({
  modelVersion: z.string(),
  separation: z.number(),
  /** SKUs the model was shipped with prototypes for (no photos needed). */
  shipped: z.array(Sku),
  enrolments: z.array(EnrolmentRow),
});
export type EnrolmentsResponse = z.infer<typeof EnrolmentsResponse>;
