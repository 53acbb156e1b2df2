import { can, type Permission, type Principal } from '../../contracts/admin-api';
import { ADMIN_PREFIX, type LoginResponse } from '../../contracts/console-api';

/** The signed-in session, kept in sessionStorage (gone when the tab closes; expires server-side anyway). */
export interface SessionInfo {
  token: string;
  expiresAt: number;
  principal: Principal;
}

const KEY = 'console.session';

export function loadSession(): SessionInfo | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as SessionInfo | null;
    return s && s.expiresAt > Date.now() ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: SessionInfo | undefined): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (e.g. the SKUs a planogram was refused for), as the service sent them. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Called when any call answers 401: the page goes back to the sign-in form. */
let onSignedOut: () => void = () => undefined;
export const whenSignedOut = (fn: () => void): void => {
  onSignedOut = fn;
};

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const s = loadSession();
  const res = await fetch(`${ADMIN_PREFIX}${path}`, {
    method,
    headers: { ...(s ? { authorization: `Bearer ${s.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string; details?: unknown } };
  if (!res.ok) {
    if (res.status === 401 && path !== '/login') {
      saveSession(undefined);
      onSignedOut();
    }
    throw new ApiError(res.status, data.error?.code ?? 'INTERNAL', data.error?.message ?? res.statusText, data.error?.details);
  }
  return data as T;
}

export const qs = (q: Record<string, string | number | undefined>): string => {
  const p = Object.entries(q).filter(([, v]) => v !== undefined && v !== '');
  return p.length ? '?' + p.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&') : '';
};

export async function login(username: string, password: string): Promise<SessionInfo> {
  const r = await api<LoginResponse>('POST', '/login', { username, password });
  const s = { token: r.token, expiresAt: r.expiresAt, principal: r.principal };
  saveSession(s);
  return s;
}

export async function logout(): Promise<void> {
  await api('POST', '/logout').catch(() => undefined);
  saveSession(undefined);
}

/** Evidence frames need the bearer header, so they are fetched and shown as blob URLs (revoked with the view). */
export async function frameUrl(visitId: string, camera: string, seq: number): Promise<string> {
  return blobUrl(`/frames/${encodeURIComponent(visitId)}/${encodeURIComponent(camera)}/${seq}`, 'FRAME', `frame ${camera}/${seq}`);
}

/** A product's enrolment photo, as a blob URL like the frames (the caller revokes it with its view). */
export async function photoUrl(sku: string, photoId: string): Promise<string> {
  return blobUrl(`/products/${encodeURIComponent(sku)}/photos/${encodeURIComponent(photoId)}`, 'PHOTO', `photo ${photoId}`);
}

async function blobUrl(path: string, code: string, what: string): Promise<string> {
  const s = loadSession();
  const res = await fetch(`${ADMIN_PREFIX}${path}`, { headers: s ? { authorization: `Bearer ${s.token}` } : {} });
  if (!res.ok) throw new ApiError(res.status, code, `${what}: ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

/** What the signed-in role may do (hides what it may not); the server checks every call and event again. */
export function allowed(perm: Permission, siteId?: string): boolean {
  const s = loadSession();
  return !!s && can(s.principal, perm, siteId);
}

/** Every page of a list (following its `before` cursor, at most `maxPages`): what a CSV export writes. */
export async function fetchAll<T>(path: string, query: (before?: number) => Record<string, string | number | undefined>, maxPages = 50): Promise<T[]> {
  const all: T[] = [];
  let before: number | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p = await api<{ rows: T[]; next?: number }>('GET', `${path}${qs(query(before))}`);
    all.push(...p.rows);
    if (p.next === undefined) break;
    before = p.next;
  }
  return all;
}
