import { PLACEHOLDER_JPEG, jpegComments, solidGreyJpeg, withComment } from './jpeg';

/** Walks the marker segments up to SOS; returns marker codes in order. */
function markers(j: Buffer): number[] {
  const out: number[] = [];
  let i = 2;
  while (i + 4 <= j.length && j[i] === 0xff) {
    const m = j[i + 1] as number;
    out.push(m);
    if (m === 0xda) break;
    i += 2 + j.readUInt16BE(i + 2);
  }
  return out;
}

describe('placeholder JPEG', () => {
  it('is a small baseline JPEG: SOI, JFIF, DQT, SOF0, two DHT, SOS … EOI', () => {
    const j = PLACEHOLDER_JPEG;
    expect(j.length).toBeLessThan(400);
    expect([...j.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect([...j.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect(markers(j)).toEqual([0xe0, 0xdb, 0xc0, 0xc4, 0xc4, 0xda]);
    const sof = j.indexOf(Buffer.from([0xff, 0xc0]));
    expect(j.readUInt16BE(sof + 5)).toBe(48); // height
    expect(j.readUInt16BE(sof + 7)).toBe(64); // width
  });

  it('codes any grey level and size (byte stuffing keeps 0xFF out of the scan)', () => {
    for (const [w, h, level] of [[1, 1, 128], [17, 9, 40], [256, 256, 255], [8, 8, 0]] as const) {
      const j = solidGreyJpeg(w, h, level);
      const sos = j.indexOf(Buffer.from([0xff, 0xda]));
      const scan = j.subarray(sos + 2 + j.readUInt16BE(sos + 2), j.length - 2);
      for (let i = 0; i < scan.length - 1; i++) if (scan[i] === 0xff) expect(scan[i + 1]).toBe(0x00);
    }
    expect(() => solidGreyJpeg(0, 1, 1)).toThrow(RangeError);
    expect(() => solidGreyJpeg(1, 1, 300)).toThrow(RangeError);
  });

  it('carries a frame identity in a COM segment right after SOI, so frames differ', () => {
    const a = withComment(PLACEHOLDER_JPEG, 'camera=top seq=0');
    const b = withComment(PLACEHOLDER_JPEG, 'camera=top seq=1');
    expect(a.equals(b)).toBe(false);
    expect(markers(a)[0]).toBe(0xfe);
    expect(jpegComments(a)).toEqual(['camera=top seq=0']);
    expect(a.subarray(a.length - PLACEHOLDER_JPEG.length + 2).equals(PLACEHOLDER_JPEG.subarray(2))).toBe(true);
    expect(() => withComment(Buffer.from('nope'), 'x')).toThrow('not a JPEG');
  });
});
