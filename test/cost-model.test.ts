/**
 * The time estimate's cost model (src/sweep/cost-model.ts) with fixed unit costs, the
 * calibration that measures them (src/sweep/calibrate.ts) checked for what it returns (never
 * for how fast this machine is), and the live ETAs of the progress view.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { sweepMain } from '../src/cli/sweep-commands.js';
import { calibrate, estimateSweep, MAX_MEASURED_SHAPES, RunningTrialEtas, shapeKey } from '../src/sweep/calibrate.js';
import {
  type EtaModel,
  type UnitCosts,
  envShapeOf,
  evaluationsIn,
  multiplesIn,
  observedSpeedFactor,
  remainingWorkSeconds,
  runningTrialEtaSeconds,
  shareCores,
  trialSeconds,
  trialWork,
  workSeconds,
} from '../src/sweep/cost-model.js';
import { expandSweep } from '../src/sweep/expand.js';
import { SweepProgress } from '../src/sweep/progress-view.js';
import { parseSweepSpec } from '../src/sweep/spec.js';
import { defaultRunConfig, type RunConfig } from '../src/train/config.js';
import { reporter } from './helpers/progress.js';

/** Round unit costs, so expected values can be worked out by hand. */
const COSTS: UnitCosts = {
  envStep: 1e-6,
  greedyAction: 2e-6,
  gradientStep: 1e-4,
  targetUpdate: 1e-6,
  qValidationState: 1e-6,
  gifFrame: 1e-3,
  checkpointByte: 1e-9,
  startup: 1,
  neighbourSlowdown: 1,
};

const config = (overrides: Partial<RunConfig> = {}): RunConfig => ({ ...defaultRunConfig(), env: 'CartPole-v1', ...overrides });
const seconds = (overrides: Partial<RunConfig>, costs = COSTS): number => {
  const c = config(overrides);
  return trialSeconds(c, envShapeOf(c.env), costs);
};

describe('cost model', () => {
  it('counts the work the training loop does', () => {
    expect(multiplesIn(1, 10, 3)).to.equal(3);
    expect(multiplesIn(4, 6, 3)).to.equal(1);
    expect(multiplesIn(5, 4, 1)).to.equal(0);
    const c = config({
      steps: 10_000,
      trainStart: 2000,
      trainFrequency: 4,
      gradientSteps: 2,
      targetUpdateEvery: 500,
      evalEvery: 3000,
      epsilonSchedule: 'constant',
      trainEpsilon: 0.25,
      checkpointEvery: 4000,
    });
    const work = trialWork(c, envShapeOf(c.env), 0, c.steps, true);
    expect(work.envSteps).to.equal(10_000);
    expect(work.greedyActions).to.be.closeTo(7500, 1e-6);
    // Steps 2000..10000 that are multiples of 4, two gradient steps each.
    expect(work.gradientSteps).to.equal(2001 * 2);
    expect(work.targetUpdates).to.equal(17);
    // At 3000, 6000 and 9000, and one at the end.
    expect(work.evaluations).to.equal(4);
    expect(work.checkpoints).to.equal(2);
    expect(work.startups).to.equal(1);
    // No evaluation before trainStart, and none added at the end when the last step is one already.
    expect(evaluationsIn(config({ steps: 6000, trainStart: 4000, evalEvery: 3000 }), 0, 6000)).to.equal(1);
    expect(evaluationsIn(config({ steps: 6000, evalEvery: 0 }), 0, 6000)).to.equal(1);
  });

  it('a configuration with 4x the gradient steps is estimated to cost more, in proportion', () => {
    const one = seconds({ gradientSteps: 1 });
    const four = seconds({ gradientSteps: 4 });
    expect(four).to.be.greaterThan(3 * one);
    // Training every 4 steps with 4 gradient steps each does as many gradient steps as every step with 1.
    expect(seconds({ trainFrequency: 4, gradientSteps: 4 })).to.be.closeTo(one, one * 0.01);
    // A wider network costs more per gradient step: the calibration's figure carries it.
    expect(seconds({}, { ...COSTS, gradientStep: 4e-4 })).to.be.greaterThan(3 * one);
  });

  it('evaluation-heavy configurations cost more', () => {
    const base = seconds({ evalEvery: 20_000, evalEpisodes: 0, evalSteps: 10_000 });
    expect(seconds({ evalEvery: 2000, evalEpisodes: 0, evalSteps: 10_000 })).to.be.greaterThan(base);
    expect(seconds({ evalEvery: 20_000, evalEpisodes: 0, evalSteps: 100_000 })).to.be.greaterThan(base);
    expect(seconds({ evalEvery: 20_000, evalEpisodes: 0, evalSteps: 10_000, evalGif: false })).to.be.lessThan(base);
    expect(seconds({ evalEvery: 20_000, evalEpisodes: 0, evalSteps: 10_000, qValidationSize: 100 })).to.be.lessThan(base);
    // Whole episodes count at the time limit: 10 CartPole-v1 episodes are 5000 steps.
    const episodes = config({ evalEpisodes: 10 });
    expect(trialWork(episodes, envShapeOf(episodes.env), 0, episodes.steps, false).evalSteps).to.equal(10 * 500 * evaluationsIn(episodes, 0, episodes.steps));
  });

  it('trainStart and steps change the cost as the loop does', () => {
    expect(seconds({ trainStart: 100_000 })).to.be.lessThan(seconds({ trainStart: 2000 }));
    expect(seconds({ steps: 400_000 })).to.be.greaterThan(1.9 * seconds({ steps: 200_000 }) - 2 * COSTS.startup);
    // A schedule that explores more takes fewer greedy actions.
    const greedy = (c: RunConfig) => trialWork(c, envShapeOf(c.env), 0, c.steps, false).greedyActions;
    expect(greedy(config({ epsilonSchedule: 'linear', epsilonStart: 1, epsilonFraction: 0.5, trainEpsilon: 0 }))).to.be.closeTo(150_000, 10);
  });

  it('trials share the cores: concurrency above the core count does not speed a sweep up', () => {
    const work = Array.from({ length: 8 }, () => 10);
    expect(shareCores(work, 1, 2).totalSeconds).to.equal(80);
    expect(shareCores(work, 2, 2).totalSeconds).to.equal(40);
    expect(shareCores(work, 4, 2).totalSeconds).to.equal(40);
    expect(shareCores(work, 8, 2).totalSeconds).to.equal(40);
    expect(shareCores(work, 8, 8).totalSeconds).to.equal(10);
    // Above the cores each trial takes longer.
    expect(shareCores(work, 4, 2).endSeconds[0]).to.equal(20);
    // Unequal trials: a long one runs alone at the end.
    const uneven = shareCores([30, 10, 10], 2, 2);
    expect(uneven.endSeconds).to.deep.equal([30, 10, 20]);
    expect(uneven.totalSeconds).to.equal(30);
    expect(shareCores([], 2, 2).totalSeconds).to.equal(0);
  });

  it('trials side by side slow each other by their measured neighbour slowdown, a trial alone does not', () => {
    expect(shareCores([10, 10], 2, 2, [1.5, 1.5]).endSeconds).to.deep.equal([15, 15]);
    expect(shareCores([10], 2, 2, [1.5]).totalSeconds).to.equal(10);
    // The first goes at half speed beside the second; both end at 20.
    expect(shareCores([10, 20], 2, 2, [2, 1]).endSeconds).to.deep.equal([20, 20]);
    // Once the first has ended, the last runs alone at full speed: 10 at half speed, then 5 more alone.
    const tail = shareCores([10, 10, 10], 2, 2, [2, 2, 2]);
    expect(tail.endSeconds[0]).to.equal(20);
    expect(tail.totalSeconds).to.equal(30);
  });

  it("a running trial's speed is measured against what the model says its interval costs", () => {
    const c = config({ steps: 10_000, trainStart: 1000, logEvery: 1000, evalEvery: 5000, checkpointEvery: 0 });
    const env = envShapeOf(c.env);
    // A trial going exactly at the model's speed, then twice as slow.
    const intervalSeconds = workSeconds(trialWork(c, env, 3000, 4000, false), COSTS);
    expect(observedSpeedFactor(c, env, COSTS, { step: 4000, stepsPerSecond: 1000 / intervalSeconds }, 1)).to.be.closeTo(1, 1e-9);
    expect(observedSpeedFactor(c, env, COSTS, { step: 4000, stepsPerSecond: 500 / intervalSeconds }, 1)).to.be.closeTo(2, 1e-9);
    // Two trials on one core: half of the slowness is the sharing, which the schedule models.
    expect(observedSpeedFactor(c, env, COSTS, { step: 4000, stepsPerSecond: 500 / intervalSeconds }, 2)).to.be.closeTo(1, 1e-9);
    expect(runningTrialEtaSeconds(c, env, COSTS, { step: 4000, stepsPerSecond: 500 / intervalSeconds })).to.be.closeTo(2 * remainingWorkSeconds(c, env, COSTS, 4000), 1e-9);
    expect(observedSpeedFactor(c, env, COSTS, { step: 0, stepsPerSecond: 100 }, 1)).to.equal(null);
  });

  it('the ETA after the pre-training burst counts the gradient steps still to come', () => {
    // Before trainStart a trial only steps the env: thousands of steps a second that training will not keep up.
    const c = config({ steps: 50_000, trainStart: 2000, logEvery: 1000, evalEvery: 0, checkpointEvery: 0 });
    const env = envShapeOf(c.env);
    const burst = 1000 / workSeconds(trialWork(c, env, 0, 1000, false), COSTS);
    const eta = runningTrialEtaSeconds(c, env, COSTS, { step: 1000, stepsPerSecond: burst })!;
    const linear = (c.steps - 1000) / burst;
    expect(eta).to.be.greaterThan(10 * linear);
    expect(eta).to.be.closeTo(remainingWorkSeconds(c, env, COSTS, 1000), 1e-9);
  });
});

describe('sweep progress ETAs from the cost model', () => {
  const SPEC = `name: fake
seeds: [0, 1]
parameters:
  env: { value: CartPole-v1 }
  steps: { value: 10000 }
  trainStart: { value: 2000 }
  logEvery: { value: 1000 }
  evalEvery: { value: 0 }
  checkpointEvery: { value: 0 }
  learningRate: { values: [0.001, 0.002] }
`;
  const model = (concurrency: number, cores: number): EtaModel => ({ costsOf: () => COSTS, concurrency, cores });

  it('estimates queued trials from the model and running ones at their measured speed', () => {
    let now = 0;
    const trials = expandSweep(parseSweepSpec(SPEC, 'fake.yaml'), { sweepDir: 'runs/fake' });
    const c = trials[0]!.config;
    const env = envShapeOf(c.env);
    const full = trialSeconds(c, env, COSTS);
    const progress = new SweepProgress(() => now, model(2, 2));
    const report = reporter(progress);
    progress.begin(trials, 0);
    // Four trials of `full` seconds, two at a time on two cores.
    expect(progress.etaSeconds()).to.be.closeTo(2 * full, 1e-9);
    progress.started(trials[0]!, 1);
    progress.started(trials[1]!, 1);
    // Trial 0 reports its first interval (before training) at half the model's speed.
    const interval = workSeconds(trialWork(c, env, 0, 1000, false), COSTS);
    report(trials[0]!, { type: 'progress', step: 1000, totalSteps: 10_000, stepsPerSecond: 1000 / (2 * interval), episodes: 40, lastEpisodeReturn: 20, loss: null });
    now = 2000;
    const left = 2 * remainingWorkSeconds(c, env, COSTS, 1000);
    const line = progress.trialLine(progress.running.get(trials[0]!.name)!, false);
    expect(line).to.match(/ETA \d+(m\d\ds|s)$/);
    // Far from the linear extrapolation of the burst (9000 steps at its speed).
    expect(left).to.be.greaterThan((10 * 9000) / (1000 / (2 * interval)));
    // Trial 1 has no report yet: the others' speed, its start-up partly done. Queued trials after them.
    expect(progress.etaSeconds()).to.be.greaterThan(left);
    expect(progress.overallLine()).to.match(/running 2, pending 2 \| 2s elapsed, ETA \d/);
  });

  it('reads ? without a cost model, and 0s once nothing is left', () => {
    const trials = expandSweep(parseSweepSpec(SPEC, 'fake.yaml'), { sweepDir: 'runs/fake' });
    const bare = new SweepProgress(() => 0);
    bare.begin(trials, 0);
    expect(bare.overallLine()).to.match(/ETA \?$/);
    const modelled = new SweepProgress(() => 0, model(2, 2));
    modelled.begin([], 4);
    expect(modelled.overallLine()).to.match(/ETA 0s$/);
  });
});

describe('calibration', function () {
  this.timeout(60_000);

  it('measures each distinct shape once, every unit cost positive, writing nothing in the logdir', async () => {
    const logdir = mkdtempSync(path.join(tmpdir(), 'rlsweep-calibrate-test-'));
    try {
      const small = config({ hiddenLayers: [16], steps: 20_000, bufferSize: 500, batchSize: 32, trainStart: 100, qValidationSize: 100, logdir });
      // The first draws no GIFs and the second does: one shape, so its GIF frames are timed anyway.
      const configs = [
        { ...small, evalGif: false },
        { ...small, learningRate: 0.01, seed: 3, bufferSize: 800 },
        { ...small, hiddenLayers: [8, 8] },
      ];
      expect(shapeKey(configs[0]!)).to.equal(shapeKey(configs[1]!));
      expect(shapeKey(configs[0]!)).not.to.equal(shapeKey(configs[2]!));
      const calibration = await calibrate(configs, { shapeBudgetMs: 20, measureStartup: false });
      expect(calibration.shapes.size).to.equal(2);
      for (const costs of calibration.shapes.values()) {
        for (const [unit, value] of Object.entries(costs)) {
          if (unit === 'startup') expect(value).to.equal(0);
          else if (unit === 'neighbourSlowdown') expect(value).to.be.at.least(1).and.below(Infinity);
          else expect(value, unit).to.be.greaterThan(0).and.lessThan(1);
        }
      }
      expect([...calibration.labels.values()]).to.deep.equal(['CartPole-v1 16 batch 32', 'CartPole-v1 8x8 batch 32']);
      const estimate = estimateSweep(configs, calibration, 2, 2);
      expect(estimate.trialSeconds).to.have.length(3);
      expect(estimate.totalSeconds).to.be.greaterThan(Math.max(...estimate.trialSeconds));
      expect(readdirSync(logdir)).to.deep.equal([]);
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
  });
});

describe('calibration of many shapes', function () {
  this.timeout(120_000);

  it(`measures at most ${MAX_MEASURED_SHAPES} shapes and scales the others from the nearest by network size and batch`, async () => {
    const widths = Array.from({ length: MAX_MEASURED_SHAPES + 8 }, (_, i) => 4 + 2 * i);
    const configs = widths.map((width) => config({ hiddenLayers: [width], steps: 1000, bufferSize: 500, batchSize: 32, trainStart: 100, qValidationSize: 50 }));
    const calibration = await calibrate(configs, { shapeBudgetMs: 8, measureStartup: false });
    expect(calibration.shapes.size).to.equal(widths.length);
    expect(calibration.labels.size).to.equal(MAX_MEASURED_SHAPES);
    // An unmeasured shape's gradient step is its nearest measured one's, times the size ratio.
    const unmeasured = configs.filter((c) => !calibration.labels.has(shapeKey(c)));
    expect(unmeasured).to.have.length(8);
    for (const c of unmeasured) {
      const costs = calibration.shapes.get(shapeKey(c))!;
      expect(costs.gradientStep).to.be.greaterThan(0);
      const smaller = configs.filter((o) => o.hiddenLayers[0]! < c.hiddenLayers[0]! && calibration.labels.has(shapeKey(o))).at(-1);
      const larger = configs.find((o) => o.hiddenLayers[0]! > c.hiddenLayers[0]! && calibration.labels.has(shapeKey(o)));
      const ratios = [smaller, larger].filter((o) => o !== undefined).map((o) => costs.gradientStep / calibration.shapes.get(shapeKey(o!))!.gradientStep);
      // Scaled from one of its measured neighbours, by the ratio of weights (times the same batch).
      const weights = (h: number) => (4 + 1) * h + (h + 1) * 2;
      const expected = [smaller, larger].filter((o) => o !== undefined).map((o) => weights(c.hiddenLayers[0]!) / weights(o!.hiddenLayers[0]!));
      expect(
        ratios.some((ratio, i) => Math.abs(ratio - expected[i]!) < 1e-9),
        `${c.hiddenLayers}: ${ratios} vs ${expected}`,
      ).to.equal(true);
    }
  });
});

describe('sweep status ETAs', function () {
  this.timeout(60_000);

  it("estimate a running trial from its folder's config and latest reported speed", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-status-eta-test-'));
    try {
      const trialConfig = config({ hiddenLayers: [16], steps: 20_000, trainStart: 1000, logEvery: 1000, evalEvery: 5000, bufferSize: 5000, qValidationSize: 100 });
      writeFileSync(path.join(dir, 'trial.json'), JSON.stringify(trialConfig));
      const etas = new RunningTrialEtas();
      expect(await etas.secondsLeft(dir, { step: 4000, stepsPerSecond: null })).to.equal(null);
      expect(await etas.secondsLeft(path.join(dir, 'missing'), { step: 4000, stepsPerSecond: 1000 })).to.equal(null);
      const fast = (await etas.secondsLeft(dir, { step: 4000, stepsPerSecond: 2000 }))!;
      const slow = (await etas.secondsLeft(dir, { step: 4000, stepsPerSecond: 1000 }))!;
      // Half the speed, twice the time.
      expect(slow).to.be.closeTo(2 * fast, 1e-9 * slow);
      expect(slow).to.be.greaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sweep plan estimate', function () {
  this.timeout(120_000);

  it('says how the estimate was made, for the trials not done yet, and runs nothing', async () => {
    const logdir = mkdtempSync(path.join(tmpdir(), 'rlsweep-plan-test-'));
    try {
      const out: string[] = [];
      const io = { out: (text: string) => out.push(text), err: (text: string) => out.push(text), stdout: process.stdout };
      const code = await sweepMain(['plan', 'sweeps/smoke.yaml', '--logdir', logdir, '--concurrency', '3'], io);
      const text = out.join('\n');
      expect(code, text).to.equal(0);
      expect(text).to.match(/^estimate: about \d+s for 4 trials, 3 at a time on \d+ cores?/m);
      expect(text).to.match(/^ {2}calibrated 1 shape in [\d.]+ s on this machine \(load average [\d.]+\): trial start-up [\d.]+ s of CPU/m);
      expect(text).to.match(/^ {2}CartPole-v1 32x32 batch 64: [\d.]+ (µs|ms|s)\/gradient step(, x[\d.]+ beside another trial)?, [\d.]+ (µs|ms|s)\/env step$/m);
      expect(readdirSync(logdir)).to.deep.equal([]);
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
  });
});
