/**
 * Benchmark: papay deductions per second through the per-shopper payment actors on FerretDB (with the
 * emulator settling them and notifying back), against raw inserts of the same Payment records in the same
 * run; prints the double-charge count (must be 0).
 *
 * A deduction counts from the first of its K concurrent charge requests until its order is paid (the
 * notification processed). The baseline inserts the N attempt records one by one (`insertOne`, 64 at a time)
 * into a collection created beforehand; it runs before and after the deductions (the machine is shared:
 * load moves), and the ratio is against their mean. Also printed: database commands per deduction and the
 * load average. The actors run with the service's defaults (an attempt whose result has not arrived after
 * 60 s is queried).
 *
 * `--profile <file>` also writes a V8 CPU profile of the measured window and prints where the bench
 * process's time went by package; the CPU of both processes over the window is always printed.
 *
 *   npx tsx payments/bench/deductions.bench.ts [shoppers=1000] [attemptsPerShopper=5] [--profile out.cpuprofile]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { badArguments, numberFlag, parseCli, runCli } from '../../common/cli';
import { connectDatabase } from '../../store/connection';
import { startFerretDb, freePort } from '../../store/ferretdb';
import { createModels, ensureIndexes } from '../../store/models';
import { startTestEmulator } from '../emulator/testing';
import { contractCodeFor } from '../payment/payment.machine';
import { createActorSystem, createPayments, listenForNotifications } from '../payment/payments.wiring';
import { profileWindow } from './window-profile';

const NAME = 'npx tsx payments/bench/deductions.bench.ts';
const HELP = `Benchmark: papay deductions per second through the payment actors on FerretDB, against raw inserts of the
same records in the same run; prints the ratio, database commands per deduction and double charges (must be 0).

usage: npm run bench:payments [-- shoppers [attemptsPerShopper]] [--profile file]
       ${NAME} [shoppers=1000] [attemptsPerShopper=5]

  --profile F  write a V8 CPU profile of the measured window to F and print the time by package
  -h, --help   this text`;

async function main(): Promise<void> {
  const { positionals, values } = parseCli({ name: NAME, help: HELP, options: { profile: { type: 'string' } }, allowPositionals: true });
  if (positionals.length > 2) throw badArguments(NAME, [`expected at most two numbers (shoppers, attempts per shopper), got ${positionals.length} arguments`]);
  const N = numberFlag(NAME, 'shoppers', positionals[0] ?? '1000', { min: 1, integer: true });
  const K = numberFlag(NAME, 'attemptsPerShopper', positionals[1] ?? '5', { min: 1, integer: true });
  const dir = mkdtempSync(join(tmpdir(), 'bench-ferret-'));
  const ferret = await startFerretDb({ dataDir: dir });
  const conn = await connectDatabase(ferret.uri, 'bench');
  const models = createModels(conn);
  await ensureIndexes(models);
  const emu = await startTestEmulator({ timeScale: 1000 });
  const port = await freePort();
  const system = createActorSystem();
  const pay = createPayments({ config: emu.config({ notifyBaseUrl: `http://127.0.0.1:${port}` }), models, system, actorOptions: { askTimeoutMs: 600_000 } });
  const rx = await listenForNotifications(pay, port);
  try {
    emu.emulator.notificationsEnabled = false;
    const shoppers: object[] = [];
    const contracts: object[] = [];
    const orders: object[] = [];
    for (let i = 0; i < N; i++) {
      const shopperId = `b-${i}`;
      const openid = `oBench${String(i).padStart(18, '0')}`;
      emu.emulator.ensureUser(openid);
      const code = contractCodeFor(shopperId, 1);
      const c = emu.emulator.createContract(openid, { planId: emu.merchant.planId, contractCode: code, requestSerial: String(i + 1), displayAccount: 'x', notifyUrl: rx.url });
      if ('error' in c) throw new Error(c.error);
      shoppers.push({ shopperId, openid });
      contracts.push({ _id: code, contractCode: code, shopperId, openid, planId: emu.merchant.planId, contractId: c.contractId, status: 'active' });
      orders.push({ orderId: `bo-${i}`, outTradeNo: `CF-bo-${i}`, shopperId, cabinetId: 'cab', siteId: 'site', flow: 'auto', source: 'recognition', totalFen: 100 + (i % 97), status: 'draft' });
    }
    await models.Shopper.insertMany(shoppers);
    await models.Contract.insertMany(contracts);
    await models.Order.insertMany(orders);
    emu.emulator.notificationsEnabled = true;
    console.error(`seeded ${N} shoppers`);

    const db = conn.db!;
    await db.createCollection('bench_raw_payments');
    const rawInserts = async (tag: string): Promise<number> => {
      const raw = db.collection('bench_raw_payments');
      const t = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          for (let i = next++; i < N; i = next++) await raw.insertOne({ _id: `raw-${tag}-${i}` as never, outTradeNo: `raw-${tag}-${i}`, orderId: `bo-${i}`, shopperId: `b-${i}`, channel: 'papay', amountFen: 100 + (i % 97), status: 'succeeded', version: 1 });
        }),
      );
      return Date.now() - t;
    };
    const rawBeforeMs = await rawInserts('a');

    const commands = new Map<string, number>();
    conn.set('debug', (collection: string, method: string) => commands.set(`${method} ${collection}`, (commands.get(`${method} ${collection}`) ?? 0) + 1));
    const load0 = loadavg()[0]!;
    const window = await profileWindow({ databasePid: ferret.pid, ...(typeof values.profile === 'string' ? { cpuProfile: values.profile } : {}) });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => Promise.all(Array.from({ length: K }, () => pay.actors.charge(`b-${i}`, { orderId: `bo-${i}`, amountFen: 100 + (i % 97), description: 'Snacks' })))));
    const accepted = Date.now() - t0;
    console.error(`all ${N * K} charge requests answered in ${accepted} ms`);
    for (;;) {
      const paid = await models.Order.countDocuments({ status: 'paid' });
      if (paid === N) break;
      if (Date.now() - t0 > 20 * 60_000) throw new Error(`only ${paid}/${N} orders paid after 20 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const settled = Date.now() - t0;
    const spent = await window.stop();
    const load1 = loadavg()[0]!;
    conn.set('debug', false);
    const rawAfterMs = await rawInserts('b');
    const rawMs = (rawBeforeMs + rawAfterMs) / 2;

    const perOrder = new Map<string, number>();
    for (const c of emu.emulator.charges) perOrder.set(c.attach ?? '', (perOrder.get(c.attach ?? '') ?? 0) + 1);
    const doubles = [...perOrder.values()].filter((n) => n > 1).length;
    const missing = N - perOrder.size;
    // How WeChat's side delivered the results: a tail paid by the 60 s query shows here as deliveries refused or
    // timed out (the listener's answer) or as jobs never accepted.
    const deliveries = emu.emulator.notifier.log.filter((d) => d.variant === 'genuine');
    const statuses: Record<string, number> = {};
    for (const d of deliveries) statuses[String(d.status)] = (statuses[String(d.status)] ?? 0) + 1;
    const acceptedJobs = new Set(deliveries.filter((d) => d.accepted).map((d) => d.jobId));
    const notifications = { jobs: new Set(deliveries.map((d) => d.jobId)).size, accepted: acceptedJobs.size, retried: deliveries.filter((d) => d.attempt > 0).length, statuses };
    const actorRate = N / (settled / 1000);
    const rawRate = N / (rawMs / 1000);
    // Polling the paid count is the benchmark's own reading, not the service's work.
    const perDeduction = Object.fromEntries([...commands].filter(([k]) => !k.startsWith('countDocuments')).map(([k, n]) => [k, Number((n / N).toFixed(2))]));
    console.log(
      JSON.stringify(
        {
          shoppers: N,
          attemptsPerShopper: K,
          asks: N * K,
          acceptedMs: accepted,
          settledMs: settled,
          deductionsPerSecond: Number(actorRate.toFixed(1)),
          rawInsertsPerSecond: Number(rawRate.toFixed(1)),
          rawBeforeAfterMs: [rawBeforeMs, rawAfterMs],
          ratio: Number((actorRate / rawRate).toFixed(3)),
          doubleCharges: doubles,
          notifications,
          ordersWithoutCharge: missing,
          mongooseCallsPerDeduction: perDeduction,
          loadAverage1m: [Number(load0.toFixed(2)), Number(load1.toFixed(2))],
          // Of one core, over the measured window; 200 % is both cores of this machine.
          cpuPercentInWindow: { bench: spent.benchCpuPercent, database: spent.databaseCpuPercent },
          ...(spent.byPackage ? { benchTimeByPackage: spent.byPackage } : {}),
        },
        null,
        2,
      ),
    );
  } finally {
    await rx.close();
    system.stop();
    await emu.close();
    await conn.close();
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runCli('bench:payments', () => main().then(() => process.exit(0)));
