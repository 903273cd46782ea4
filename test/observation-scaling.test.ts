import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeEnv } from '../src/envs/index.js';
import { agentEnv, boundsScaling, withScaledObservations } from '../src/envs/scaling.js';
import { foldObservationScaling } from '../src/agent/fold-scaling.js';
import { createFusedLearner } from '../src/agent/fused.js';
import { initialWeights } from '../src/agent/init.js';
import type { LearnerOptions } from '../src/agent/learner.js';
import { resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { memoryOutput } from '../src/train/run-output.js';
import { loadPolicy } from '../src/train/playback.js';
import { Rng } from '../src/util/random.js';

const learnerOptions = (overrides: Partial<LearnerOptions> = {}): LearnerOptions => ({
  observationSize: 2,
  actionCount: 3,
  hiddenLayers: [16, 8],
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
  initSeed: 5,
  weightInit: 'glorot',
  ...overrides,
});

describe('observation scaling', () => {
  it('maps bounded components onto [-1, 1] and leaves unbounded ones alone', () => {
    const mountainCar = boundsScaling(makeEnv('MountainCar-v0'));
    expect(mountainCar.shift[0]).to.be.closeTo(-0.3, 1e-12);
    expect(mountainCar.shift[1]).to.equal(0);
    expect(mountainCar.scale[0]).to.be.closeTo(2 / 1.8, 1e-12);
    expect(mountainCar.scale[1]).to.be.closeTo(1 / 0.07, 1e-9);
    const cartPole = boundsScaling(makeEnv('CartPole-v1'));
    expect([cartPole.scale[1], cartPole.scale[3], cartPole.shift[1], cartPole.shift[3]]).to.deep.equal([1, 1, 0, 0]);
    expect(cartPole.scale[0]).to.be.closeTo(1 / 4.8, 1e-12);
  });

  it('the wrapped env steps like the raw one, with scaled observations and the same state', () => {
    const raw = makeEnv('MountainCar-v0');
    const scaled = agentEnv(makeEnv('MountainCar-v0'), 'bounds');
    const scaling = boundsScaling(raw);
    const rawObservation = raw.reset({ seed: 3 });
    const scaledObservation = scaled.reset({ seed: 3 });
    const into = new Float32Array(2);
    for (let step = 0; step < 50; step++) {
      rawObservation.forEach((value, i) => expect(scaledObservation[i]).to.be.closeTo((value - scaling.shift[i]!) * scaling.scale[i]!, 1e-6));
      expect(Math.abs(scaledObservation[0]!)).to.be.at.most(1);
      const action = step % 3;
      const rawStep = raw.step(action);
      const scaledStatus = scaled.stepInto(action, into);
      expect(scaledStatus.reward).to.equal(rawStep.reward);
      expect(scaled.getState()).to.deep.equal(raw.getState());
      rawObservation.set(rawStep.observation);
      scaledObservation.set(into);
    }
    expect(scaled.renderText!()).to.equal(raw.renderText!());
    expect(agentEnv(raw, 'none')).to.equal(raw);
    expect(withScaledObservations(raw, scaling).observationHigh[0]).to.be.closeTo(1, 1e-12);
  });

  it('folding the scaling into the first layer gives the same Q-values on raw observations', () => {
    const learner = createFusedLearner(learnerOptions());
    const scaling = boundsScaling(makeEnv('MountainCar-v0'));
    const folded = createFusedLearner(learnerOptions());
    folded.setWeights('online', foldObservationScaling(learner.getWeights('online'), scaling));
    const rng = new Rng(1);
    for (let i = 0; i < 100; i++) {
      const raw = new Float32Array([rng.uniform(-1.2, 0.6), rng.uniform(-0.07, 0.07)]);
      const scaled = raw.map((value, k) => (value - scaling.shift[k]!) * scaling.scale[k]!);
      const expected = new Float32Array(3);
      const actual = new Float32Array(3);
      learner.qValues(scaled, 1, expected);
      folded.qValues(raw, 1, actual);
      actual.forEach((q, k) => expect(q).to.be.closeTo(expected[k]!, 1e-5));
    }
  });

  it('a run with observationScaling bounds writes snapshots that take raw observations', async function () {
    this.timeout(120_000);
    const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-scaling-'));
    try {
      const config = resolveConfig({
        values: {
          env: 'MountainCar-v0',
          steps: 1500,
          trainStart: 200,
          bufferSize: 2000,
          evalEvery: 0,
          evalEpisodes: 1,
          evalGif: true,
          qValidationSize: 100,
          logEvery: 500,
          snapshotEvery: 0,
          observationScaling: 'bounds',
          weightInit: 'pytorch',
          name: 'scaled',
          logdir,
        },
        source: 'test',
      });
      const runDir = await prepareRunDir(config, { backend: 'test' }, false);
      const result = await train(config, { runDir, output: memoryOutput() });
      const scaling = boundsScaling(makeEnv('MountainCar-v0'));
      const raw = new Float32Array([-0.5, 0.01, 0.4, -0.05]);
      const scaled = raw.map((value, k) => (value - scaling.shift[k % 2]!) * scaling.scale[k % 2]!);
      const trained = new Float32Array(6);
      result.learner.qValues(scaled, 2, trained);
      const policy = await loadPolicy(path.join(runDir, 'snapshots', 'step-1500'), undefined, 'fused');
      const loaded = new Float32Array(6);
      policy.learner.qValues(raw, 2, loaded);
      loaded.forEach((q, i) => expect(q).to.be.closeTo(trained[i]!, 1e-4 * Math.max(1, Math.abs(trained[i]!))));
      const saved = JSON.parse(await fs.readFile(path.join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(saved).to.include({ observationScaling: 'bounds', weightInit: 'pytorch' });
    } finally {
      await fs.rm(logdir, { recursive: true, force: true });
    }
  });
});

describe('weight initialisation', () => {
  const spec = { observationSize: 4, actionCount: 2, hiddenLayers: [64, 32], activation: 'relu' as const };

  it('glorot: Glorot-uniform kernels and zero biases (Keras)', () => {
    const weights = initialWeights(spec, 1, 'glorot');
    expect(weights.map((tensor) => tensor.length)).to.deep.equal([256, 64, 2048, 32, 64, 2]);
    const limit = Math.sqrt(6 / (4 + 64));
    expect(Math.max(...weights[0]!.map(Math.abs))).to.be.within(0.9 * limit, limit);
    expect([...weights[1]!, ...weights[3]!, ...weights[5]!].every((value) => value === 0)).to.equal(true);
  });

  it('pytorch: kernels and biases uniform in +-1/sqrt(fan-in) (torch.nn.Linear)', () => {
    const weights = initialWeights(spec, 1, 'pytorch');
    const fanIns = [4, 4, 64, 64, 32, 32];
    weights.forEach((tensor, index) => {
      const limit = 1 / Math.sqrt(fanIns[index]!);
      const largest = Math.max(...tensor.map(Math.abs));
      expect(largest, `tensor ${index}`).to.be.at.most(limit);
      if (tensor.length >= 32) expect(largest, `tensor ${index}`).to.be.above(0.8 * limit);
    });
    expect(initialWeights(spec, 1, 'pytorch')).to.deep.equal(weights);
    expect(initialWeights(spec, 2, 'pytorch')[0]).to.not.deep.equal(weights[0]);
  });
});
