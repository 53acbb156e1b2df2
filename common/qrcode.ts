import { encodePng } from './png';

/**
 * A QR Code Model 2 encoder (ISO/IEC 18004), for codes the service prints itself (cabinet stickers, links):
 * the text as UTF-8 in one byte-mode segment, error-correction level L/M/Q/H, the smallest version 1–40 that
 * holds it, Reed–Solomon blocks over GF(256) interleaved, the function patterns, format and version
 * information, and the lowest-penalty of the 8 masks. Not implemented: numeric, alphanumeric and kanji modes
 * (or mixing modes), ECI (no UTF-8 designator is written; readers take byte-mode data as UTF-8 in practice),
 * structured append, Micro QR. Matrices are `m[row][column]`, true = dark, without the quiet zone.
 */

export type QrEcc = 'L' | 'M' | 'Q' | 'H';

/** The 2 bits of each level in the format information (ISO table 12: not in L, M, Q, H order). */
const FORMAT_BITS: Record<QrEcc, number> = { L: 1, M: 0, Q: 3, H: 2 };

// ISO table 9, by level then version (index 0 unused): error-correction codewords per block, and blocks.
const EC_PER_BLOCK: Record<QrEcc, readonly number[]> = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  Q: [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  H: [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
};
const BLOCKS: Record<QrEcc, readonly number[]> = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  Q: [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  H: [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
};

/** Data masks (ISO table 10), x = column, y = row: a module whose condition holds is inverted. */
const MASKS: ReadonlyArray<(x: number, y: number) => boolean> = [
  (x, y) => (x + y) % 2 === 0,
  (_x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

/** Modules left for data and error correction once the function patterns and format/version areas are drawn. */
function rawModules(version: number): number {
  let n = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    n -= (25 * align - 10) * align - 55;
    if (version >= 7) n -= 36; // the two version-information blocks
  }
  return n;
}

function dataCodewordCount(version: number, ecc: QrEcc): number {
  return Math.floor(rawModules(version) / 8) - EC_PER_BLOCK[ecc][version]! * BLOCKS[ecc][version]!;
}

/** Bits of the byte-mode character count: 8 up to version 9, 16 from version 10. */
function countBits(version: number): number {
  return version <= 9 ? 8 : 16;
}

/** The smallest version whose data codewords hold the mode indicator, the count and the bytes. */
function chooseVersion(byteCount: number, ecc: QrEcc): number | undefined {
  for (let v = 1; v <= 40; v++) if (4 + countBits(v) + 8 * byteCount <= dataCodewordCount(v, ecc) * 8) return v;
  return undefined;
}

/** The data codewords: mode 0100, count, bytes, terminator, zero bits to a byte boundary, then pad bytes EC 11. */
function dataCodewords(bytes: Uint8Array, version: number, ecc: QrEcc): number[] {
  const bits: number[] = [];
  const put = (value: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  const capacity = dataCodewordCount(version, ecc) * 8;
  put(0b0100, 4);
  put(bytes.length, countBits(version));
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((acc, b) => (acc << 1) | b, 0));
  for (let pad = 0xec; out.length < capacity / 8; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

// GF(256) with the QR field polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11d): exp and log tables of α = 2.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = x;
  LOG[x] = i;
}
for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;

function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

/** The generator polynomial (x − α⁰)(x − α¹)…(x − α^(degree−1)), coefficients from x^degree down. */
function generator(degree: number): number[] {
  let g = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array<number>(g.length + 1).fill(0);
    g.forEach((c, j) => {
      next[j] = next[j]! ^ c;
      next[j + 1] = next[j + 1]! ^ gfMul(c, EXP[i]!);
    });
    g = next;
  }
  return g;
}

/** The error-correction codewords of a block: data · x^degree mod the generator. */
function rsRemainder(data: readonly number[], gen: readonly number[]): number[] {
  const rem = new Array<number>(gen.length - 1).fill(0);
  for (const b of data) {
    const factor = b ^ rem.shift()!;
    rem.push(0);
    for (let i = 0; i < rem.length; i++) rem[i] = rem[i]! ^ gfMul(gen[i + 1]!, factor);
  }
  return rem;
}

/** Splits the data into blocks (short ones first), adds each block's error correction and interleaves them. */
function withErrorCorrection(data: readonly number[], version: number, ecc: QrEcc): number[] {
  const blocks = BLOCKS[ecc][version]!;
  const ecLen = EC_PER_BLOCK[ecc][version]!;
  const total = Math.floor(rawModules(version) / 8);
  const shortBlocks = blocks - (total % blocks);
  const shortData = Math.floor(total / blocks) - ecLen;
  const gen = generator(ecLen);
  const dataBlocks: number[][] = [];
  const ecBlocks: number[][] = [];
  for (let i = 0, at = 0; i < blocks; i++) {
    const len = shortData + (i < shortBlocks ? 0 : 1);
    dataBlocks.push(data.slice(at, at + len));
    ecBlocks.push(rsRemainder(dataBlocks[i]!, gen));
    at += len;
  }
  const out: number[] = [];
  for (let i = 0; i <= shortData; i++) for (const d of dataBlocks) if (i < d.length) out.push(d[i]!);
  for (let i = 0; i < ecLen; i++) for (const e of ecBlocks) out.push(e[i]!);
  return out;
}

/** Centres of the alignment patterns along each axis (ISO annex E). */
function alignmentPositions(version: number): number[] {
  if (version === 1) return [];
  const n = Math.floor(version / 7) + 2;
  const step = Math.floor((version * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
  const out = [6];
  for (let pos = version * 4 + 10; out.length < n; pos -= step) out.splice(1, 0, pos);
  return out;
}

interface Grid {
  size: number;
  dark: boolean[][];
  /** Function modules (patterns, format and version information), which data and masks leave alone. */
  fixed: boolean[][];
}

function setFixed(g: Grid, x: number, y: number, dark: boolean): void {
  g.dark[y]![x] = dark;
  g.fixed[y]![x] = true;
}

function drawFunctionPatterns(g: Grid, version: number): void {
  const { size } = g;
  for (let i = 0; i < size; i++) {
    setFixed(g, 6, i, i % 2 === 0);
    setFixed(g, i, 6, i % 2 === 0);
  }
  // Finder patterns with their light separators (the ring at distance 4, where it falls inside the symbol).
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && x < size && y >= 0 && y < size) setFixed(g, x, y, d !== 2 && d !== 4);
      }
    }
  }
  const align = alignmentPositions(version);
  const last = align.length - 1;
  align.forEach((cx, i) =>
    align.forEach((cy, j) => {
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return; // under a finder
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) setFixed(g, cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }),
  );
  drawFormat(g, 'M', 0); // reserves the area (and draws the dark module); each mask redraws it
  if (version >= 7) drawVersion(g, version);
}

/** Format information: level and mask, BCH(15,5) with generator 0x537, XOR 0x5412, drawn twice. */
function drawFormat(g: Grid, ecc: QrEcc, mask: number): void {
  const data = (FORMAT_BITS[ecc] << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  const bits = ((data << 10) | rem) ^ 0x5412;
  const bit = (i: number) => ((bits >>> i) & 1) === 1;
  const { size } = g;
  for (let i = 0; i <= 5; i++) setFixed(g, 8, i, bit(i));
  setFixed(g, 8, 7, bit(6));
  setFixed(g, 8, 8, bit(7));
  setFixed(g, 7, 8, bit(8));
  for (let i = 9; i < 15; i++) setFixed(g, 14 - i, 8, bit(i));
  for (let i = 0; i < 8; i++) setFixed(g, size - 1 - i, 8, bit(i));
  for (let i = 8; i < 15; i++) setFixed(g, 8, size - 15 + i, bit(i));
  setFixed(g, 8, size - 8, true); // the dark module
}

/** Version information (versions ≥ 7): BCH(18,6) with generator 0x1f25, two 6×3 blocks by the finders. */
function drawVersion(g: Grid, version: number): void {
  let rem = version;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  const bits = (version << 12) | rem;
  for (let i = 0; i < 18; i++) {
    const dark = ((bits >>> i) & 1) === 1;
    const a = g.size - 11 + (i % 3);
    const b = Math.floor(i / 3);
    setFixed(g, a, b, dark);
    setFixed(g, b, a, dark);
  }
}

/** Codeword bits, most significant first, up and down two-module columns from the right, skipping the timing column. */
function placeData(g: Grid, codewords: readonly number[]): void {
  const { size } = g;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let vert = 0; vert < size; vert++) {
      const y = upward ? size - 1 - vert : vert;
      for (const x of [right, right - 1]) {
        if (g.fixed[y]![x] || i >= codewords.length * 8) continue; // remainder bits stay light
        g.dark[y]![x] = ((codewords[i >>> 3]! >>> (7 - (i & 7))) & 1) === 1;
        i++;
      }
    }
  }
}

/** The penalty score of ISO 7.8.3 (N1 = 3, N2 = 3, N3 = 40, N4 = 10); lower is easier to read. */
function penalty(m: boolean[][]): number {
  const size = m.length;
  let score = 0;
  const columns = m.map((_, x) => m.map((row) => row[x]!));
  for (const line of [...m, ...columns]) {
    // Rule 1: each run of 5 + i modules of one colour in a row or column scores 3 + i.
    for (let i = 1, run = 1; i <= size; i++) {
      if (i < size && line[i] === line[i - 1]) run++;
      else {
        if (run >= 5) score += run - 2;
        run = 1;
      }
    }
    // Rule 3: each dark-light-dark×3-light-dark (1:1:3:1:1) with 4 light modules before or after it scores 40.
    // An 11-module window slides along the line; outside the symbol counts as light.
    for (let i = 0, window = 0; i < size + 4; i++) {
      window = ((window << 1) | (i < size && line[i] ? 1 : 0)) & 0x7ff;
      if (window === 0b00001011101 || window === 0b10111010000) score += 40;
    }
  }
  // Rule 2: each 2×2 block of one colour scores 3.
  for (let y = 0; y + 1 < size; y++) {
    for (let x = 0; x + 1 < size; x++) {
      const c = m[y]![x];
      if (m[y]![x + 1] === c && m[y + 1]![x] === c && m[y + 1]![x + 1] === c) score += 3;
    }
  }
  // Rule 4: 10 for each full 5 % the share of dark modules is away from 50 %.
  const dark = m.reduce((n, row) => n + row.filter(Boolean).length, 0);
  score += 10 * Math.floor(Math.abs(dark * 20 - size * size * 10) / (size * size));
  return score;
}

/**
 * The modules of a QR code holding `text` (UTF-8, byte mode) at level `ecc` (default M), in the smallest
 * version that fits: `size` = 17 + 4 × version rows of `size` booleans, true = dark, without the quiet zone.
 */
export function qrMatrix(text: string, opts: { ecc?: QrEcc } = {}): boolean[][] {
  const ecc = opts.ecc ?? 'M';
  if (!Object.hasOwn(BLOCKS, ecc)) throw new Error(`qrcode: unknown error-correction level ${String(ecc)} (L, M, Q or H)`);
  const bytes = Buffer.from(text, 'utf8');
  const version = chooseVersion(bytes.length, ecc);
  if (version === undefined) {
    const max = Math.floor((dataCodewordCount(40, ecc) * 8 - 4 - countBits(40)) / 8);
    throw new Error(`qrcode: ${bytes.length} bytes do not fit a QR code at level ${ecc} (version 40 holds at most ${max} bytes)`);
  }
  const size = 17 + 4 * version;
  const g: Grid = { size, dark: Array.from({ length: size }, () => new Array<boolean>(size).fill(false)), fixed: Array.from({ length: size }, () => new Array<boolean>(size).fill(false)) };
  drawFunctionPatterns(g, version);
  placeData(g, withErrorCorrection(dataCodewords(bytes, version, ecc), version, ecc));
  let best = { dark: g.dark, score: Infinity };
  for (let mask = 0; mask < MASKS.length; mask++) {
    const inverts = MASKS[mask]!;
    const masked: Grid = { size, dark: g.dark.map((row, y) => row.map((d, x) => (g.fixed[y]![x] ? d : d !== inverts(x, y)))), fixed: g.fixed };
    drawFormat(masked, ecc, mask);
    const score = penalty(masked.dark);
    if (score < best.score) best = { dark: masked.dark, score };
  }
  return best.dark;
}

/**
 * The QR code of `text` as a grayscale PNG: `scale` pixels per module (default 8) and a light quiet zone of
 * `margin` modules on each side (default 4, the minimum the standard asks for).
 */
export function qrPng(text: string, opts: { ecc?: QrEcc; scale?: number; margin?: number } = {}): Buffer {
  const { scale = 8, margin = 4 } = opts;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`qrcode: scale must be a positive integer, not ${scale}`);
  if (!Number.isInteger(margin) || margin < 0) throw new Error(`qrcode: margin must be a non-negative integer, not ${margin}`);
  const m = qrMatrix(text, opts.ecc ? { ecc: opts.ecc } : {});
  const width = (m.length + 2 * margin) * scale;
  return encodePng(width, width, (x, y) => (m[Math.floor(y / scale) - margin]?.[Math.floor(x / scale) - margin] ? 0 : 255));
}
