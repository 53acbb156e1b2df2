import type { FlowKind, SessionState } from './wire';

/** Chinese labels for each visit state, as the shopper reads them. */
export const VISIT_TEXT: Readonly<Record<SessionState, string>> = {
  unlocking: '正在开门',
  door_open: '门已打开，取完商品请关门',
  awaiting_frames: '正在上传画面',
  recognising: '识别中',
  awaiting_payment: '待支付',
  charging: '扣款中',
  paid: '已支付',
  charged: '已扣款',
  held_for_review: '人工复核中',
  debt: '扣款未成功，已记为待支付欠款',
  ended_empty: '未取商品，本次不收费',
  relocked: '门未打开，已重新上锁',
  failed: '开门失败，请重试',
};

const TERMINAL: readonly SessionState[] = ['paid', 'charged', 'held_for_review', 'debt', 'ended_empty', 'relocked', 'failed'];

export function isTerminal(state: SessionState): boolean {
  return TERMINAL.includes(state);
}

export type StepStatus = 'done' | 'active' | 'todo' | 'error';
export interface Step {
  label: string;
  status: StepStatus;
}

/** Position of each state along the visit, for the progress bar; -1 marks a state off the happy path. */
function stage(state: SessionState): number {
  switch (state) {
    case 'unlocking':
      return 0;
    case 'door_open':
      return 1;
    case 'awaiting_frames':
    case 'recognising':
    case 'awaiting_payment':
    case 'charging':
      return 2;
    case 'paid':
    case 'charged':
    case 'held_for_review':
    case 'ended_empty':
      return 3;
    case 'debt':
    case 'relocked':
    case 'failed':
      return -1;
    default: {
      const never: never = state;
      throw new Error(`unknown state ${String(never)}`);
    }
  }
}

/**
 * The progress steps: door open → recognising (auto) or pay for the cart (semi) → the outcome. The last label
 * names the actual outcome once known (已扣款, 已支付, 人工复核中, …).
 */
export function progressSteps(flow: FlowKind, state: SessionState): Step[] {
  const middle = flow === 'auto' ? '识别中' : '选购并支付';
  const finalLabel = stage(state) === 3 || stage(state) === -1 ? VISIT_TEXT[state] : flow === 'auto' ? '已扣款' : '已支付';
  const labels = ['开门', '门已打开', middle, finalLabel];
  const at = stage(state);
  if (at < 0) {
    // Failures: mark the step where it stopped; door never opened for relocked/failed.
    const stoppedAt = state === 'debt' ? 3 : 1;
    return labels.map((label, i) => ({ label: i === 3 && state !== 'debt' ? VISIT_TEXT[state] : label, status: i < stoppedAt ? 'done' : i === stoppedAt || i === 3 ? 'error' : 'todo' }));
  }
  return labels.map((label, i) => ({ label, status: i < at || (i === at && at === 3) ? 'done' : i === at ? 'active' : 'todo' }));
}
