/**
 * The statistics of results over seeds (src/sweep/statistics.ts, ranking.ts) and the trial
 * scores (src/sweep/metric-summary.ts), checked against values computed independently: small
 * tables worked out by hand, and numbers from numpy/scipy pasted in as constants.
 *
 * The numpy/scipy constants were printed on 2026-12-02 by a one-off Python script (numpy 2.4.6,
 * scipy 1.17.1, the development machine's Python 3.11): scipy.stats.trim_mean(v, 0.25),
 * numpy.median, numpy.std(ddof=1), scipy.stats.mannwhitneyu(x, y, alternative='greater').statistic
 * / (n·m), and for the bootstrap: the 2000 resamples' indices that bootstrapIntervals draws with
 * its default seed (0) were written out from src/util/random.ts's Rng (n calls of nextInt(n) per
 * resample, in order), numpy took v[indices].mean(axis=1) and trim_mean(row, 0.25) of each
 * resample, and numpy.percentile(..., [2.5, 97.5]) of those (linear interpolation).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { SummaryWriter } from '../src/tensorboard/index.js';
import { bestLine, collectResults, formatResults, resultsCsv, type SweepResults, writeResults } from '../src/sweep/results.js';
import { pendingStatus, writeManifest, writeStatus } from '../src/sweep/trial-status.js';
import { DEFAULT_LAST_K, describeScore, normalisedArea, stepsToThreshold, trialScore, valueGoal, type MetricDefinition } from '../src/sweep/metric-summary.js';
import { rankByScores, rankingVerdict } from '../src/sweep/ranking.js';
import { downsample } from '../src/sweep/report-data.js';
import { CURVE_RESAMPLES, fractionBetter, iqmCurve, performanceProfile } from '../src/sweep/report-statistics.js';
import {
  bootstrapIqmInterval,
  bootstrapMeanInterval,
  describeSample,
  interquartileMean,
  intervalsOverlap,
  mean,
  median,
  probabilityOfImprovement,
  quantileOfSorted,
  sampleStd,
} from '../src/sweep/statistics.js';

const close = (actual: number, expected: number, tolerance = 1e-9): void => {
  expect(actual).to.be.closeTo(expected, tolerance);
};

describe('statistics over seeds', () => {
  it('mean, median, sample std, IQM on a table worked out by hand', () => {
    // [1, 2, 3, 4, 100]: mean 110/5 = 22; median 3; IQM drops floor(5/4) = 1 value at each end: (2+3+4)/3 = 3;
    // squared deviations 441+400+361+324+6084 = 7610, / (n-1) = 1902.5, std = sqrt(1902.5).
    const values = [100, 3, 1, 4, 2];
    expect(mean(values)).to.equal(22);
    expect(median(values)).to.equal(3);
    expect(interquartileMean(values)).to.equal(3);
    close(sampleStd(values), Math.sqrt(1902.5));
    // n = 4 drops one at each end; n < 4 keeps all (floor(0.25 n) = 0).
    expect(interquartileMean([1, 2, 3, 10])).to.equal(2.5);
    expect(interquartileMean([5, 1, 4])).to.equal(10 / 3);
    expect(median([1, 2, 3, 10])).to.equal(2.5);
    expect(sampleStd([7])).to.equal(0);
  });

  it("IQM is scipy's trim_mean(values, 0.25) (constants from scipy 1.17.1)", () => {
    close(interquartileMean([8, 1, 7, 2, 6, 3]), 4.5);
    close(interquartileMean([8, 1, 7, 2, 6, 3, 5]), 4.6);
    close(interquartileMean([9, 1, 8, 2, 7, 3, 6, 4, 5]), 5.0);
    close(interquartileMean([12, 15, 9, 30, 22]), 16.333333333333332);
    close(interquartileMean([-120.5, -98.25, -200, -110, -105.75, -130, -101]), -113.45);
  });

  it('quantiles interpolate linearly like numpy.percentile, and never multiply infinity by 0', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantileOfSorted([1, 2, 3, 4], 0.025)).to.be.closeTo(1.075, 1e-12);
    expect(quantileOfSorted([1, Number.POSITIVE_INFINITY], 0)).to.equal(1);
    expect(quantileOfSorted([1, Number.POSITIVE_INFINITY], 0.5)).to.equal(Number.POSITIVE_INFINITY);
    expect(quantileOfSorted([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], 0.5)).to.equal(Number.POSITIVE_INFINITY);
  });

  it('percentile bootstrap intervals match numpy on the same seeded resamples', () => {
    const a = [12, 15, 9, 30, 22];
    const b = [-120.5, -98.25, -200, -110, -105.75, -130, -101];
    const intervalA = bootstrapMeanInterval(a);
    close(intervalA.low, 11.4);
    close(intervalA.high, 24.8);
    const iqmA = bootstrapIqmInterval(a);
    close(iqmA.low, 10.0);
    close(iqmA.high, 27.333333333333332);
    const meanB = bootstrapMeanInterval(b);
    close(meanB.low, -149.89464285714286);
    close(meanB.high, -105.53214285714289);
    const iqmB = bootstrapIqmInterval(b);
    close(iqmB.low, -150.0);
    close(iqmB.high, -102.79625000000001);
    const two = bootstrapMeanInterval([3, 7]);
    expect([two.low, two.high]).to.deep.equal([3, 7]);
  });

  it('the same values give the same interval (seeded); another seed or count gives another', () => {
    const values = [3, 9, 4, 11, 6, 8];
    expect(bootstrapIqmInterval(values)).to.deep.equal(bootstrapIqmInterval([...values]));
    expect(bootstrapIqmInterval(values, { seed: 1 })).to.not.deep.equal(bootstrapIqmInterval(values));
    expect(bootstrapIqmInterval(values, { resamples: 500 })).to.not.deep.equal(bootstrapIqmInterval(values));
    // A 50% interval lies within the 95% one.
    const wide = bootstrapMeanInterval(values);
    const narrow = bootstrapMeanInterval(values, { confidence: 0.5 });
    expect(narrow.low).to.be.at.least(wide.low);
    expect(narrow.high).to.be.at.most(wide.high);
    expect(() => bootstrapMeanInterval(values, { confidence: 1 })).to.throw(/confidence must be in \(0, 1\)/);
  });

  it('describeSample: every statistic, no interval for one value, rough below 5', () => {
    const stats = describeSample([12, 15, 9, 30, 22])!;
    expect(stats).to.deep.include({ n: 5, mean: 17.6, median: 15, min: 9, max: 30, rough: false });
    close(stats.iqm, 16.333333333333332);
    close(stats.std, 8.44393273303382);
    // One set of resamples serves both intervals: the same numbers as the separate functions.
    expect(stats.meanCi).to.deep.equal(bootstrapMeanInterval([12, 15, 9, 30, 22]));
    expect(stats.iqmCi).to.deep.equal(bootstrapIqmInterval([12, 15, 9, 30, 22]));
    expect(describeSample([4])).to.deep.include({ n: 1, mean: 4, iqm: 4, std: 0, meanCi: null, iqmCi: null, rough: true });
    expect(describeSample([1, 2])!.rough).to.equal(true);
    expect(describeSample([])).to.equal(null);
  });

  it("probability of improvement is Mann-Whitney's U / (n·m), ties counting one half (constants from scipy)", () => {
    // By hand: 1 beats 0 only (1); 2 ties both 2s and beats 0 (2); 3 beats all (3): 6 of 9.
    close(probabilityOfImprovement([1, 2, 3], [2, 2, 0]), 0.6666666666666666);
    close(probabilityOfImprovement([10, 20, 30, 40], [15, 25, 35]), 0.5);
    close(probabilityOfImprovement([5, 5], [5, 5, 5]), 0.5);
    expect(probabilityOfImprovement([2, 3], [1])).to.equal(1);
    expect(probabilityOfImprovement([1], [2, 3])).to.equal(0);
  });

  it('intervals overlap when they share a point', () => {
    expect(intervalsOverlap({ low: 0, high: 1 }, { low: 1, high: 2 })).to.equal(true);
    expect(intervalsOverlap({ low: 0, high: 1 }, { low: 1.5, high: 2 })).to.equal(false);
    expect(intervalsOverlap({ low: 3, high: Number.POSITIVE_INFINITY }, { low: 100, high: 200 })).to.equal(true);
  });
});

describe('ranking configurations', () => {
  it('ranks by IQM, marks the best and the configurations whose interval overlaps it, and P(best beats each)', () => {
    const ranked = rankByScores(
      [
        { configIndex: 0, name: 'low', scores: [10, 12, 11, 9, 10] },
        { configIndex: 1, name: 'high', scores: [100, 104, 98, 101, 99] },
        { configIndex: 2, name: 'close', scores: [97, 103, 60, 99, 100] },
        { configIndex: 3, name: 'none', scores: [] },
      ],
      'maximize',
    );
    expect(ranked.map((c) => [c.name, c.rank, c.best, c.tiedWithBest])).to.deep.equal([
      ['high', 1, true, null],
      ['close', 2, false, true],
      ['low', 3, false, false],
      ['none', null, false, null],
    ]);
    // high vs close: 100 beats 97, 60, 99 and ties 100 (3.5); 104 beats all (5); 98 beats 97, 60 (2); 101: 4; 99 beats 97, 60, ties 99 (2.5): 17 of 25.
    expect(ranked[1]!.probabilityBestBeats).to.equal(17 / 25);
    expect(ranked[2]!.probabilityBestBeats).to.equal(1);
    expect(ranked[0]!.probabilityBestBeats).to.equal(null);
    const verdict = rankingVerdict(ranked.map((c) => ({ ...c, configName: c.name })));
    expect(verdict).to.deep.equal({ best: 'high', tiedWithBest: ['close'], untested: [], runnerUp: 'close', probabilityOfImprovement: 17 / 25, rough: false });
  });

  it('IQM, not the mean, decides: one lucky seed does not win', () => {
    // "lucky" has the higher mean (40.75) from one outlier; "steady" the higher IQM (30 against 12.5).
    const ranked = rankByScores(
      [
        { configIndex: 0, scores: [10, 12, 13, 128] },
        { configIndex: 1, scores: [29, 30, 30, 31] },
      ],
      'maximize',
    );
    expect(ranked.map((c) => c.configIndex)).to.deep.equal([1, 0]);
    expect(ranked[1]!.score!.mean).to.equal(40.75);
  });

  it('minimize: fewer steps is better; never-solved runs (+Infinity) rank last and are counted', () => {
    const inf = Number.POSITIVE_INFINITY;
    const ranked = rankByScores(
      [
        { configIndex: 0, scores: [inf, inf, inf] },
        { configIndex: 1, scores: [4000, 5000, inf, 4500] },
        { configIndex: 2, scores: [3000, 3500, 2500, 4000] },
        { configIndex: 3, scores: [6000, inf, inf, inf] },
      ],
      'minimize',
    );
    expect(ranked.map((c) => [c.configIndex, c.rank, c.notSolved])).to.deep.equal([
      [2, 1, 0],
      [1, 2, 1],
      [3, 3, 3],
      [0, 4, 3],
    ]);
    // IQM of [4000, 4500, 5000, inf] is the middle two: 4750; of [6000, inf, inf, inf]: infinite, like
    // [inf, inf, inf], which it beats by its share of unsolved seeds (3 of 4 against 3 of 3).
    expect(ranked[1]!.score!.iqm).to.equal(4750);
    expect(ranked[2]!.score!.iqm).to.equal(inf);
    // The best's 3000, 3500 and 2500 are faster than all 4 of config 1's runs; its 4000 ties 4000 and beats the rest (3.5): 15.5 of 16.
    // A never-solved run always loses.
    expect(ranked[1]!.probabilityBestBeats).to.equal(15.5 / 16);
    expect(ranked[3]!.probabilityBestBeats).to.equal(1);
  });

  it('one seed: no interval, so no tie can be claimed either way', () => {
    const ranked = rankByScores(
      [
        { configIndex: 0, scores: [5] },
        { configIndex: 1, scores: [7] },
      ],
      'maximize',
    );
    expect(ranked.map((c) => [c.configIndex, c.tiedWithBest])).to.deep.equal([
      [1, null],
      [0, null],
    ]);
    expect(rankingVerdict(ranked.map((c) => ({ ...c, configName: `c${c.configIndex}` })))).to.deep.include({ best: 'c1', tiedWithBest: [], untested: ['c0'], rough: true });
  });
});

describe('trial scores: summaries of the metric curve', () => {
  const maximize = (summary: MetricDefinition['summary'], extra: Partial<MetricDefinition> = {}): MetricDefinition => ({ name: 'eval/return_mean', goal: 'maximize', summary, ...extra });
  // An evaluation every 100 steps: 10, 30, 20, 50, 40.
  const curve: Array<[number, number]> = [
    [100, 10],
    [200, 30],
    [300, 20],
    [400, 50],
    [500, 40],
  ];

  it('final, best, mean_last_k', () => {
    expect(trialScore(curve, maximize('final'))).to.equal(40);
    expect(trialScore(curve, maximize(undefined))).to.equal(40);
    expect(trialScore(curve, maximize('best'))).to.equal(50);
    expect(trialScore(curve, { name: 'train/loss', goal: 'minimize', summary: 'best' })).to.equal(10);
    expect(trialScore(curve, maximize('mean_last_k', { k: 2 }))).to.equal(45);
    expect(DEFAULT_LAST_K).to.equal(3);
    expect(trialScore(curve, maximize('mean_last_k'))).to.equal((20 + 50 + 40) / 3);
    // Fewer values than k: the mean of those there are.
    expect(trialScore(curve.slice(0, 2), maximize('mean_last_k', { k: 5 }))).to.equal(20);
    // Out-of-order points are read in step order; non-finite values are left out.
    expect(
      trialScore(
        [
          [200, 3],
          [100, 1],
          [300, Number.NaN],
        ],
        maximize('final'),
      ),
    ).to.equal(3);
    expect(trialScore([], maximize('final'))).to.equal(null);
  });

  it('auc: trapezoids over steps divided by the span, in the metric units', () => {
    // Trapezoids of 100 steps: (10+30)/2 + (30+20)/2 + (20+50)/2 + (50+40)/2 = 20 + 25 + 35 + 45 = 125, times 100, over 400 steps.
    expect(trialScore(curve, maximize('auc'))).to.equal(31.25);
    // Unequal spacing: 0 at 0, 10 at 10, 10 at 30: (5*10 + 10*20) / 30.
    expect(
      normalisedArea([
        [0, 0],
        [10, 10],
        [30, 10],
      ]),
    ).to.equal(250 / 30);
    expect(trialScore([[500, 7]], maximize('auc'))).to.equal(7);
    // A constant curve's average is the constant.
    expect(
      trialScore(
        [
          [0, -200],
          [1000, -200],
          [5000, -200],
        ],
        maximize('auc'),
      ),
    ).to.equal(-200);
  });

  it("steps_to_threshold: the first step at or above the threshold (default: the env's), +Infinity when never reached", () => {
    const steps = (threshold?: number) => ({ name: 'eval/return_mean', goal: 'minimize' as const, summary: 'steps_to_threshold' as const, ...(threshold === undefined ? {} : { threshold }) });
    expect(trialScore(curve, steps(30))).to.equal(200);
    expect(trialScore(curve, steps(45))).to.equal(400);
    expect(trialScore(curve, steps(50))).to.equal(400);
    expect(trialScore(curve, steps(51))).to.equal(Number.POSITIVE_INFINITY);
    // Scripted CartPole-v1 curves against its reward threshold 475: solved at 3000, dips after (still solved at 3000), never solved.
    const solved: Array<[number, number]> = [
      [1000, 22],
      [2000, 180],
      [3000, 475],
      [4000, 300],
      [5000, 500],
    ];
    const never: Array<[number, number]> = [
      [1000, 50],
      [2000, 474.9],
      [3000, 400],
    ];
    expect(trialScore(solved, steps(), 'CartPole-v1')).to.equal(3000);
    expect(trialScore(never, steps(), 'CartPole-v1')).to.equal(Number.POSITIVE_INFINITY);
    // MountainCar-v0's threshold is -110, Acrobot-v1's -100.
    expect(
      trialScore(
        [
          [20000, -200],
          [40000, -115],
          [60000, -109],
        ],
        steps(),
        'MountainCar-v0',
      ),
    ).to.equal(60000);
    expect(
      trialScore(
        [
          [10000, -500],
          [20000, -100],
        ],
        steps(),
        'Acrobot-v1',
      ),
    ).to.equal(20000);
    // Without a threshold or an env there is nothing to reach: no score, rather than a false "never".
    expect(trialScore(curve, steps())).to.equal(null);
    expect(stepsToThreshold([], 1)).to.equal(Number.POSITIVE_INFINITY);
    expect(valueGoal(steps())).to.equal('maximize');
    expect(describeScore(steps(), 'CartPole-v1')).to.equal('steps until eval/return_mean >= 475');
  });

  it('never-solved runs rank last and are counted through the ranking', () => {
    const steps = { name: 'eval/return_mean', goal: 'minimize' as const, summary: 'steps_to_threshold' as const, threshold: 100 };
    const curves: Array<Array<[number, number]>> = [
      [
        [1000, 50],
        [2000, 120],
      ],
      [
        [1000, 110],
        [2000, 90],
      ],
      [
        [1000, 10],
        [2000, 20],
      ],
    ];
    const [a, b, never] = curves.map((points) => trialScore(points, steps)!);
    expect([a, b, never]).to.deep.equal([2000, 1000, Number.POSITIVE_INFINITY]);
    const ranked = rankByScores(
      [
        { configIndex: 0, scores: [a!, never!, never!] },
        { configIndex: 1, scores: [b!, a!, a!] },
      ],
      'minimize',
    );
    expect(ranked.map((c) => [c.configIndex, c.notSolved])).to.deep.equal([
      [1, 0],
      [0, 2],
    ]);
  });
});

describe("sweep results scored by the sweep file's summary (from event files)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-scores-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A done trial of CartPole-v1 whose eval/return_mean curve is `curve`; its status.json has final and best values that differ from the curve's, so a score read from them would show. */
  async function trialWithCurve(name: string, seed: number, curve: Array<[number, number]>): Promise<void> {
    const trialDir = path.join(dir, name);
    mkdirSync(trialDir, { recursive: true });
    writeFileSync(path.join(trialDir, 'trial.json'), JSON.stringify({ env: 'CartPole-v1', seed }));
    const writer = new SummaryWriter(trialDir, { flushSeconds: 0 });
    for (const [step, value] of curve) writer.scalar('eval/return_mean', value, step);
    writer.close();
    await writeStatus(trialDir, { ...pendingStatus({ name, index: 0, config: { steps: 5000 } }), state: 'done', step: 5000, finalReturnMean: -1, bestReturnMean: -1 });
  }

  async function sweepWith(metric: MetricDefinition): Promise<void> {
    const names = ['a0', 'a1', 'b0', 'b1'];
    await writeManifest(dir, {
      name: 'scores',
      file: 'scores.yaml',
      method: 'grid',
      metric,
      seeds: [0, 1],
      swept: ['learningRate'],
      updatedAt: '',
      trials: names.map((name, index) => ({
        index,
        name,
        configName: name[0]!,
        configIndex: index < 2 ? 0 : 1,
        seed: index % 2,
        hparams: { learningRate: index < 2 ? 1 : 2, seed: index % 2 },
        steps: 5000,
      })),
    });
    // a: solves CartPole-v1 (475) at 3000 and at 2000; b: at 5000 once, never in the other seed.
    await trialWithCurve(names[0]!, 0, [
      [1000, 100],
      [2000, 300],
      [3000, 480],
      [4000, 500],
      [5000, 200],
    ]);
    await trialWithCurve(names[1]!, 1, [
      [1000, 150],
      [2000, 475],
      [3000, 490],
      [4000, 500],
      [5000, 500],
    ]);
    await trialWithCurve(names[2]!, 0, [
      [1000, 20],
      [2000, 60],
      [3000, 200],
      [4000, 400],
      [5000, 500],
    ]);
    await trialWithCurve(names[3]!, 1, [
      [1000, 20],
      [2000, 30],
      [3000, 30],
      [4000, 50],
      [5000, 60],
    ]);
  }

  it("steps_to_threshold: the env's threshold from trial.json, never-solved runs last and counted, inf in the CSV, null plus reachedThreshold in the JSON", async () => {
    await sweepWith({ name: 'eval/return_mean', goal: 'minimize', summary: 'steps_to_threshold' });
    const results = await collectResults(dir);
    expect(results.scoring).to.deep.equal({ summary: 'steps_to_threshold', threshold: 475, description: 'steps until eval/return_mean >= 475' });
    expect(results.trials.map((t) => [t.score, t.reachedThreshold])).to.deep.equal([
      [3000, true],
      [2000, true],
      [5000, true],
      [Number.POSITIVE_INFINITY, false],
    ]);
    // final and best are still the metric's own (a return: best is the highest).
    expect(results.trials[0]).to.deep.include({ final: 200, best: 500 });
    const [a, b] = results.configurations;
    expect(a).to.deep.include({ configName: 'a', rank: 1, best: true, notSolved: 0 });
    expect(a!.score).to.deep.include({ n: 2, mean: 2500, iqm: 2500, min: 2000, max: 3000 });
    // b's IQM interval: a resample of [5000, inf] is all 5000 a quarter of the time, else infinite: [5000, inf], apart from a's [2000, 3000].
    expect(b).to.deep.include({ configName: 'b', rank: 2, notSolved: 1, tiedWithBest: false, probabilityBestBeats: 1 });
    expect(b!.score).to.deep.include({ iqm: Number.POSITIVE_INFINITY, max: Number.POSITIVE_INFINITY });
    const text = formatResults(results);
    expect(text).to.match(/score: steps until eval\/return_mean >= 475 \(minimize\)/);
    expect(text).to.match(/^\s+2\s+2\s+∞\s+\[5000, ∞\]\s+∞\s+\[5000, ∞\]\s+∞\s+∞\s+2\/2\s+n=2, CI rough; not solved: 1 of 2$/m);
    expect(text).to.match(
      /^Best: a \(IQM 2500, 95% CI \[2000, 3000\]; n=2, CI rough\); no other configuration's IQM CI overlaps the best's; P\(a run of the best beats one of the runner-up b\) = 1\.00$/m,
    );
    const csv = resultsCsv(results).trim().split('\n');
    const header = csv[0]!.split(',');
    const column = (row: number, name: string): string => csv[row]!.split(',')[header.indexOf(name)]!;
    expect(column(4, 'score')).to.equal('inf');
    expect(column(4, 'config_score_iqm')).to.equal('inf');
    expect(column(4, 'config_not_solved')).to.equal('1');
    await writeResults(dir, results);
    const json = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as SweepResults;
    expect(json.trials[3]).to.deep.include({ score: null, reachedThreshold: false });
    expect(json.configurations[1]).to.deep.include({ notSolved: 1 });
    expect(json.ranking).to.deep.equal({ best: 'a', tiedWithBest: [], untested: [], runnerUp: 'b', probabilityOfImprovement: 1, rough: true });
  });

  it('auc and mean_last_k from the event files, not the final value in status.json', async () => {
    await sweepWith({ name: 'eval/return_mean', goal: 'maximize', summary: 'auc' });
    const auc = await collectResults(dir);
    // a, seed 0: trapezoids of 1000 steps: 200 + 390 + 490 + 350 = 1430 thousand, over 4000 steps.
    expect(auc.trials[0]!.score).to.equal(357.5);
    expect(auc.scoring.description).to.equal('eval/return_mean averaged over steps (area under the curve / steps)');
    // A new sweep folder: a second writer would add a second event file to each trial.
    rmSync(dir, { recursive: true, force: true });
    await sweepWith({ name: 'eval/return_mean', goal: 'maximize', summary: 'mean_last_k', k: 2 });
    const last = await collectResults(dir);
    expect(last.trials.map((t) => t.score)).to.deep.equal([350, 500, 450, 55]);
    expect(last.bestConfiguration).to.equal('a');
  });
});

describe('report statistics: IQM curve and performance profile', () => {
  it('the IQM curve is the IQM over seeds bin by bin, its band the bootstrap interval of that IQM', () => {
    const seeds = [10, 20, 30, 40, 100].map((last) =>
      downsample(
        [
          [100, last / 10],
          [200, last],
        ],
        200,
        2,
      ),
    );
    const curve = iqmCurve(seeds);
    expect(curve.map((point) => [point.step, point.seeds])).to.deep.equal([
      [100, 5],
      [200, 5],
    ]);
    expect(curve[1]!.center).to.equal(interquartileMean([10, 20, 30, 40, 100]));
    expect(curve[1]!.center).to.equal(30);
    const band = bootstrapIqmInterval([10, 20, 30, 40, 100], { resamples: CURVE_RESAMPLES });
    expect([curve[1]!.low, curve[1]!.high]).to.deep.equal([band.low, band.high]);
    // One seed: no band.
    const single = iqmCurve([downsample([[100, 7]], 200, 2)]);
    expect(single).to.deep.equal([{ step: 100, center: 7, low: 7, high: 7, seeds: 1 }]);
  });

  it("the profile counts the runs better than τ (rliable's score > τ; for a goal to minimise, score < τ, so a never-solved run never counts)", () => {
    expect(fractionBetter([1, 2, 3, 4], 2, 'maximize')).to.equal(0.5);
    expect(fractionBetter([1, 2, 3, 4], 2, 'minimize')).to.equal(0.25);
    expect(fractionBetter([1000, Number.POSITIVE_INFINITY], 1e12, 'minimize')).to.equal(0.5);
    const profile = performanceProfile(
      [
        { configName: 'b', configIndex: 1 },
        { configName: 'a', configIndex: 0 },
        { configName: 'c', configIndex: 2 },
      ],
      [
        { configIndex: 0, state: 'done', score: 3 },
        { configIndex: 0, state: 'done', score: 1 },
        { configIndex: 0, state: 'failed', score: 9 },
        { configIndex: 1, state: 'done', score: 2 },
        { configIndex: 2, state: 'done', score: null },
      ],
      'maximize',
      'final eval/return_mean',
    );
    // In the given (ranked) order, scores ascending, only done trials with a score; a configuration without one is left out.
    expect(profile.series).to.deep.equal([
      { configName: 'b', configIndex: 1, scores: [2] },
      { configName: 'a', configIndex: 0, scores: [1, 3] },
    ]);
  });
});

describe('the verdict line', () => {
  const configurations = (groups: Array<{ name: string; scores: number[] }>) =>
    rankByScores(
      groups.map((group, configIndex) => ({ configIndex, configName: group.name, scores: group.scores })),
      'maximize',
    );
  const line = (groups: Array<{ name: string; scores: number[] }>): string => {
    const ranked = configurations(groups);
    return bestLine({ configurations: ranked, ranking: rankingVerdict(ranked), metric: 'eval/return_mean' });
  };

  it('names the configurations tied with the best, or says none is, or that one seed cannot tell', () => {
    expect(
      line([
        { name: 'x', scores: [10, 11, 12, 13, 14] },
        { name: 'y', scores: [9, 10, 11, 12, 13] },
        { name: 'z', scores: [0, 1, 2, 1, 0] },
      ]),
    ).to.match(
      /^Best: x \(IQM 12\.00, 95% CI \[\d+\.\d\d, \d+\.\d\d\]\); not distinguishable from y \(their IQM CIs overlap the best's\); P\(a run of the best beats one of the runner-up y\) = 0\.68$/,
    );
    expect(
      line([
        { name: 'x', scores: [10, 11, 12, 13, 14] },
        { name: 'z', scores: [0, 1, 2, 1, 0] },
      ]),
    ).to.match(/^Best: x \(IQM 12\.00, 95% CI \[\d+\.\d\d, \d+\.\d\d\]\); no other configuration's IQM CI overlaps the best's; P\(a run of the best beats one of the runner-up z\) = 1\.00$/);
    expect(
      line([
        { name: 'x', scores: [10] },
        { name: 'z', scores: [3] },
      ]),
    ).to.equal('Best: x (IQM 10.00; n=1, no CI); with 1 seed there is no CI, so it cannot be told apart from the others: add seeds; P(a run of the best beats one of the runner-up z) = 1.00');
    expect(line([{ name: 'x', scores: [10, 12] }])).to.equal('Best: x (IQM 11.00, 95% CI [10.00, 12.00]; n=2, CI rough); the only configuration with a result');
    expect(line([{ name: 'x', scores: [] }])).to.equal('No configuration has a finished trial with eval/return_mean yet.');
  });
});
