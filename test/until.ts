/** Polls `pred` every `everyMs` until it holds, or fails after `ms` (for conditions the test does not clock). */
export async function until(pred: () => boolean | Promise<boolean>, ms = 5000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
