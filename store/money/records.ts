import { AttemptRecords } from './attempts';
import { ContractRecords } from './contracts';
import { DebtRecords } from './debts';
import type { MoveGuard } from './guard';
import { OrderRecords } from './orders';
import { RefundRecords } from './refunds';
import { MoneyRepository, type MoneyModels } from './repository';

/**
 * Every money record the payment actors read and move, one class per record kind, sharing the lifecycle
 * check. With MoneyRepository (orders as created, the ledger, request keys, the inbox) this is the only code
 * that touches the Order, Payment, Debt, Refund, Contract and inbox models (store/money.ownership.test.ts).
 */
export class MoneyRecords {
  readonly repo: MoneyRepository;
  readonly orders: OrderRecords;
  readonly attempts: AttemptRecords;
  readonly contracts: ContractRecords;
  readonly debts: DebtRecords;
  readonly refunds: RefundRecords;

  constructor(models: MoneyModels, guard: MoveGuard) {
    this.repo = new MoneyRepository(models);
    this.orders = new OrderRecords(models, guard);
    this.attempts = new AttemptRecords(models, guard);
    this.contracts = new ContractRecords(models);
    this.debts = new DebtRecords(models, guard);
    this.refunds = new RefundRecords(models, guard);
  }
}
