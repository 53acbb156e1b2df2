/**
 * A fake shopper API for tests, driven by the contract itself: every request is matched against
 * SHOPPER_ROUTES and its body and query validated with the route's zod schemas (a mismatch answers 400 and is
 * recorded in `rejected`), and every answer is parsed with the route's response schema before it is sent, so
 * a test cannot pass on a shape the real service would never produce. Refusals come in the service's order of
 * checks, and their `details` are parsed with the contract's schema for that code (SHOPPER_ERROR_DETAILS), so a
 * reason the service would never send (an upper-case `BUSY`, a made-up word) fails the test that uses it.
 */
import { z } from 'zod';
import { API_PREFIX, ApiError, SHOPPER_ERROR_DETAILS, SHOPPER_ROUTES, type CabinetUnavailableReason, type ShopperRouteName, type ShopperErrorCode, type CabinetResponse, type Debt, type MeResponse, type Order, type VisitResponse, type CatalogueItem, type ContractState, type SessionState } from '../../../contracts/shopper-api';
import type { FlowKind } from '../../../contracts/domain';
import type { RequestFn } from '../utils/api';

export const BASE = 'https://api.test';

export interface FakeCabinet {
  cabinetId: string;
  name: string;
  kind: FlowKind;
  online?: boolean;
  available?: boolean;
  unavailableReason?: CabinetUnavailableReason;
  items?: CatalogueItem[];
}

class Refusal {
  constructor(readonly status: number, readonly code: ShopperErrorCode, readonly message: string, readonly details?: unknown) {}
}

const PAY = { appId: 'wx0123456789abcdef', timeStamp: '1700000000', nonceStr: 'n0nce', package: 'prepay_id=wx123', signType: 'RSA' as const, paySign: 'c2lnbg==' };

export class FakeServer {
  hasPhone = false;
  contract: ContractState = 'none';
  debts: Debt[] = [];
  cabinets = new Map<string, FakeCabinet>();
  orders = new Map<string, Order>();
  visits = new Map<string, VisitResponse>();
  /** Visit states the next GET /visits/:id answers walk through, one per poll. */
  visitScript: SessionState[] = [];
  /** What the next POST /papay/sign leads to once the shopper returns (set by the test). */
  tokenTtlMs = 3_600_000;
  now = 1_700_000_000_000;
  calls: { name: ShopperRouteName; body?: unknown; query?: Record<string, string>; params: Record<string, string> }[] = [];
  rejected: { name: ShopperRouteName; issues: string }[] = [];
  /** WeChat's code when a papay debt deduction is refused (with an active contract), e.g. NOTENOUGH. */
  papayRefusal: string | undefined = undefined;
  /** Fail the next N requests at the transport level (weak signal). */
  dropNext = 0;
  private seq = 0;
  private tokens = new Set<string>();

  addCabinet(c: FakeCabinet): this {
    this.cabinets.set(c.cabinetId, c);
    return this;
  }
  /** A debt as the service records it; its reason is what the service writes (a WeChat code, `review <caseId>`). */
  addDebt(amountFen: number, reason = `review RV-${this.seq + 1}`): Debt {
    const orderId = `o-debt-${++this.seq}`;
    const debt: Debt = { debtId: `d-${this.seq}`, orderId, amountFen, reason, status: 'open', createdAt: this.now };
    this.debts.push(debt);
    this.orders.set(orderId, this.order(orderId, 'X-CAB', 'semi', 'debt', [{ sku: 'COLA-330', name: '可乐', qty: 1, unitPriceFen: amountFen, amountFen }], 'review'));
    return debt;
  }
  /** What a payment notification does on the real server. */
  markPaid(orderId: string): void {
    const o = this.orders.get(orderId);
    if (!o) throw new Error(`no order ${orderId}`);
    this.orders.set(orderId, { ...o, status: 'paid', paidFen: o.totalFen });
    for (const d of this.debts) if (d.orderId === orderId) d.status = 'paid';
  }
  openDebts(): Debt[] {
    return this.debts.filter((d) => d.status === 'open' || d.status === 'reminded');
  }
  callsTo(name: ShopperRouteName) {
    return this.calls.filter((c) => c.name === name);
  }

  order(orderId: string, cabinetId: string, flow: FlowKind, status: Order['status'], lines: Order['lines'], source: Order['source']): Order {
    const totalFen = lines.reduce((s, l) => s + l.amountFen, 0);
    return { orderId, cabinetId, flow, status, lines, totalFen, paidFen: status === 'paid' ? totalFen : 0, refundedFen: 0, createdAt: this.now, source };
  }

  private me(): MeResponse {
    const open = this.openDebts();
    return {
      shopper: this.hasPhone ? { shopperId: 's-1', phone: '138****5678', hasPhone: true } : { shopperId: 's-1', hasPhone: false },
      debt: { count: open.length, totalFen: open.reduce((s, d) => s + d.amountFen, 0) },
      contract: this.contract,
    };
  }

  private cabinet(id: string): FakeCabinet {
    const c = this.cabinets.get(id);
    if (!c) throw new Refusal(404, 'NOT_FOUND', 'no such cabinet');
    return c;
  }

  private handle(name: ShopperRouteName, params: Record<string, string>, body: any, query: Record<string, string>): unknown {
    switch (name) {
      case 'login': {
        const token = `t-${++this.seq}`;
        this.tokens.add(token);
        return { token, expiresAt: this.now + this.tokenTtlMs, shopper: this.me().shopper };
      }
      case 'phone':
        if (body.code === 'bad') throw new Refusal(400, 'BAD_REQUEST', 'code rejected by WeChat');
        this.hasPhone = true;
        return { shopper: this.me().shopper };
      case 'me':
        return this.me();
      case 'debts': {
        const open = this.openDebts();
        return { debts: open, totalFen: open.reduce((s, d) => s + d.amountFen, 0) };
      }
      case 'payDebts': {
        const open = this.openDebts();
        if (open.length === 0) return { result: 'cleared', clearedFen: 0 };
        if (body.via === 'papay') {
          if (this.contract !== 'active') return { result: 'refused', reason: 'NO_CONTRACT' };
          if (this.papayRefusal) return { result: 'refused', reason: this.papayRefusal };
          const total = open.reduce((s, d) => s + d.amountFen, 0);
          for (const d of open) this.markPaid(d.orderId);
          return { result: 'cleared', clearedFen: total };
        }
        return { result: 'pay', orderId: open[0]!.orderId, requestPayment: PAY };
      }
      case 'papaySign':
        this.contract = 'signing';
        return { appId: 'wxbd687630cd02ce1d', path: 'pages/index/index', extraData: { contract_code: 'cc-1', sign: 'x' }, contractCode: 'cc-1' };
      case 'papayContract':
        return { contract: this.contract };
      case 'cabinet': {
        const c = this.cabinet(params['cabinetId']!);
        const res: CabinetResponse = {
          cabinetId: c.cabinetId,
          name: c.name,
          kind: c.kind,
          flowCorrected: query['flow'] !== undefined && query['flow'] !== c.kind,
          online: c.online ?? true,
          available: c.available ?? true,
        };
        if (c.unavailableReason) res.unavailableReason = c.unavailableReason;
        return res;
      }
      case 'catalogue': {
        const c = this.cabinet(params['cabinetId']!);
        return { cabinetId: c.cabinetId, items: c.items ?? [] };
      }
      case 'startVisit': {
        // The service's order (app/shopping.service.ts startVisit): phone, cabinet, availability, debt, contract.
        if (!this.hasPhone) throw new Refusal(403, 'PHONE_REQUIRED', 'phone required');
        const c = this.cabinet(body.cabinetId);
        if (c.kind === 'open') throw new Refusal(400, 'BAD_REQUEST', 'open shelves have no door');
        if (c.available === false) throw new Refusal(409, 'CABINET_UNAVAILABLE', 'the cabinet cannot open now', { reason: c.unavailableReason ?? 'busy' });
        if (this.openDebts().length) throw new Refusal(409, 'DEBT_OUTSTANDING', 'debt', { debts: this.openDebts().map((d) => ({ debtId: d.debtId, amountFen: d.amountFen })) });
        if (c.kind === 'auto' && this.contract !== 'active') throw new Refusal(409, 'CONTRACT_REQUIRED', 'sign first');
        const v: VisitResponse = { sessionId: `v-${++this.seq}`, cabinetId: c.cabinetId, flow: c.kind, state: 'unlocking' };
        this.visits.set(v.sessionId, v);
        return v;
      }
      case 'visit': {
        const v = this.visits.get(params['sessionId']!);
        if (!v) throw new Refusal(404, 'NOT_FOUND', 'no visit');
        const next = this.visitScript.shift();
        const updated: VisitResponse = next ? { ...v, state: next } : v;
        if (next === 'charged' || next === 'held_for_review') {
          updated.orderId = 'o-visit';
          updated.totalFen = 350;
        }
        this.visits.set(v.sessionId, updated);
        return updated;
      }
      case 'checkout': {
        const c = this.cabinet(body.cabinetId);
        if (this.openDebts().length) throw new Refusal(409, 'DEBT_OUTSTANDING', 'debt');
        const lines = (body.lines as { sku: string; qty: number }[]).map((l) => {
          const item = (c.items ?? []).find((i) => i.sku === l.sku);
          if (!item) throw new Refusal(400, 'BAD_REQUEST', `unknown sku ${l.sku}`);
          if (item.stock < l.qty) throw new Refusal(409, 'OUT_OF_STOCK', l.sku, { sku: l.sku, stock: item.stock });
          return { sku: l.sku, name: item.name, qty: l.qty, unitPriceFen: item.priceFen, amountFen: item.priceFen * l.qty };
        });
        const orderId = `o-${++this.seq}`;
        const o = this.order(orderId, c.cabinetId, c.kind, 'awaiting_payment', lines, 'cart');
        this.orders.set(orderId, o);
        return { orderId, totalFen: o.totalFen, requestPayment: PAY, payAndSign: body.signContract === true && this.contract !== 'active' };
      }
      case 'orders':
        return { orders: [...this.orders.values()].sort((a, b) => b.createdAt - a.createdAt) };
      case 'order': {
        const o = this.orders.get(params['orderId']!);
        if (!o) throw new Refusal(404, 'NOT_FOUND', 'no order');
        return o;
      }
      case 'appeal': {
        const o = this.orders.get(params['orderId']!);
        if (!o) throw new Refusal(404, 'NOT_FOUND', 'no order');
        if (o.appeal) throw new Refusal(409, 'CONFLICT', 'already appealed');
        const appeal = { status: 'open' as const, reason: body.reason as string };
        this.orders.set(o.orderId, { ...o, appeal });
        return { orderId: o.orderId, appeal };
      }
      default: {
        const never: never = name;
        throw new Error(`unhandled ${String(never)}`);
      }
    }
  }

  /** The RequestFn the client is built with. */
  readonly request: RequestFn = async (req) => {
    await Promise.resolve();
    if (this.dropNext > 0) {
      this.dropNext--;
      throw new Error('request:fail timeout');
    }
    const prefix = BASE + API_PREFIX;
    if (!req.url.startsWith(prefix)) throw new Error(`request outside the API: ${req.url}`);
    const [pathPart, qs = ''] = req.url.slice(prefix.length).split('?');
    for (const [name, route] of Object.entries(SHOPPER_ROUTES) as [ShopperRouteName, (typeof SHOPPER_ROUTES)[ShopperRouteName]][]) {
      if (route.method !== req.method) continue;
      const keys: string[] = [];
      const re = new RegExp(`^${route.path.replace(/:([A-Za-z]+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
      const m = re.exec(pathPart!);
      if (!m) continue;
      const params = Object.fromEntries(keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      const query = Object.fromEntries(new URLSearchParams(qs));
      this.calls.push({ name, params, query, ...(req.method === 'POST' ? { body: req.data } : {}) });
      if (route.auth) {
        const token = /^Bearer (.+)$/.exec(req.header['authorization'] ?? '')?.[1];
        if (!token || !this.tokens.has(token)) return this.refuse(new Refusal(401, 'UNAUTHENTICATED', 'token'));
      }
      let body: unknown;
      if ('body' in route) {
        const parsed = (route.body as z.ZodType).safeParse(req.data);
        if (!parsed.success) {
          this.rejected.push({ name, issues: parsed.error.message });
          return this.refuse(new Refusal(400, 'BAD_REQUEST', parsed.error.message));
        }
        body = parsed.data;
      }
      if ('query' in route) {
        const parsed = (route.query as z.ZodType).safeParse(query);
        if (!parsed.success) {
          this.rejected.push({ name, issues: parsed.error.message });
          return this.refuse(new Refusal(400, 'BAD_REQUEST', parsed.error.message));
        }
      }
      try {
        const answer = this.handle(name, params, body, query);
        return { statusCode: 200, data: (route.response as z.ZodType).parse(answer) };
      } catch (e) {
        if (e instanceof Refusal) return this.refuse(e);
        throw e;
      }
    }
    return this.refuse(new Refusal(404, 'NOT_FOUND', `no route ${req.method} ${pathPart}`));
  };

  /** Logs a token out, as if the server revoked it. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private refuse(r: Refusal) {
    const error: { code: ShopperErrorCode; message: string; details?: unknown } = { code: r.code, message: r.message };
    if (r.details !== undefined) {
      const schema = (SHOPPER_ERROR_DETAILS as Partial<Record<ShopperErrorCode, z.ZodType>>)[r.code];
      if (!schema) throw new Error(`the service sends no details with ${r.code}`);
      error.details = schema.parse(r.details);
    }
    return { statusCode: r.status, data: ApiError.parse({ error }) };
  }
}
