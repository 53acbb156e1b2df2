import { fieldDiff, toCsv, type Col } from '../src/ui';

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
