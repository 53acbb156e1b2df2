import { z } from 'zod';
import { ADMIN_PREFIX, Principal, Role } from './admin-api';
import type { AlarmKind as DeviceAlarmKind } from './cabinet-protocol';
import { CabinetId, FlowKind, SiteId } from './domain';

/**
 * The operator console (web-admin) API: sign-in, accounts, read views and the live feed. Paths are under
 * ADMIN_PREFIX; every route and every live event is checked against the caller's role and sites on the
 * server (another site's objects read as not found). The page imports these types; the service validates
 * with the same schemas.
 */
export { ADMIN_PREFIX };

// ---- accounts and sessions ----

export const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, 'lower-case letters, digits, . _ - (2–32)');
/** Long enough to resist guessing; no composition rules (NIST 800-63B). */
export const Password = z.string().min(10).max(200);

export const LoginRequest = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) });
export const LoginResponse = z.object({ token: z.string(), expiresAt: z.number().int(), principal: Principal });
export type LoginResponse = z.infer<typeof LoginResponse>;

export const Account = z.object({
  username: z.string(),
  name: z.string(),
  role: Role,
  sites: z.union([z.literal('*'), z.array(SiteId)]),
  disabled: z.boolean(),
  createdAt: z.number().int(),
  createdBy: z.string(),
  lastLoginAt: z.number().int().optional(),
});
export type Account = z.infer<typeof Account>;

export const CreateAccountRequest = z.object({
  username: Username,
  name: z.string().min(1).max(64),
  role: Role,
  sites: z.union([z.literal('*'), z.array(SiteId).min(1).max(100)]),
  password: Password,
});
export type CreateAccountRequest = z.infer<typeof CreateAccountRequest>;

// ---- read views ----

export const CabinetState = z.enum(['offline', 'idle', 'unlocking', 'open', 'awaiting_upload', 'restocking', 'fault']);
export type CabinetState = z.infer<typeof CabinetState>;

/** One fleet row as the console shows it (the cabinet actor's live view plus its mailbox depth). */
export interface FleetRow {
  cabinetId: string;
  kind: z.infer<typeof FlowKind>;
  siteId: string;
  state: CabinetState;
  online: boolean;
  lastSeenAt?: number;
  offlineSince?: number;
  door?: 'open' | 'closed' | 'absent';
  locked?: boolean;
  temperatureC?: number;
  visitId?: string;
  alarms: string[];
  firmware?: string;
  mailbox: number;
  /** The device refused its last unlock with DOOR_FAULT: counted and filtered as a fault. */
  doorFault?: boolean;
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  inVisit: number;
  alarms: number;
  fault: number;
  restocking: number;
}

/** Columns the fleet list sorts by (contracts/fleet-view.ts fleetComparator); ties by cabinet id. */
export const FleetSort = z.enum(['id', 'site', 'state', 'alarms', 'lastSeen', 'temp', 'mailbox']);
export type FleetSort = z.infer<typeof FleetSort>;

/** A state filter: a cabinet state, 'online', or 'inVisit' (a visit holds an online cabinet); 'fault' includes door faults. */
export const FleetStateFilter = z.union([CabinetState, z.literal('inVisit'), z.literal('online')]);

export const FleetFilter = z.object({
  siteId: SiteId.optional(),
  kind: FlowKind.optional(),
  state: FleetStateFilter.optional(),
  /** Cabinet id prefix. */
  q: z.string().max(40).optional(),
  alarmsOnly: z.boolean().optional(),
  /** Offline for at least this many minutes (the home view's "offline longer than N minutes"). */
  offlineForMin: z.number().int().min(1).max(100_000).optional(),
  sort: FleetSort.optional(),
  desc: z.boolean().optional(),
});
export type FleetFilter = z.infer<typeof FleetFilter>;

export const FleetQuery = z.object({
  siteId: SiteId.optional(),
  kind: FlowKind.optional(),
  state: FleetStateFilter.optional(),
  q: z.string().max(40).optional(),
  alarmsOnly: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  offlineForMin: z.coerce.number().int().min(1).max(100_000).optional(),
  sort: FleetSort.optional(),
  desc: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface FleetPage {
  counts: FleetCounts;
  /** Rows matching the filter (in scope); `rows` is the requested window of them, in the filter's sort. */
  total: number;
  rows: FleetRow[];
  sites: string[];
}

export interface TimelineEntry {
  at: number;
  kind: 'alarm_raised' | 'alarm_cleared' | 'visit_requested' | 'door_opened' | 'door_closed' | 'visit_complete' | 'visit_relocked' | 'unlock_failed' | 'last_seen';
  detail?: string;
  visitId?: string;
}

export interface VisitRow {
  visitId: string;
  cabinetId: string;
  siteId: string;
  purpose: 'shopping' | 'restock';
  status: string;
  /** Masked shopper reference (never a phone number). */
  shopperRef?: string;
  operatorId?: string;
  requestedAt: number;
  openedAt?: number;
  closedAt?: number;
  completedAt?: number;
  expectedFrames?: Record<string, number>;
  receivedFrames: Record<string, number>;
  recognition?: { status: string; confidence: number; items: Array<{ sku: string; qty: number; confidence: number }>; at: number };
  /** Frame references (fetched from OPERATOR_ROUTES.frame when the role may see evidence). */
  frames?: Array<{ camera: string; seq: number; phase: string }>;
}

export interface CabinetDetail {
  cabinet: { cabinetId: string; name: string; kind: string; siteId: string; cameras: string[]; disabled: boolean; firmware?: string; lastSeenAt?: number };
  live: FleetRow | undefined;
  planogram: Array<{ laneId: string; sku: string; name?: string; nameEn?: string; capacity: number; count: number }>;
  alarms: Array<{ kind: string; raisedAt: number; clearedAt?: number; detail?: string }>;
  visits: VisitRow[];
  timeline: TimelineEntry[];
}

export interface SessionRow {
  sessionId: string;
  shopperRef: string;
  cabinetId: string;
  siteId: string;
  flow: string;
  status: string;
  finished: boolean;
  visitId?: string;
  orderId?: string;
  totalFen?: number;
  caseId?: string;
  message?: string;
  startedAt: number;
  updatedAt: number;
}

export const ListQuery = z.object({
  siteId: SiteId.optional(),
  cabinetId: CabinetId.optional(),
  /** Records of one visit (orders, sessions) or one order (payments, refunds, debts): the visit page. */
  visitId: z.string().min(1).max(80).optional(),
  orderId: z.string().min(1).max(80).optional(),
  status: z.string().max(40).optional(),
  /** Visits only: shopping or restock. */
  purpose: z.enum(['shopping', 'restock']).optional(),
  /** Cursor: only records strictly older than this (ms); the next page starts at the last row's time. */
  before: z.coerce.number().int().optional(),
  /** Date range on the list's time field: from (inclusive) and to (exclusive), ms. */
  from: z.coerce.number().int().optional(),
  to: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListQuery = z.infer<typeof ListQuery>;

export interface Page<T> {
  rows: T[];
  /** Pass as `before` for the next page; absent on the last page. */
  next?: number;
}

export interface OrderRow {
  orderId: string;
  shopperRef: string;
  cabinetId: string;
  siteId: string;
  visitId?: string;
  flow: string;
  source: string;
  lines: Array<{ sku: string; name: string; qty: number; unitPriceFen: number; amountFen: number }>;
  totalFen: number;
  paidFen: number;
  refundedFen: number;
  status: string;
  createdAt: number;
}

export interface PaymentRow {
  outTradeNo: string;
  orderId: string;
  siteId?: string;
  shopperRef: string;
  channel: string;
  amountFen: number;
  status: string;
  purpose?: string;
  transactionId?: string;
  failureCode?: string;
  createdAt: number;
  settledAt?: number;
}

export interface RefundRow {
  outRefundNo: string;
  orderId: string;
  siteId?: string;
  amountFen: number;
  reason: string;
  status: string;
  /** A failed refund's cause (CLOSED, ABNORMAL, REJECTED); absent on refunds that failed before it was kept. */
  wechatStatus?: string;
  requestedBy: string;
  createdAt: number;
}

export interface DebtRow {
  debtId: string;
  orderId: string;
  siteId?: string;
  shopperRef: string;
  amountFen: number;
  reason: string;
  status: string;
  remindedAt: number[];
  settledAt?: number;
  createdAt: number;
}

export interface ContractRow {
  contractCode: string;
  shopperRef: string;
  /** Masked openid. */
  openidRef: string;
  status: string;
  signedAt?: number;
  terminatedAt?: number;
  terminationReason?: string;
  createdAt: number;
}

export interface ReconciliationRow {
  billDate: string;
  status: string;
  billRows: number;
  localRecords: number;
  diffs: Array<{ kind: string; outTradeNo: string; outRefundNo?: string; ours?: string; theirs?: string }>;
  error?: string;
  createdAt: number;
}

export const AuditQuery = z.object({
  actorId: z.string().max(80).optional(),
  objectType: z.string().max(40).optional(),
  objectId: z.string().max(80).optional(),
  siteId: SiteId.optional(),
  before: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const KpiQuery = z.object({ days: z.coerce.number().int().min(1).max(31).default(7), siteId: SiteId.optional() });

export interface KpiDay {
  day: string;
  visits: number;
  doorOpened: number;
  unlockFailed: number;
  recognised: number;
  recognitionP95Ms?: number;
  reviewCases: number;
  salesFen: number;
  orders: number;
}

export interface Kpis {
  from: number;
  to: number;
  days: number;
  cabinets: number;
  /** Door opened ÷ unlocks granted by the device (relocked visits count as opened-or-not per their record). */
  doorOpenSuccessRate: number | null;
  recognitionP95Ms: number | null;
  onlineRate: number | null;
  salesPerCabinetPerDayFen: number | null;
  reviewShare: number | null;
  stockOuts: number;
  lanes: number;
  daily: KpiDay[];
  /** Online rate sampled by the service every minute while it runs (in memory; empty after a restart). */
  onlineSamples: Array<{ at: number; online: number; total: number }>;
  /** True when a window held more records than one read takes (the figures cover the newest ones). */
  truncated: boolean;
  computedAt: number;
}

// ---- alarm centre ----

/** open: raised, nobody acknowledged; acknowledged: someone is on it; cleared: the condition ended (by itself or fixed). */
/** The device protocol's alarm kinds (that module needs node:crypto, so the page cannot import its values). */
export const AlarmKind = z.enum(['door_forced', 'door_left_open', 'tamper', 'temperature', 'camera_fault']) satisfies z.ZodType<DeviceAlarmKind>;
export type AlarmKind = z.infer<typeof AlarmKind>;
export const AlarmStatus = z.enum(['open', 'acknowledged', 'cleared']);
export type AlarmStatus = z.infer<typeof AlarmStatus>;

export interface AlarmRow {
  alarmId: string;
  cabinetId: string;
  siteId: string;
  kind: AlarmKind;
  status: AlarmStatus;
  raisedAt: number;
  clearedAt?: number;
  detail?: string;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  assignee?: string;
  notes: Array<{ at: number; by: string; text: string }>;
  /** Webhook messages sent about it (the first and each reminder). */
  notified: number;
}

export const AlarmQuery = z.object({
  siteId: SiteId.optional(),
  cabinetId: CabinetId.optional(),
  status: AlarmStatus.optional(),
  kind: AlarmKind.optional(),
  assignee: z.string().max(64).optional(),
  before: z.coerce.number().int().optional(),
  from: z.coerce.number().int().optional(),
  to: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export type AlarmQuery = z.infer<typeof AlarmQuery>;

export interface AlarmCounts {
  open: number;
  acknowledged: number;
}

export const AlarmNoteRequest = z.object({ text: z.string().trim().min(1).max(500) });
export const AlarmAssignRequest = z.object({ assignee: z.string().trim().min(1).max(64).nullable() });

// ---- sites ----

export const WebhookFormat = z.enum(['wecom', 'dingtalk', 'json']);
export const TimeZone = z.string().min(3).max(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Asia/Shanghai');

export const SiteUpsert = z.object({
  name: z.string().trim().min(1).max(80),
  address: z.string().trim().max(200).optional(),
  timeZone: TimeZone.default('Asia/Shanghai'),
  /** null removes the webhook; absent keeps it. */
  webhook: z
    .object({
      url: z.string().url().max(500).refine((u) => /^https?:\/\//.test(u), 'http(s) URL'),
      format: WebhookFormat.default('wecom'),
      remindEveryMin: z.number().int().min(1).max(24 * 60).default(15),
      mention: z.array(z.string().max(40)).max(20).optional(),
    })
    .nullable()
    .optional(),
});
export type SiteUpsert = z.infer<typeof SiteUpsert>;

export interface SiteRow {
  siteId: string;
  name: string;
  address?: string;
  timeZone: string;
  /** Cabinets of the site in the live view, and how many are online. */
  cabinets: number;
  online: number;
  /** The webhook's URL with its key masked (the key is a secret). */
  webhook?: { urlMasked: string; format: z.infer<typeof WebhookFormat>; remindEveryMin: number; mention?: string[] };
  /** False for a site known only from its cabinets (no record yet). */
  recorded: boolean;
}

// ---- home: what needs attention ----

/** Orders that count as sold (today's sales and orders, the KPIs, the list the home view opens): paid, refunds included. */
export const SOLD_ORDER_STATUSES = ['paid', 'partially_refunded', 'refunded'] as const;

export interface Attention {
  /** Today's date (China Standard Time, YYYY-MM-DD): the day `today` counts, for links to the lists. */
  day: string;
  today: { salesFen: number; visits: number; orders: number };
  yesterday: { salesFen: number; visits: number; orders: number };
  /** Open review cases, soonest deadline first (up to 5 shown), and how many are overdue. */
  reviews: { open: number; overdue: number; next: Array<{ caseId: string; cabinetId: string; deadlineAt: number }> };
  debts: { open: number; amountFen: number };
  /** Cabinets offline longer than `offlineMinutes`. */
  offline: { count: number; minutes: number; cabinets: string[] };
  alarms: AlarmCounts;
  /** Lanes at or below `lowStockRatio` of their capacity. */
  lowLanes: { count: number; ratio: number; rows: Array<{ cabinetId: string; laneId: string; sku: string; count: number; capacity: number }> };
  /** Reconciliation differences in the last reports that were not `ok` (merchant-wide; null when not visible). */
  reconciliation: { failedLines: number; reports: number } | null;
  computedAt: number;
}

export const AttentionQuery = z.object({ offlineMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).default(15), siteId: SiteId.optional() });

export const CONSOLE_ROUTES = {
  login: { method: 'POST', path: '/login' },
  logout: { method: 'POST', path: '/logout' },
  me: { method: 'GET', path: '/me' },
  accounts: { method: 'GET', path: '/accounts', permission: 'accounts.manage' },
  createAccount: { method: 'POST', path: '/accounts', permission: 'accounts.manage' },
  setDisabled: { method: 'POST', path: '/accounts/:username/disabled', permission: 'accounts.manage' },
  fleet: { method: 'GET', path: '/fleet', permission: 'fleet.view' },
  cabinet: { method: 'GET', path: '/cabinets/:cabinetId', permission: 'fleet.view' },
  visits: { method: 'GET', path: '/visits', permission: 'fleet.view' },
  visit: { method: 'GET', path: '/visits/:visitId', permission: 'fleet.view' },
  sessions: { method: 'GET', path: '/sessions', permission: 'fleet.view' },
  orders: { method: 'GET', path: '/orders', permission: 'orders.view' },
  payments: { method: 'GET', path: '/payments', permission: 'orders.view' },
  refunds: { method: 'GET', path: '/refunds', permission: 'orders.view' },
  debts: { method: 'GET', path: '/debts', permission: 'orders.view' },
  contracts: { method: 'GET', path: '/contracts', permission: 'orders.view' },
  reconciliation: { method: 'GET', path: '/reconciliation', permission: 'finance.view' },
  audit: { method: 'GET', path: '/audit', permission: 'audit.view' },
  kpis: { method: 'GET', path: '/kpis', permission: 'fleet.view' },
  attention: { method: 'GET', path: '/attention', permission: 'fleet.view' },
  alarms: { method: 'GET', path: '/alarms', permission: 'fleet.view' },
  alarmCounts: { method: 'GET', path: '/alarms/counts', permission: 'fleet.view' },
  /** Acknowledge, assign and note: people who act on a site's cabinets (operators, restockers, admins), within their sites. */
  alarmAck: { method: 'POST', path: '/alarms/:alarmId/ack', permission: 'cabinet.restock' },
  alarmAssign: { method: 'POST', path: '/alarms/:alarmId/assign', permission: 'cabinet.restock' },
  alarmNote: { method: 'POST', path: '/alarms/:alarmId/notes', permission: 'cabinet.restock' },
  sites: { method: 'GET', path: '/sites', permission: 'fleet.view' },
  putSite: { method: 'PUT', path: '/sites/:siteId', permission: 'accounts.manage' },
} as const;

// ---- live feed: socket.io namespace /admin ----

export const ADMIN_NAMESPACE = '/admin';

/** What the page shows, so the server sends only that: a filtered window of the fleet, and one cabinet. */
export const FeedSubscription = z.object({
  filter: FleetFilter.default({}),
  /** Rows [offset, offset + limit) of the filtered list, in the filter's sort (cabinet id by default). */
  offset: z.number().int().min(0).max(1_000_000).default(0),
  limit: z.number().int().min(0).max(500).default(100),
  /** The cabinet open in the detail view: its row and its visits' changes are sent too. */
  cabinetId: CabinetId.optional(),
  /** Visit endings in scope (the visits view). */
  visits: z.boolean().default(false),
  /** Fleet counts and the filtered total (the fleet view's header); off for views that do not show them. */
  counts: z.boolean().default(true),
});
export type FeedSubscription = z.input<typeof FeedSubscription>;

/** Fields of a row that changed; `cabinetId` always present. A field set to null was removed. */
export type RowPatch = { cabinetId: string } & { [K in keyof FleetRow]?: FleetRow[K] | null };

export interface FeedSnapshot {
  /** Increments by one with every message to this socket; a gap means a message was lost: subscribe again. */
  seq: number;
  counts: FleetCounts;
  total: number;
  offset: number;
  rows: FleetRow[];
  cabinet?: FleetRow;
  sites: string[];
}

export interface FeedDelta {
  seq: number;
  /** Present when the counts changed. */
  counts?: FleetCounts;
  total?: number;
  /** Present when the window's membership or order changed: the ids now shown, in order. */
  order?: string[];
  /** New rows in full and changed rows as patches. */
  rows: RowPatch[];
  cabinet?: RowPatch;
  /** Visits that ended (scope-checked), for the cabinet and visits views. */
  visits?: VisitRow[];
}

export interface AdminServerToClient {
  delta: (d: FeedDelta) => void;
  /** The session expired, was revoked or its account disabled; the socket is closed after this. */
  signed_out: (reason: 'session_ended') => void;
}

export interface AdminClientToServer {
  subscribe: (s: FeedSubscription, ack: (r: { ok: true; snapshot: FeedSnapshot } | { ok: false; error: { code: string; message: string } }) => void) => void;
}
