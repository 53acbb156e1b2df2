import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors';
import { can, type Permission, type Principal } from '../../contracts/admin-api';

/** Turns a bearer token into the console user it belongs to; undefined when unknown or expired. */
export interface OperatorAuthenticator {
  authenticate(bearer: string, now: number): Promise<Principal | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const BOOTSTRAP_PRINCIPAL: Principal = { id: 'admin-token', name: 'bootstrap admin', role: 'admin', sites: '*' };

/** The bootstrap ADMIN_TOKEN as an admin of every site (compared in constant time). */
export function bootstrapAuthenticator(adminToken: string): OperatorAuthenticator {
  const want = Buffer.from(adminToken);
  return {
    async authenticate(bearer) {
      const given = Buffer.from(bearer);
      return given.length === want.length && timingSafeEqual(given, want) ? BOOTSTRAP_PRINCIPAL : undefined;
    },
  };
}

/** Tries each authenticator in turn (e.g. account sessions, then the bootstrap token). */
export function anyOf(...auths: OperatorAuthenticator[]): OperatorAuthenticator {
  return {
    async authenticate(bearer, now) {
      for (const a of auths) {
        const p = await a.authenticate(bearer, now);
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** Adds an onRequest hook to `scope` that authenticates every request and sets `req.principal`. */
export function authenticateOperators(scope: FastifyInstance, auth: OperatorAuthenticator, now: () => number): void {
  scope.addHook('onRequest', async (req) => {
    const h = req.headers.authorization ?? '';
    const p = h.startsWith('Bearer ') ? await auth.authenticate(h.slice(7), now()) : undefined;
    if (!p) throw new AppError('UNAUTHENTICATED', 'sign in to the console: the token is missing, invalid or expired');
    req.principal = p;
  });
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED');
  return req.principal;
}

/** Throws FORBIDDEN unless the role grants `perm` (and `siteId`, when given, is in scope). */
export function requirePermission(p: Principal, perm: Permission, siteId?: string): void {
  if (!can(p, perm, siteId)) throw new AppError('FORBIDDEN', siteId === undefined ? `role ${p.role} may not ${perm}` : `role ${p.role} may not ${perm} at site ${siteId}`, { permission: perm });
}
