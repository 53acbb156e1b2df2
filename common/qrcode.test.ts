import fc from 'fast-check';
import jsQR from 'jsqr';
import { decodePng } from '../test/png';
import { qrMatrix, qrPng, type QrEcc } from './qrcode';

/**
 * The encoder checked from outside: each code is rendered to PNG, the PNG decoded here (IHDR/IDAT, inflate) and
 * read back by jsQR, an independent decoder; sizes and structure are compared with the tables of ISO/IEC 18004.
 */
jest.setTimeout(120_000);

const LEVELS: QrEcc[] = ['L', 'M', 'Q', 'H'];
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&\'()*+,;=%';

/** ISO/IEC 18004 table 7: bytes in byte mode per version 1–40, as [L, M, Q, H]. */
const CAPACITY = [
  [17, 14, 11, 7], [32, 26, 20, 14], [53, 42, 32, 24], [78, 62, 46, 34], [106, 84, 60, 44], [134, 106, 74, 58], [154, 122, 86, 64], [192, 152, 108, 84],
  [230, 180, 130, 98], [271, 213, 151, 119], [321, 251, 177, 137], [367, 287, 203, 155], [425, 331, 241, 177], [458, 362, 258, 194], [520, 412, 292, 220],
  [586, 450, 322, 250], [644, 504, 364, 280], [718, 560, 394, 310], [792, 624, 442, 338], [858, 666, 482, 382], [929, 711, 509, 403], [1003, 779, 565, 439],
  [1091, 857, 611, 461], [1171, 911, 661, 511], [1273, 997, 715, 535], [1367, 1059, 751, 593], [1465, 1125, 805, 625], [1528, 1190, 868, 658], [1628, 1264, 908, 698],
  [1732, 1370, 982, 742], [1840, 1452, 1030, 790], [1952, 1538, 1112, 842], [2068, 1628, 1168, 898], [2188, 1722, 1228, 958], [2303, 1809, 1283, 983],
  [2431, 1911, 1351, 1051], [2563, 1989, 1423, 1093], [2699, 2099, 1499, 1139], [2809, 2213, 1579, 1219], [2953, 2331, 1663, 1273],
];
const capacity = (version: number, ecc: QrEcc) => CAPACITY[version - 1]![LEVELS.indexOf(ecc)]!;

/** ISO/IEC 18004 annex E, table E.1: alignment pattern centres (rows and columns) per version. */
const ALIGNMENT = [
  [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66],
  [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82], [6, 30, 58, 86], [6, 34, 62, 90], [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102],
  [6, 28, 54, 80, 106], [6, 32, 58, 84, 110], [6, 30, 58, 86, 114], [6, 34, 62, 90, 118], [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130],
  [6, 30, 56, 82, 108, 134], [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142], [6, 34, 62, 90, 118, 146], [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154],
  [6, 28, 54, 80, 106, 132, 158], [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
];

/** ISO/IEC 18004 annex C, table C.1: the 15-bit format information per level, for masks 0–7. */
const FORMAT: Record<QrEcc, number[]> = {
  L: [0x77c4, 0x72f3, 0x7daa, 0x789d, 0x662f, 0x6318, 0x6c41, 0x6976],
  M: [0x5412, 0x5125, 0x5e7c, 0x5b4b, 0x45f9, 0x40ce, 0x4f97, 0x4aa0],
  Q: [0x355f, 0x3068, 0x3f31, 0x3a06, 0x24b4, 0x2183, 0x2eda, 0x2bed],
  H: [0x1689, 0x13be, 0x1ce7, 0x19d0, 0x0762, 0x0255, 0x0d0c, 0x083b],
};

/**
 * jsQR 1.4.0 has version 23's alignment centres as 6, 30, 54, 74, 102 (ISO: …, 78, …), so it reads no version-23
 * code at all (cozmo/jsQR#251); that version's structure is checked against the ISO tables instead.
 */
const JSQR_UNREADABLE = new Set([23]);

/**
 * jsQR is slow inside jest's sandbox (~70 ms a large code), so by default the sweep over versions 1–40 reads each
 * version back at one level, the levels taking turns; QR_DECODE_EVERY_LEVEL=1 reads all 160 (~20 s).
 */
const DECODE_EVERY_LEVEL = process.env.QR_DECODE_EVERY_LEVEL === '1';

const versionOf = (m: boolean[][]) => (m.length - 17) / 4;

/** A deterministic URL-safe text of `n` characters (a different one per `salt`). */
const filler = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => URL_SAFE[(i * 7919 + salt * 31) % URL_SAFE.length]).join('');

/**
 * Encodes and renders, then decodes the PNG with jsQR and checks the text, the raw bytes and the version read
 * back. The modules, sampled from the pixels, are returned for structural checks.
 */
function expectRoundTrip(text: string, opts: { ecc?: QrEcc; scale?: number } = {}): boolean[][] {
  const scale = opts.scale ?? 8;
  const { rgba, width, height } = decodePng(qrPng(text, opts));
  const read = jsQR(rgba, width, height, { inversionAttempts: 'dontInvert' });
  expect(read?.data).toBe(text);
  expect(Buffer.from(read!.binaryData)).toEqual(Buffer.from(text, 'utf8'));
  const size = width / scale - 8; // a quiet zone of 4 modules each side
  const modules = Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, c) => rgba[(((r + 4) * scale + (scale >> 1)) * width + (c + 4) * scale + (scale >> 1)) * 4] === 0));
  expect(read!.version).toBe(versionOf(modules));
  return modules;
}

/** The format information read from both of its copies (bit 14 first), which must agree. */
function formatBits(m: boolean[][]): number {
  const n = m.length;
  const bits = (cells: Array<[number, number]>) => cells.reduce((acc, [row, col]) => (acc << 1) | (m[row]![col] ? 1 : 0), 0);
  const around = bits([[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8], [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]]);
  const split = bits([...[1, 2, 3, 4, 5, 6, 7].map((i): [number, number] => [n - i, 8]), ...[8, 7, 6, 5, 4, 3, 2, 1].map((i): [number, number] => [8, n - i])]);
  expect(split).toBe(around);
  return around;
}

describe('QR code encoder, read back by jsQR', () => {
  it('encodes the cabinet sticker URL (level M by default)', () => {
    const url = 'https://cabinets.example.com/c/CAB-0001?flow=semi';
    const m = expectRoundTrip(url);
    expect(versionOf(m)).toBe(4); // 49 bytes: more than version 3 holds at M (42), within version 4 (62)
    expect(FORMAT.M).toContain(formatBits(m));
    expect(m).toEqual(qrMatrix(url));
  });

  it.each([32, 200])('encodes a %i-character URL', (n) => {
    const url = `https://cabinets.example.com/${filler(n - 29, n)}`;
    expect(url).toHaveLength(n);
    expectRoundTrip(url);
  });

  it('encodes UTF-8 text with Chinese characters (and one beyond the BMP)', () => {
    expectRoundTrip('无人售货柜 CAB-0001：扫码开门，取走商品后关门自动扣款。🍫');
  });

  it.each(LEVELS)('encodes at level %s, and the format information names that level', (ecc) => {
    const url = 'https://cabinets.example.com/c/CAB-0001?flow=semi';
    expect(FORMAT[ecc]).toContain(formatBits(expectRoundTrip(url, { ecc })));
  });

  it('encodes ~60 random URL-safe strings of 1–300 characters at random levels', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...URL_SAFE), minLength: 1, maxLength: 300 }), fc.constantFrom(...LEVELS), (text, ecc) => {
        expectRoundTrip(text, { ecc, scale: 3 });
      }),
      { numRuns: 60 },
    );
  });

  it('fills every version 1–40 at every level to its ISO capacity (one more byte takes the next version) and reads each back', () => {
    const masks = new Set<number>();
    for (const ecc of LEVELS) {
      for (let v = 1; v <= 40; v++) {
        const text = filler(capacity(v, ecc), v);
        const decode = !JSQR_UNREADABLE.has(v) && (DECODE_EVERY_LEVEL || LEVELS[v % 4] === ecc);
        const m = decode ? expectRoundTrip(text, { ecc, scale: 2 }) : qrMatrix(text, { ecc });
        expect({ ecc, v, size: m.length, rows: new Set(m.map((r) => r.length)) }).toEqual({ ecc, v, size: 17 + 4 * v, rows: new Set([17 + 4 * v]) });
        masks.add(FORMAT[ecc].indexOf(formatBits(m)));
        if (v < 40) expect(versionOf(qrMatrix(`${text}x`, { ecc }))).toBe(v + 1);
      }
    }
    expect([...masks].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // jsQR has read every mask
  });

  it.each([
    [14, 'M', 1],
    [15, 'M', 2],
    [17, 'L', 1],
    [7, 'H', 1],
    [180, 'M', 9],
    [181, 'M', 10], // the character count grows from 8 to 16 bits at version 10
    [2331, 'M', 40],
  ] as const)('%i bytes at level %s take version %i', (bytes, ecc, version) => {
    const m = qrMatrix('a'.repeat(bytes), { ecc });
    expect(versionOf(m)).toBe(version);
    expect(m).toHaveLength(17 + 4 * version);
  });

  it('counts UTF-8 bytes, not characters: 42 bytes of Chinese fit version 3 at M, 43 do not', () => {
    expect(versionOf(qrMatrix('柜'.repeat(14)))).toBe(3);
    expect(versionOf(qrMatrix(`${'柜'.repeat(14)}a`))).toBe(4);
  });

  it('throws a clear error for text that does not fit version 40', () => {
    expect(() => qrMatrix('a'.repeat(2332))).toThrow(/2332 bytes do not fit .* level M .* at most 2331 bytes/);
    expect(() => qrMatrix('a'.repeat(2954), { ecc: 'L' })).toThrow(/do not fit/);
    expect(() => qrMatrix('柜'.repeat(778))).toThrow(/2334 bytes/);
    expect(() => qrPng('a'.repeat(1274), { ecc: 'H' })).toThrow(/do not fit/);
    expect(qrMatrix('a'.repeat(2953), { ecc: 'L' })).toHaveLength(177);
  });

  it('draws the function patterns where ISO puts them, for every version (23 included)', () => {
    for (let v = 1; v <= 40; v++) {
      const m = qrMatrix(filler(capacity(v, 'L'), v), { ecc: 'L' });
      const n = m.length;
      const at = (row: number, col: number) => m[row]![col];
      for (const [r0, c0] of [[0, 0], [0, n - 7], [n - 7, 0]] as const) {
        for (let dr = -1; dr <= 7; dr++) {
          for (let dc = -1; dc <= 7; dc++) {
            const row = r0 + dr;
            const col = c0 + dc;
            if (row < 0 || col < 0 || row >= n || col >= n) continue;
            const ring = Math.max(Math.abs(dr - 3), Math.abs(dc - 3));
            expect({ v, row, col, dark: at(row, col) }).toEqual({ v, row, col, dark: ring !== 2 && ring !== 4 }); // finder and separator
          }
        }
      }
      for (let i = 8; i < n - 8; i++) expect({ v, i, row6: at(6, i), col6: at(i, 6) }).toEqual({ v, i, row6: i % 2 === 0, col6: i % 2 === 0 });
      expect(at(n - 8, 8)).toBe(true); // the dark module
      const centres = ALIGNMENT[v - 1]!;
      for (const r of centres) {
        for (const c of centres) {
          if ((r < 9 && c < 9) || (r < 9 && c > n - 9) || (r > n - 9 && c < 9)) continue; // under a finder
          for (let d = -2; d <= 2; d++) {
            for (let e = -2; e <= 2; e++) expect({ v, r, c, d, e, dark: at(r + d, c + e) }).toEqual({ v, r, c, d, e, dark: Math.max(Math.abs(d), Math.abs(e)) !== 1 });
          }
        }
      }
    }
  });

  it('renders scale pixels per module inside a light quiet zone of margin modules', () => {
    const text = 'https://cabinets.example.com/c/CAB-0001?flow=semi';
    const m = qrMatrix(text);
    const { rgba, width, height } = decodePng(qrPng(text, { scale: 5, margin: 2 }));
    expect([width, height]).toEqual([(m.length + 4) * 5, (m.length + 4) * 5]);
    const px = (x: number, y: number) => rgba[(y * width + x) * 4];
    for (let i = 0; i < width; i++) expect([px(i, 0), px(0, i), px(i, 9), px(width - 1, i)]).toEqual([255, 255, 255, 255]);
    m.forEach((row, r) => row.forEach((dark, c) => expect(px((c + 2) * 5 + 2, (r + 2) * 5 + 2)).toBe(dark ? 0 : 255)));
    expect(() => qrPng(text, { scale: 0 })).toThrow(/scale/);
    expect(() => qrPng(text, { margin: -1 })).toThrow(/margin/);
  });
});
