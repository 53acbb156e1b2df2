import type { FlowKind } from './wire';
import { CABINET_ID_RE } from './wire';

/** Where a scan points: the cabinet and the flow printed on its code (a hint; the service's record wins). */
export interface CabinetEntry {
  cabinetId: string;
  flow?: FlowKind;
}

const FLOWS: readonly FlowKind[] = ['open', 'semi', 'auto'];
const FLOW_BY_LETTER: Readonly<Record<string, FlowKind>> = { o: 'open', s: 'semi', a: 'auto' };

function asFlow(v: string | undefined): FlowKind | undefined {
  return v !== undefined && (FLOWS as readonly string[]).includes(v) ? (v as FlowKind) : undefined;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function entry(cabinetId: string | undefined, flow: FlowKind | undefined): CabinetEntry | undefined {
  if (cabinetId === undefined || !CABINET_ID_RE.test(cabinetId)) return undefined;
  return flow ? { cabinetId, flow } : { cabinetId };
}

/** Parses a `k=v&k=v` query string (the mini-program runtime has no URL or URLSearchParams). */
export function parseQueryString(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const v = safeDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (k !== undefined && v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * The cabinet's link QR, `https://<host>/c/<cabinetId>?flow=<open|semi|auto>` (contracts/cabinet-protocol.ts
 * `qrUrl`). Any host is accepted here: which hosts open the mini-program is configured on the platform.
 */
export function parseCabinetUrl(url: string): CabinetEntry | undefined {
  const m = /^https?:\/\/[^/?#]+\/c\/([^/?#]+)\/?(?:\?([^#]*))?(?:#.*)?$/.exec(url.trim());
  if (!m || m[1] === undefined) return undefined;
  const id = safeDecode(m[1]);
  const query = parseQueryString(m[2] ?? '');
  return entry(id, asFlow(query['flow']));
}

/**
 * The mini-program code's `scene` (≤ 32 characters): `<cabinetId>.<o|s|a>`, or the bare id. A cabinet id
 * never contains '.', so the split is unambiguous; ids longer than 30 characters use the link QR instead.
 */
export function parseScene(scene: string): CabinetEntry | undefined {
  const raw = safeDecode(scene);
  if (raw === undefined || raw.length > 32) return undefined;
  const dot = raw.lastIndexOf('.');
  if (dot < 0) return entry(raw, undefined);
  const letter = raw.slice(dot + 1);
  const flow = FLOW_BY_LETTER[letter];
  return flow ? entry(raw.slice(0, dot), flow) : undefined;
}

/** The scene string for a cabinet's mini-program code, or undefined when it does not fit in 32 characters. */
export function sceneFor(cabinetId: string, flow: FlowKind): string | undefined {
  const s = `${cabinetId}.${flow[0]}`;
  return CABINET_ID_RE.test(cabinetId) && s.length <= 32 ? s : undefined;
}

/**
 * The entry a page was opened with: `q` (link QR, URL-encoded by WeChat), `scene` (mini-program code), or
 * `cabinetId`/`flow` from our own navigation. Anything malformed is ignored: the shopper lands on home.
 */
export function parseEntry(query: Record<string, string | undefined> | undefined): CabinetEntry | undefined {
  if (!query) return undefined;
  if (query['q']) {
    const url = safeDecode(query['q']);
    return url === undefined ? undefined : parseCabinetUrl(url);
  }
  if (query['scene']) return parseScene(query['scene']);
  if (query['cabinetId']) return entry(query['cabinetId'], asFlow(query['flow']));
  return undefined;
}

/** What `wx.scanCode` returned: a link QR gives `result`, a mini-program code of ours gives `path`. */
export function parseScanResult(r: { result?: string; path?: string }): CabinetEntry | undefined {
  if (r.path) {
    const qi = r.path.indexOf('?');
    if (qi >= 0) {
      const found = parseEntry(parseQueryString(r.path.slice(qi + 1)));
      if (found) return found;
    }
  }
  return r.result ? parseCabinetUrl(r.result) : undefined;
}
