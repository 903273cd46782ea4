/**
 * The one place that loads TensorFlow.js. Everything else imports `tf` from here, so
 * the rest of the code does not care whether the native binding or the pure-JS
 * package loaded.
 *
 * @tensorflow/tfjs-node is an optional dependency: without internet its install
 * fails and npm skips it (MODULE_NOT_FOUND), and an install without its native addon
 * throws a plain Error on load. Any failure falls back to @tensorflow/tfjs.
 */
import { createRequire } from 'node:module';
import * as tfjs from '@tensorflow/tfjs';

export type Tf = typeof tfjs;

const require = createRequire(import.meta.url);

function loadTf(): { tf: Tf; backendPackage: string; fallbackReason?: string } {
  if (process.env.RLSWEEP_TFJS_NODE !== '0') {
    try {
      const native = require('@tensorflow/tfjs-node') as Tf;
      return { tf: native, backendPackage: '@tensorflow/tfjs-node' };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === 'MODULE_NOT_FOUND' ? 'not installed' : `failed to load: ${(error as Error).message.split('\n')[0]}`;
      return { tf: tfjs, backendPackage: '@tensorflow/tfjs', fallbackReason: `@tensorflow/tfjs-node ${reason}` };
    }
  }
  return { tf: tfjs, backendPackage: '@tensorflow/tfjs', fallbackReason: 'RLSWEEP_TFJS_NODE=0' };
}

const loaded = loadTf();
export const tf: Tf = loaded.tf;

let ready: Promise<string> | undefined;

/**
 * Select the fastest backend available and return its name ('tensorflow' for
 * tfjs-node, 'cpu' for pure JS). Idempotent.
 */
export function initTf(): Promise<string> {
  ready ??= (async () => {
    if (loaded.backendPackage === '@tensorflow/tfjs') {
      // The pure package registers 'cpu' and 'webgl'; only 'cpu' works in Node.
      await tf.setBackend('cpu');
    }
    // Production mode skips per-op debug checks and the "install tfjs-node" banner;
    // our own backend line already says which backend runs and why.
    tf.enableProdMode();
    await tf.ready();
    return tf.getBackend();
  })();
  return ready;
}

/** One line saying which backend is in use and why, e.g. `backend: cpu (@tensorflow/tfjs-node not installed)`. */
export async function backendLine(): Promise<string> {
  const backend = await initTf();
  const name = backend === 'tensorflow' ? 'tfjs-node' : backend;
  return `backend: ${name}${loaded.fallbackReason ? ` (${loaded.fallbackReason})` : ''}`;
}

export function backendPackage(): string {
  return loaded.backendPackage;
}
