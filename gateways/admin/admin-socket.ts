import type { Server, Socket } from 'socket.io';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import { can, type Principal } from '../../contracts/admin-api';
import { ADMIN_NAMESPACE, FeedSubscription, type AdminClientToServer, type AdminServerToClient } from '../../contracts/console-api';
import type { OperatorAuthenticator } from '../http/operator-auth';
import type { FeedHub, Subscriber } from './feed-hub';

export interface AdminSocketDeps {
  hub: FeedHub;
  auth: OperatorAuthenticator;
  clock: Clock;
  log: Logger;
  /** Each socket's session is checked again this often; an ended one is signed out. Default 30 s. */
  recheckMs?: number;
}

type AdminSocket = Socket<AdminClientToServer, AdminServerToClient, Record<string, never>, { principal: Principal; token: string }>;

/**
 * The console's live feed on the service's socket.io server, namespace `/admin`: the handshake carries the
 * session token (`auth: { token }`), checked like a bearer token; a principal without `fleet.view` is
 * refused. Each socket is a FeedHub subscriber, so every event is filtered by the principal's sites on the
 * server. The session is checked again every `recheckMs`; once it has ended (expiry, sign-out, account
 * disabled) the page is told and the socket closed.
 */
export function attachAdminFeed(io: Server, d: AdminSocketDeps): { close(): void; connected(): number } {
  const nsp = io.of(ADMIN_NAMESPACE);
  const recheck = d.recheckMs ?? 30_000;
  const sockets = new Set<AdminSocket>();

  nsp.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    void (async () => {
      const p = typeof token === 'string' ? await d.auth.authenticate(token, d.clock.now()) : undefined;
      if (!p) return next(Object.assign(new Error('UNAUTHENTICATED'), { data: { code: 'UNAUTHENTICATED', message: 'sign in again' } }));
      if (!can(p, 'fleet.view')) return next(Object.assign(new Error('FORBIDDEN'), { data: { code: 'FORBIDDEN', message: `role ${p.role} may not view the fleet` } }));
      (socket as AdminSocket).data.principal = p;
      (socket as AdminSocket).data.token = token as string;
      next();
    })().catch((e: unknown) => next(e instanceof Error ? e : new Error(String(e))));
  });

  nsp.on('connection', (raw) => {
    const socket = raw as AdminSocket;
    sockets.add(socket);
    const sub: Subscriber = {
      principal: socket.data.principal,
      send: (delta) => socket.emit('delta', delta),
      buffered: () => (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0,
    };
    d.hub.add(sub);
    socket.on('subscribe', (s, ack) => {
      if (typeof ack !== 'function') return;
      const parsed = FeedSubscription.safeParse(s);
      if (!parsed.success) return ack({ ok: false, error: { code: 'BAD_REQUEST', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      ack({ ok: true, snapshot: d.hub.subscribe(sub, parsed.data) });
    });
    let cancel = d.clock.schedule(recheck, function again() {
      void d.auth.authenticate(socket.data.token, d.clock.now()).then(
        (p) => {
          if (!socket.connected) return;
          if (!p) {
            socket.emit('signed_out', 'session_ended');
            socket.disconnect(true);
            return;
          }
          cancel = d.clock.schedule(recheck, again);
        },
        (e: unknown) => {
          d.log.warn({ err: String(e) }, 'console session re-check failed');
          cancel = d.clock.schedule(recheck, again);
        },
      );
    });
    socket.on('disconnect', () => {
      cancel();
      d.hub.remove(sub);
      sockets.delete(socket);
    });
  });

  return {
    connected: () => sockets.size,
    close() {
      for (const s of sockets) s.disconnect(true);
      nsp.removeAllListeners();
    },
  };
}
