import { expect } from 'chai';
import { tf, initTf } from '../src/tf.js';
import { createFusedLearner, FusedLearner } from '../src/agent/fused.js';
import { createLearner } from '../src/agent/index.js';
import type { LearnerOptions, QLearner, TransitionBatch, Weights } from '../src/agent/learner.js';
import { createTfjsLearner } from '../src/agent/tfjs-learner.js';
import { Rng } from '../src/util/random.js';

/** The default network of the MountainCar tutorial: 2 -> 32 -> 32 -> 3, Adam with clipnorm 1. */
const MOUNTAIN_CAR: LearnerOptions = {
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
  initSeed: 11,
  weightInit: 'glorot',
};

function options(overrides: Partial<LearnerOptions> = {}): LearnerOptions {
  return { ...MOUNTAIN_CAR, ...overrides };
}

/** A random batch shaped like MountainCar transitions (position, velocity; reward -1, rare goal). */
function randomBatch(rng: Rng, size: number, spec: LearnerOptions): TransitionBatch {
  const obs = spec.observationSize;
  const batch: TransitionBatch = {
    size,
    states: new Float32Array(size * obs),
    actions: new Int32Array(size),
    rewards: new Float32Array(size),
    nextStates: new Float32Array(size * obs),
    terminals: new Float32Array(size),
  };
  for (let i = 0; i < size * obs; i++) {
    batch.states[i] = i % 2 === 0 ? rng.uniform(-1.2, 0.6) : rng.uniform(-0.07, 0.07) * 10;
    batch.nextStates[i] = i % 2 === 0 ? rng.uniform(-1.2, 0.6) : rng.uniform(-0.07, 0.07) * 10;
  }
  for (let i = 0; i < size; i++) {
    batch.actions[i] = rng.nextInt(spec.actionCount);
    const reachedGoal = rng.nextFloat() < 0.05;
    batch.rewards[i] = reachedGoal ? 10 : rng.uniform(-2, 0);
    batch.terminals[i] = reachedGoal ? 1 : 0;
  }
  return batch;
}

function randomStates(rng: Rng, count: number, size: number): Float32Array {
  const states = new Float32Array(count * size);
  for (let i = 0; i < states.length; i++) states[i] = rng.uniform(-1.5, 1.5);
  return states;
}

function maxAbsDifference(a: Weights, b: Weights): number {
  expect(a.length).to.equal(b.length);
  let max = 0;
  a.forEach((tensor, t) => {
    expect(tensor.length).to.equal(b[t]!.length);
    for (let i = 0; i < tensor.length; i++) max = Math.max(max, Math.abs(tensor[i]! - b[t]![i]!));
  });
  return max;
}

function argmax(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  for (let a = 1; a < count; a++) if (values[offset + a]! > values[offset + best]!) best = a;
  return best;
}

/** Trains both learners on the same batches, with a hard target copy every 100 steps or a soft update each step. */
function trainSideBySide(learners: QLearner[], spec: LearnerOptions, steps: number, tau: number | null): void {
  const rng = new Rng(2024);
  for (let step = 0; step < steps; step++) {
    const batch = randomBatch(rng, 64, spec);
    for (const learner of learners) {
      expect(Number.isFinite(learner.trainStep(batch))).to.equal(true);
      if (tau !== null) learner.updateTarget(tau);
      else if (step % 100 === 99) learner.updateTarget(1);
    }
  }
}

describe('agent engines (fused vs tfjs)', function () {
  this.timeout(60_000);
  const observedDifferences: string[] = [];

  before(async () => {
    await initTf();
  });

  after(() => {
    if (observedDifferences.length === 0) return;
    console.log(`      max |w_fused - w_tfjs| after 300 steps: ${observedDifferences.join(', ')}`);
  });

  it('give the same Q-values from the same init seed', async () => {
    const spec = options();
    const fused = createFusedLearner(spec);
    const tfjs = await createTfjsLearner(spec);
    const count = 100;
    const states = randomStates(new Rng(5), count, spec.observationSize);
    const fusedQ = new Float32Array(count * spec.actionCount);
    const tfjsQ = new Float32Array(count * spec.actionCount);
    fused.qValues(states, count, fusedQ);
    tfjs.qValues(states, count, tfjsQ);
    expect(maxAbsDifference([fusedQ], [tfjsQ])).to.be.at.most(1e-5);
    expect(maxAbsDifference(fused.getWeights('online'), tfjs.getWeights('target'))).to.equal(0);
    tfjs.dispose();
  });

  const trainingCases: { name: string; overrides: Partial<LearnerOptions>; tau: number | null }[] = [
    { name: 'mse', overrides: {}, tau: null },
    { name: 'huber', overrides: { loss: 'huber' }, tau: null },
    { name: 'mse + double DQN', overrides: { doubleDqn: true }, tau: null },
    { name: 'huber + double DQN', overrides: { loss: 'huber', doubleDqn: true }, tau: null },
    { name: 'mse + soft target (tau 0.01)', overrides: {}, tau: 0.01 },
    { name: 'huber + tanh + global-norm clip', overrides: { loss: 'huber', activation: 'tanh', clipGlobalNorm: 0.5 }, tau: null },
  ];
  for (const { name, overrides, tau } of trainingCases) {
    it(`agree on weights after 300 identical train steps: ${name}`, async () => {
      const spec = options(overrides);
      const fused = createFusedLearner(spec);
      const tfjs = await createTfjsLearner(spec);
      const initial = fused.getWeights('online');
      trainSideBySide([fused, tfjs], spec, 300, tau);
      const onlineDifference = maxAbsDifference(fused.getWeights('online'), tfjs.getWeights('online'));
      const targetDifference = maxAbsDifference(fused.getWeights('target'), tfjs.getWeights('target'));
      observedDifferences.push(`${name}: ${onlineDifference.toExponential(1)}`);
      expect(maxAbsDifference(initial, fused.getWeights('online'))).to.be.greaterThan(1e-3); // it did learn
      expect(onlineDifference).to.be.at.most(1e-5);
      expect(targetDifference).to.be.at.most(1e-5);
      const fusedState = fused.getOptimizerState();
      const tfjsState = tfjs.getOptimizerState();
      expect(fusedState.iterations).to.equal(300);
      expect(tfjsState.iterations).to.equal(300);
      expect(maxAbsDifference(fusedState.firstMoments, tfjsState.firstMoments)).to.be.at.most(1e-5);
      expect(maxAbsDifference(fusedState.secondMoments, tfjsState.secondMoments)).to.be.at.most(1e-5);
      tfjs.dispose();
    });
  }

  describe('fused backward matches finite differences of a float64 reference', () => {
    const tiny = (overrides: Partial<LearnerOptions>): LearnerOptions => options({ observationSize: 3, actionCount: 2, hiddenLayers: [4, 5], initSeed: 3, ...overrides });
    const cases: Partial<LearnerOptions>[] = [
      { activation: 'relu', loss: 'mse' },
      { activation: 'relu', loss: 'huber', doubleDqn: true },
      { activation: 'tanh', loss: 'mse', doubleDqn: true },
      { activation: 'tanh', loss: 'huber' },
    ];
    for (const overrides of cases) {
      it(`${overrides.activation} / ${overrides.loss}${overrides.doubleDqn ? ' / double' : ''}`, () => {
        const spec = tiny(overrides);
        const learner = createFusedLearner(spec);
        if (!(learner instanceof FusedLearner)) throw new Error('expected a FusedLearner');
        // Nonzero biases keep every relu input off its kink at exactly 0 (an all-dead layer
        // with zero bias sits on it), and a different target net makes the TD errors nontrivial.
        const noise = new Rng(21);
        const jitter = (weights: Weights): Weights => weights.map((tensor) => tensor.map((value) => value + noise.uniform(-0.3, 0.3)));
        learner.setWeights('online', jitter(learner.getWeights('online')));
        learner.setWeights('target', jitter(learner.getWeights('online')));
        const batch = randomBatch(new Rng(8), 6, spec);
        for (let i = 0; i < batch.size * spec.observationSize; i++) batch.states[i] = batch.states[i]! * 2;
        const { gradients } = learner.lossAndGradients(batch);
        const online = learner.getWeights('online').map((tensor) => Float64Array.from(tensor));
        const targets = referenceTargets(spec, online, learner.getWeights('target'), batch);
        const h = 1e-6;
        online.forEach((tensor, t) => {
          for (let i = 0; i < tensor.length; i++) {
            const saved = tensor[i]!;
            tensor[i] = saved + h;
            const above = referenceLoss(spec, online, batch, targets);
            tensor[i] = saved - h;
            const below = referenceLoss(spec, online, batch, targets);
            tensor[i] = saved;
            const numeric = (above - below) / (2 * h);
            const analytic = gradients[t]![i]!;
            expect(Math.abs(analytic - numeric), `tensor ${t}[${i}]: ${analytic} vs ${numeric}`).to.be.at.most(1e-5 + 1e-4 * Math.abs(numeric));
          }
        });
      });
    }
  });

  it('keep the live tensor count constant over 50 tfjs train steps', async () => {
    const spec = options({ doubleDqn: true, loss: 'huber', clipGlobalNorm: 1 });
    const learner = await createTfjsLearner(spec);
    const rng = new Rng(3);
    const state = new Float32Array(spec.observationSize);
    const qValues = new Float32Array(4 * spec.actionCount);
    const states = randomStates(rng, 4, spec.observationSize);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 50; step++) {
      learner.trainStep(randomBatch(rng, 64, spec));
      learner.updateTarget(step % 10 === 0 ? 1 : 0.05);
      learner.greedyAction(state);
      learner.qValues(states, 4, qValues);
      expect(tf.memory().numTensors, `after step ${step + 1}`).to.equal(before);
    }
    learner.setOptimizerState(learner.getOptimizerState());
    learner.setWeights('online', learner.getWeights('online'));
    expect(tf.memory().numTensors).to.equal(before);
    learner.dispose();
    expect(tf.memory().numTensors).to.be.lessThan(before);
  });

  // Whether trainStep allocates depends on the machine's JIT: npm run bench's long run checks that memory stays flat.
  it('fused trainStep and greedyAction stay finite and in range over 10000 steps with target updates', () => {
    const spec = options({ doubleDqn: true, loss: 'huber', clipGlobalNorm: 1 });
    const learner = createFusedLearner(spec);
    const batch = randomBatch(new Rng(4), 64, spec);
    const state = batch.states.subarray(0, spec.observationSize);
    let loss = 0;
    for (let step = 0; step < 10_000; step++) {
      loss = learner.trainStep(batch);
      const action = learner.greedyAction(state);
      expect(Number.isInteger(action) && action >= 0 && action < spec.actionCount, `action ${action} at step ${step}`).to.equal(true);
      if (step % 100 === 0) learner.updateTarget(0.1);
    }
    expect(Number.isFinite(loss)).to.equal(true);
  });

  describe('weights and optimizer state round trip', () => {
    const engines: { name: string; create: (spec: LearnerOptions) => Promise<QLearner> }[] = [
      { name: 'fused', create: async (spec) => createFusedLearner(spec) },
      { name: 'tfjs', create: createTfjsLearner },
    ];
    for (const source of engines) {
      for (const destination of engines) {
        it(`${source.name} -> ${destination.name}: a restored learner continues identically`, async () => {
          const spec = options({ doubleDqn: true });
          const original = await source.create(spec);
          trainSideBySide([original], spec, 30, 0.2);
          const restored = await destination.create({ ...spec, initSeed: 12345 });
          restored.setWeights('online', original.getWeights('online'));
          restored.setWeights('target', original.getWeights('target'));
          restored.setOptimizerState(original.getOptimizerState());
          expect(restored.getOptimizerState()).to.deep.equal(original.getOptimizerState());
          trainSideBySide([original, restored], spec, 30, 0.2);
          const difference = maxAbsDifference(original.getWeights('online'), restored.getWeights('online'));
          if (source.name === destination.name) expect(difference).to.equal(0);
          else expect(difference).to.be.at.most(1e-5);
          expect(maxAbsDifference(original.getWeights('target'), restored.getWeights('target'))).to.be.at.most(source.name === destination.name ? 0 : 1e-5);
          expect(restored.getOptimizerState().iterations).to.equal(60);
          original.dispose();
          restored.dispose();
        });
      }
    }
  });

  describe('greedyAction', () => {
    for (const engine of ['fused', 'tfjs'] as const) {
      it(`${engine}: equals argmax of qValues, ties to the lowest index`, async () => {
        const spec = options();
        const learner = await createLearner(spec, engine);
        expect(learner.engine).to.equal(engine);
        const count = 50;
        const states = randomStates(new Rng(6), count, spec.observationSize);
        const qValues = new Float32Array(count * spec.actionCount);
        learner.qValues(states, count, qValues);
        for (let row = 0; row < count; row++) {
          const state = states.subarray(row * spec.observationSize, (row + 1) * spec.observationSize);
          expect(learner.greedyAction(state)).to.equal(argmax(qValues, row * spec.actionCount, spec.actionCount));
        }
        // A zero head makes every Q equal (action 0); a head bias of [0, 5, 5] ties actions 1 and 2.
        const weights = learner.getWeights('online');
        const headKernel = weights.length - 2;
        weights[headKernel]!.fill(0);
        weights[headKernel + 1]!.fill(0);
        learner.setWeights('online', weights);
        expect(learner.greedyAction(states.subarray(0, 2))).to.equal(0);
        weights[headKernel + 1]!.set([0, 5, 5]);
        learner.setWeights('online', weights);
        expect(learner.greedyAction(states.subarray(0, 2))).to.equal(1);
        learner.dispose();
      });
    }

    it("createLearner('auto') picks the fused engine for a dense MLP", async () => {
      const learner = await createLearner(options(), 'auto');
      expect(learner.engine).to.equal('fused');
    });
  });
});

// --- float64 reference of the TD loss, for the gradient check ---

function referenceForward(spec: LearnerOptions, weights: ArrayLike<number>[], state: ArrayLike<number>): number[] {
  const sizes = [spec.observationSize, ...spec.hiddenLayers, spec.actionCount];
  let activations = Array.from(state);
  for (let l = 0; l < sizes.length - 1; l++) {
    const kernel = weights[2 * l]!;
    const bias = weights[2 * l + 1]!;
    const units = sizes[l + 1]!;
    const next: number[] = [];
    for (let j = 0; j < units; j++) {
      let z = bias[j]!;
      for (let i = 0; i < sizes[l]!; i++) z += activations[i]! * kernel[i * units + j]!;
      const isHead = l === sizes.length - 2;
      next.push(isHead ? z : spec.activation === 'relu' ? Math.max(0, z) : Math.tanh(z));
    }
    activations = next;
  }
  return activations;
}

function row(values: Float32Array, index: number, size: number): Float32Array {
  return values.subarray(index * size, (index + 1) * size);
}

/** TD targets (held fixed while differentiating, like a stop-gradient). */
function referenceTargets(spec: LearnerOptions, online: ArrayLike<number>[], target: ArrayLike<number>[], batch: TransitionBatch): number[] {
  const targets: number[] = [];
  for (let b = 0; b < batch.size; b++) {
    const next = row(batch.nextStates, b, spec.observationSize);
    const targetQ = referenceForward(spec, target, next);
    let nextValue: number;
    if (spec.doubleDqn) {
      const onlineQ = referenceForward(spec, online, next);
      nextValue = targetQ[onlineQ.indexOf(Math.max(...onlineQ))]!;
    } else {
      nextValue = Math.max(...targetQ);
    }
    targets.push(batch.rewards[b]! + spec.gamma * (1 - batch.terminals[b]!) * nextValue);
  }
  return targets;
}

function referenceLoss(spec: LearnerOptions, online: ArrayLike<number>[], batch: TransitionBatch, targets: number[]): number {
  let sum = 0;
  for (let b = 0; b < batch.size; b++) {
    const q = referenceForward(spec, online, row(batch.states, b, spec.observationSize))[batch.actions[b]!]!;
    const diff = q - targets[b]!;
    const absDiff = Math.abs(diff);
    sum += spec.loss === 'mse' ? diff * diff : absDiff <= 1 ? 0.5 * diff * diff : absDiff - 0.5;
  }
  return sum / batch.size;
}
