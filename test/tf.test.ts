import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The backend line of a fresh process, with `env` added to its environment. */
function backendLineIn(env: NodeJS.ProcessEnv): string {
  const script = "import('./src/tf.ts').then((m) => m.backendLine()).then((line) => console.log(line))";
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
}

describe('TensorFlow.js loading (src/tf.ts)', function () {
  this.timeout(60_000);

  it('falls back to pure @tensorflow/tfjs when tfjs-node is not installed, and says so', () => {
    expect(backendLineIn({})).to.equal('backend: cpu (@tensorflow/tfjs-node not installed)');
  });

  it('falls back when tfjs-node is installed but its native addon fails to load (a plain Error)', () => {
    const fakeModules = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-fake-tfjs-node-'));
    try {
      const packageDir = path.join(fakeModules, '@tensorflow', 'tfjs-node');
      mkdirSync(packageDir, { recursive: true });
      writeFileSync(path.join(packageDir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', main: 'index.js' }));
      writeFileSync(path.join(packageDir, 'index.js'), "throw new Error('cannot open tfjs_binding.node: no such file');\n");
      // NODE_PATH is searched after the project's node_modules, which has no tfjs-node here.
      expect(backendLineIn({ NODE_PATH: fakeModules })).to.equal('backend: cpu (@tensorflow/tfjs-node failed to load: cannot open tfjs_binding.node: no such file)');
    } finally {
      rmSync(fakeModules, { recursive: true, force: true });
    }
  });

  it('can be told not to try tfjs-node', () => {
    expect(backendLineIn({ RLSWEEP_TFJS_NODE: '0' })).to.equal('backend: cpu (RLSWEEP_TFJS_NODE=0)');
  });

  it('is not loaded by a training run on the fused engine, whose line says which kernels run', () => {
    const script = [
      "import('./src/train/trainer.ts')",
      ".then((m) => m.runBackendLine('fused'))",
      ".then((line) => console.log(line, Object.keys(require.cache).some((k) => k.includes('@tensorflow') && !k.endsWith('package.json'))))",
    ].join('');
    const run = (env: NodeJS.ProcessEnv): string => execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } }).trim();
    expect(run({})).to.equal('backend: fused engine (WebAssembly SIMD; TensorFlow.js not loaded) false');
    expect(run({ RLSWEEP_SIMD: '0' })).to.equal('backend: fused engine (plain JavaScript: RLSWEEP_SIMD=0; TensorFlow.js not loaded) false');
  });
});
