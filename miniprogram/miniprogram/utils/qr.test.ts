import { qrUrl } from '../../../contracts/cabinet-protocol';
import { CabinetId } from '../../../contracts/domain';
import { CABINET_ID_RE } from './wire';
import { parseEntry, parseScanResult, parseScene, sceneFor } from './qr';

describe('QR entry parsing', () => {
  test.each(['open', 'semi', 'auto'] as const)('link QR from the contract\'s qrUrl, flow %s, arrives URL-encoded in query.q', (flow) => {
    const url = qrUrl('fleet.example.com', 'SH-PANTRY-01', flow);
    expect(parseEntry({ q: encodeURIComponent(url), scancode_time: '1700000000' })).toEqual({ cabinetId: 'SH-PANTRY-01', flow });
  });

  test('link QR without a flow still names the cabinet (the service decides the flow)', () => {
    expect(parseEntry({ q: encodeURIComponent('https://h.example/c/CAB-1') })).toEqual({ cabinetId: 'CAB-1' });
  });

  test('an unknown flow in the link is dropped, not trusted', () => {
    expect(parseEntry({ q: encodeURIComponent('https://h.example/c/CAB-1?flow=free') })).toEqual({ cabinetId: 'CAB-1' });
  });

  test.each([
    ['CAB-1.o', { cabinetId: 'CAB-1', flow: 'open' }],
    ['CAB-1.s', { cabinetId: 'CAB-1', flow: 'semi' }],
    ['CAB-1.a', { cabinetId: 'CAB-1', flow: 'auto' }],
    ['CAB-1', { cabinetId: 'CAB-1' }],
    [encodeURIComponent('CAB_2.a'), { cabinetId: 'CAB_2', flow: 'auto' }],
  ])('mini-program code scene %s', (scene, expected) => {
    expect(parseEntry({ scene })).toEqual(expected);
  });

  test.each([
    { q: encodeURIComponent('https://h.example/x/CAB-1?flow=open') },
    { q: encodeURIComponent('https://h.example/c/a?flow=open') }, // id too short for the contract
    { q: encodeURIComponent('https://h.example/c/<script>?flow=open') },
    { q: '%E0%A4%A' }, // broken escape
    { scene: 'CAB-1.x' },
    { scene: 'A'.repeat(33) },
    { cabinetId: 'bad id' },
    {},
  ])('malformed entry %p lands on home', (query) => {
    expect(parseEntry(query)).toBeUndefined();
  });

  test('sceneFor fits 32 characters and round-trips', () => {
    expect(sceneFor('CAB-1', 'semi')).toBe('CAB-1.s');
    expect(parseScene(sceneFor('X'.repeat(30), 'auto')!)).toEqual({ cabinetId: 'X'.repeat(30), flow: 'auto' });
    expect(sceneFor('X'.repeat(31), 'auto')).toBeUndefined();
  });

  test('scanCode: our mini-program code gives a path with scene; a link QR gives result', () => {
    expect(parseScanResult({ path: 'pages/index/index?scene=CAB-9.s' })).toEqual({ cabinetId: 'CAB-9', flow: 'semi' });
    expect(parseScanResult({ result: qrUrl('h.example', 'CAB-9', 'open') })).toEqual({ cabinetId: 'CAB-9', flow: 'open' });
    expect(parseScanResult({ result: 'hello' })).toBeUndefined();
  });

  test('the cabinet id rule matches the contract\'s', () => {
    for (const id of ['abc', 'A-1_b', 'ab', 'a'.repeat(40), 'a'.repeat(41), 'a.b', 'ab c', 'Ω12']) {
      expect(CABINET_ID_RE.test(id)).toBe(CabinetId.safeParse(id).success);
    }
  });
});
