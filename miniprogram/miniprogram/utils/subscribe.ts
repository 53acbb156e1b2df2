import type { Platform } from './platform.port';

/** WeChat shows at most 3 templates per prompt in the older base libraries we support. */
export const MAX_TEMPLATES_PER_PROMPT = 3;

/**
 * Asks for subscribe messages. Call it synchronously at the start of a tap handler or inside a payment's
 * success callback — after an `await` WeChat no longer treats it as user-initiated. Empty ids (not
 * configured) are dropped; it never rejects, so the action it rides on goes ahead either way.
 */
export function askSubscribe(platform: Pick<Platform, 'requestSubscribe'>, ids: readonly string[]): Promise<Record<string, string> | undefined> {
  const unique = ids.filter((id, i) => id !== '' && ids.indexOf(id) === i).slice(0, MAX_TEMPLATES_PER_PROMPT);
  if (unique.length === 0) return Promise.resolve(undefined);
  return platform.requestSubscribe(unique).catch(() => undefined);
}
