import { assertNever } from '../../common/assert-never';
import { systemClock } from '../../common/clock';
import { SimFleet } from '../simulator/fleet';
import { placeholderFrames } from '../simulator/frames';
import { GOOD_LINK } from '../simulator/link';
import { noShopper } from '../simulator/shelf';
import type { FromClients, ToClients } from './bench.ipc';

/**
 * A benchmark client process: runs its share of the simulated fleet (good link, nobody opens the doors, so
 * every unlock ends in `relocked`) and reports progress and counters to the server process over IPC.
 */
const send = (m: FromClients): void => void process.send?.(m);
let fleet: SimFleet | undefined;
let progress: ReturnType<typeof setInterval> | undefined;

process.on('message', (m: ToClients) => {
  switch (m.type) {
    case 'start': {
      fleet = new SimFleet(m.cabinets, {
        url: m.url,
        clock: systemClock,
        seed: m.seed,
        link: GOOD_LINK,
        frames: placeholderFrames,
        statusIntervalMs: m.statusIntervalMs,
        ackTimeoutMs: m.ackTimeoutMs,
        connectRate: m.connectRate,
        maxConnecting: m.maxConnecting,
        shopperFor: () => noShopper,
      });
      void fleet.start();
      progress = setInterval(() => {
        if (!fleet) return;
        send({ type: 'progress', online: fleet.onlineCount(), total: fleet.cabinets.size, refused: fleet.refusedCount(), connectErrors: fleet.counters.connectErrors });
      }, 1000);
      return;
    }
    case 'report': {
      if (!fleet) return;
      const r = fleet.statusRtt;
      send({ type: 'report', counters: fleet.counters, statusRtt: { count: r.count, samples: [...r.values()] }, memory: process.memoryUsage(), online: fleet.onlineCount() });
      return;
    }
    case 'stop':
      if (progress) clearInterval(progress);
      fleet?.stop();
      setTimeout(() => process.exit(0), 100);
      return;
    default:
      assertNever(m, 'message to the clients');
  }
});

// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
