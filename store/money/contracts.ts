import { compareAndSet } from '../cas';
import { isDuplicateKey } from '../connection';
import type { ContractDoc } from '../models/commerce';
import type { MoneyModels } from './repository';

export type ContractRow = Pick<ContractDoc, 'contractCode' | 'contractId' | 'status' | 'shopperId'>;

/**
 * Papay contracts, keyed `_id = contract_code`. A shopper's codes are deterministic (payments/payment/
 * payment.machine.ts contractCodeFor), so their contracts are found by point reads of the codes in turn.
 * The active contract of each shopper is remembered: dropped on every contract notification and whenever a
 * deduction finds the contract gone (a contract ended by another process is caught by WeChat's
 * CONTRACT_NOT_EXIST on the next deduction, which records a debt).
 */
export class ContractRecords {
  private readonly active = new Map<string, { contractCode: string; contractId: string }>();

  constructor(private readonly models: Pick<MoneyModels, 'Contract'>) {}

  /**
   * The contracts coded `codeFor(1)`, `codeFor(2)`, … up to the first code not stored, or with `untilActive`
   * up to the first active one: a new code is only ever made when none is active (and WeChat keeps one
   * contract per plan and user), so none after an active one can be active.
   */
  async series(codeFor: (seq: number) => string, untilActive = false): Promise<ContractRow[]> {
    const out: ContractRow[] = [];
    for (let seq = 1; seq <= 999; seq++) {
      const c = await this.models.Contract.findOne({ _id: codeFor(seq) }, { contractCode: 1, contractId: 1, status: 1, shopperId: 1 }).lean();
      if (!c) break;
      out.push(c);
      if (untilActive && c.status === 'active') break;
    }
    return out;
  }

  /** The shopper's active contract, remembered after the first read. */
  async activeOf(shopperId: string, codeFor: (seq: number) => string): Promise<{ contractCode: string; contractId: string } | undefined> {
    const known = this.active.get(shopperId);
    if (known) return known;
    const c = (await this.series(codeFor, true)).find((x) => x.status === 'active' && x.contractId);
    if (!c?.contractId) return undefined;
    const found = { contractCode: c.contractCode, contractId: c.contractId };
    this.active.set(shopperId, found);
    return found;
  }

  forgetActive(shopperId: string): void {
    this.active.delete(shopperId);
  }

  async read(contractCode: string): Promise<ContractDoc | undefined> {
    return (await this.models.Contract.findOne({ _id: contractCode }).lean()) ?? undefined;
  }

  /** Records a contract being signed unless its code exists already (a retry). */
  async createSigning(c: Pick<ContractDoc, 'contractCode' | 'shopperId' | 'openid' | 'planId'>): Promise<void> {
    try {
      await this.models.Contract.create({ _id: c.contractCode, ...c, status: 'signing' });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }

  /** signing → active (WeChat's ADD); false when the contract was not signing any more. */
  async activate(contractCode: string, contractId: string, at: Date): Promise<boolean> {
    return compareAndSet(this.models.Contract, { _id: contractCode, status: 'signing' }, { status: 'active', contractId, signedAt: at });
  }

  /** → terminated from the status given (terminated absorbs: a late ADD changes nothing after it). */
  async terminate(c: Pick<ContractDoc, 'contractCode' | 'status'>, how: { at: Date; reason: string; contractId?: string }): Promise<boolean> {
    if (c.status === 'terminated') return false;
    return compareAndSet(this.models.Contract, { _id: c.contractCode, status: c.status }, { status: 'terminated', terminatedAt: how.at, terminationReason: how.reason, ...(how.contractId ? { contractId: how.contractId } : {}) });
  }
}
