import { crc32, inflateSync } from 'node:zlib';

/**
 * A PNG read back as RGBA for tests (what a QR scanner is given): 8-bit grayscale, gray + alpha, RGB or
 * RGBA, not interlaced, any of the five row filters (Chromium's canvas uses them all), every chunk's CRC
 * checked. Written from the PNG specification, apart from common/png.ts, which writes them.
 */
export interface Rgba {
  rgba: Uint8ClampedArray;
  width: number;
  height: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 4: 2, 2: 3, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(png: Buffer): Rgba {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if ((crc32(png.subarray(at + 4, at + 8 + len)) >>> 0) !== png.readUInt32BE(at + 8 + len)) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      channels = CHANNELS[data[9]!] ?? 0;
      if (data[8] !== 8 || !channels || data[12] !== 0) throw new Error(`unsupported PNG: depth ${data[8]}, colour type ${data[9]}, interlace ${data[12]}`);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== (stride + 1) * height) throw new Error(`IDAT holds ${raw.length} bytes, not ${(stride + 1) * height}`);
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : undefined;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels]! : 0;
      const b = up ? up[i]! : 0;
      const c = up && i >= channels ? up[i - channels]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (pred === undefined) throw new Error(`row ${y}: unknown filter ${filter}`);
      out[i] = (src[i]! + pred) & 0xff;
    }
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = rows.subarray(p * channels, (p + 1) * channels);
    const [r, g, b, alpha] = channels === 1 ? [s[0]!, s[0]!, s[0]!, 255] : channels === 2 ? [s[0]!, s[0]!, s[0]!, s[1]!] : channels === 3 ? [s[0]!, s[1]!, s[2]!, 255] : [s[0]!, s[1]!, s[2]!, s[3]!];
    rgba.set([r, g, b, alpha], p * 4);
  }
  return { rgba, width, height };
}

/** A rectangle of an image, clipped to it. */
export function crop(img: Rgba, r: { left: number; top: number; width: number; height: number }): Rgba {
  const width = Math.min(r.width, img.width - r.left);
  const height = Math.min(r.height, img.height - r.top);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) rgba.set(img.rgba.subarray(((r.top + y) * img.width + r.left) * 4, ((r.top + y) * img.width + r.left + width) * 4), y * width * 4);
  return { rgba, width, height };
}
