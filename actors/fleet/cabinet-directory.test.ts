import type { Sealed } from '../../common/sealing';
import { CabinetDirectory } from './cabinet-directory';
import type { DirectoryRow } from './fleet.ports';

const sealed = (id: string): Sealed => ({ iv: `iv-${id}`, tag: 'tag', data: `sealed-${id}` });
const row = (id: string, extra: Partial<DirectoryRow> = {}): DirectoryRow => ({ cabinetId: id, name: id, kind: 'auto', siteId: 'site-1', disabled: false, cameras: ['top'], lanes: [], secret: sealed(id), ...extra });

/** A store double that counts its reads: the directory's point of being is not to read. */
function storeOf(rows: DirectoryRow[]) {
  const reads: string[] = [];
  return {
    reads,
    async loadCabinet(id: string) {
      reads.push(id);
      await new Promise((r) => setImmediate(r));
      return rows.find((r) => r.cabinetId === id);
    },
  };
}

describe('cabinet directory', () => {
  it('serves listed cabinets from memory, unsealing each secret once', async () => {
    const store = storeOf([]);
    const dir = new CabinetDirectory(store);
    dir.load([row('A'), row('B', { disabled: true })]);
    const opened: string[] = [];
    const open = (s: Sealed) => (opened.push(s.data), `secret-of-${s.data}`);
    for (let i = 0; i < 3; i++) expect(await dir.credentials('A', open)).toEqual({ secret: 'secret-of-sealed-A', disabled: false });
    expect(await dir.credentials('B', open)).toEqual({ secret: 'secret-of-sealed-B', disabled: true });
    expect(opened).toEqual(['sealed-A', 'sealed-B']);
    expect(store.reads).toEqual([]);
    expect(dir.get('A')).toMatchObject({ cabinetId: 'A', kind: 'auto', siteId: 'site-1', cameras: ['top'] });
    expect(dir.origin('A')).toBe('listed');
  });

  it('reads an unknown cabinet by key once, however many handshakes ask at once, and keeps it', async () => {
    const store = storeOf([row('LATE')]);
    const dir = new CabinetDirectory(store);
    dir.load([]);
    const open = (s: Sealed) => `x-${s.data}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => dir.credentials('LATE', open)));
    expect(answers.every((a) => a?.secret === 'x-sealed-LATE')).toBe(true);
    await dir.credentials('LATE', open);
    expect(store.reads).toEqual(['LATE']);
    expect(dir.origin('LATE')).toBe('fetched');
    expect(await dir.credentials('NOPE', open)).toBeUndefined();
    expect(store.reads).toEqual(['LATE', 'NOPE']);
  });

  it('holds a cabinet provisioned here at once and reads only its secret, on its first handshake', async () => {
    const store = storeOf([row('NEW', { name: 'stored name' })]);
    const dir = new CabinetDirectory(store);
    dir.load([]);
    dir.add({ cabinetId: 'NEW', name: 'New', kind: 'semi', siteId: 'site-2', disabled: false, cameras: ['top', 'side'], lanes: [] });
    expect(dir.get('NEW')).toMatchObject({ name: 'New', kind: 'semi' });
    expect(dir.origin('NEW')).toBe('registered');
    expect(store.reads).toEqual([]);
    expect(await dir.credentials('NEW', (s) => s.data)).toEqual({ secret: 'sealed-NEW', disabled: false });
    expect(await dir.credentials('NEW', (s) => s.data)).toEqual({ secret: 'sealed-NEW', disabled: false });
    expect(store.reads).toEqual(['NEW']);
    // What was registered here stays; the store only supplied the secret.
    expect(dir.get('NEW')).toMatchObject({ name: 'New', kind: 'semi' });
    expect(dir.origin('NEW')).toBe('registered');
  });

  it('answers disabled as soon as the cabinet is disabled, and enabled again after', async () => {
    const dir = new CabinetDirectory(storeOf([]));
    dir.load([row('C')]);
    const open = (s: Sealed) => s.data;
    expect((await dir.credentials('C', open))?.disabled).toBe(false);
    dir.setDisabled('C', true);
    expect((await dir.credentials('C', open))?.disabled).toBe(true);
    expect(dir.get('C')?.disabled).toBe(true);
    dir.setDisabled('C', false);
    expect((await dir.credentials('C', open))?.disabled).toBe(false);
  });
});
