import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { responseSigningString, rsaVerify } from './crypto';

/**
 * Verification of everything WeChat Pay signs (API responses and notifications): `ts\nnonce\nbody\n` with
 * the platform key named by `Wechatpay-Serial`, which is either a `PUB_KEY_ID_…` (public-key mode) or a
 * platform certificate serial (certificate mode). Both may be held at once, as during WeChat's switch.
 */

export const SIGNATURE_WINDOW_S = 300;
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** Platform keys by Wechatpay-Serial. Certificate serials compare case-insensitively (SDKs differ in case). */
export class PlatformKeyRing {
  private readonly keys = new Map<string, { key: KeyObject; kind: 'public_key' | 'certificate'; notAfter?: number }>();

  private static norm(serial: string): string {
    return serial.startsWith('PUB_KEY_ID_') ? serial : serial.toUpperCase();
  }

  addPublicKey(id: string, pem: string): this {
    this.keys.set(PlatformKeyRing.norm(id), { key: createPublicKey(pem), kind: 'public_key' });
    return this;
  }

  addCertificate(pem: string): this {
    const cert = new X509Certificate(pem);
    this.keys.set(PlatformKeyRing.norm(cert.serialNumber), { key: cert.publicKey, kind: 'certificate', notAfter: Date.parse(cert.validTo) });
    return this;
  }

  get(serial: string, nowMs: number): KeyObject | undefined {
    const entry = this.keys.get(PlatformKeyRing.norm(serial));
    if (!entry || (entry.notAfter !== undefined && nowMs > entry.notAfter)) return undefined;
    return entry.key;
  }

  serials(): string[] {
    return [...this.keys.keys()];
  }

  /** Any public-key id held; sent as the request's Wechatpay-Serial so responses are signed with that key. */
  preferredSerial(): string | undefined {
    for (const [serial, e] of this.keys) if (e.kind === 'public_key') return serial;
    return this.keys.keys().next().value;
  }
}

export type SignatureFailure = 'missing_headers' | 'signature_probe' | 'stale_timestamp' | 'unknown_serial' | 'bad_signature';
export type SignatureCheck = { ok: true; serial: string } | { ok: false; reason: SignatureFailure };

/** Reads a header case-insensitively from a Headers object or a plain Node header map. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;
export function header(h: HeaderSource, name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name.toLowerCase()] ?? h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a signed WeChat Pay message: all four headers present, not a SIGNTEST probe, timestamp within
 * ±5 minutes of `nowMs`, a known serial, and an RSA-SHA256 signature over the exact raw body.
 */
export function verifyWechatpaySignature(h: HeaderSource, rawBody: string, keys: PlatformKeyRing, nowMs: number): SignatureCheck {
  const timestamp = header(h, 'wechatpay-timestamp');
  const nonce = header(h, 'wechatpay-nonce');
  const serial = header(h, 'wechatpay-serial');
  const signature = header(h, 'wechatpay-signature');
  if (!timestamp || !nonce || !serial || !signature) return { ok: false, reason: 'missing_headers' };
  // WeChat's probe traffic: a deliberately wrong signature that must be answered with a failure.
  if (signature.startsWith(SIGNTEST_PREFIX)) return { ok: false, reason: 'signature_probe' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) return { ok: false, reason: 'stale_timestamp' };
  const key = keys.get(serial, nowMs);
  if (!key) return { ok: false, reason: 'unknown_serial' };
  if (!rsaVerify(responseSigningString(timestamp, nonce, rawBody), signature, key)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, serial };
}
