import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';

/**
 * The transport's ceiling: the largest socket.io message (one frame event, with its envelope) the server reads.
 * Every frame up to it gets an answer — TOO_LARGE above the configured frame limit, on a connection that stays
 * up — so a device holding an oversized frame hears why and drops it instead of resending it for ever; a
 * message above it is cut off by the transport itself (the connection closes). It sits far above the largest
 * frame a device can be configured to send (`config.maxFrameBytes` ≤ 8 MiB, MAX_FRAME_BYTES likewise), so no
 * conforming device reaches it. Documented in docs/cabinet-protocol.md.
 */
export const DEVICE_MESSAGE_CEILING_BYTES = 16 << 20;

/**
 * The socket.io server beside the HTTP app (same port). Devices use the `/cabinet` namespace. In a cluster
 * (`redis` given) it runs on socket.io's Redis Streams adapter, so broadcasts and socket management (a
 * cabinet's older connection on another node being closed) reach every node.
 */
export function createSocketServer(http: HttpServer, opts: { maxFrameBytes: number; redis?: unknown }): Server {
  return new Server(http, {
    ...(opts.redis ? { adapter: createAdapter(opts.redis) } : {}),
    serveClient: false,
    // Deliberately far above the frame limit (see DEVICE_MESSAGE_CEILING_BYTES): an oversized frame must reach
    // the gateway to be answered TOO_LARGE, not make the transport hang up.
    maxHttpBufferSize: Math.max(DEVICE_MESSAGE_CEILING_BYTES, opts.maxFrameBytes + (1 << 20)),
    pingInterval: 25_000,
    pingTimeout: 20_000,
  });
}

export type { Server as SocketServer } from 'socket.io';
