import { runInThisContext } from 'node:vm';

/**
 * Jest runs each test file in its own realm, but onnxruntime-node's native addon returns typed arrays of the
 * main realm, which fail onnxruntime-common's `instanceof Float32Array` check. Import this first in any test
 * that runs a session: it makes the test realm use the main realm's Float32Array.
 */
(globalThis as { Float32Array: Float32ArrayConstructor }).Float32Array = runInThisContext('Float32Array') as Float32ArrayConstructor;
