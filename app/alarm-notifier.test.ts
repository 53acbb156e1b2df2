import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatedClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { httpWebhookSender } from '../gateways/webhook/http-webhook';
import { openTestDb, type TestDb } from '../test/db';
import { AlarmNotifier, payload } from './alarm-notifier';
import { AlarmCentre } from './alarms.service';

/** A robot on 127.0.0.1 that records every POST body. */
async function receiver(): Promise<{ url: string; got: unknown[]; close(): Promise<void>; status: { code: number } }> {
  const got: unknown[] = [];
  const status = { code: 200 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.writeHead(status.code, { 'content-type': 'application/json' }).end('{"errcode":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/cgi-bin/webhook/send?key=secret-robot-key`, got, status, close: () => new Promise((r) => server.close(() => r())) };
}

const OP: Principal = { id: 'op-1', name: 'Op', role: 'operator', sites: ['shanghai-hq'] };

describe('site webhooks: grouped, formatted, reminded until acknowledged (local receiver)', () => {
  let db: TestDb;
  let robot: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    db = await openTestDb('notifier');
    robot = await receiver();
  });
  afterAll(async () => {
    await robot.close();
    await db.close();
  });

  it('posts a WeCom text message, one message for a whole site dropping, reminders until acknowledged', async () => {
    const clock = new SimulatedClock(Date.UTC(2026, 5, 1, 2, 0));
    const m = db.models;
    await m.Site.create({ _id: 'shanghai-hq', siteId: 'shanghai-hq', name: '上海总部', timeZone: 'Asia/Shanghai', webhook: { url: robot.url, format: 'wecom', remindEveryMin: 15, mention: ['zhangsan'] } });
    const n = new AlarmNotifier({ models: m, clock, log: silentLogger, sender: httpWebhookSender(), groupWindowMs: 10_000, reminderCheckMs: 60_000 });
    const centre = new AlarmCentre({ models: m, clock });

    // One alarm: stored by the cabinet actor first, then noticed.
    const a = await m.Alarm.create({ cabinetId: 'SH-SEMI-01', siteId: 'shanghai-hq', kind: 'door_left_open', raisedAt: new Date(clock.now()) });
    n.notice({ type: 'alarm_raised', cabinetId: 'SH-SEMI-01', siteId: 'shanghai-hq', kind: 'door_left_open', at: clock.now() });
    clock.advance(10_000);
    await n.idle();
    expect(robot.got).toHaveLength(1);
    expect(robot.got[0]).toEqual({ msgtype: 'text', text: { content: '【告警】上海总部（shanghai-hq） SH-SEMI-01 门未关（10:00）', mentioned_list: ['zhangsan'] } });

    // 40 cabinets of one site drop within a few seconds: one message naming them all.
    for (let i = 0; i < 40; i++) n.notice({ type: 'offline', cabinetId: `SH-${String(i).padStart(3, '0')}`, siteId: 'shanghai-hq', since: clock.now() + i * 100 });
    clock.advance(10_000);
    await n.idle();
    expect(robot.got).toHaveLength(2);
    const grouped = (robot.got[1] as { text: { content: string } }).text.content;
    expect(grouped).toContain('40 台柜机同时离线');
    expect(grouped).toContain('SH-039');

    // Unacknowledged: reminded 15 minutes after the first message (checked each minute), not before.
    clock.advance(13 * 60_000);
    await n.idle();
    expect(robot.got).toHaveLength(2);
    clock.advance(3 * 60_000);
    await n.idle();
    expect(robot.got).toHaveLength(3);
    expect((robot.got[2] as { text: { content: string } }).text.content).toContain('【提醒】');
    expect((await m.Alarm.findById(a._id).lean())!.notifiedAt).toHaveLength(2);

    // Acknowledged: no more reminders.
    await centre.acknowledge(OP, String(a._id));
    clock.advance(60 * 60_000);
    await n.idle();
    expect(robot.got).toHaveLength(3);
    n.close();
  });

  it('shapes DingTalk and plain JSON bodies, and tells a failed delivery apart', async () => {
    const site = { siteId: 'beijing-office', name: '北京办公室', timeZone: 'Asia/Shanghai' };
    const lines = [{ event: 'alarm_raised' as const, cabinetId: 'BJ-1', kind: 'temperature', at: Date.UTC(2026, 0, 1, 0, 5), detail: '12.5°C' }];
    expect(payload('dingtalk', site, lines, ['u1'])).toEqual({ msgtype: 'text', text: { content: '【告警】北京办公室（beijing-office） BJ-1 温度异常：12.5°C（08:05）' }, at: { atUserIds: ['u1'], isAtAll: false } });
    expect(payload('json', site, lines)).toMatchObject({ type: 'cabinet_fleet.notification', siteId: 'beijing-office', events: lines });
    robot.status.code = 500;
    expect(await httpWebhookSender().post(robot.url, { x: 1 })).toEqual({ status: 500 });
    robot.status.code = 200;
    expect(await httpWebhookSender({ timeoutMs: 500 }).post('http://127.0.0.1:1/nothing', {})).toEqual({ status: 0 });
  });
});
