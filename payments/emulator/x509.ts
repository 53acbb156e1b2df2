import { createSign, type KeyObject } from 'node:crypto';

/**
 * A minimal DER writer for one thing: a self-signed X.509 v3 certificate (sha256WithRSAEncryption), so the
 * emulator can mint the merchant API certificate and the platform certificate without openssl or a
 * dependency. Node's X509Certificate parses the result (x509.test.ts).
 */

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const nul = (): Buffer => Buffer.from([0x05, 0x00]);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const printable = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'ascii'));
const explicit = (n: number, body: Buffer): Buffer => tlv(0xa0 + n, body);

function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack: number[] = [];
    let v = p;
    do {
      stack.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < stack.length - 1; i++) stack[i]! |= 0x80;
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

function name(cn: string, org: string): Buffer {
  return seq(
    set(seq(oid('2.5.4.6'), printable('CN'))),
    set(seq(oid('2.5.4.10'), utf8(org))),
    set(seq(oid('2.5.4.3'), utf8(cn))),
  );
}

export interface SelfSignedCert {
  pem: string;
  /** Upper-case hex, as `openssl x509 -serial` and WeChat's portal print it. */
  serialHex: string;
}

/** Builds a self-signed certificate for `publicKey`, signed by `privateKey`, valid from `notBefore` for `days`. */
export function selfSignedCertificate(opts: {
  publicKey: KeyObject;
  privateKey: KeyObject;
  serialHex: string;
  commonName: string;
  organisation: string;
  notBefore: Date;
  days: number;
}): SelfSignedCert {
  const sigAlg = seq(oid('1.2.840.113549.1.1.11'), nul());
  const subject = name(opts.commonName, opts.organisation);
  const spki = opts.publicKey.export({ type: 'spki', format: 'der' });
  const notAfter = new Date(opts.notBefore.getTime() + opts.days * 86_400_000);
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(Buffer.from(opts.serialHex, 'hex')),
    sigAlg,
    subject,
    seq(utcTime(opts.notBefore), utcTime(notAfter)),
    subject,
    spki,
  );
  const signature = createSign('RSA-SHA256').update(tbs).sign(opts.privateKey);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return { pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, serialHex: opts.serialHex.toUpperCase() };
}
