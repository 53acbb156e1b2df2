import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { decoyHash, hashPassword, needsRehash, verifyPassword, type ScryptParams } from '../common/password';
import { RateLimiter } from '../common/tokens';
import { can, type Principal, type Role } from '../contracts/admin-api';
import type { Account, CreateAccountRequest, LoginResponse } from '../contracts/console-api';
import type { Models } from '../store/models';
import type { OperatorAccountDoc } from '../store/models/operator';

export interface AccountDeps {
  models: Models;
  clock: Clock;
  log: Logger;
  /** How long a sign-in lasts (absolute, not sliding). Default 12 h. */
  sessionTtlMs?: number;
  /** How long an authenticated token is trusted without reading the store again. Default 5 s. */
  cacheMs?: number;
  /** Hash cost (tests may lower it; production keeps the default). */
  scrypt?: ScryptParams;
}

const isDuplicate = (e: unknown): boolean => (e as { code?: number }).code === 11000;
const tokenKey = (token: string): string => createHash('sha256').update(token).digest('hex');

function principalOf(a: Pick<OperatorAccountDoc, '_id' | 'name' | 'role' | 'sites'>): Principal {
  return { id: a._id, name: a.name, role: a.role, sites: a.sites.includes('*') ? '*' : [...a.sites] };
}

function toWire(a: OperatorAccountDoc): Account {
  return {
    username: a._id,
    name: a.name,
    role: a.role,
    sites: a.sites.includes('*') ? '*' : [...a.sites],
    disabled: a.disabled,
    createdAt: a.createdAt?.getTime() ?? 0,
    createdBy: a.createdBy,
    ...(a.lastLoginAt ? { lastLoginAt: a.lastLoginAt.getTime() } : {}),
  };
}

/** Sites a principal may grant: an account manager never creates an account reaching beyond its own scope. */
function withinScope(by: Principal, sites: '*' | string[]): boolean {
  if (by.sites === '*') return true;
  if (sites === '*') return false;
  const mine = by.sites;
  return sites.every((s) => mine.includes(s));
}

/**
 * Console accounts and sign-ins: scrypt-hashed passwords, opaque session tokens stored by their SHA-256
 * with an absolute expiry, sign-in attempts rate-limited per username, account management audit-logged.
 * `authenticator` turns a token into its principal for HTTP and the live feed (anyOf with the bootstrap
 * token); a disabled account's sessions stop working at once on this node and within `cacheMs` elsewhere.
 */
export class AccountService {
  private readonly ttl: number;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number; checkedAt: number }>();
  private readonly attempts = new RateLimiter(10, 60_000);
  private lastPrune = 0;

  constructor(private readonly d: AccountDeps) {
    this.ttl = d.sessionTtlMs ?? 12 * 3_600_000;
    this.cacheMs = d.cacheMs ?? 5_000;
  }

  private async audit(by: { id: string; role: string }, action: string, username: string, before: unknown, after: unknown): Promise<void> {
    await this.d.models.Audit.create({ at: new Date(this.d.clock.now()), actorId: by.id, actorRole: by.role, action, objectType: 'account', objectId: username, before: before ?? null, after: after ?? null });
  }

  /** Creates an account. `by` undefined means the operator's own CLI on the server (first admin). */
  async create(by: Principal | undefined, req: CreateAccountRequest): Promise<Account> {
    if (by) {
      if (!can(by, 'accounts.manage')) throw new AppError('FORBIDDEN', `role ${by.role} may not manage accounts`);
      if (!withinScope(by, req.sites)) throw new AppError('FORBIDDEN', 'an account may not reach sites beyond your own');
    }
    const now = new Date(this.d.clock.now());
    const doc: OperatorAccountDoc = {
      _id: req.username,
      name: req.name,
      role: req.role,
      sites: req.sites === '*' ? ['*'] : [...new Set(req.sites)],
      passwordHash: await hashPassword(req.password, this.d.scrypt),
      disabled: false,
      createdBy: by?.id ?? 'cli',
      generation: 0,
      createdAt: now,
    };
    try {
      await this.d.models.OperatorAccount.create(doc);
    } catch (e) {
      if (isDuplicate(e)) throw new AppError('DUPLICATE', `account ${req.username} exists`);
      throw e;
    }
    const after = toWire(doc);
    await this.audit(by ?? { id: 'cli', role: 'admin' }, 'account.create', req.username, null, { name: after.name, role: after.role, sites: after.sites });
    return after;
  }

  async list(by: Principal): Promise<Account[]> {
    if (!can(by, 'accounts.manage')) throw new AppError('FORBIDDEN', `role ${by.role} may not manage accounts`);
    const rows = await this.d.models.OperatorAccount.find({}, { passwordHash: 0 }).sort({ _id: 1 }).limit(1000).lean<OperatorAccountDoc[]>();
    return rows.filter((a) => by.sites === '*' || withinScope(by, a.sites.includes('*') ? '*' : a.sites)).map(toWire);
  }

  /** Disables (or re-enables) an account; disabling revokes its sessions. Audit-logged. */
  async setDisabled(by: Principal, username: string, disabled: boolean): Promise<Account> {
    if (!can(by, 'accounts.manage')) throw new AppError('FORBIDDEN', `role ${by.role} may not manage accounts`);
    const a = await this.d.models.OperatorAccount.findById(username).lean<OperatorAccountDoc>();
    if (!a || !withinScope(by, a.sites.includes('*') ? '*' : a.sites)) throw new AppError('NOT_FOUND', `no account ${username}`);
    if (a._id === by.id && disabled) throw new AppError('CONFLICT', 'you cannot disable your own account');
    if (a.disabled === disabled) return toWire(a);
    await this.d.models.OperatorAccount.updateOne({ _id: username }, { $set: { disabled }, $inc: { generation: 1 } });
    if (disabled) await this.revokeAll(username);
    await this.audit(by, disabled ? 'account.disable' : 'account.enable', username, { disabled: a.disabled }, { disabled });
    return toWire({ ...a, disabled, generation: a.generation + 1 });
  }

  /** Sets a new password (CLI: reset a locked-out admin); revokes every session of the account. */
  async setPassword(by: { id: string; role: string }, username: string, password: string): Promise<void> {
    const r = await this.d.models.OperatorAccount.updateOne({ _id: username }, { $set: { passwordHash: await hashPassword(password, this.d.scrypt) }, $inc: { generation: 1 } });
    if (r.matchedCount === 0) throw new AppError('NOT_FOUND', `no account ${username}`);
    await this.revokeAll(username);
    await this.audit(by, 'account.set_password', username, null, null);
  }

  async count(): Promise<number> {
    return this.d.models.OperatorAccount.estimatedDocumentCount();
  }

  /** Checks the password and opens a session. Unknown user, wrong password and disabled account answer alike. */
  async login(username: string, password: string): Promise<LoginResponse> {
    const now = this.d.clock.now();
    if (!this.attempts.allow(username.toLowerCase(), now)) throw new AppError('RATE_LIMITED', 'too many sign-in attempts; wait a minute');
    const a = await this.d.models.OperatorAccount.findById(username).lean<OperatorAccountDoc>();
    const ok = await verifyPassword(password, a?.passwordHash ?? (await decoyHash()));
    if (!a || !ok || a.disabled) throw new AppError('UNAUTHENTICATED', 'wrong username or password');
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttl;
    await this.d.models.OperatorSession.create({ _id: tokenKey(token), username: a._id, generation: a.generation, createdAt: new Date(now), expiresAt: new Date(expiresAt) });
    const set: Record<string, unknown> = { lastLoginAt: new Date(now) };
    if (needsRehash(a.passwordHash, this.d.scrypt)) set.passwordHash = await hashPassword(password, this.d.scrypt);
    await this.d.models.OperatorAccount.updateOne({ _id: a._id }, { $set: set });
    await this.audit({ id: a._id, role: a.role }, 'account.login', a._id, null, { expiresAt });
    void this.pruneExpired(now);
    return { token, expiresAt, principal: principalOf(a) };
  }

  async logout(token: string): Promise<void> {
    const key = tokenKey(token);
    this.cache.delete(key);
    const s = await this.d.models.OperatorSession.findById(key).lean();
    if (!s || s.revokedAt) return;
    await this.d.models.OperatorSession.updateOne({ _id: key }, { $set: { revokedAt: new Date(this.d.clock.now()) } });
    const a = await this.d.models.OperatorAccount.findById(s.username, { role: 1 }).lean();
    await this.audit({ id: s.username, role: a?.role ?? 'unknown' }, 'account.logout', s.username, null, null);
  }

  /** The principal behind a session token; undefined when unknown, expired, revoked or the account is disabled. */
  async authenticate(token: string, now: number): Promise<Principal | undefined> {
    if (token.length < 20 || token.length > 100) return undefined;
    const key = tokenKey(token);
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now && now - hit.checkedAt < this.cacheMs) return hit.principal;
    this.cache.delete(key);
    const s = await this.d.models.OperatorSession.findById(key).lean();
    if (!s || s.revokedAt || s.expiresAt.getTime() <= now) return undefined;
    const a = await this.d.models.OperatorAccount.findById(s.username, { passwordHash: 0 }).lean<OperatorAccountDoc>();
    if (!a || a.disabled || a.generation !== s.generation) return undefined;
    const principal = principalOf(a);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { principal, expiresAt: s.expiresAt.getTime(), checkedAt: now });
    return principal;
  }

  private async revokeAll(username: string): Promise<void> {
    for (const [k, v] of this.cache) if (v.principal.id === username) this.cache.delete(k);
    await this.d.models.OperatorSession.updateMany({ username, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date(this.d.clock.now()) } });
  }

  /** Removes sessions expired for a day (at most hourly; FerretDB has no TTL indexes). */
  private async pruneExpired(now: number): Promise<void> {
    if (now - this.lastPrune < 3_600_000) return;
    this.lastPrune = now;
    await this.d.models.OperatorSession.deleteMany({ expiresAt: { $lt: new Date(now - 86_400_000) } }).catch((e: unknown) => this.d.log.warn({ err: String(e) }, 'pruning console sessions failed'));
  }
}

/** The demo's console accounts (SEED_DEMO): an admin of every site, a Shanghai operator, a viewer, a finance user. */
export const DEMO_ACCOUNTS: ReadonlyArray<{ username: string; name: string; role: Role; sites: '*' | string[] }> = [
  { username: 'admin', name: 'Demo admin', role: 'admin', sites: '*' },
  { username: 'sh-operator', name: '上海运营', role: 'operator', sites: ['shanghai-hq'] },
  { username: 'viewer', name: 'Viewer', role: 'viewer', sites: '*' },
  { username: 'finance', name: '财务', role: 'finance', sites: '*' },
  { username: 'sh-restocker', name: '上海补货', role: 'restocker', sites: ['shanghai-hq'] },
];
