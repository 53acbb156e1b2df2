import type { FleetPage } from '../../../contracts/console-api';
import type { RestockList, RestockTask, TaskCount } from '../../../contracts/restock';
import { api } from '../api';
import { t } from '../i18n';
import { clear, h, notice, time } from '../ui';

/**
 * `#/restock/<siteId>`: what to bring to a site — the van's load summed per product, then each cabinet's
 * low lanes (at or below par) with what each takes up to capacity. Laid out for a phone (restockers carry
 * one): one column, large rows, no table wider than the screen.
 */
export function restockView(root: HTMLElement, args: string[]): void {
  const siteId = args[0];
  const picker = h('select', { id: 'restock-site', 'aria-label': t('filter.site'), onchange: (e: Event) => (location.hash = `#/restock/${encodeURIComponent((e.target as HTMLSelectElement).value)}`) }, h('option', { value: '' }, t('filter.site')));
  const body = h('div', { id: 'restock' }, siteId ? t('loading') : t('restock.pick'));
  clear(root, h('section', { class: 'restock' }, h('h2', {}, t('nav.restock')), h('div', { class: 'toolbar' }, picker), body));
  void api<FleetPage>('GET', '/fleet?limit=1').then((f) => {
    for (const s of f.sites) picker.append(h('option', { value: s, ...(s === siteId ? { selected: true } : {}) }, s));
  });
  if (!siteId) return;
  const tasksBox = h('div', { id: 'restock-tasks' });
  const failed = (e: Error) => notice(root, e.message, 'error');
  /** An open task as a counting form: per lane what was found before filling and what is left in it. */
  const taskForm = (task: RestockTask): HTMLElement => {
    const inputs = task.lanes.map((l) => ({
      l,
      found: h('input', { class: 'count-found', type: 'number', min: '0', max: String(l.capacity), value: String(l.listedCount), inputmode: 'numeric', 'aria-label': `${l.cabinetId} ${l.laneId} ${t('restock.found')}` }),
      final: h('input', { class: 'count-final', type: 'number', min: '0', max: String(l.capacity), value: String(l.capacity), inputmode: 'numeric', 'aria-label': `${l.cabinetId} ${l.laneId} ${t('restock.final')}` }),
    }));
    const close = () => {
      const counts: TaskCount[] = inputs.map((x) => ({ cabinetId: x.l.cabinetId, laneId: x.l.laneId, found: Number(x.found.value), final: Number(x.final.value) }));
      void api<RestockTask>('POST', `/restock-tasks/${encodeURIComponent(task.taskId)}/close`, { counts }).then((done) => {
        notice(root, t('restock.closed', { shrinkage: done.shrinkage }));
        location.reload();
      }, failed);
    };
    return h(
      'form',
      { class: 'restock-task', 'data-task': task.taskId, onsubmit: (e: Event) => (e.preventDefault(), close()) },
      h('h3', {}, t('restock.task', { id: task.taskId, who: task.assignee })),
      // The restock unlock, bound to this task (the service checks the task lists the cabinet).
      h('div', { class: 'toolbar' }, [...new Set(task.lanes.map((l) => l.cabinetId))].map((cabinetId) => h('button', { type: 'button', class: 'task-unlock', 'data-cabinet': cabinetId, onclick: () => void api<{ visitId: string }>('POST', `/cabinets/${encodeURIComponent(cabinetId)}/restock-unlock`, { taskId: task.taskId }).then(() => notice(root, t('restock.unlocked', { cabinet: cabinetId })), failed) }, t('restock.unlock', { cabinet: cabinetId })))),
      h('ul', {}, inputs.map((x) => h('li', { 'data-lane': `${x.l.cabinetId}/${x.l.laneId}` }, h('span', {}, h('b', {}, x.l.laneId), ` ${x.l.name}`, h('br', {}), h('small', { class: 'muted' }, x.l.cabinetId)), h('label', {}, t('restock.found'), x.found), h('label', {}, t('restock.final'), x.final)))),
      h('button', { type: 'submit', class: 'task-close' }, t('restock.close')),
    );
  };
  void api<{ tasks: RestockTask[] }>('GET', `/restock-tasks?siteId=${encodeURIComponent(siteId)}&status=open`).then((r) => clear(tasksBox, r.tasks.map(taskForm)), failed);
  void api<RestockList>('GET', `/sites/${encodeURIComponent(siteId)}/restock-list`).then(
    (list) => {
      if (!list.cabinets.length) return clear(body, h('p', { id: 'restock-none' }, t('restock.none')), tasksBox);
      const start = h('button', { id: 'restock-start', onclick: () => void api<RestockTask>('POST', `/sites/${encodeURIComponent(siteId)}/restock-tasks`, {}).then((task) => tasksBox.prepend(taskForm(task)), failed) }, t('restock.start'));
      clear(
        body,
        h('div', { class: 'toolbar' }, start),
        tasksBox,
        h('p', { class: 'muted' }, t('restock.summary', { lanes: list.lowLanes, cabinets: list.cabinets.length, at: time(list.at) })),
        h('h3', {}, t('restock.van')),
        h('ul', { class: 'restock-van' }, list.van.map((v) => h('li', { 'data-sku': v.sku }, h('span', {}, v.name, ' ', h('code', {}, v.sku)), h('strong', {}, `× ${v.qty}`)))),
        ...list.cabinets.map((c) =>
          h(
            'div',
            { class: 'restock-cabinet', 'data-cabinet': c.cabinetId },
            h('h3', {}, `${c.name} `, h('small', { class: 'muted' }, c.cabinetId)),
            h('ul', {}, c.lanes.map((l) => h('li', { class: 'restock-lane', 'data-lane': l.laneId }, h('span', {}, h('b', {}, l.laneId), ` ${l.name}`, h('br', {}), h('small', { class: 'muted' }, t('restock.laneState', { count: l.count, par: l.par, capacity: l.capacity }))), h('strong', {}, `+${l.bring}`)))),
          ),
        ),
      );
    },
    (e: Error) => clear(body, h('p', { class: 'error', role: 'alert' }, e.message)),
  );
}
