import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret encrypted at rest with AES-256-GCM; the tag is checked on every open. */
export interface Sealed {
  iv: string;
  tag: string;
  data: string;
}

/** Seals secrets (device HMAC keys) with a 32-byte master key, binding each to a context string. */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyHex: string) {
    this.key = Buffer.from(keyHex, 'hex');
    if (this.key.length !== 32) throw new Error('SecretBox needs a 32-byte key (64 hex characters)');
  }

  static generateKeyHex(): string {
    return randomBytes(32).toString('hex');
  }

  seal(plaintext: string, context: string): Sealed {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context));
    const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** Throws if the ciphertext, tag or context do not match. */
  open(sealed: Sealed, context: string): string {
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]).toString('utf8');
  }
}

/** A fresh device secret: 32 random bytes as lowercase hex. */
export const newDeviceSecret = (): string => randomBytes(32).toString('hex');
