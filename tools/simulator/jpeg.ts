/**
 * Placeholder camera frames: a tiny baseline JPEG (uniform grey) built once, in code, without an image
 * library (only vision/ may import sharp). Each frame carries its cabinet, camera, visit and seq in a JPEG COM
 * segment, so two frames never have the same bytes and a person can tell them apart in a hex dump.
 */

/** One Huffman table as the DHT segment stores it: code counts per length 1..16, then the symbols. */
interface HuffSpec {
  counts: number[];
  symbols: number[];
}

// The standard luminance DC table (ITU T.81 K.3) and an AC table with end-of-block only: a uniform image has no
// AC coefficients. Codes of all 1-bits are reserved, which is why EOB gets `00` rather than a 1-bit code.
const DC: HuffSpec = { counts: [0, 1, 5, 1, 1, 1, 1, 1, 1], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const AC: HuffSpec = { counts: [0, 1], symbols: [0x00] };

function codes(spec: HuffSpec): Map<number, { code: number; len: number }> {
  const out = new Map<number, { code: number; len: number }>();
  let code = 0;
  let k = 0;
  spec.counts.forEach((n, i) => {
    for (let j = 0; j < n; j++) out.set(spec.symbols[k++] as number, { code: code++, len: i + 1 });
    code <<= 1;
  });
  return out;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0x00); // byte stuffing inside entropy-coded data
    this.acc = 0;
    this.n = 0;
  }
  finish(): number[] {
    if (this.n > 0) this.put(0xff, 8 - this.n); // pad with 1-bits
    return this.bytes;
  }
}

const seg = (marker: number, body: number[]): number[] => [0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];

/**
 * A baseline (SOF0), single-component JPEG of `width`×`height` pixels, all of grey level `level` (0..255),
 * quantisation 1 everywhere (DC categories up to 11 cover every level). Every 8×8 block has the same DC, so only the first block codes a difference.
 */
export function solidGreyJpeg(width: number, height: number, level: number): Buffer {
  if (!(width >= 1 && height >= 1 && width <= 256 && height <= 256)) throw new RangeError('1..256 pixels a side');
  if (!(level >= 0 && level <= 255)) throw new RangeError('grey level 0..255');
  // F(0,0) of the level-shifted 8×8 block = 8 × (level − 128); with quantiser 1 that is the DC value.
  const dc = 8 * (Math.round(level) - 128);
  const magnitude = Math.abs(dc);
  const category = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
  const dcCodes = codes(DC);
  const eob = codes(AC).get(0x00) as { code: number; len: number };
  const first = dcCodes.get(category) as { code: number; len: number };
  const zero = dcCodes.get(0) as { code: number; len: number };
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = new BitWriter();
  for (let b = 0; b < blocks; b++) {
    if (b === 0) {
      bits.put(first.code, first.len);
      if (category > 0) bits.put(dc > 0 ? dc : dc + (1 << category) - 1, category); // negative values: one's complement
    } else {
      bits.put(zero.code, zero.len);
    }
    bits.put(eob.code, eob.len);
  }
  const bytes = [
    0xff, 0xd8, // SOI
    ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]), // JFIF 1.1
    ...seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]), // DQT: table 0, 8-bit, all ones
    ...seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0: 1 component
    ...seg(0xc4, [0x00, ...pad16(DC.counts), ...DC.symbols]), // DHT: DC table 0
    ...seg(0xc4, [0x10, ...pad16(AC.counts), ...AC.symbols]), // DHT: AC table 0
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS: component 1 uses tables 0/0, full spectrum
    ...bits.finish(),
    0xff, 0xd9, // EOI
  ];
  return Buffer.from(bytes);
}

const pad16 = (counts: number[]): number[] => [...counts, ...new Array<number>(16 - counts.length).fill(0)];

/** The shared placeholder: 64×48 mid-light grey, a few hundred bytes. */
export const PLACEHOLDER_JPEG: Buffer = solidGreyJpeg(64, 48, 176);

/** Inserts a COM segment right after SOI. The text is cut to fit one segment (65,533 bytes). */
export function withComment(jpeg: Buffer, text: string): Buffer {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG (no SOI)');
  const body = Buffer.from(text, 'utf8').subarray(0, 65_533);
  const head = Buffer.from([0xff, 0xfe, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, body, jpeg.subarray(2)]);
}

/** Reads every COM segment before the scan; for tests and for people looking at uploaded frames. */
export function jpegComments(jpeg: Buffer): string[] {
  const out: string[] = [];
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1] as number;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker === 0xfe) out.push(jpeg.subarray(i + 4, i + 2 + len).toString('utf8'));
    if (marker === 0xda) break;
    i += 2 + len;
  }
  return out;
}
