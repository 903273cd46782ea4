import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import { createFusedLearner, type FusedLearner } from '../src/agent/fused.js';
import type { LearnerOptions, TransitionBatch, Weights } from '../src/agent/learner.js';
import { simdSupported } from '../src/agent/simd-kernels.js';
import { Rng } from '../src/util/random.js';
import { assembleKernels, WASM_FILE } from '../scripts/wasm-build.js';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '../src/train/config.js';
import { memoryOutput } from '../src/train/run-output.js';
import { prepareRunDir, train } from '../src/train/trainer.js';

const BASE: LearnerOptions = {
  observationSize: 2,
  actionCount: 3,
  hiddenLayers: [32, 32],
  activation: 'relu',
  learningRate: 1e-3,
  gamma: 0.99,
  loss: 'mse',
  doubleDqn: false,
  clipNorm: 1,
  clipGlobalNorm: 0,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-7,
  initSeed: 3,
  weightInit: 'glorot',
};

/** Shapes and settings that reach every branch of the kernels: odd and wide layers, blocks of 48 (inputs, units, rows), tanh, losses, clipping. */
const CASES: Array<{ name: string; options: Partial<LearnerOptions>; batch: number }> = [
  { name: 'the Toptal default (2-32-32-3 relu, mse, clipnorm 1)', options: {}, batch: 64 },
  {
    name: '128x128 relu, Huber, global-norm clipping, PyTorch init (SB3)',
    options: { observationSize: 4, actionCount: 2, hiddenLayers: [128, 128], loss: 'huber', clipNorm: 0, clipGlobalNorm: 10, weightInit: 'pytorch' },
    batch: 64,
  },
  {
    name: 'odd widths, tanh, double DQN, batch 100 (3 row blocks)',
    options: { observationSize: 6, actionCount: 3, hiddenLayers: [7, 50, 5], activation: 'tanh', doubleDqn: true, clipNorm: 0.5 },
    batch: 100,
  },
  { name: 'a 97-input layer (3 input blocks), one unit, batch 1', options: { observationSize: 97, actionCount: 1, hiddenLayers: [1], clipNorm: 0 }, batch: 1 },
  {
    name: 'no hidden layer, both clippings, a large learning rate',
    options: { observationSize: 5, actionCount: 4, hiddenLayers: [], clipNorm: 0.1, clipGlobalNorm: 0.05, learningRate: 0.5 },
    batch: 49,
  },
];

function randomBatch(rng: Rng, size: number, spec: LearnerOptions): TransitionBatch {
  const obs = spec.observationSize;
  const states = Float32Array.from({ length: size * obs }, () => (rng.nextFloat() < 0.1 ? 0 : rng.uniform(-2, 2)));
  const nextStates = Float32Array.from({ length: size * obs }, () => rng.uniform(-2, 2));
  return {
    size,
    states,
    nextStates,
    actions: Int32Array.from({ length: size }, () => rng.nextInt(spec.actionCount)),
    rewards: Float32Array.from({ length: size }, () => (rng.nextFloat() < 0.05 ? 10 : rng.uniform(-2, 0))),
    terminals: Float32Array.from({ length: size }, () => (rng.nextFloat() < 0.05 ? 1 : 0)),
  };
}

/** Indices where two tensor lists differ in any bit (Object.is: -0 and NaN count). */
function bitDifferences(a: Weights, b: Weights): string[] {
  const found: string[] = [];
  a.forEach((tensor, t) => {
    for (let i = 0; i < tensor.length; i++) if (!Object.is(tensor[i], b[t]![i])) found.push(`tensor ${t}[${i}]: ${tensor[i]} vs ${b[t]![i]}`);
  });
  return found.slice(0, 5);
}

function pair(options: LearnerOptions): { js: FusedLearner; simd: FusedLearner } {
  return { js: createFusedLearner(options, { kernels: 'js' }), simd: createFusedLearner(options, { kernels: 'wasm-simd' }) };
}

describe('WebAssembly SIMD kernels of the fused engine', function () {
  this.timeout(60_000);

  it('the committed dense-simd.wasm is what `npm run wasm:build` makes of dense-simd.wat', async () => {
    const committed = new Uint8Array(await fs.readFile(WASM_FILE));
    const assembled = await assembleKernels();
    expect(Buffer.from(committed).equals(Buffer.from(assembled)), 'run `npm run wasm:build` and commit src/agent/dense-simd.wasm').to.equal(true);
  });

  describe('bit-identical to the JavaScript loops', function () {
    before(function () {
      if (!simdSupported()) this.skip();
    });

    for (const { name, options: overrides, batch: batchSize } of CASES) {
      it(`${name}: losses, gradients, weights, moments, Q-values and actions over 60 steps`, () => {
        const options = { ...BASE, ...overrides };
        const { js, simd } = pair(options);
        const rng = new Rng(42);
        for (let step = 0; step < 60; step++) {
          const batch = randomBatch(rng, batchSize, options);
          if (step % 20 === 0) {
            const a = js.lossAndGradients(batch);
            const b = simd.lossAndGradients(batch);
            expect(Object.is(a.loss, b.loss), `loss at step ${step}`).to.equal(true);
            expect(bitDifferences(a.gradients, b.gradients), `gradients at step ${step}`).to.deep.equal([]);
          }
          expect(Object.is(js.trainStep(batch), simd.trainStep(batch)), `loss at step ${step}`).to.equal(true);
          if (step % 7 === 6) {
            js.updateTarget(step % 2 === 0 ? 1 : 0.05);
            simd.updateTarget(step % 2 === 0 ? 1 : 0.05);
          }
        }
        for (const which of ['online', 'target'] as const) expect(bitDifferences(js.getWeights(which), simd.getWeights(which)), which).to.deep.equal([]);
        const jsState = js.getOptimizerState();
        const simdState = simd.getOptimizerState();
        expect(bitDifferences(jsState.firstMoments, simdState.firstMoments)).to.deep.equal([]);
        expect(bitDifferences(jsState.secondMoments, simdState.secondMoments)).to.deep.equal([]);
        const states = randomBatch(rng, 150, options).states;
        const jsQ = new Float32Array(150 * options.actionCount);
        const simdQ = new Float32Array(150 * options.actionCount);
        js.qValues(states, 150, jsQ);
        simd.qValues(states, 150, simdQ);
        expect(bitDifferences([jsQ], [simdQ])).to.deep.equal([]);
        for (let row = 0; row < 20; row++) {
          const state = states.subarray(row * options.observationSize, (row + 1) * options.observationSize);
          expect(simd.greedyAction(state)).to.equal(js.greedyAction(state));
        }
      });
    }

    it('a training run gives the same episode returns and weights with either kernels (RLSWEEP_SIMD=0)', async () => {
      const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-simd-'));
      const runWith = async (simd: boolean, values: Record<string, unknown>) => {
        if (!simd) process.env.RLSWEEP_SIMD = '0';
        try {
          const config = resolveConfig({ values: { ...values, evalEvery: 0, evalEpisodes: 1, evalGif: false, snapshotEvery: 0, checkpointEvery: 0, logdir, name: `${simd}` }, source: 'test' });
          const output = memoryOutput();
          const result = await train(config, { runDir: await prepareRunDir(config, {}, true), output });
          return { backend: output.lines.find((line) => line.startsWith('backend:')), returns: result.episodeReturns, weights: result.learner.getWeights('online') };
        } finally {
          delete process.env.RLSWEEP_SIMD;
        }
      };
      try {
        const setups = [
          { env: 'CartPole-v1', steps: 3000, trainStart: 200, targetUpdateEvery: 250 },
          {
            env: 'MountainCar-v0',
            steps: 1400,
            trainStart: 500,
            observationScaling: 'bounds',
            hiddenLayers: [128, 128],
            trainFrequency: 16,
            gradientSteps: 8,
            loss: 'huber',
            clipNorm: 0,
            clipGlobalNorm: 10,
            weightInit: 'pytorch',
            doubleDqn: true,
          },
        ];
        for (const setup of setups) {
          const simd = await runWith(true, setup);
          const js = await runWith(false, setup);
          expect(simd.backend).to.include('WebAssembly SIMD');
          expect(js.backend).to.include('plain JavaScript: RLSWEEP_SIMD=0');
          expect(simd.returns.length, setup.env).to.be.greaterThan(3);
          expect(simd.returns, setup.env).to.deep.equal(js.returns);
          expect(bitDifferences(simd.weights, js.weights), setup.env).to.deep.equal([]);
        }
      } finally {
        await fs.rm(logdir, { recursive: true, force: true });
      }
    });

    it('carries weights and Adam state over when a bigger batch grows its memory', () => {
      const options = { ...BASE, hiddenLayers: [16] };
      const { js, simd } = pair(options);
      const rng = new Rng(5);
      for (const size of [8, 64, 200, 64]) {
        const batch = randomBatch(rng, size, options);
        expect(Object.is(js.trainStep(batch), simd.trainStep(batch)), `batch of ${size}`).to.equal(true);
      }
      expect(bitDifferences(js.getWeights('online'), simd.getWeights('online'))).to.deep.equal([]);
      expect(simd.getOptimizerState().iterations).to.equal(4);
    });

    it('restores from weights and optimizer state to the same bits as the JavaScript loops (resume)', () => {
      const options = { ...BASE, hiddenLayers: [24, 24], loss: 'huber' as const };
      const source = createFusedLearner(options, { kernels: 'js' });
      const rng = new Rng(9);
      for (let step = 0; step < 30; step++) source.trainStep(randomBatch(rng, 64, options));
      const { js, simd } = pair({ ...options, initSeed: 99 });
      for (const learner of [js, simd]) {
        learner.setWeights('online', source.getWeights('online'));
        learner.setWeights('target', source.getWeights('target'));
        learner.setOptimizerState(source.getOptimizerState());
      }
      for (let step = 0; step < 30; step++) {
        const batch = randomBatch(rng, 64, options);
        const expected = source.trainStep(batch);
        expect(Object.is(js.trainStep(batch), expected)).to.equal(true);
        expect(Object.is(simd.trainStep(batch), expected)).to.equal(true);
      }
      expect(bitDifferences(source.getWeights('online'), simd.getWeights('online'))).to.deep.equal([]);
    });
  });
});
