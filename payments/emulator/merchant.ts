import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCertificate } from './x509';

/**
 * The sandbox merchant the emulator serves. Generated once into a data directory (layout in README.md) and
 * reused on every later start, so a service, a test or any WeChat Pay SDK can be configured from the files
 * exactly as it would be from the real merchant portal's downloads.
 */
export interface SandboxMerchant {
  mchid: string;
  appid: string;
  /** Mini-program AppSecret, for jscode2session and cgi-bin/token. */
  appSecret: string;
  /** Serial of the merchant API certificate (upper-case hex). */
  merchantSerial: string;
  merchantPrivateKeyPem: string;
  merchantCertPem: string;
  apiV3Key: string;
  apiV2Key: string;
  /** WeChat Pay public key mode: the key id and the SPKI public key. */
  platformPublicKeyId: string;
  platformPublicKeyPem: string;
  /** Platform certificate mode: serial and certificate (same platform key pair, as WeChat did during the switch). */
  platformCertSerial: string;
  platformCertPem: string;
  /** Emulator only: the platform's private keys (public-key mode, certificate mode). Never hand them out. */
  platformPrivateKeyPem: string;
  platformCertPrivateKeyPem: string;
  /** papay template (plan) id. */
  planId: string;
}

export interface MerchantKeys {
  merchant: SandboxMerchant;
  merchantPublicKey: KeyObject;
  platformPrivateKey: KeyObject;
  platformPublicKey: KeyObject;
  platformCertPrivateKey: KeyObject;
}

const FILES = {
  json: 'merchant.json',
  key: 'apiclient_key.pem',
  cert: 'apiclient_cert.pem',
  pubKey: 'pub_key.pem',
  platformKey: join('emulator', 'platform_key.pem'),
  platformCertKey: join('emulator', 'platform_cert_key.pem'),
} as const;

const alnum = (n: number): string => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);
const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

function generate(now: Date): SandboxMerchant {
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  // The certificate-mode key differs from the public-key-mode key, as it does at WeChat during the switch.
  const platformCertKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mchid = `19${digits(8)}`;
  const merchantCert = selfSignedCertificate({
    publicKey: merchant.publicKey,
    privateKey: merchant.privateKey,
    serialHex: `5${randomBytes(19).toString('hex').slice(1)}`,
    commonName: mchid,
    organisation: 'Sandbox Merchant (WeChat emulator)',
    notBefore: now,
    days: 5 * 365,
  });
  const platformCert = selfSignedCertificate({
    publicKey: platformCertKeys.publicKey,
    privateKey: platformCertKeys.privateKey,
    serialHex: `7${randomBytes(19).toString('hex').slice(1)}`,
    commonName: 'Tenpay.com Root CA (emulator)',
    organisation: 'WeChat Pay emulator',
    notBefore: now,
    days: 5 * 365,
  });
  return {
    mchid,
    appid: `wx${randomBytes(8).toString('hex')}`,
    appSecret: randomBytes(16).toString('hex'),
    merchantSerial: merchantCert.serialHex,
    merchantPrivateKeyPem: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    merchantCertPem: merchantCert.pem,
    apiV3Key: alnum(32),
    apiV2Key: alnum(32),
    platformPublicKeyId: `PUB_KEY_ID_01${mchid}${digits(14)}`,
    platformPublicKeyPem: platform.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    platformCertSerial: platformCert.serialHex,
    platformCertPem: platformCert.pem,
    platformPrivateKeyPem: platform.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    platformCertPrivateKeyPem: platformCertKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    // A plan id is a number at WeChat (WxJava models it as an Integer): no leading zero.
    planId: `${1 + (randomBytes(1)[0]! % 9)}${digits(5)}`,
  };
}

/** Loads the sandbox merchant from `dataDir`, generating and writing it on first use. */
export function loadOrCreateSandboxMerchant(dataDir: string, now = new Date()): MerchantKeys {
  const jsonPath = join(dataDir, FILES.json);
  let merchant: SandboxMerchant;
  if (existsSync(jsonPath)) {
    const ids = JSON.parse(readFileSync(jsonPath, 'utf8')) as Omit<SandboxMerchant, 'merchantPrivateKeyPem' | 'merchantCertPem' | 'platformPublicKeyPem' | 'platformCertPem' | 'platformPrivateKeyPem' | 'platformCertPrivateKeyPem'>;
    merchant = {
      ...ids,
      merchantPrivateKeyPem: readFileSync(join(dataDir, FILES.key), 'utf8'),
      merchantCertPem: readFileSync(join(dataDir, FILES.cert), 'utf8'),
      platformPublicKeyPem: readFileSync(join(dataDir, FILES.pubKey), 'utf8'),
      platformCertPem: readFileSync(join(dataDir, `wechatpay_${ids.platformCertSerial}.pem`), 'utf8'),
      platformPrivateKeyPem: readFileSync(join(dataDir, FILES.platformKey), 'utf8'),
      platformCertPrivateKeyPem: readFileSync(join(dataDir, FILES.platformCertKey), 'utf8'),
    };
  } else {
    merchant = generate(now);
    mkdirSync(join(dataDir, 'emulator'), { recursive: true });
    const secret = { mode: 0o600 } as const;
    writeFileSync(join(dataDir, FILES.key), merchant.merchantPrivateKeyPem, secret);
    writeFileSync(join(dataDir, FILES.cert), merchant.merchantCertPem);
    writeFileSync(join(dataDir, FILES.pubKey), merchant.platformPublicKeyPem);
    writeFileSync(join(dataDir, `wechatpay_${merchant.platformCertSerial}.pem`), merchant.platformCertPem);
    writeFileSync(join(dataDir, FILES.platformKey), merchant.platformPrivateKeyPem, secret);
    writeFileSync(join(dataDir, FILES.platformCertKey), merchant.platformCertPrivateKeyPem, secret);
    const { merchantPrivateKeyPem: _a, merchantCertPem: _b, platformPublicKeyPem: _c, platformCertPem: _d, platformPrivateKeyPem: _e, platformCertPrivateKeyPem: _f, ...ids } = merchant;
    // Written last: its presence means the whole set is complete.
    writeFileSync(jsonPath, `${JSON.stringify(ids, null, 2)}\n`, secret);
  }
  return {
    merchant,
    merchantPublicKey: createPublicKey(merchant.merchantCertPem),
    platformPrivateKey: createPrivateKey(merchant.platformPrivateKeyPem),
    platformPublicKey: createPublicKey(merchant.platformPublicKeyPem),
    platformCertPrivateKey: createPrivateKey(merchant.platformCertPrivateKeyPem),
  };
}
