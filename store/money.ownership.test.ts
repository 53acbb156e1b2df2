import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * One owner of money state: only the money store (store/money/) writes the Order, Payment, Debt, Refund,
 * Contract, inbox, ledger and idempotency models, by any route (mongoose writes, compare-and-set, grouped
 * inserts); the payment actor's code (payments/payment/) changes money through it, and everyone else asks
 * the shopper's payment actor. Benchmarks seed their own fixtures.
 */
const ROOT = join(__dirname, '..');
const MONEY = '(?:Order|Payment|Debt|Refund|Contract|PaymentInbox|LedgerEntry|Idempotency)';
const WRITES = [
  new RegExp(`\\b${MONEY}\\s*\\.\\s*(?:create|insertMany|insertOne|updateOne|updateMany|findOneAndUpdate|findByIdAndUpdate|replaceOne|deleteOne|deleteMany|findOneAndDelete|bulkWrite|save)\\s*\\(`),
  new RegExp(`\\b(?:compareAndSet|compareAndSetFrom|createGrouped|insertGrouped)\\s*\\([^,)]*\\b${MONEY}\\b`),
  new RegExp(`collection\\(\\s*['"](?:orders|payments|debts|refunds|contracts|payment_inbox|money_ledger|idempotency_keys)['"]`),
];
const OWNERS = [/^store\/money\/[^/]+\.ts$/, /^payments\/bench\//];
const SKIP_DIRS = new Set(['node_modules', '.git', '.cache', 'data', 'artifacts', 'dist', 'miniprogram', 'web-admin']);

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function moneyWrites(text: string): string[] {
  return text.split('\n').filter((line) => WRITES.some((re) => re.test(line)));
}

describe('money has one owner', () => {
  it('no code outside the money store writes a money record', () => {
    const offenders: string[] = [];
    for (const file of sources(ROOT)) {
      const rel = relative(ROOT, file).split('\\').join('/');
      if (OWNERS.some((re) => re.test(rel))) continue;
      for (const line of moneyWrites(readFileSync(file, 'utf8'))) offenders.push(`${rel}: ${line.trim()}`);
    }
    expect(offenders).toEqual([]);
  });

  it('recognises the writes it forbids', () => {
    expect(moneyWrites("await compareAndSet(this.d.models.Order, { _id: x, status: 'debt' }, { status: 'waived' });")).toHaveLength(1);
    expect(moneyWrites('await models.Debt.create({ _id: debtId });')).toHaveLength(1);
    expect(moneyWrites('const { Refund } = models; await Refund.updateOne({ _id }, { $set: { status } });')).toHaveLength(1);
    expect(moneyWrites("db.collection('orders').updateOne({}, {})")).toHaveLength(1);
    expect(moneyWrites('const o = await models.Order.findOne({ _id }).lean();')).toHaveLength(0);
  });
});
