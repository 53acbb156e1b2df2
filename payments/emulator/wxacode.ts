import { createHash } from 'node:crypto';
import { encodePng } from '../../common/png';

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
