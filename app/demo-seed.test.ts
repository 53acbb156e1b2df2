import { silentLogger } from '../common/log';
import { SecretBox } from '../common/sealing';
import { openTestDb, type TestDb } from '../test/db';
import { DEMO_CATALOGUE, DEMO_FLEET } from '../contracts/demo-data';
import { seedDemo } from './demo-seed';

describe('seedDemo', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('seed');
  });
  afterAll(() => db.close());

  it('loads the catalogue and fleet once, sealing a fresh secret per cabinet', async () => {
    const box = new SecretBox(SecretBox.generateKeyHex());
    const first = await seedDemo(db.models, box, silentLogger);
    expect(first.products).toBe(DEMO_CATALOGUE.length);
    expect(first.cabinets).toBe(DEMO_FLEET.length);
    const cab = await db.models.Cabinet.findOne({ cabinetId: 'SH-AUTO-01' }).lean();
    expect(box.open(cab!.secret, 'cabinet:SH-AUTO-01')).toBe(first.secrets['SH-AUTO-01']);
    expect(JSON.stringify(cab)).not.toContain(first.secrets['SH-AUTO-01']);

    const second = await seedDemo(db.models, box, silentLogger);
    expect(second).toEqual({ products: 0, cabinets: 0, secrets: {} });
    expect(await db.models.Product.countDocuments()).toBe(DEMO_CATALOGUE.length);
  });
});
