import type { CabinetResponse, MeResponse } from './wire';
import { decideEntry, nextForFailure, urlFor } from './router';

const me = (o: { phone?: boolean; debt?: number; contract?: MeResponse['contract'] } = {}): MeResponse => ({
  shopper: o.phone === false ? { shopperId: 's', hasPhone: false } : { shopperId: 's', phone: '138****5678', hasPhone: true },
  debt: { count: o.debt ? 1 : 0, totalFen: o.debt ?? 0 },
  contract: o.contract ?? 'none',
});
const cab = (kind: CabinetResponse['kind'], id = 'CAB-1'): CabinetResponse => ({ cabinetId: id, name: '茶水间', kind, flowCorrected: false, online: true, available: true });
const e = { cabinetId: 'CAB-1', flow: 'semi' as const };

describe('decideEntry: mask, debt first, then the flow the service records', () => {
  test.each([
    ['no phone, no QR → mask', { me: me({ phone: false }) }, { kind: 'mask' }],
    ['no phone beats debt and QR → mask keeps the entry', { me: me({ phone: false, debt: 300 }), entry: e }, { kind: 'mask', entry: e }],
    ['debt without QR → debt', { me: me({ debt: 300 }) }, { kind: 'debt' }],
    ['debt with QR → debt first, entry kept for after', { me: me({ debt: 300 }), entry: e, cabinet: cab('open') }, { kind: 'debt', entry: e }],
    ['debt with an active contract still → debt', { me: me({ debt: 1, contract: 'active' }), entry: e }, { kind: 'debt', entry: e }],
    ['nothing to do → home', { me: me() }, { kind: 'home' }],
    ['QR but cabinet not fetched → resolve', { me: me(), entry: e }, { kind: 'resolve_cabinet', entry: e }],
    ['open shelf → cabinet (catalogue)', { me: me(), entry: e, cabinet: cab('open') }, { kind: 'cabinet', entry: { cabinetId: 'CAB-1', flow: 'open' } }],
    ['semi → cabinet (unlock)', { me: me(), entry: e, cabinet: cab('semi') }, { kind: 'cabinet', entry: { cabinetId: 'CAB-1', flow: 'semi' } }],
    ['auto without contract → papay', { me: me(), entry: e, cabinet: cab('auto') }, { kind: 'papay', entry: { cabinetId: 'CAB-1', flow: 'auto' } }],
    ['auto while signing → papay (confirm there)', { me: me({ contract: 'signing' }), entry: e, cabinet: cab('auto') }, { kind: 'papay', entry: { cabinetId: 'CAB-1', flow: 'auto' } }],
    ['auto after termination → papay', { me: me({ contract: 'terminated' }), entry: e, cabinet: cab('auto') }, { kind: 'papay', entry: { cabinetId: 'CAB-1', flow: 'auto' } }],
    ['auto with contract → cabinet', { me: me({ contract: 'active' }), entry: e, cabinet: cab('auto') }, { kind: 'cabinet', entry: { cabinetId: 'CAB-1', flow: 'auto' } }],
    ['the service\'s kind wins over the QR\'s flow', { me: me(), entry: { cabinetId: 'CAB-1', flow: 'auto' as const }, cabinet: cab('open') }, { kind: 'cabinet', entry: { cabinetId: 'CAB-1', flow: 'open' } }],
    ['a cabinet for another id is not used', { me: me(), entry: e, cabinet: cab('open', 'CAB-2') }, { kind: 'resolve_cabinet', entry: e }],
  ])('%s', (_name, input, expected) => {
    expect(decideEntry(input)).toEqual(expected);
  });

  test('refusals route: debt → debt page, contract → papay, phone → mask, others stay', () => {
    expect(nextForFailure('DEBT_OUTSTANDING', e)).toEqual({ kind: 'debt', entry: e });
    expect(nextForFailure('CONTRACT_REQUIRED', e)).toEqual({ kind: 'papay', entry: e });
    expect(nextForFailure('PHONE_REQUIRED')).toEqual({ kind: 'mask' });
    expect(nextForFailure('CABINET_UNAVAILABLE', e)).toBeUndefined();
    expect(nextForFailure('NETWORK', e)).toBeUndefined();
  });

  test('urls carry the entry', () => {
    expect(urlFor({ kind: 'debt', entry: e })).toBe('/pages/debt/index?cabinetId=CAB-1&flow=semi');
    expect(urlFor({ kind: 'cabinet', entry: { cabinetId: 'CAB-1' } })).toBe('/pages/cabinet/index?cabinetId=CAB-1');
    expect(urlFor({ kind: 'home' })).toBe('/pages/index/index');
  });
});
