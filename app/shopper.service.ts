import { priceAt } from '../contracts/pricing';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { maskPhone } from '../common/mask';
import type { TokenSigner } from '../common/tokens';
import type { CabinetResponse, CatalogueResponse, ContractState, LoginResponse, MeResponse, ShopperProfile } from '../contracts/shopper-api';
import type { FlowKind } from '../contracts/domain';
import type { Fleet } from '../actors/fleet/fleet';
import type { Models } from '../store/models';
import { isDuplicateKey } from '../store/connection';
import { shopperIdFor } from '../store/models/people';
import { naturalKeys } from '../store/natural-keys';
import { findShopperByOpenid } from '../store/shoppers';
import { reasonForState } from './cabinet-availability';

type MpResult<T> = { ok: true; value: T } | { ok: false; errcode: number; errmsg: string };

/** The mini-program server APIs the shopper side needs (payments/wechatpay/miniprogram.client.ts implements it). */
export interface ShopperIdentity {
  code2session(code: string): Promise<MpResult<{ openid: string; session_key: string; unionid?: string }>>;
  phoneNumber(code: string): Promise<MpResult<{ phone_info: { phoneNumber: string; purePhoneNumber: string; countryCode: string } }>>;
}

export interface ShopperServiceDeps {
  models: Models;
  fleet: Fleet;
  identity: ShopperIdentity;
  tokens: TokenSigner;
  clock: Clock;
  log: Logger;
  tokenTtlMs: number;
}

const profile = (s: { shopperId: string; phone?: string | null }): ShopperProfile => ({
  shopperId: s.shopperId,
  hasPhone: !!s.phone,
  ...(s.phone ? { phone: maskPhone(s.phone) } : {}),
});

/** Shopper sign-in, profile, QR resolution and catalogue. session_key never leaves this function. */
export class ShopperService {
  constructor(private readonly d: ShopperServiceDeps) {}

  async login(code: string): Promise<LoginResponse> {
    const r = await this.d.identity.code2session(code);
    if (!r.ok) {
      // 40029 invalid code, 40163 code used: the shopper's fault; anything else is WeChat's.
      if (r.errcode === 40029 || r.errcode === 40163) throw new AppError('UNAUTHENTICATED', 'the login code is invalid or already used; call wx.login again');
      this.d.log.warn({ errcode: r.errcode }, 'jscode2session failed');
      throw new AppError('UNAVAILABLE', 'WeChat login is not available right now');
    }
    const { openid, unionid } = r.value;
    let shopper = await findShopperByOpenid(this.d.models, openid);
    if (!shopper) {
      const shopperId = shopperIdFor(openid);
      try {
        await this.d.models.Shopper.create({ shopperId, openid, unionid, createdVia: 'miniprogram' });
      } catch (e) {
        if (!isDuplicateKey(e)) throw e; // a concurrent first login of the same openid won
      }
      shopper = await findShopperByOpenid(this.d.models, openid);
    } else if (unionid && !shopper.unionid) {
      await this.d.models.Shopper.updateOne({ _id: shopper._id }, { $set: { unionid } });
    }
    if (!shopper) throw new AppError('INTERNAL');
    const expiresAt = this.d.clock.now() + this.d.tokenTtlMs;
    return { token: this.d.tokens.issue(shopper.shopperId, expiresAt), expiresAt, shopper: profile(shopper) };
  }

  async authorisePhone(shopperId: string, code: string): Promise<{ shopper: ShopperProfile }> {
    const r = await this.d.identity.phoneNumber(code);
    if (!r.ok) {
      if (r.errcode === 40029 || r.errcode === 40163 || r.errcode === 40001) throw new AppError('BAD_REQUEST', 'the phone code is invalid or already used; tap the button again');
      throw new AppError('UNAVAILABLE', 'WeChat phone authorisation is not available right now');
    }
    const phone = r.value.phone_info.purePhoneNumber;
    await naturalKeys.updateOne(this.d.models.Shopper, shopperId, { shopperId }, { $set: { phone } });
    return { shopper: profile({ shopperId, phone }) };
  }

  async shopper(shopperId: string): Promise<{ shopperId: string; openid: string; phone?: string | null }> {
    const s = await naturalKeys.findOne(this.d.models.Shopper, shopperId, { shopperId });
    if (!s) throw new AppError('UNAUTHENTICATED', 'unknown shopper');
    return s;
  }

  async me(shopperId: string): Promise<MeResponse> {
    const s = await this.shopper(shopperId);
    const debts = await this.d.models.Debt.find({ shopperId, status: { $in: ['open', 'reminded'] } }, { amountFen: 1 }).lean();
    return { shopper: profile(s), debt: { count: debts.length, totalFen: debts.reduce((n, d) => n + d.amountFen, 0) }, contract: await this.contract(shopperId) };
  }

  async contract(shopperId: string): Promise<ContractState> {
    const rows = await this.d.models.Contract.find({ shopperId }, { status: 1 }).lean();
    if (rows.some((r) => r.status === 'active')) return 'active';
    if (rows.some((r) => r.status === 'signing')) return 'signing';
    return rows.length ? 'terminated' : 'none';
  }

  /** QR resolution: the service's record of the cabinet wins over the flow printed on the QR. */
  async cabinet(cabinetId: string, qrFlow: FlowKind | undefined): Promise<CabinetResponse> {
    const c = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { secret: 0 });
    if (!c || c.disabled) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    const live = c.kind === 'open' ? undefined : (this.d.fleet.view(cabinetId) ?? (await this.d.fleet.cabinet(cabinetId).then(() => this.d.fleet.view(cabinetId))));
    const online = c.kind === 'open' ? true : !!live?.online;
    const reason = c.kind === 'open' ? undefined : !online ? 'offline' : reasonForState(live?.state ?? 'offline');
    return {
      cabinetId,
      name: c.name,
      kind: c.kind,
      flowCorrected: qrFlow !== undefined && qrFlow !== c.kind,
      online,
      available: reason === undefined,
      ...(reason ? { unavailableReason: reason } : {}),
    };
  }

  async catalogue(cabinetId: string): Promise<CatalogueResponse> {
    const c = await naturalKeys.findOne(this.d.models.Cabinet, cabinetId, { cabinetId }, { lanes: 1, disabled: 1, siteId: 1 });
    if (!c || c.disabled) throw new AppError('NOT_FOUND', `no cabinet ${cabinetId}`);
    const products = await this.d.models.Product.find({ sku: { $in: [...new Set(c.lanes.map((l) => l.sku))] }, active: true }).lean();
    const bySku = new Map(products.map((p) => [p.sku, p]));
    const now = this.d.clock.now();
    const items = c.lanes.flatMap((l) => {
      const p = bySku.get(l.sku);
      // The price the checkout bills now at this cabinet's site (contracts/pricing.ts), not the list price.
      return p ? [{ sku: l.sku, name: p.name, priceFen: priceAt(p, c.siteId, now), laneId: l.laneId, stock: l.count }] : [];
    });
    return { cabinetId, items };
  }
}
