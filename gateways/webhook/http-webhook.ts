import type { WebhookSender } from '../../app/alarm-notifier';

/**
 * The webhook port over HTTP: one JSON POST with a timeout, no retries (the notifier's reminder schedule is
 * the retry). Never throws; a transport failure answers status 0. The URL is never put in an error message,
 * because a robot's URL carries its key.
 */
export function httpWebhookSender(o: { timeoutMs?: number } = {}): WebhookSender {
  return {
    async post(url, body) {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body), signal: AbortSignal.timeout(o.timeoutMs ?? 5_000) });
        await res.arrayBuffer().catch(() => undefined);
        return { status: res.status };
      } catch {
        return { status: 0 };
      }
    },
  };
}
