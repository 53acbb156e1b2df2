import type { ContractRow } from '../../store/money/contracts';
import { findShopperByOpenid } from '../../store/shoppers';
import type { InboundNotification } from '../wechatpay/notifications';
import { PAPAY_SIGNING_APPID } from '../wechatpay/papay.client';
import type { Cmd, MoneyContext } from './money.context';
import { contractCodeFor } from './payment.machine';
import type { SigningReply, StartSigning } from './payment.protocol';

/**
 * Papay contracts (签约): signing started from the mini-program, WeChat's ADD and DELETE notifications, and a
 * contract found gone by a deduction. A shopper's contract codes are deterministic (contractCodeFor), and a
 * new one is made only when none is active.
 */
export class Contracts {
  constructor(private readonly ctx: MoneyContext) {}

  /** The shopper's contracts, oldest first. */
  of(shopperId: string): Promise<ContractRow[]> {
    return this.ctx.records.contracts.series((seq) => contractCodeFor(shopperId, seq));
  }

  /** The shopper's active contract (remembered), or undefined. */
  activeOf(shopperId: string): Promise<{ contractCode: string; contractId: string } | undefined> {
    return this.ctx.records.contracts.activeOf(shopperId, (seq) => contractCodeFor(shopperId, seq));
  }

  /**
   * The code to sign the shopper's next contract under: the one still being signed when the latest contract
   * is (a shopper who backed out of the signing mini-program and tapped again, or pay-and-sign after that),
   * else a new one. Recorded as `signing` before WeChat sees it.
   */
  async codeToSign(shopperId: string, openid: string, mine?: ContractRow[]): Promise<string> {
    const all = mine ?? (await this.of(shopperId));
    const last = all[all.length - 1];
    if (last?.status === 'signing') return last.contractCode;
    const contractCode = contractCodeFor(shopperId, all.length + 1);
    await this.ctx.records.contracts.createSigning({ contractCode, shopperId, openid, planId: this.ctx.d.config.planId });
    return contractCode;
  }

  async startSigning(cmd: Cmd<StartSigning>): Promise<SigningReply> {
    const mine = await this.of(cmd.shopperId);
    const active = mine.find((c) => c.status === 'active');
    if (active?.contractId) return { type: 'AlreadySigned', requestId: cmd.requestId, contractId: active.contractId };
    const contractCode = await this.codeToSign(cmd.shopperId, cmd.openid, mine);
    const { papay } = this.ctx.d;
    const extraData = papay.signingExtraData({ contractCode, requestSerial: papay.newRequestSerial(), displayAccount: cmd.displayAccount });
    return { type: 'SigningPrepared', requestId: cmd.requestId, contractCode, miniProgramAppId: PAPAY_SIGNING_APPID, extraData };
  }

  /** WeChat's CONTRACT_NOT_EXIST on a deduction: the contract is over (the debt is recorded by the caller). */
  async markGone(shopperId: string, contractId: string): Promise<void> {
    const { contracts } = this.ctx.records;
    contracts.forgetActive(shopperId);
    const c = (await this.of(shopperId)).find((x) => x.contractId === contractId);
    if (c) await contracts.terminate(c, { at: this.ctx.now(), reason: 'CONTRACT_NOT_EXIST on deduction' });
  }

  /** An ADD or DELETE notification; a contract signed outside our flow (unknown code) is recorded first. */
  async changed(e: Extract<InboundNotification, { type: 'ContractChanged' }>): Promise<void> {
    const { contracts } = this.ctx.records;
    let c = await contracts.read(e.contractCode);
    if (!c) {
      const shopper = await findShopperByOpenid(this.ctx.d.models, e.openid, { shopperId: 1 });
      if (!shopper) return this.ctx.d.log.warn({ contractCode: e.contractCode }, 'contract notification for an unknown shopper');
      await contracts.createSigning({ contractCode: e.contractCode, shopperId: shopper.shopperId, openid: e.openid, planId: e.planId });
      c = (await contracts.read(e.contractCode))!;
    }
    contracts.forgetActive(c.shopperId);
    if (e.change === 'ADD' && c.status === 'signing') await contracts.activate(c.contractCode, e.contractId, this.ctx.now());
    // A DELETE may overtake its ADD: terminated absorbs, so the late ADD changes nothing.
    else if (e.change === 'DELETE') await contracts.terminate(c, { at: this.ctx.now(), reason: `mode ${e.terminationMode ?? '?'}`, contractId: e.contractId });
  }
}
