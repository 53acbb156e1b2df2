import type { Step } from '../../utils/visit';

/** The visit's progress: 开门 → 门已打开 → 识别中 / 选购并支付 → outcome. */
Component({
  properties: {
    steps: { type: Array, value: [] as Step[] },
  },
});
