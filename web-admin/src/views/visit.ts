import type { OrderRow, Page, PaymentRow, RefundRow, SessionRow, VisitRow } from '../../../contracts/console-api';
import { allowed, api, frameUrl, qs } from '../api';
import { t, tv } from '../i18n';
import { clear, h, table, time, yuan } from '../ui';

/** One visit from unlock to money: timeline, every frame, recognition, its orders, payments and refunds. */
export function visitView(root: HTMLElement, args: string[]): () => void {
  const visitId = args[0] ?? '';
  const urls: string[] = [];
  const body = h('div', { id: 'visit-detail' }, t('loading'));
  clear(root, h('section', { class: 'visit' }, h('h2', {}, h('a', { href: '#/visits/visits' }, t('nav.visits')), ' / ', visitId), body));

  const load = async () => {
    try {
      const v = await api<VisitRow>('GET', `/visits/${encodeURIComponent(visitId)}`);
      const money = allowed('orders.view');
      const [orders, sessions] = await Promise.all([
        money ? api<Page<OrderRow>>('GET', `/orders${qs({ visitId, limit: 20 })}`) : Promise.resolve({ rows: [] as OrderRow[] }),
        api<Page<SessionRow>>('GET', `/sessions${qs({ cabinetId: v.cabinetId, limit: 50 })}`).then((p) => ({ rows: p.rows.filter((s) => s.visitId === visitId) })),
      ]);
      const pays = await Promise.all(orders.rows.map((o) => Promise.all([api<Page<PaymentRow>>('GET', `/payments${qs({ orderId: o.orderId, limit: 50 })}`), api<Page<RefundRow>>('GET', `/refunds${qs({ orderId: o.orderId, limit: 50 })}`)])));
      const steps: Array<[string, number | undefined]> = [
        ['visit.requested', v.requestedAt],
        ['visit.opened', v.openedAt],
        ['visit.closed', v.closedAt],
        ['visit.completed', v.completedAt],
        ['visit.recognised', v.recognition?.at],
      ];
      const frames = h('div', { class: 'frames', id: 'visit-frames' });
      for (const f of v.frames ?? []) {
        const img = h('img', { alt: `${f.camera} ${f.phase} #${f.seq}`, width: 200 });
        frames.append(h('figure', {}, img, h('figcaption', {}, `${f.camera} · ${t(`reviews.${f.phase}`)} · #${f.seq}`)));
        void frameUrl(visitId, f.camera, f.seq).then((u) => (urls.push(u), (img.src = u)), () => undefined);
      }
      if (!v.frames?.length) frames.append(h('p', { class: 'muted' }, t('visit.noFrames')));
      clear(
        body,
        h('p', { class: 'muted' }, `${v.cabinetId} · ${v.siteId} · ${tv('purpose', v.purpose)} · ${tv('vstatus', v.status)} · ${v.shopperRef ?? v.operatorId ?? ''}`),
        h('h3', {}, t('visit.timeline')),
        h('ol', { class: 'timeline', id: 'visit-timeline' }, steps.filter(([, at]) => at).map(([k, at]) => h('li', {}, h('time', {}, time(at)), ' ', t(k))), sessions.rows.map((s) => h('li', {}, h('time', {}, time(s.updatedAt)), ` ${t('visits.sessions')}: ${tv('sstatus', s.status)}${s.message ? ` · ${s.message}` : ''}`))),
        h('h3', {}, t('visits.recognition')),
        v.recognition
          ? [h('p', {}, `${tv('recog', v.recognition.status)} · ${(v.recognition.confidence * 100).toFixed(0)}%`), table([t('col.sku'), t('col.qty'), t('col.conf')], v.recognition.items.map((i) => [i.sku, i.qty, `${(i.confidence * 100).toFixed(0)}%`]), { class: 'grid recognition' })]
          : h('p', { class: 'muted' }, '—'),
        h('h3', {}, `${t('visits.frames')} (${(v.frames ?? []).length})`),
        frames,
        money ? h('h3', {}, t('visit.orders')) : null,
        money
          ? orders.rows.map((o, i) =>
              h(
                'div',
                { class: 'visit-order' },
                h('p', {}, h('b', {}, o.orderId), ` · ${tv('ostatus', o.status)} · ${yuan(o.totalFen)} · ${t('col.paidRefunded')}: ${yuan(o.paidFen)} / ${yuan(o.refundedFen)}`),
                table([t('col.name'), t('col.qty'), t('col.price'), t('col.amount')], o.lines.map((l) => [l.name || l.sku, l.qty, yuan(l.unitPriceFen), yuan(l.amountFen)]), { class: 'grid order-lines' }),
                table([t('col.time'), t('col.outTradeNo'), t('col.channel'), t('col.amount'), t('col.status')], pays[i]![0].rows.map((p) => [time(p.createdAt), p.outTradeNo, tv('channel', p.channel), yuan(p.amountFen), tv('pstatus', p.status)]), { class: 'grid payments' }),
                pays[i]![1].rows.length ? table([t('col.time'), t('col.outRefundNo'), t('col.amount'), t('col.reason'), t('col.status')], pays[i]![1].rows.map((r) => [time(r.createdAt), r.outRefundNo, yuan(r.amountFen), r.reason, tv('rstatus', r.status)]), { class: 'grid refunds' }) : null,
              ),
            )
          : null,
        money && !orders.rows.length ? h('p', { class: 'muted' }, t('empty')) : null,
      );
    } catch (e) {
      clear(body, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  void load();
  return () => {
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
