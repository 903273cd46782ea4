/**
 * The pure parts of `npm run bench:search` (scripts/search-benchmark.ts) on fixture data: the
 * sweep files it writes are valid sweeps of the space, the steps a sweep spent, the pick, the
 * fresh-seed score, the verdict and the table. Nothing is trained here (the benchmark itself
 * takes minutes even with --quick).
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { expandSweep } from '../src/sweep/expand.js';
import type { ConfigurationResult, TrialResult } from '../src/sweep/results.js';
import { loadSweepSpec } from '../src/sweep/spec.js';
import {
  bayesSweepFile,
  choosePick,
  type FreshScore,
  freshScore,
  freshSweepFile,
  formatTable,
  fullSetting,
  gridSize,
  gridSweepFile,
  pickKey,
  quickSetting,
  type SearchRow,
  type SweepFile,
  scoreThreshold,
  stepsSpent,
  verdictOf,
} from '../scripts/search-benchmark.js';

function configuration(configIndex: number, finalMean: number | null, hparams: ConfigurationResult['hparams'], extra: Partial<ConfigurationResult> = {}): ConfigurationResult {
  return {
    rank: null,
    best: false,
    configName: `config-${configIndex}`,
    configIndex,
    hparams,
    trials: [`config-${configIndex},seed=0`],
    seeds: 1,
    rungStep: null,
    total: 1,
    finalMean,
    finalStd: 0,
    bestMean: finalMean,
    bestStd: 0,
    score: null,
    notSolved: 0,
    tiedWithBest: null,
    probabilityBestBeats: null,
    ...extra,
  };
}

function trial(seed: number, final: number | null, state: TrialResult['state'] = 'done'): TrialResult {
  return {
    index: seed,
    name: `fresh,seed=${seed}`,
    configName: 'fresh',
    configIndex: 0,
    seed,
    hparams: {},
    state,
    final,
    best: final,
    score: final,
    step: 27000,
    totalSteps: 27000,
    exitCode: 0,
    cause: null,
    dir: `/nowhere/fresh,seed=${seed}`,
    log: '',
    errorLog: '',
  };
}

const score = (mean: number, std: number): FreshScore => ({ mean, std, perSeed: [mean - std, mean + std] });
const pickOf = (learningRate: number) => ({ configName: `lr=${learningRate}`, pick: { learningRate, hiddenLayers: [64, 64] }, searchScore: 400, stoppedAt: null });

describe('bench:search (pure parts)', () => {
  describe('sweep files', () => {
    let dir: string;
    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-search-'));
    });
    after(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });
    const load = async (sweep: SweepFile) => {
      const file = path.join(dir, `${sweep.name as string}.yaml`);
      await fs.writeFile(file, stringify(sweep));
      return loadSweepSpec(file);
    };

    it('the grid is the whole space on the search seeds: 72 configurations in the full setting', async () => {
      const setting = fullSetting();
      expect(setting.kind).to.equal('full');
      expect(gridSize(setting)).to.equal(72);
      const spec = await load(gridSweepFile(setting));
      expect(expandSweep(spec, { sweepDir: path.join(dir, 'grid') })).to.have.length(72);
    });

    it('a bayes search draws from the same values, with ASHA rungs on evaluations', async () => {
      const setting = fullSetting();
      const spec = await load(bayesSweepFile(setting, 3));
      expect(spec.method).to.equal('bayes');
      expect(spec.sweepSeed).to.equal(3);
      expect(spec.runCap).to.equal(36);
      expect(spec.earlyTerminate).to.include({ type: 'asha', minSteps: 3000, reductionFactor: 3 });
      expect(spec.name).to.equal('bench-search-bayes-3');
    });

    it('a pick is trained on the fresh seeds only, with every other value as in the search', async () => {
      const setting = fullSetting();
      const pick = { learningRate: 0.001, gamma: 0.99, targetUpdateEvery: 500, epsilonFraction: 0.1, hiddenLayers: [64, 64] };
      const trials = expandSweep(await load(freshSweepFile(setting, pick)), { sweepDir: path.join(dir, 'fresh') });
      expect(trials.map((t) => t.config.seed)).to.deep.equal([1000, 1001, 1002, 1003, 1004]);
      for (const t of trials) {
        expect(t.config).to.include({ learningRate: 0.001, gamma: 0.99, targetUpdateEvery: 500, steps: 27000, evalEpisodes: 10 });
        expect(t.config.hiddenLayers).to.deep.equal([64, 64]);
      }
    });

    it('the quick setting is valid too, and fewer searches or fresh seeds are a reduced setting', async () => {
      const quick = quickSetting();
      expect(expandSweep(await load(gridSweepFile(quick)), { sweepDir: path.join(dir, 'quick') })).to.have.length(gridSize(quick));
      expect((await load(bayesSweepFile(quick, 1))).runCap).to.equal(quick.runCap);
      expect(fullSetting(3, 5).kind).to.equal('reduced');
      expect(fullSetting(5, 3).freshSeeds).to.deep.equal([1000, 1001, 1002]);
    });
  });

  it('steps spent: the steps each trial ran (stopped and paused at their rung), none for a trial never started', () => {
    expect(stepsSpent([{ step: 27000 }, { step: 3000 }, { step: 9000 }, undefined])).to.equal(39000);
    expect(stepsSpent([])).to.equal(0);
  });

  describe('choosePick', () => {
    const swept = {
      learningRate: [0.0003, 0.001],
      hiddenLayers: [
        [32, 32],
        [64, 64],
      ],
    };
    const base = { sweep: 'bench-search-bayes-0', goal: 'maximize' as const };

    it('picks the best configuration run to the end on every seed, never one stopped at a rung', () => {
      const configurations = [
        configuration(0, 480, { learningRate: 0.001, hiddenLayers: '32x32' }, { rungStep: 9000 }),
        configuration(1, 300, { learningRate: 0.0003, hiddenLayers: '64x64' }),
        configuration(2, 350, { learningRate: 0.001, hiddenLayers: '64x64' }),
        configuration(3, 500, { learningRate: 0.0003, hiddenLayers: '32x32' }, { seeds: 1, total: 2 }),
      ];
      const pick = choosePick({ ...base, configurations }, swept);
      expect(pick.configName).to.equal('config-2');
      expect(pick.searchScore).to.equal(350);
      // hiddenLayers comes back as the space's list, not results.json's "64x64".
      expect(pick.pick).to.deep.equal({ learningRate: 0.001, hiddenLayers: [64, 64] });
    });

    it('breaks ties by the configuration made first, and follows the goal', () => {
      const configurations = [configuration(5, 200, { learningRate: 0.001, hiddenLayers: '32x32' }), configuration(2, 200, { learningRate: 0.0003, hiddenLayers: '32x32' })];
      expect(choosePick({ ...base, configurations }, swept).configName).to.equal('config-2');
      const losses = [configuration(0, 3, { learningRate: 0.001, hiddenLayers: '32x32' }), configuration(1, 1, { learningRate: 0.0003, hiddenLayers: '32x32' })];
      expect(choosePick({ ...base, goal: 'minimize', configurations: losses }, swept).configName).to.equal('config-1');
    });

    it('when ASHA stopped every configuration, picks the best at the highest rung and says where it stopped', () => {
      const configurations = [
        configuration(0, 480, { learningRate: 0.001, hiddenLayers: '32x32' }, { rungStep: 1000 }),
        configuration(1, 20, { learningRate: 0.0003, hiddenLayers: '64x64' }, { rungStep: 3000 }),
        configuration(2, 30, { learningRate: 0.001, hiddenLayers: '64x64' }, { rungStep: 3000 }),
      ];
      const pick = choosePick({ ...base, configurations }, swept);
      expect(pick).to.deep.include({ configName: 'config-2', searchScore: 30, stoppedAt: 3000 });
    });

    it('says so when nothing has a score or a value is not in the space', () => {
      const failed = [configuration(0, null, { learningRate: 0.001, hiddenLayers: '32x32' })];
      expect(() => choosePick({ ...base, configurations: failed }, swept)).to.throw(/bench-search-bayes-0: no configuration has a value of the metric/);
      const foreign = [configuration(0, 480, { learningRate: 0.5, hiddenLayers: '32x32' })];
      expect(() => choosePick({ ...base, configurations: foreign }, swept)).to.throw(/learningRate=0.5, which is not one of the space's values \(0.0003, 0.001\)/);
    });
  });

  it('freshScore: mean and sample standard deviation over the fresh seeds; unfinished seeds are an error', () => {
    const scored = freshScore({ sweep: 'fresh', trials: [trial(1001, 300), trial(1000, 500)] });
    expect(scored.perSeed).to.deep.equal([500, 300]);
    expect(scored.mean).to.equal(400);
    expect(scored.std).to.be.closeTo(Math.sqrt(20000), 1e-9);
    expect(() => freshScore({ sweep: 'fresh', trials: [trial(1000, 500), trial(1001, null, 'failed')] })).to.throw(/fresh: 1 trial\(s\) did not finish \(fresh,seed=1001: failed\)/);
  });

  describe('verdict and table', () => {
    const grid: SearchRow = { method: 'grid', searchSeed: null, stepsSpent: 1_944_000, pick: pickOf(0.001), fresh: score(400, 50) };
    const good: SearchRow = { method: 'bayes + asha', searchSeed: 0, stepsSpent: 300_000, pick: pickOf(0.001), fresh: score(360, 20) };
    const weak: SearchRow = { method: 'bayes + asha', searchSeed: 1, stepsSpent: 300_000, pick: pickOf(0.0003), fresh: score(340, 20) };
    const costly: SearchRow = { method: 'bayes + asha', searchSeed: 2, stepsSpent: 600_000, pick: pickOf(0.001), fresh: score(420, 20) };

    it('the bar is the grid pick mean minus its seed-to-seed spread; steps at most 25% of the grid', () => {
      expect(scoreThreshold(grid)).to.equal(350);
      expect(verdictOf(good, grid)).to.deep.equal({ met: true, text: 'meets the target' });
      expect(verdictOf(weak, grid)).to.deep.equal({ met: false, text: 'misses: score 340.0 < 350.0' });
      expect(verdictOf(costly, grid).text).to.equal("misses: 31% > 25% of the grid's steps");
      expect(verdictOf({ ...costly, fresh: score(100, 0) }, grid).text).to.equal("misses: score 100.0 < 350.0; 31% > 25% of the grid's steps");
    });

    it('the table has the grid first, a row per search and a summary', () => {
      const lines = formatTable(grid, [good, weak, costly], [1000, 1001]).split('\n');
      expect(lines[0]).to.match(/^\| method \| search seed \| env steps spent \| % of grid \|/);
      expect(lines[2]).to.equal('| grid | - | 1,944,000 | 100% | learningRate=0.001 hiddenLayers=[64,64] | 400.0 | 400.0 ± 50.0 | reference: bar = 400.0 - 50.0 = 350.0 |');
      expect(lines[3]).to.equal('| bayes + asha | 0 | 300,000 | 15% | learningRate=0.001 hiddenLayers=[64,64] | 400.0 | 360.0 ± 20.0 | meets the target |');
      expect(lines[4]).to.contain('| 1 | 300,000 | 15% | learningRate=0.0003 ');
      const stopped = formatTable(grid, [{ ...weak, pick: { ...weak.pick, stoppedAt: 9000 } }], [1000]);
      expect(stopped).to.contain('| 400.0 (at 9000) | 340.0 ± 20.0 |');
      expect(lines.at(-2)).to.contain('seeds 1000, 1001');
      expect(lines.at(-1)).to.equal("1 of 3 searches met the target; median 15% of the grid's environment steps.");
    });
  });

  it('pickKey: the same pick gives the same fresh sweep whatever the order of its keys', () => {
    expect(pickKey({ a: 1, b: [64, 64] })).to.equal(pickKey({ b: [64, 64], a: 1 }));
    expect(pickKey({ a: 1 })).to.not.equal(pickKey({ a: 2 }));
  });
});
