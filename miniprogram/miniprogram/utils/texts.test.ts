import { CabinetUnavailableReason } from '../../../contracts/shopper-api';
import { cabinetUnavailableText, debtReasonText, payRefusedText } from './texts';

describe('texts against the service’s own values', () => {
  test('every unavailable reason the service’s enum holds has its own text', () => {
    const generic = cabinetUnavailableText('something else');
    for (const reason of CabinetUnavailableReason.options) expect({ reason, text: cabinetUnavailableText(reason) }).not.toEqual({ reason, text: generic });
    // The spellings the service used to send are not the enum's.
    for (const old of ['BUSY', 'OFFLINE', 'unlocking']) expect(cabinetUnavailableText(old)).toBe(generic);
  });

  test('debt reasons and papay refusals never show a code', () => {
    for (const r of ['NOTENOUGH', 'NO_CONTRACT', 'PAYERROR', 'review R123', 'operator note in English']) expect(debtReasonText(r)).not.toMatch(/[A-Za-z]{3}/);
    expect(debtReasonText('少付了一瓶可乐')).toBe('少付了一瓶可乐');
    for (const r of ['NOTENOUGH', 'NO_CONTRACT', 'deduction in progress; check your debts again shortly', 'SYSTEMERROR']) expect(payRefusedText(r)).not.toMatch(/[A-Za-z]{3}/);
  });
});
