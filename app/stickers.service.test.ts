import jsQR from 'jsqr';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { decodePng } from '../test/png';
import { StickerService } from './stickers.service';

const OPERATOR: Principal = { id: 'op', name: 'op', role: 'operator', sites: ['s1'] };
const LONG = 'SH-PANTRY-BUILDING-7-FLOOR-12-EAST';

/** The cabinets of a site as the model's find().sort().lean() chain returns them. */
function cabinets(rows: Array<{ cabinetId: string; name?: string; kind: 'open' | 'semi' | 'auto' }>) {
  return { Cabinet: { find: () => ({ sort: () => ({ lean: async () => rows }) }) } } as never;
}

function scan(dataUrl: string): string | undefined {
  const img = decodePng(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  return jsQR(img.rgba, img.width, img.height)?.data;
}

describe('sticker sheet', () => {
  it('gives every cabinet a link QR a scanner reads as the protocol link, also with WeChat off and for an id too long for a scene', async () => {
    const svc = new StickerService({ models: cabinets([{ cabinetId: 'CAB-1', name: 'Pantry', kind: 'semi' }, { cabinetId: LONG, kind: 'auto' }]), codes: undefined, publicHost: 'fleet.example.com', log: silentLogger, now: () => 0 });
    const sheet = await svc.sheet(OPERATOR, 's1', 'attacker.example');
    expect(sheet).toMatchObject({ linkHost: 'fleet.example.com', linkHostConfigured: true });
    expect(sheet.cabinets.map((c) => c.link)).toEqual(['https://fleet.example.com/c/CAB-1?flow=semi', `https://fleet.example.com/c/${LONG}?flow=auto`]);
    for (const c of sheet.cabinets) expect(scan(c.linkImage)).toBe(c.link);
    expect(sheet.cabinets[0]).toMatchObject({ scene: 'CAB-1.s', error: expect.stringMatching(/WeChat is off/) });
    expect(sheet.cabinets[1]!.scene).toBeUndefined();
    expect(sheet.cabinets[1]!.error).toMatch(/too long/);
  });

  it('prints the console host when PUBLIC_HOST is unset, and never a Host header that is not a host', async () => {
    const codes = { wxacodeUnlimit: async () => ({ ok: true as const, value: { image: Buffer.from('png'), contentType: 'image/png' } }) };
    const svc = new StickerService({ models: cabinets([{ cabinetId: 'CAB-2', kind: 'open' }]), codes, log: silentLogger, now: () => 0 });
    expect(await svc.sheet(OPERATOR, 's1', '10.0.0.5:8080')).toMatchObject({ linkHost: '10.0.0.5:8080', linkHostConfigured: false, cabinets: [{ link: 'https://10.0.0.5:8080/c/CAB-2?flow=open', image: 'data:image/png;base64,cG5n' }] });
    expect((await svc.sheet(OPERATOR, 's1', 'evil/"><script>')).linkHost).toBe('localhost');
    await expect(svc.sheet(OPERATOR, 'other-site', 'h')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
