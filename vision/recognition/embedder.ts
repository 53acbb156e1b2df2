import * as ort from 'onnxruntime-node';
import { CROP_H, CROP_W, toTensorData } from './crop';

/**
 * One onnxruntime session over the facing-embedding model. Sessions are not shared between pool workers: each
 * worker owns one, single-threaded, so the pool size maps onto cores.
 */
export interface Embedder {
  readonly dim: number;
  /** Embeds `n` HWC uint8 crops; returns n×dim unit vectors, row-major. */
  embed(crops: Uint8Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

export async function loadEmbedder(modelPath: string, opts: { threads?: number } = {}): Promise<Embedder> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0] ?? 'crops';
  const output = session.outputNames[0] ?? 'embedding';
  let dim = 0;
  const run = async (crops: Uint8Array, n: number): Promise<Float32Array> => {
    if (n === 0) return new Float32Array(0);
    const tensor = new ort.Tensor('float32', toTensorData(crops, n), [n, 3, CROP_H, CROP_W]);
    const out = await session.run({ [input]: tensor });
    const t = out[output];
    if (!t) throw new Error(`model has no output ${output}`);
    dim = Number(t.dims[1]);
    return t.data as Float32Array;
  };
  // Learn the embedding width once from a dummy crop.
  await run(new Uint8Array(CROP_H * CROP_W * 3), 1);
  return {
    get dim() {
      return dim;
    },
    embed: run,
    release: () => session.release(),
  };
}
