import type { AlarmCounts } from '../../contracts/console-api';
import { api } from './api';
import { t } from './i18n';
import { h } from './ui';

/** The alarm counts shown in the navigation, kept across views (refreshed every 15 s and after an action). */
let alarmCounts: AlarmCounts | undefined;
export function refreshAlarmCounts(): void {
  void api<AlarmCounts>('GET', '/alarms/counts').then(
    (c) => {
      alarmCounts = c;
      drawAlarmBadge();
    },
    () => undefined,
  );
}
export function drawAlarmBadge(): void {
  const a = document.querySelector('nav [data-nav="alarms"]');
  if (!a || !alarmCounts) return;
  a.querySelector('.badge')?.remove();
  if (alarmCounts.open + alarmCounts.acknowledged > 0) a.append(h('span', { class: alarmCounts.open ? 'badge hot' : 'badge', id: 'nav-alarm-count', title: `${t('astatus.open')} ${alarmCounts.open} · ${t('astatus.acknowledged')} ${alarmCounts.acknowledged}` }, String(alarmCounts.open), alarmCounts.acknowledged ? `+${alarmCounts.acknowledged}` : ''));
}


export const alarmCountsLoaded = (): boolean => alarmCounts !== undefined;
