import type { CabinetView, UnlockRefusal } from '../actors/cabinet/cabinet.protocol';
import { CabinetUnavailableReason } from '../contracts/shopper-api';
import { reasonForRefusal, reasonForState } from './cabinet-availability';

describe('cabinet unavailable reasons on the shopper API', () => {
  const refusals: UnlockRefusal[] = ['OFFLINE', 'BUSY', 'RESTOCKING', 'FAULT', 'DISABLED', 'DEVICE_REFUSED', 'DEVICE_TIMEOUT', 'DOOR_TAKEN'];
  const states: Array<CabinetView['state']> = ['offline', 'idle', 'unlocking', 'open', 'awaiting_upload', 'restocking', 'fault'];

  it('spells every unlock refusal and every unavailable state with a value of the contract’s enum', () => {
    for (const r of refusals) expect(CabinetUnavailableReason.options).toContain(reasonForRefusal(r));
    for (const s of states.filter((x) => x !== 'idle')) expect(CabinetUnavailableReason.options).toContain(reasonForState(s));
    expect(reasonForState('idle')).toBeUndefined();
  });

  it('gives the same word whether the cabinet endpoint or a refused unlock reports it', () => {
    expect(reasonForState('offline')).toBe(reasonForRefusal('OFFLINE'));
    expect(reasonForState('unlocking')).toBe(reasonForRefusal('BUSY'));
    expect(reasonForState('restocking')).toBe(reasonForRefusal('RESTOCKING'));
    expect(reasonForState('fault')).toBe(reasonForRefusal('FAULT'));
  });
});
