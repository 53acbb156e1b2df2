import type { ProductSpec } from '../../contracts/domain';
import { DEMO_CATALOGUE } from '../../contracts/demo-data';

/**
 * SKUs the model never sees in training: one look-alike flavour from six families. They are recognised only
 * through enrolment shots, which is how a new SKU joins the catalogue.
 */
export const HELD_OUT_SKUS: readonly string[] = ['COLA-LEMON', 'TEA-JASMINE', 'CHIP-CUKE', 'MILK-STRAW', 'COFF-MOCHA', 'GUM-BERRY'];

export const TRAIN_PRODUCTS: ProductSpec[] = DEMO_CATALOGUE.filter((p) => !HELD_OUT_SKUS.includes(p.sku));

/** Disjoint seed ranges: training scenes, validation (threshold tuning) and test (reported figures). */
export const SEED_BASE = { train: 1_000_000, validation: 2_000_000, test: 3_000_000, enrol: 4_000_000 } as const;

/** Labels beyond the SKUs. */
export const EMPTY = '_EMPTY';
export const OCCLUDED = '_OCCLUDED';
