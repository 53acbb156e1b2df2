import type { CabinetNotice } from '../actors/cabinet/cabinet.actor';
import type { Cancel, Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { Models } from '../store/models';
import type { SiteDoc, WebhookFormat } from '../store/models/sites';

/**
 * The outbound webhook, a port: one JSON POST to a group robot (WeCom, DingTalk) or any receiver. The
 * implementation lives in gateways/webhook; tests use it against a receiver on 127.0.0.1.
 */
export interface WebhookSender {
  /** Resolves with the HTTP status (0 when the request failed before an answer); never throws. */
  post(url: string, body: unknown): Promise<{ status: number }>;
}

/** What the fleet tells the notifier: the cabinet actors' notices. */
export type FleetNotice = CabinetNotice;

export interface NotifierOptions {
  models: Models;
  clock: Clock;
  log: Logger;
  sender: WebhookSender;
  /** Notices of one site within this window go out as one message (a whole site dropping is one message). Default 10 s. */
  groupWindowMs?: number;
  /** How often unacknowledged alarms are checked for a due reminder. Default 60 s; 0 disables. */
  reminderCheckMs?: number;
}

const KIND_ZH: Record<string, string> = {
  door_forced: '门被强行打开',
  door_left_open: '门未关',
  tamper: '柜体被撬',
  temperature: '温度异常',
  camera_fault: '摄像头故障',
};

/** One line of a message, and the fields a plain-JSON receiver gets. */
interface Line {
  event: 'alarm_raised' | 'alarm_cleared' | 'offline' | 'online' | 'reminder';
  cabinetId: string;
  kind?: string;
  at: number;
  detail?: string;
}

const clock24 = (t: number, tz: string): string => new Date(t).toLocaleTimeString('zh-CN', { timeZone: tz, hour12: false, hour: '2-digit', minute: '2-digit' });

/** The message text (Chinese: the robots post into the operators' WeChat Work or DingTalk groups). */
export function messageText(site: Pick<SiteDoc, 'siteId' | 'name' | 'timeZone'>, lines: Line[]): string {
  const name = `${site.name}（${site.siteId}）`;
  const by = (e: Line['event']) => lines.filter((l) => l.event === e);
  const parts: string[] = [];
  const offline = by('offline');
  if (offline.length > 1) parts.push(`【离线】${name} ${offline.length} 台柜机同时离线：${offline.map((l) => l.cabinetId).join('、')}`);
  else if (offline.length === 1) parts.push(`【离线】${name} ${offline[0]!.cabinetId} 离线（${clock24(offline[0]!.at, site.timeZone)} 起）`);
  for (const l of by('alarm_raised')) parts.push(`【告警】${name} ${l.cabinetId} ${KIND_ZH[l.kind ?? ''] ?? l.kind}${l.detail ? `：${l.detail}` : ''}（${clock24(l.at, site.timeZone)}）`);
  const reminders = by('reminder');
  if (reminders.length) parts.push(`【提醒】${name} ${reminders.length} 条告警仍未确认：${reminders.map((l) => `${l.cabinetId} ${KIND_ZH[l.kind ?? ''] ?? l.kind}（${clock24(l.at, site.timeZone)} 起）`).join('；')}`);
  const cleared = by('alarm_cleared');
  if (cleared.length) parts.push(`【恢复】${name} ${cleared.map((l) => `${l.cabinetId} ${KIND_ZH[l.kind ?? ''] ?? l.kind}`).join('、')} 已恢复`);
  const online = by('online');
  if (online.length) parts.push(`【上线】${name} ${online.map((l) => l.cabinetId).join('、')} 已恢复在线`);
  return parts.join('\n');
}

/** The POST body in the site's format: WeCom and DingTalk robots' text messages, or the plain event list. */
export function payload(format: WebhookFormat, site: Pick<SiteDoc, 'siteId' | 'name' | 'timeZone'>, lines: Line[], mention: string[] = []): unknown {
  const text = messageText(site, lines);
  switch (format) {
    case 'wecom':
      return { msgtype: 'text', text: { content: text, ...(mention.length ? { mentioned_list: mention } : {}) } };
    case 'dingtalk':
      return { msgtype: 'text', text: { content: text }, at: { atUserIds: mention, isAtAll: false } };
    case 'json':
      return { type: 'cabinet_fleet.notification', siteId: site.siteId, siteName: site.name, text, events: lines };
  }
}

/**
 * Tells the people on duty through each site's webhook. Notices are gathered per site for `groupWindowMs`,
 * so a site whose network drops sends one message listing its cabinets, not one per cabinet; an alarm still
 * open and unacknowledged is reminded every `remindEveryMin` of its site (all of a site's due reminders in
 * one message) until someone acknowledges it or it clears. A site without a webhook is not told. The
 * webhook URL carries the robot's key: it is never logged.
 */
export class AlarmNotifier {
  private readonly pending = new Map<string, Line[]>();
  private readonly timers = new Map<string, Cancel>();
  private reminderTimer: Cancel | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  /** Messages sent and failed, for tests and metrics. */
  readonly stats = { sent: 0, failed: 0 };

  constructor(private readonly o: NotifierOptions) {
    const every = o.reminderCheckMs ?? 60_000;
    if (every > 0) {
      const tick = () => {
        this.track(this.remind());
        if (!this.closed) this.reminderTimer = o.clock.schedule(every, tick);
      };
      this.reminderTimer = o.clock.schedule(every, tick);
    }
  }

  notice(n: FleetNotice): void {
    if (this.closed || n.type === 'offline_reminder') return; // offline reminders come from the alarm-style schedule below
    const line: Line =
      n.type === 'alarm_raised'
        ? { event: 'alarm_raised', cabinetId: n.cabinetId, kind: n.kind, at: n.at, ...(n.detail ? { detail: n.detail } : {}) }
        : n.type === 'alarm_cleared'
          ? { event: 'alarm_cleared', cabinetId: n.cabinetId, kind: n.kind, at: n.at }
          : n.type === 'offline'
            ? { event: 'offline', cabinetId: n.cabinetId, at: n.since }
            : { event: 'online', cabinetId: n.cabinetId, at: this.o.clock.now() };
    const list = this.pending.get(n.siteId) ?? [];
    list.push(line);
    this.pending.set(n.siteId, list);
    if (!this.timers.has(n.siteId)) {
      this.timers.set(
        n.siteId,
        this.o.clock.schedule(this.o.groupWindowMs ?? 10_000, () => {
          this.timers.delete(n.siteId);
          const lines = this.pending.get(n.siteId) ?? [];
          this.pending.delete(n.siteId);
          this.track(this.flush(n.siteId, lines));
        }),
      );
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** Resolves when every message started so far has been sent (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async site(siteId: string): Promise<SiteDoc | null> {
    return this.o.models.Site.findById(siteId).lean<SiteDoc>();
  }

  private async send(site: SiteDoc, lines: Line[]): Promise<boolean> {
    const w = site.webhook!;
    const r = await this.o.sender.post(w.url, payload(w.format, site, lines, w.mention));
    if (r.status >= 200 && r.status < 300) {
      this.stats.sent++;
      return true;
    }
    this.stats.failed++;
    this.o.log.warn({ siteId: site.siteId, status: r.status, lines: lines.length }, 'site webhook not delivered');
    return false;
  }

  private async flush(siteId: string, lines: Line[]): Promise<void> {
    try {
      const site = await this.site(siteId);
      if (!site?.webhook || !lines.length) return;
      if (!(await this.send(site, lines))) return;
      const raised = lines.filter((l) => l.event === 'alarm_raised');
      if (raised.length) {
        // Marks the first notification so reminders count from it (the alarms were stored before the notice).
        const now = new Date(this.o.clock.now());
        await this.o.models.Alarm.updateMany({ siteId, cabinetId: { $in: [...new Set(raised.map((l) => l.cabinetId))] }, clearedAt: { $exists: false }, notifiedAt: { $exists: false } }, { $push: { notifiedAt: now } });
      }
    } catch (e) {
      this.o.log.warn({ siteId, err: (e as Error).message }, 'site notification failed');
    }
  }

  /** Reminds each site of its open, unacknowledged alarms whose last message is older than its interval. */
  async remind(): Promise<void> {
    try {
      const now = this.o.clock.now();
      const open = await this.o.models.Alarm.find({ clearedAt: { $exists: false }, acknowledgedAt: { $exists: false } }, { cabinetId: 1, siteId: 1, kind: 1, raisedAt: 1, notifiedAt: 1 }).limit(5_000).lean();
      const bySite = new Map<string, typeof open>();
      for (const a of open) bySite.set(a.siteId, [...(bySite.get(a.siteId) ?? []), a]);
      for (const [siteId, alarms] of bySite) {
        const site = await this.site(siteId);
        if (!site?.webhook) continue;
        const every = site.webhook.remindEveryMin * 60_000;
        const due = alarms.filter((a) => {
          const last = a.notifiedAt?.length ? new Date(a.notifiedAt[a.notifiedAt.length - 1]!).getTime() : new Date(a.raisedAt).getTime();
          return now - last >= every;
        });
        if (!due.length) continue;
        if (!(await this.send(site, due.map((a) => ({ event: 'reminder' as const, cabinetId: a.cabinetId, kind: a.kind, at: new Date(a.raisedAt).getTime() }))))) continue;
        await this.o.models.Alarm.updateMany({ _id: { $in: due.map((a) => a._id) } }, { $push: { notifiedAt: new Date(now) } });
      }
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'alarm reminders failed');
    }
  }

  close(): void {
    this.closed = true;
    this.reminderTimer?.();
    for (const c of this.timers.values()) c();
    this.timers.clear();
  }
}
