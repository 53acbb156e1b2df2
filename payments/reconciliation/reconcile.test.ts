import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { silentLogger } from '../../common/log';
import { openTestDb, type TestDb } from '../../test/db';
import { startTestEmulator, type TestEmulator } from '../emulator/testing';
import { WechatPayV3Client } from '../wechatpay/v3.client';
import { parseTradeBill, reconcile } from './reconcile';
import { runReconciliation } from './reconciliation.job';

// FerretDB, RSA key generation and the emulator are slow on the shared 2-core machine.
jest.setTimeout(60_000);

describe('reconciliation', () => {
  it('lists missing, extra, amount and state differences (table)', () => {
    const bill = [
      { outTradeNo: 'A', transactionId: '1', state: 'SUCCESS', amountFen: 100 },
      { outTradeNo: 'B', transactionId: '2', state: 'SUCCESS', amountFen: 200 },
      { outTradeNo: 'C', transactionId: '3', state: 'SUCCESS', amountFen: 300 },
      { outTradeNo: 'D', transactionId: '4', state: 'SUCCESS', amountFen: 400 },
    ];
    const local = [
      { outTradeNo: 'A', status: 'succeeded', amountFen: 100, settledToday: true },
      { outTradeNo: 'B', status: 'succeeded', amountFen: 250, settledToday: true },
      { outTradeNo: 'C', status: 'unknown', amountFen: 300, settledToday: false },
      { outTradeNo: 'E', status: 'succeeded', amountFen: 500, settledToday: true },
    ];
    expect(reconcile(bill, local, [])).toEqual([
      { kind: 'amount_mismatch', outTradeNo: 'B', ours: '250', theirs: '200' },
      { kind: 'state_mismatch', outTradeNo: 'C', ours: 'unknown', theirs: 'SUCCESS' },
      { kind: 'missing_locally', outTradeNo: 'D', theirs: 'SUCCESS 400' },
      { kind: 'missing_in_bill', outTradeNo: 'E', ours: 'succeeded 500' },
    ]);
  });

  describe('daily job against the emulator bill', () => {
    let db: TestDb;
    let emu: TestEmulator;
    beforeAll(async () => {
      db = await openTestDb('recon');
      emu = await startTestEmulator();
    });
    afterAll(async () => {
      await emu.close();
      await db.close();
    });

    it('stores a report with every difference for finance', async () => {
      const v3 = new WechatPayV3Client({ config: emu.config() });
      const openid = 'oRecon000000000000000001';
      emu.emulator.ensureUser(openid);
      for (const [no, fen] of [['CFJ01reconAAAAAAAAAAAAAAAA', 500], ['CFJ01reconBBBBBBBBBBBBBBBB', 700]] as const) {
        const p = await v3.jsapiPrepay({ outTradeNo: no, description: 'x', amountFen: fen, openid, notifyUrl: 'https://m.example/n' });
        if (!p.ok) throw new Error(p.failure.code);
        emu.emulator.pay(p.value.requestPayment);
      }
      const now = new Date();
      await db.models.Payment.create({ _id: 'CFJ01reconAAAAAAAAAAAAAAAA', outTradeNo: 'CFJ01reconAAAAAAAAAAAAAAAA', orderId: 'oa', shopperId: 's', channel: 'jsapi', amountFen: 500, status: 'succeeded', settledAt: now });
      await db.models.Payment.create({ _id: 'CFJ01reconCCCCCCCCCCCCCCCC', outTradeNo: 'CFJ01reconCCCCCCCCCCCCCCCC', orderId: 'oc', shopperId: 's', channel: 'jsapi', amountFen: 900, status: 'succeeded', settledAt: now });
      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const report = await runReconciliation({ models: db.models, v3, log: silentLogger }, today);
      expect(report.status).toBe('differences');
      expect(report.diffs).toEqual(
        expect.arrayContaining([
          { kind: 'missing_locally', outTradeNo: 'CFJ01reconBBBBBBBBBBBBBBBB', theirs: 'SUCCESS 700' },
          { kind: 'missing_in_bill', outTradeNo: 'CFJ01reconCCCCCCCCCCCCCCCC', ours: 'succeeded 900' },
        ]),
      );
      expect(parseTradeBill(emu.emulator.tradeBillCsv(today)).length).toBe(2);
      expect((await db.models.ReconciliationReport.findOne({ billDate: today }).lean())?.diffs).toHaveLength(2);
      // The job asked for the compressed bill, as WeChat recommends for big days.
      expect(emu.emulator.billRequests.at(-1)).toEqual({ billDate: today, tarType: 'GZIP' });
    });

    it('serves the trade bill as a gzip file for tar_type=GZIP (hash over the bill itself) and plain otherwise', async () => {
      const v3 = new WechatPayV3Client({ config: emu.config() });
      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const csv = emu.emulator.tradeBillCsv(today);
      for (const tarType of ['GZIP', undefined] as const) {
        const meta = await v3.request('GET', `/v3/bill/tradebill?bill_date=${today}&bill_type=ALL${tarType ? `&tar_type=${tarType}` : ''}`);
        if (!meta.ok) throw new Error(meta.failure.code);
        const { download_url, hash_value } = meta.value.data as { download_url: string; hash_value: string };
        const file = await v3.request('GET', new URL(download_url).pathname + new URL(download_url).search, undefined, 'none');
        if (!file.ok) throw new Error(file.failure.code);
        const bytes = file.value.bytes;
        if (tarType) expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
        const text = (tarType ? gunzipSync(bytes) : bytes).toString('utf8');
        expect(text).toBe(csv);
        expect(hash_value).toBe(createHash('sha1').update(csv, 'utf8').digest('hex'));
      }
      expect((await v3.request('GET', `/v3/bill/tradebill?bill_date=${today}&tar_type=ZIP`)).ok).toBe(false);
      const plain = await v3.tradeBill(today, 'NONE');
      expect(plain.ok && plain.value).toBe(csv);
    });
  });
});
