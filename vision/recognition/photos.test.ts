import sharp from 'sharp';
import { CROP_BYTES, CROP_H, CROP_W } from './crop';
import { MAX_PHOTOS, PhotoError, photoCrops, prototypesFrom, type PhotoProblem } from './photos';

/** A photo of vertical stripes of the given colours, side by side. */
async function stripes(width: number, height: number, colours: Array<[number, number, number]>, format: 'jpeg' | 'png' | 'webp' = 'png', orientation?: number): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) px.set(colours[Math.floor((x * colours.length) / width)] as [number, number, number], (y * width + x) * 3);
  }
  let img = sharp(px, { raw: { width, height, channels: 3 } });
  if (orientation) img = img.withMetadata({ orientation });
  return img.toFormat(format, { quality: 95 }).toBuffer();
}

const RED: [number, number, number] = [230, 20, 20];
const GREEN: [number, number, number] = [20, 200, 20];
const BLUE: [number, number, number] = [20, 20, 230];
const pixel = (crops: Uint8Array, photo: number, x: number, y: number): number[] => Array.from(crops.subarray(photo * CROP_BYTES + (y * CROP_W + x) * 3, photo * CROP_BYTES + (y * CROP_W + x) * 3 + 3));
const near = (got: number[], want: number[]): boolean => got.every((v, i) => Math.abs(v - (want[i] as number)) < 24);

async function problemOf(images: Buffer[]): Promise<PhotoProblem> {
  const e: unknown = await photoCrops(images).then(() => null, (x: unknown) => x);
  if (!(e instanceof PhotoError)) throw new Error(`expected a PhotoError, got ${String(e)}`);
  expect(e.code).toBe('BAD_REQUEST');
  expect(e.status).toBe(400);
  return e.problem;
}

describe('photoCrops', () => {
  it('resizes each JPEG, PNG and WebP photo to one CROP_W×CROP_H RGB crop, in order', async () => {
    const photos = [await stripes(40, 80, [RED], 'jpeg'), await stripes(300, 600, [GREEN], 'png'), await stripes(64, 128, [BLUE], 'webp')];
    const crops = await photoCrops(photos);
    expect(crops).toHaveLength(3 * CROP_BYTES);
    expect(near(pixel(crops, 0, 16, 32), RED)).toBe(true);
    expect(near(pixel(crops, 1, 0, 0), GREEN)).toBe(true);
    expect(near(pixel(crops, 2, CROP_W - 1, CROP_H - 1), BLUE)).toBe(true);
  });

  it('covers the crop from the centre of a photo of other proportions', async () => {
    // 96×64, red | green | blue: covering 32×64 keeps the middle third.
    const crops = await photoCrops([await stripes(96, 64, [RED, GREEN, BLUE])]);
    expect(near(pixel(crops, 0, 1, 10), GREEN)).toBe(true);
    expect(near(pixel(crops, 0, CROP_W - 2, 50), GREEN)).toBe(true);
  });

  it('stands a photo upright by its EXIF orientation before resizing', async () => {
    // Stored 128×64 sideways, red on the left; orientation 6 turns it a quarter clockwise, red to the top.
    const crops = await photoCrops([await stripes(128, 64, [RED, BLUE], 'jpeg', 6)]);
    expect(near(pixel(crops, 0, 16, 4), RED)).toBe(true);
    expect(near(pixel(crops, 0, 16, CROP_H - 4), BLUE)).toBe(true);
  });

  it('drops an alpha channel', async () => {
    const png = await sharp({ create: { width: 32, height: 64, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toBuffer();
    const crops = await photoCrops([png]);
    expect(crops).toHaveLength(CROP_BYTES);
  });

  it.each<[string, () => Promise<Buffer[]>, PhotoProblem | { reason: PhotoProblem['reason']; photo: number }]>([
    ['no photos', () => Promise.resolve([]), { reason: 'no_photos' }],
    ['too many photos', async () => Array<Buffer>(MAX_PHOTOS + 1).fill(await stripes(32, 64, [RED])), { reason: 'too_many', count: MAX_PHOTOS + 1, max: MAX_PHOTOS }],
    ['bytes that are no image', async () => [await stripes(32, 64, [RED]), Buffer.from('not a photo')], { reason: 'unreadable', photo: 1 }],
    ['a truncated JPEG', async () => [(await stripes(64, 128, [RED], 'jpeg')).subarray(0, 300)], { reason: 'unreadable', photo: 0 }],
    ['a format that is not taken (GIF)', async () => [await sharp({ create: { width: 32, height: 64, channels: 3, background: '#f00' } }).gif().toBuffer()], { reason: 'unreadable', photo: 0 }],
    ['a photo narrower than 16 px', async () => [await stripes(32, 64, [RED]), await stripes(32, 64, [RED]), await stripes(15, 64, [RED])], { reason: 'too_small', photo: 2, width: 15, height: 64 }],
    ['a photo lower than 32 px', async () => [await stripes(64, 31, [RED])], { reason: 'too_small', photo: 0, width: 64, height: 31 }],
    // Stored 20×40, which would pass, but orientation 6 stands it 40×20.
    ['a photo too low once upright', async () => [await stripes(20, 40, [RED], 'jpeg', 6)], { reason: 'too_small', photo: 0, width: 40, height: 20 }],
  ])('refuses %s with a PhotoError naming the photo', async (_, make, want) => {
    const problem = await problemOf(await make());
    expect(problem).toMatchObject(want);
  });

  it('says which photo is wrong in its message', async () => {
    await expect(photoCrops([await stripes(32, 64, [RED]), Buffer.from('nope')])).rejects.toThrow(/^photo 1 is not a readable JPEG, PNG or WebP image/);
    await expect(photoCrops([await stripes(10, 10, [RED])])).rejects.toThrow('photo 0 is 10×10 px; it must be at least 16×32 px');
  });
});

describe('prototypesFrom', () => {
  it('makes one unit vector per photo', () => {
    const p = prototypesFrom(Float32Array.from([3, 4, 0, 0, 0, 2]), 2, 3);
    expect(p).toEqual([
      [0.6, 0.8, 0],
      [0, 0, 1],
    ]);
  });

  it('refuses fewer values than n×dim', () => {
    expect(() => prototypesFrom(new Float32Array(5), 2, 3)).toThrow(RangeError);
  });
});
