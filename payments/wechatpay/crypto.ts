import { createCipheriv, createDecipheriv, createHash, createHmac, createSign, createVerify, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The cryptographic primitives of WeChat Pay, written once and shared by the client, the notification
 * endpoints and the emulator (which must agree byte for byte). Everything here is pure and synchronous.
 */

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A cryptographic nonce of `length` upper-case letters and digits (the library uses Math.random). */
export function nonceStr(length = 32): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += NONCE_ALPHABET[bytes[i]! % NONCE_ALPHABET.length];
  return out;
}

/** v3 request signing string: five lines, each ending in `\n`; the body line is empty for a bodiless call. */
export function requestSigningString(method: string, pathAndQuery: string, timestamp: string, nonce: string, body: string): string {
  return `${method.toUpperCase()}\n${pathAndQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** v3 response / callback signing string: `ts\nnonce\nbody\n`, the body being the exact bytes received. */
export function responseSigningString(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

export function rsaSign(message: string, privateKey: KeyObject | string): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

export function rsaVerify(message: string, signature: string, publicKey: KeyObject | string): boolean {
  try {
    return createVerify('RSA-SHA256').update(message).verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/** wx.requestPayment paySign over `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function paySignString(appId: string, timeStamp: string, nonce: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonce}\n${pkg}\n`;
}

/** AEAD_AES_256_GCM as WeChat uses it: key = APIv3 key bytes, IV = the 12-char nonce, tag appended, base64. */
export function aeadEncrypt(plaintext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
}

export type AeadResult = { ok: true; plaintext: string } | { ok: false; reason: 'malformed' | 'tag_mismatch' };

/**
 * Decrypts and *authenticates*: `final()` throws when the tag does not match the ciphertext, nonce and
 * associated data. wechatpay-node-v3's decipher_gcm never calls final(), so it accepts tampered data.
 */
export function aeadDecrypt(ciphertextB64: string, apiV3Key: string, nonce: string, associatedData: string): AeadResult {
  const raw = Buffer.from(ciphertextB64, 'base64');
  if (raw.length < 17 || Buffer.byteLength(apiV3Key, 'utf8') !== 32 || nonce.length === 0) return { ok: false, reason: 'malformed' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const plain = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]);
    return { ok: true, plaintext: plain.toString('utf8') };
  } catch {
    return { ok: false, reason: 'tag_mismatch' };
  }
}

// ---- APIv2 (XML, papay) -------------------------------------------------------------------------------

export type V2SignType = 'HMAC-SHA256' | 'MD5';

/** APIv2 sign: non-empty fields except `sign`, sorted by key, `k=v&…&key=<APIv2 key>`, hashed, upper-case. */
export function v2Sign(fields: Record<string, string | number | undefined>, apiV2Key: string, signType: V2SignType = 'HMAC-SHA256'): string {
  const base = Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${String(fields[k])}`)
    .join('&');
  const text = `${base}&key=${apiV2Key}`;
  const digest = signType === 'MD5' ? createHash('md5').update(text, 'utf8').digest('hex') : createHmac('sha256', apiV2Key).update(text, 'utf8').digest('hex');
  return digest.toUpperCase();
}

/** Constant-time check of a v2 `sign` field. */
export function v2Verify(fields: Record<string, string | undefined>, apiV2Key: string, signType: V2SignType = 'HMAC-SHA256'): boolean {
  const given = fields.sign;
  if (!given) return false;
  const want = Buffer.from(v2Sign(fields, apiV2Key, signType));
  const got = Buffer.from(given.toUpperCase());
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Largest v2 document accepted: WeChat's papay messages are a few hundred bytes. */
export const V2_XML_MAX_BYTES = 64 * 1024;

// preserveOrder keeps text and CDATA pieces of one value in document order; entities are decoded by
// decodeXmlText below (the parser's own pass would also decode inside CDATA and misses numeric references).
const xmlParser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: false, cdataPropName: '__cdata', commentPropName: '#comment', ignoreDeclaration: true, ignorePiTags: true });
const xmlBuilder = new XMLBuilder({ cdataPropName: '__cdata', format: false });

type OrderedNode = Record<string, unknown>;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Character data with XML's five predefined entities and numeric references decoded; undefined for any other entity. */
function decodeXmlText(text: string): string | undefined {
  let bad = false;
  const out = text.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) return ((bad = true), whole);
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(name);
    const code = m ? parseInt(m[1] ?? m[2]!, m[1] ? 16 : 10) : NaN;
    if (!Number.isInteger(code) || code > 0x10ffff) return ((bad = true), whole);
    return String.fromCodePoint(code);
  });
  return bad ? undefined : out;
}

/** A leaf element's value: its text and CDATA pieces in order; undefined when it has child elements. */
function leafValue(children: OrderedNode[]): string | undefined {
  let value = '';
  for (const child of children) {
    if ('#comment' in child) continue;
    if ('#text' in child) {
      const t = decodeXmlText(String(child['#text']));
      if (t === undefined) return undefined;
      value += t;
    } else if ('__cdata' in child) {
      for (const piece of child.__cdata as OrderedNode[]) value += String(piece['#text'] ?? '');
    } else return undefined;
  }
  return value;
}

/**
 * Parses a flat v2 `<xml>…</xml>` document into string fields, as WeChat reads one: only the elements
 * count (whitespace between them is formatting, never a field), a value is its text with CDATA and
 * entities resolved, exactly as written (no trimming). Refused (undefined): anything over
 * V2_XML_MAX_BYTES, not well-formed, a DOCTYPE or entity declaration (no external entities, no entity
 * expansion), another root, nested elements, a repeated field, or text beside the fields.
 */
export function parseV2Xml(xml: string): Record<string, string> | undefined {
  if (Buffer.byteLength(xml, 'utf8') > V2_XML_MAX_BYTES) return undefined;
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return undefined;
  if (XMLValidator.validate(xml) !== true) return undefined;
  let doc: OrderedNode[];
  try {
    doc = xmlParser.parse(xml) as OrderedNode[];
  } catch {
    return undefined;
  }
  const roots = doc.filter((n) => !('#comment' in n) && !('#text' in n && String(n['#text']).trim() === ''));
  if (roots.length !== 1 || !Array.isArray(roots[0]!.xml)) return undefined;
  const out: Record<string, string> = {};
  for (const node of roots[0]!.xml as OrderedNode[]) {
    if ('#comment' in node) continue;
    if ('#text' in node) {
      if (String(node['#text']).trim() !== '') return undefined;
      continue;
    }
    if ('__cdata' in node) return undefined;
    const name = Object.keys(node).find((k) => k !== ':@');
    if (!name || Object.prototype.hasOwnProperty.call(out, name)) return undefined;
    const value = leafValue(node[name] as OrderedNode[]);
    if (value === undefined) return undefined;
    out[name] = value;
  }
  return out;
}

/** Builds a flat v2 `<xml>` document; every value goes in CDATA, as WeChat writes it. */
export function buildV2Xml(fields: Record<string, string | number | undefined>): string {
  const inner: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) inner[k] = { __cdata: String(v) };
  return xmlBuilder.build({ xml: inner }) as string;
}
