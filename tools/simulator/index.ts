/**
 * The cabinet simulator: N cabinets speaking protocol v1 (contracts/cabinet-protocol.ts) against the service
 * or any server of that shape. Used by the CLI (simulator.cli.ts), tests and the fleet benchmark.
 *
 * - `SimCabinet`: one cabinet — handshake, status, unlock/door/frames/upload, alarms, weak link.
 * - `SimFleet`: many cabinets with shared counters and progress, ramped up at a steady rate.
 * - `simSpecs` / `provision` / `demoCabinets`: where cabinets and their secrets come from.
 * - Pure parts: `decide` (door machine), `Outbox` (store-and-forward), link profiles, shoppers, fridge model.
 */
export { SimCabinet, type CabinetOptions, type LinkState, type SimCabinetSpec, type SimEvent } from './cabinet';
export { SimFleet, demoCabinets, isFridge, kindFor, provision, readAdminToken, readSecrets, simSpecs, withSecrets, writeSecrets, type FleetOptions, type ProvisionResult } from './fleet';
export { decide, doorStatus, initialDevice, type DeviceEffect, type DeviceInput, type DeviceSettings, type DeviceState, type Fault } from './device.machine';
export { Outbox, classifyAck, DEFAULT_OUTBOX, type OutboxItem } from './outbox';
export { GOOD_LINK, WEAK_LINK, type LinkProfile } from './link';
export { noShopper, randomShopper, scriptedShopper, Shelf, DEFAULT_SHOPPER, type Shopper, type ShopperPlan, type LaneTake } from './shelf';
export { placeholderFrames, visionFrames, type FrameContext, type FrameSource } from './frames';
export { PLACEHOLDER_JPEG, jpegComments, solidGreyJpeg, withComment } from './jpeg';
export { DEFAULT_FRIDGE, type FridgeOptions } from './thermal';
export { Samples, newCounters, type FleetCounters } from './stats';
export { seededRng, hashSeed, type Rng } from './rng';
