import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

/**
 * The emulator's mini-program code (wxa/getwxacodeunlimit): a PNG of `width` pixels, a round badge of
 * modules derived from the scene and page (so codes differ per cabinet), with the scene and page in tEXt
 * chunks so that a test can read back what a printed code opens. Not scannable by WeChat; a real code
 * comes from WeChat in live mode.
 */

const SCENE_CHARS = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$/;

/** WeChat's scene rule: 1–32 visible characters of digits, letters and `!#$&'()*+,/:;=?@-._~`. */
export function validScene(scene: unknown): scene is string {
  return typeof scene === 'string' && SCENE_CHARS.test(scene);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A grayscale PNG, rows given as a function of (x, y) → 0..255. */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => number, text: Record<string, string> = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixel(x, y);
  }
  const texts = Object.entries(text).map(([k, v]) => chunk('tEXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1')])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...texts, chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The tEXt chunks of a PNG (to read back a code's scene and page). */
export function pngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let at = 8; at + 8 <= png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt') {
      const data = png.subarray(at + 8, at + 8 + len);
      const nul = data.indexOf(0);
      out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    }
    at += 12 + len;
  }
  return out;
}

export function wxacodePng(scene: string, page: string, width: number): Buffer {
  const bits = createHash('sha256').update(`${scene}\n${page}`).digest();
  const grid = 21;
  const r = width / 2;
  return encodePng(
    width,
    width,
    (x, y) => {
      const dx = x - r + 0.5;
      const dy = y - r + 0.5;
      const d = Math.sqrt(dx * dx + dy * dy);
      if (d > r * 0.98) return 255;
      if (d < r * 0.22) return d > r * 0.18 ? 0 : 255; // the centre ring, where WeChat puts the logo
      const gx = Math.floor((x / width) * grid);
      const gy = Math.floor((y / width) * grid);
      const i = gy * grid + gx;
      return (bits[i % 32]! >> (i % 8)) & 1 ? 0 : 255;
    },
    { scene, page },
  );
}
