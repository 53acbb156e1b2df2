import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, badArguments, parseCli, runCli } from '../../common/cli';
// The mini-program's own formatter: the shopper sees the same amounts here as on the phone.
import { formatFen } from '../../miniprogram/miniprogram/utils/money';
import { ShopperClient } from './client';

const HELP = `Scripted shopper: drives one shopper through a purchase flow against the running demo
(npm start with the WeChat sandbox), playing the shopper's WeChat client on the emulator.

  npm run shopper -- open  [--cabinet SH-OPEN-01]   cart → WeChat Pay → paid, stock decremented
  npm run shopper -- semi  [--cabinet SH-SEMI-01]   debt gate → unlock → visit → cart → pay (pay-and-sign)
  npm run shopper -- auto  [--cabinet SH-AUTO-01]   sign papay → unlock → take → door closes → charged
  npm run shopper -- debts                          show and clear this shopper's debts

Options
  --openid ID       act as this shopper again (default: a new shopper each run; printed at the end)
  --data-dir DIR    where npm start wrote demo.json (the service's and the WeChat emulator's addresses);
                    default $DATA_DIR, else ./data — the same directory as the service's
  --url U           the service instead of demo.json's (without demo.json: http://127.0.0.1:$PORT)
  --wechat-url W    the WeChat emulator instead of demo.json's

Exit codes: 0 the flow ran to its end, 1 refused or unreachable, 2 bad arguments.
`;

const say = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const { values: v, positionals } = parseCli({
    name: 'npm run shopper --',
    help: HELP,
    allowPositionals: true,
    options: {
      cabinet: { type: 'string' },
      openid: { type: 'string' },
      'data-dir': { type: 'string', default: process.env.DATA_DIR ?? './data' },
      url: { type: 'string' },
      'wechat-url': { type: 'string' },
    },
  });
  const flow = positionals[0];
  if (!flow || !['open', 'semi', 'auto', 'debts'].includes(flow)) throw badArguments('npm run shopper --', [flow ? `unknown flow "${flow}": open, semi, auto or debts` : 'which flow? open, semi, auto or debts']);
  const demoFile = resolve(v['data-dir'], 'demo.json');
  const demo = existsSync(demoFile) ? (JSON.parse(readFileSync(demoFile, 'utf8')) as { url?: string; wechatUrl?: string }) : {};
  const apiUrl = v.url ?? demo.url ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  const wechatUrl = v['wechat-url'] ?? demo.wechatUrl;
  if (!wechatUrl) {
    throw new CliError(
      `no WeChat emulator address: ${demoFile} does not exist. npm start writes it there in the WeChat sandbox; ` +
        `point --data-dir (or DATA_DIR) at that service's data directory, or pass --url and --wechat-url`,
    );
  }

  const openid = v.openid ?? `o-demo-${Date.now().toString(36)}`;
  const s = new ShopperClient({ apiUrl, wechatUrl, openid });
  say(`signing in as ${openid} (wx.login → /auth/login, phone button → /auth/phone) …`);
  await s.signIn();
  const me = await s.call('me');
  say(`  shopper ${me.shopper.shopperId}, phone ${me.shopper.phone ?? '-'}, debt ${formatFen(me.debt.totalFen)}, papay ${me.contract}`);

  if (flow === 'debts' || me.debt.count > 0) {
    const d = await s.call('debts');
    for (const x of d.debts) say(`  debt ${x.debtId}: ${formatFen(x.amountFen)} (${x.status}, ${x.reason})`);
    if (d.totalFen > 0) {
      say('clearing debts by WeChat Pay …');
      const r = await s.call('payDebts', { body: { via: 'jsapi' } });
      if (r.result === 'pay') await s.requestPayment(r.requestPayment);
      say(`  ${r.result === 'refused' ? `refused: ${r.reason}` : 'paid'}; debts now ${formatFen((await s.call('debts')).totalFen)}`);
    }
    if (flow === 'debts') return;
  }

  if (flow === 'open') {
    const cabinetId = v.cabinet ?? 'SH-OPEN-01';
    const cat = await s.call('catalogue', { params: { cabinetId } });
    const item = cat.items.find((i) => i.stock > 0);
    if (!item) throw new Error(`${cabinetId} is sold out`);
    say(`cart: 1 × ${item.name} (${formatFen(item.priceFen)}) from ${cabinetId} …`);
    const c = await s.call('checkout', { body: { cabinetId, lines: [{ sku: item.sku, qty: 1 }] } });
    say(`  order ${c.orderId}, ${formatFen(c.totalFen)}; wx.requestPayment …`);
    await s.requestPayment(c.requestPayment);
    const o = await s.waitOrder(c.orderId, (x) => x.status === 'paid');
    say(`  order ${o.status}`);
    return;
  }

  const cabinetId = v.cabinet ?? (flow === 'semi' ? 'SH-SEMI-01' : 'SH-AUTO-01');
  if (flow === 'auto' && me.contract !== 'active') {
    say('signing password-free payment (papay) in the signing mini-program …');
    await s.signPapay();
    for (let i = 0; i < 50 && (await s.call('papayContract')).contract !== 'active'; i++) await new Promise((r) => setTimeout(r, 200));
    say(`  papay ${(await s.call('papayContract')).contract}`);
  }
  say(`scanning ${cabinetId} → unlock …`);
  const visit = await s.call('startVisit', { body: { cabinetId } });
  say(`  session ${visit.sessionId}, visit ${visit.visitId}: ${visit.state}`);
  let last = visit.state as string;
  const progress = (x: { state: string; message?: string }) => {
    if (x.state !== last) say(`  → ${x.state}${x.message ? ` (${x.message})` : ''}`);
    last = x.state;
  };
  if (flow === 'semi') {
    await s.waitVisit(visit.sessionId, (x) => (progress(x), x.state !== 'unlocking' && x.state !== 'door_open'), 120_000);
    const cat = await s.call('catalogue', { params: { cabinetId } });
    const item = cat.items[0]!;
    say(`cart: 1 × ${item.name}; paying and signing papay at once (pay-and-sign) …`);
    const c = await s.call('checkout', { body: { cabinetId, sessionId: visit.sessionId, lines: [{ sku: item.sku, qty: 1 }], signContract: me.contract !== 'active' } });
    await s.requestPayment(c.requestPayment);
    say(`  order ${c.orderId} ${formatFen(c.totalFen)}${c.payAndSign ? ', papay signed with the payment' : ''}`);
    say('  recognition now checks the recording against the paid cart; a difference opens a review case in the console');
  }
  const done = await s.waitVisit(visit.sessionId, (x) => (progress(x), ['paid', 'charged', 'held_for_review', 'debt', 'ended_empty', 'relocked', 'failed'].includes(x.state)), 180_000);
  if (done.orderId) {
    const o = await s.call('order', { params: { orderId: done.orderId } });
    say(`receipt ${o.orderId} (${o.status}, from ${o.source}):`);
    for (const l of o.lines) say(`  ${l.qty} × ${l.name}  ${formatFen(l.amountFen)}`);
    say(`  total ${formatFen(o.totalFen)}, paid ${formatFen(o.paidFen)}`);
  }
  say(`\nrun again as the same shopper with --openid ${openid}`);
}

runCli('shopper', main);
