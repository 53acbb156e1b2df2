import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';

/** The socket.io server beside the HTTP app (same port). Devices use the `/cabinet` namespace. */
export function createSocketServer(http: HttpServer, opts: { maxFrameBytes: number }): Server {
  return new Server(http, {
    serveClient: false,
    // Room for a frame at the limit plus its envelope, so an oversized frame gets TOO_LARGE rather than a hang-up.
    maxHttpBufferSize: opts.maxFrameBytes + 64 * 1024,
    pingInterval: 25_000,
    pingTimeout: 20_000,
  });
}

export type { Server as SocketServer } from 'socket.io';
