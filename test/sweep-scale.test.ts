/**
 * Large sweeps: `sweep results`, `report`, `status` and `plan` on a synthetic folder of 200
 * trials (scripts/synthetic-sweep.ts: real event files at the trainer's cadence, no training).
 * Two configurations of 100 seeds that learn nothing log CartPole's shortest episodes, over
 * 200,000 episode returns per configuration: spreading those into Math.max() overflowed the
 * call stack ("Maximum call stack size exceeded"), which this catches. The large benchmark
 * (1000 trials of 200k steps) is scripts/bench-large-sweep.ts.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { type Browser, chromium } from 'playwright-core';
import { type SyntheticSweep, defaultGrid, writeSyntheticSweep } from '../scripts/synthetic-sweep.js';
import { sweepMain } from '../src/cli/sweep-commands.js';
import { CURVE_POINTS, loadReportData } from '../src/sweep/report-data.js';
import type { SweepResults } from '../src/sweep/results.js';
import { maxOf, minOf } from '../src/util/extent.js';
import { formatTable } from '../src/util/text-table.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = path.join(process.cwd(), '.tmp', 'test-output');
/** Beyond what a spread into Math.max() survives (about 120,000 arguments in Node 20). */
const OVERFLOWING = 300_000;

async function sweep(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: false, columns: 100 });
  const code = await sweepMain(args, { out: (text) => out.push(text), err: (text) => err.push(text), stdout });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('helpers on more values than a call stack holds', () => {
  it('maxOf, minOf and formatTable', () => {
    const values = Array.from({ length: OVERFLOWING }, (_, i) => (i * 7919) % OVERFLOWING);
    expect(() => Math.max(...values)).to.throw(RangeError, /call stack/);
    expect(maxOf(values)).to.equal(OVERFLOWING - 1);
    expect(minOf(values)).to.equal(0);
    expect(maxOf([])).to.equal(-Infinity);
    expect(maxOf([1, Number.NaN, 3])).to.equal(3);
    const lines = formatTable([['a', 'bb'], ...values.map((value) => [String(value), 'x'])], new Set([0]));
    expect(lines[0]).to.equal(`${'a'.padStart(6)}  bb`);
    expect(lines).to.have.length(OVERFLOWING + 1);
  });
});

describe('large sweeps: results, report, status and plan on 200 trials', function () {
  this.timeout(600_000);
  let root: string;
  let synthetic: SyntheticSweep;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-scale-'));
    synthetic = await writeSyntheticSweep({
      root,
      name: 'scale',
      grid: { learningRate: [0.001, 0.0005] },
      seeds: 100,
      level: 0,
      divergeEvery: 2,
      fixed: { steps: 20_000, trainStart: 1000, evalEvery: 5000, logEvery: 1000, evalGif: false, snapshotEvery: 0 },
    });
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it('writes a folder with the shape the test needs', () => {
    expect(synthetic.trials).to.equal(200);
    expect(synthetic.diverging).to.deep.equal(['learningRate=0.0005']);
    expect(synthetic.failed).to.deep.equal(['learningRate=0.001,seed=48', 'learningRate=0.0005,seed=96']);
  });

  it('sweep results: every trial in results.csv and results.json, the failed ones listed', async () => {
    const { code, out, err } = await sweep('results', synthetic.sweepDir);
    expect(code, err).to.equal(0);
    const csv = (await fs.readFile(path.join(synthetic.sweepDir, 'results.csv'), 'utf8')).trim().split('\n');
    expect(csv).to.have.length(201);
    const results = JSON.parse(await fs.readFile(path.join(synthetic.sweepDir, 'results.json'), 'utf8')) as SweepResults;
    expect(results.configurations.map((c) => [c.seeds, c.total])).to.deep.equal([
      [99, 100],
      [99, 100],
    ]);
    for (const name of synthetic.failed) expect(out).to.include(`failed      ${name}: `);
  });

  it('sweep report: curves cut to a bounded size, the diverged configuration flagged', async () => {
    const data = await loadReportData(synthetic.sweepDir);
    const episodes = data.charts.find((chart) => chart.tag === 'train/episode_return')!;
    expect(episodes.curves).to.have.length(2);
    for (const curve of episodes.curves) {
      expect(curve.byScale.linear!.length).to.be.at.most(CURVE_POINTS);
      expect(curve.seeds).to.have.length(100);
      for (const seed of curve.seeds) expect(seed.points.length).to.be.at.most(CURVE_POINTS);
    }
    const diverged = data.configurations.find((c) => c.configName === 'learningRate=0.0005')!;
    expect(diverged.diverged?.seeds).to.equal(100);
    expect(diverged.diverged?.reason).to.match(/eval\/avg_max_q reached .*, while returns lie within ±100|diverged/);
    expect(data.configurations.find((c) => c.configName === 'learningRate=0.001')!.diverged).to.equal(null);
    // The Q-values span orders of magnitude: that chart opens on a log-like axis.
    expect(data.charts.find((chart) => chart.tag === 'eval/avg_max_q')!.scales[0]).to.equal('log');

    const { code, out, err } = await sweep('report', synthetic.sweepDir);
    expect(code, err).to.equal(0);
    const file = path.join(synthetic.sweepDir, 'report.html');
    expect(out).to.include(`Report: ${file}`);
    const html = await fs.readFile(file, 'utf8');
    expect(html).to.include('⚠ diverged 100/100');
    // About 2 kB per trial (its row, its seed curves), not the megabytes of its event file.
    expect(html.length).to.be.below(200 * 5000);
  });

  it('sweep status and sweep plan: one line per trial', async () => {
    const status = await sweep('status', synthetic.sweepDir);
    expect(status.code, status.err).to.equal(0);
    expect(status.out).to.match(/200 trials — done 198, failed 2/);
    expect(status.out.split('\n').filter((line) => /^(done|failed) /.test(line))).to.have.length(200);
    const plan = await sweep('plan', synthetic.sweepFile, '--logdir', path.dirname(synthetic.sweepDir));
    expect(plan.code, plan.err).to.equal(0);
    expect(plan.out.split('\n').filter((line) => /^\d+\s+learningRate=/.test(line))).to.have.length(200);
    expect(plan.out).to.match(/learningRate=0\.0005,seed=96\s+0\.0005\s+96\s+20000\s+failed/);
  });

  it('the report of a sweep with long trial names fits a 1280-pixel window, tables open', async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
      console.log(`      skipped: no ${CHROMIUM} (Debian's chromium; .ci/run installs it)`);
      this.skip();
    }
    // Three swept parameters name the trials batchSize=32,targetUpdateEvery=500,learningRate=0.0001,seed=0.
    const long = await writeSyntheticSweep({
      root,
      name: 'long-names',
      grid: defaultGrid(2),
      seeds: 2,
      divergeEvery: 4,
      fixed: { steps: 4000, trainStart: 500, evalEvery: 1000, logEvery: 200, snapshotEvery: 0 },
    });
    const report = await sweep('report', long.sweepDir);
    expect(report.code, report.err).to.equal(0);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`file://${path.join(long.sweepDir, 'report.html')}`);
      await page.locator('#trials-section summary').click();
      // Sorting goes through the page's script without error.
      await page.locator('#trials thead th button').first().click();
      const window = await page.evaluate(() => (globalThis as unknown as { innerWidth: number }).innerWidth);
      for (const table of ['#results', '#trials']) {
        const box = (await page.locator(table).boundingBox())!;
        expect(box.x + box.width, table).to.be.at.most(window);
      }
      expect(await page.locator('#results tr.diverged .badge.warn').count()).to.equal(long.diverging.length);
      await fs.mkdir(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(OUTPUT_DIR, 'report-long-names.png'), fullPage: true });
      expect(problems).to.deep.equal([]);
    } finally {
      await browser?.close();
    }
  });
});
