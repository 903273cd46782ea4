import { expect } from 'chai';
import { initTf } from '../src/tf.js';
import { createFusedLearner } from '../src/agent/fused.js';
import type { LearnerOptions, QLearner, TransitionBatch } from '../src/agent/learner.js';
import { learningRateSchedule } from '../src/agent/schedules.js';
import { createTfjsLearner } from '../src/agent/tfjs-learner.js';
import { defaultRunConfig, resolveConfig } from '../src/train/config.js';
import { Rng } from '../src/util/random.js';

const SPEC: LearnerOptions = {
  observationSize: 2,
  actionCount: 3,
  hiddenLayers: [16, 16],
  activation: 'relu',
  learningRate: 1e-3,
  gamma: 0.99,
  loss: 'huber',
  doubleDqn: false,
  clipNorm: 0,
  clipGlobalNorm: 10,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-7,
  initSeed: 3,
  weightInit: 'glorot',
};

function batch(rng: Rng): TransitionBatch {
  const size = 32;
  const b: TransitionBatch = {
    size,
    states: new Float32Array(size * 2),
    actions: new Int32Array(size),
    rewards: new Float32Array(size),
    nextStates: new Float32Array(size * 2),
    terminals: new Float32Array(size),
  };
  for (let i = 0; i < size * 2; i++) {
    b.states[i] = rng.uniform(-1, 1);
    b.nextStates[i] = rng.uniform(-1, 1);
  }
  for (let i = 0; i < size; i++) {
    b.actions[i] = rng.nextInt(3);
    b.rewards[i] = rng.uniform(-1, 0);
  }
  return b;
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((t, k) =>
    t.forEach((v, i) => {
      max = Math.max(max, Math.abs(v - b[k]![i]!));
    }),
  );
  return max;
}

describe('learning-rate schedule', () => {
  it('constant is no schedule; linear goes from learningRate to learningRateEnd', () => {
    const base = { ...defaultRunConfig(), steps: 1000, learningRate: 0.004, learningRateEnd: 0.001 };
    expect(learningRateSchedule({ ...base, learningRateSchedule: 'constant' })).to.equal(null);
    const at = learningRateSchedule({ ...base, learningRateSchedule: 'linear' })!;
    expect(at(0)).to.equal(0.004);
    expect(at(500)).to.be.closeTo(0.0025, 1e-12);
    expect(at(1000)).to.be.closeTo(0.001, 1e-12);
  });

  it('learningRateFraction: reaches learningRateEnd early and holds it', () => {
    const base = { ...defaultRunConfig(), steps: 1000, learningRate: 0.004, learningRateEnd: 0, learningRateSchedule: 'linear' as const };
    const full = learningRateSchedule(base)!;
    const early = learningRateSchedule({ ...base, learningRateFraction: 0.8 })!;
    expect(early(400)).to.be.closeTo(0.002, 1e-12);
    expect(early(800)).to.equal(0);
    expect(early(999)).to.equal(0);
    // The default fraction (1) decays over the whole run: values worked out by hand.
    expect(full(1)).to.be.closeTo(0.003996, 1e-15);
    expect(full(250)).to.be.closeTo(0.003, 1e-15);
    expect(full(777)).to.be.closeTo(0.000892, 1e-15);
    expect(full(1000)).to.equal(0);
    expect(() => resolveConfig({ values: { learningRateFraction: 0 }, source: 'test' })).to.throw(/learningRateFraction/);
    expect(() => resolveConfig({ values: { learningRateFraction: 1.5 }, source: 'test' })).to.throw(/learningRateFraction/);
  });

  it('is a RunConfig option checked like the others', () => {
    const config = resolveConfig({ values: { learningRateSchedule: 'linear', learningRateEnd: 0 }, source: 'test' });
    expect(config.learningRateSchedule).to.equal('linear');
    expect(() => resolveConfig({ values: { learningRateSchedule: 'cosine' }, source: 'test' })).to.throw(/learningRateSchedule/);
    expect(() => resolveConfig({ values: { learningRateEnd: -1 }, source: 'test' })).to.throw(/learningRateEnd/);
  });

  it('setLearningRate: both engines agree after a change, and 0 freezes the weights', async () => {
    await initTf();
    const learners: QLearner[] = [createFusedLearner(SPEC), await createTfjsLearner(SPEC)];
    const rng = new Rng(7);
    for (let step = 0; step < 60; step++) {
      const b = batch(rng);
      for (const learner of learners) {
        if (step === 30) learner.setLearningRate(3e-3);
        learner.trainStep(b);
      }
    }
    expect(maxDifference(learners[0]!.getWeights('online'), learners[1]!.getWeights('online'))).to.be.at.most(1e-5);
    for (const learner of learners) {
      const before = learner.getWeights('online');
      learner.setLearningRate(0);
      learner.trainStep(batch(rng));
      expect(maxDifference(before, learner.getWeights('online'))).to.equal(0);
    }
    learners[1]!.dispose();
  });
});
