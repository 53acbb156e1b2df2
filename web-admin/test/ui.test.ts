import { setLang } from '../src/i18n';
import { auditValue, fieldDiff, time, toCsv, type Col } from '../src/ui';

describe('console list helpers', () => {
  it('shows an audit entry as the fields that changed, nested fields by path', () => {
    // A provisioning entry: nothing before, a record after (was ~10 lines of raw JSON).
    expect(fieldDiff(null, { cabinetId: 'SH-9', kind: 'semi', cameras: ['top', 'side'], lanes: { A1: { sku: 'COLA-ORIG', capacity: 6 } } })).toEqual([
      { field: 'cabinetId', after: 'SH-9' },
      { field: 'kind', after: 'semi' },
      { field: 'cameras', after: 'top, side' },
      { field: 'lanes.A1.sku', after: 'COLA-ORIG' },
      { field: 'lanes.A1.capacity', after: '6' },
    ]);
    expect(fieldDiff({ status: 'open', proposedLines: ['A×2'] }, { status: 'decided', proposedLines: ['A×2'], outcome: 'debt' })).toEqual([
      { field: 'status', before: 'open', after: 'decided' },
      { field: 'outcome', after: 'debt' },
    ]);
    expect(fieldDiff({ disabled: false }, { disabled: false })).toEqual([]);
  });

  it('shows an audit value as a person reads it: times as times, codes in words, usernames as they are', () => {
    // The console runs in a browser; here only what setLang touches.
    Object.assign(globalThis, { localStorage: { getItem: () => null, setItem: () => undefined }, document: { documentElement: {} } });
    setLang('zh');
    const at = Date.UTC(2026, 11, 3, 9, 30);
    // Epoch ms and ISO times (was the raw number 1796290200000).
    expect(auditValue('acknowledgedAt', String(at))).toBe(time(at));
    expect(auditValue('history.0.at', new Date(at).toISOString())).toBe(time(at));
    // A username is a person: `admin` the user is not 管理员 the role (was rewritten as one).
    expect(auditValue('acknowledgedBy', 'admin')).toBe('admin');
    expect(auditValue('assignee', 'operator')).toBe('operator');
    expect(auditValue('role', 'admin')).not.toBe('admin');
    expect(auditValue('status', 'acknowledged')).not.toBe('acknowledged');
    // Amounts and counts are not times, whatever their size.
    expect(auditValue('amountFen', '1796290200000')).toBe('1796290200000');
    setLang('en');
  });

  it('exports CSV as UTF-8 with a BOM, quoted where needed, money in yuan', () => {
    type R = { id: string; name: string; fen: number };
    const cols: Array<Col<R>> = [
      { id: 'id', label: '订单', value: (r) => r.id },
      { id: 'name', label: '商品', value: (r) => r.name },
      { id: 'fen', label: '金额', value: (r) => r.fen, money: true },
    ];
    const csv = toCsv(cols, [{ id: 'O1', name: '可乐, 原味 "大"', fen: 650 }]);
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv.slice(1)).toBe('订单,商品,金额\r\nO1,"可乐, 原味 ""大""",6.50\r\n');
  });
});
