import { SimulatedClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { Principal } from '../contracts/admin-api';
import { openTestDb, type TestDb } from '../test/db';
import { AccountService } from './accounts.service';

const CHEAP = { N: 1024, r: 8, p: 1 };
const ADMIN: Principal = { id: 'root', name: 'root', role: 'admin', sites: '*' };

describe('console accounts and sessions', () => {
  let db: TestDb;
  let clock: SimulatedClock;
  let accounts: AccountService;

  beforeAll(async () => {
    db = await openTestDb('acct');
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await db.models.OperatorAccount.deleteMany({});
    await db.models.OperatorSession.deleteMany({});
    clock = new SimulatedClock();
    accounts = new AccountService({ models: db.models, clock, log: silentLogger, sessionTtlMs: 3_600_000, cacheMs: 5_000, scrypt: CHEAP });
  });

  it('stores only a salted hash and signs in with the right password', async () => {
    await accounts.create(ADMIN, { username: 'alice', name: 'Alice', role: 'operator', sites: ['shanghai-hq'], password: 'a long password' });
    const stored = await db.models.OperatorAccount.findById('alice').lean();
    expect(stored!.passwordHash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(stored)).not.toContain('a long password');
    const r = await accounts.login('alice', 'a long password');
    expect(r.principal).toEqual({ id: 'alice', name: 'Alice', role: 'operator', sites: ['shanghai-hq'] });
    expect(r.expiresAt).toBe(clock.now() + 3_600_000);
    // The token itself is not stored, only its hash.
    const sessions = await db.models.OperatorSession.find({}).lean();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!._id).not.toContain(r.token);
    await expect(accounts.authenticate(r.token, clock.now())).resolves.toEqual(r.principal);
  });

  it('answers a wrong password, an unknown user and a disabled account alike', async () => {
    await accounts.create(ADMIN, { username: 'bob', name: 'Bob', role: 'viewer', sites: '*', password: 'bobs password' });
    await expect(accounts.login('bob', 'wrong password')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'wrong username or password' });
    await expect(accounts.login('nobody', 'bobs password')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'wrong username or password' });
    await accounts.setDisabled(ADMIN, 'bob', true);
    await expect(accounts.login('bob', 'bobs password')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'wrong username or password' });
  });

  it('expires sessions, and logout and disabling end them', async () => {
    await accounts.create(ADMIN, { username: 'carol', name: 'Carol', role: 'finance', sites: '*', password: 'carols password' });
    const a = await accounts.login('carol', 'carols password');
    clock.advance(3_600_000 - 1);
    await expect(accounts.authenticate(a.token, clock.now())).resolves.toBeDefined();
    clock.advance(1);
    await expect(accounts.authenticate(a.token, clock.now())).resolves.toBeUndefined();

    const b = await accounts.login('carol', 'carols password');
    await accounts.logout(b.token);
    await expect(accounts.authenticate(b.token, clock.now())).resolves.toBeUndefined();

    const c = await accounts.login('carol', 'carols password');
    await expect(accounts.authenticate(c.token, clock.now())).resolves.toBeDefined();
    await accounts.setDisabled(ADMIN, 'carol', true);
    await expect(accounts.authenticate(c.token, clock.now())).resolves.toBeUndefined();
    // Re-enabling does not bring old sessions back.
    await accounts.setDisabled(ADMIN, 'carol', false);
    await expect(accounts.authenticate(c.token, clock.now())).resolves.toBeUndefined();
    await expect(accounts.authenticate('not-a-token-at-all-but-long-enough', clock.now())).resolves.toBeUndefined();
  });

  it('rate-limits sign-in attempts per username', async () => {
    await accounts.create(ADMIN, { username: 'dave', name: 'Dave', role: 'viewer', sites: '*', password: 'daves password' });
    for (let i = 0; i < 10; i++) await expect(accounts.login('dave', 'guess ' + i)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(accounts.login('dave', 'daves password')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    clock.advance(60_000);
    await expect(accounts.login('dave', 'daves password')).resolves.toMatchObject({ principal: { id: 'dave' } });
  });

  it('only account managers manage accounts, never beyond their own sites, and every change is audited', async () => {
    const viewer: Principal = { id: 'v', name: 'v', role: 'viewer', sites: '*' };
    const scopedAdmin: Principal = { id: 'sa', name: 'sa', role: 'admin', sites: ['beijing-office'] };
    await expect(accounts.create(viewer, { username: 'eve', name: 'Eve', role: 'admin', sites: '*', password: 'eves password' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(accounts.create(scopedAdmin, { username: 'eve', name: 'Eve', role: 'operator', sites: '*', password: 'eves password' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(accounts.create(scopedAdmin, { username: 'eve', name: 'Eve', role: 'operator', sites: ['shanghai-hq'], password: 'eves password' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await accounts.create(scopedAdmin, { username: 'eve', name: 'Eve', role: 'operator', sites: ['beijing-office'], password: 'eves password' });
    await expect(accounts.create(ADMIN, { username: 'eve', name: 'Eve2', role: 'viewer', sites: '*', password: 'eves password' })).rejects.toMatchObject({ code: 'DUPLICATE' });
    await expect(accounts.list(viewer)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await accounts.setDisabled(ADMIN, 'eve', true);
    const audit = await db.models.Audit.find({ objectType: 'account', objectId: 'eve' }).sort({ at: 1 }).lean();
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([
      ['account.create', 'sa'],
      ['account.disable', 'root'],
    ]);
    expect(audit[1]).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
    expect(JSON.stringify(audit)).not.toContain('eves password');
  });
});
