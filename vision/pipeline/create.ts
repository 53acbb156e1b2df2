import { availableParallelism } from 'node:os';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import type { ProductSpec } from '../../contracts/domain';
import { RecogniserCore, loadBundle } from '../recognition/recogniser';
import { enrolmentFor, type RecognitionEnrolment } from './enrolment';
import { RecognitionPool } from './pool';

export interface RecognitionPoolHandle {
  pool: RecognitionPool;
  /** Enrolment of new products into every worker's gallery while the pool runs. */
  enrolment: RecognitionEnrolment;
  close: () => Promise<void>;
}

/**
 * The wired pool: one recogniser (one single-threaded onnxruntime session) per worker, sized to the cores by
 * default, for the products the caller gives (the service: its store's catalogue; there is no default).
 * An actor shell can own the pool and forward `submit` outcomes to visit actors as replies; `enrolment` adds
 * products to every worker without a restart.
 */
export async function createRecognitionPool(deps: { modelDir: string; log: Logger; clock: Clock; size?: number; queueLimit?: number; catalogue: readonly ProductSpec[] }): Promise<RecognitionPoolHandle> {
  const size = deps.size ?? Math.max(1, availableParallelism());
  const bundle = loadBundle(deps.modelDir);
  const cores = await Promise.all(Array.from({ length: size }, () => RecogniserCore.load(bundle, { clock: deps.clock, log: deps.log, threads: 1, catalogue: deps.catalogue })));
  const pool = new RecognitionPool(
    cores.map((c) => (v) => c.recognise(v)),
    { queueLimit: deps.queueLimit ?? size * 8, clock: deps.clock, log: deps.log.child({ unit: 'recognition-pool' }) },
  );
  return {
    pool,
    enrolment: enrolmentFor(cores),
    close: async () => {
      await pool.close();
      await Promise.all(cores.map((c) => c.release()));
    },
  };
}
