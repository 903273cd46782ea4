/**
 * The sweep report: its data from event files (unit), and end to end a real `sweep run` of
 * sweeps/smoke.yaml whose report.html is opened in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) and checked as a reader would see it.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { type Browser, chromium } from 'playwright-core';
import { combineSeeds, divergence, downsample, loadReportData } from '../src/sweep/report-data.js';
import { niceTicks, scaleTicks, toScale } from '../src/sweep/chart-scale.js';
import { formatInterval, formatNumber, type SweepResults } from '../src/sweep/results.js';
import { resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { memoryOutput } from '../src/train/run-output.js';
import { skipBecause } from './skip.js';
import { listEventFiles, SummaryWriter } from '../src/tensorboard/index.js';

const ROOT = process.cwd();
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Where the test leaves its screenshot (ignored by git). */
const OUTPUT_DIR = path.join(ROOT, '.tmp', 'test-output');

function runSweepCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'sweep.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('report curves and axes', () => {
  const series = (points: Array<[number, number]>, horizon = 199) => downsample(points, horizon, 2);

  it("cuts a seed's curve down to one point per bin, at its points' mean step", () => {
    // Bins of 100 steps over [0, 199].
    const cut = downsample(
      [
        [10, 1],
        [20, 3],
        [90, 5],
        [150, 7],
        [160, Number.NaN],
      ],
      199,
      2,
    );
    expect([...cut.bins]).to.deep.equal([0, 1]);
    expect([...cut.steps]).to.deep.equal([40, 150]);
    expect([...cut.values]).to.deep.equal([3, 7]);
    // Points logged at the same steps by every seed keep their exact steps.
    expect([
      ...downsample(
        [
          [100, 1],
          [200, 2],
        ],
        200,
      ).steps,
    ]).to.deep.equal([100, 200]);
    expect(
      downsample(
        Array.from({ length: 10_000 }, (_, i): [number, number] => [i, i]),
        10_000,
      ).values.length,
    ).to.equal(100);
  });

  it("averages seeds bin by bin with the sample std, the band within the seeds' extremes", () => {
    const curve = combineSeeds(
      [
        series([
          [50, 1],
          [150, 3],
        ]),
        series([
          [50, 3],
          [150, 3],
        ]),
        series([[50, 2]]),
      ],
      'linear',
    );
    expect(curve.map((p) => [p.step, p.center, p.seeds])).to.deep.equal([
      [50, 2, 3],
      [150, 3, 2],
    ]);
    expect([curve[0]!.low, curve[0]!.high]).to.deep.equal([1, 3]);
    expect([curve[1]!.low, curve[1]!.high]).to.deep.equal([3, 3]);
    // Two seeds 1 and 3: the std (1.41) would reach below the lower seed; the band stops at it.
    const two = combineSeeds([series([[50, 1]]), series([[50, 3]])], 'linear')[0]!;
    expect([two.low, two.high]).to.deep.equal([1, 3]);
  });

  it("takes a log axis's mean and band in log space: geometric, never at or below zero", () => {
    const losses = [series([[50, 0.01]]), series([[50, 0.1]]), series([[50, 1e6]])];
    const linear = combineSeeds(losses, 'linear')[0]!;
    const log = combineSeeds(losses, 'log')[0]!;
    expect(linear.center).to.be.closeTo(333_333.37, 0.01);
    expect(log.center).to.be.closeTo(Math.cbrt(0.01 * 0.1 * 1e6), 1e-9);
    expect(log.low).to.be.greaterThan(0);
    expect(log.low).to.be.at.least(0.01);
    expect(log.high).to.be.at.most(1e6);
    // Values a log axis cannot show are left out of it.
    expect(combineSeeds([series([[50, 0]]), series([[50, 10]])], 'log')[0]).to.include({ center: 10, seeds: 1 });
  });

  it('puts axis ticks on round numbers that enclose the data', () => {
    expect(niceTicks(0, 1500)).to.deep.equal([0, 500, 1000, 1500]);
    expect(niceTicks(8.3, 10.2)).to.deep.equal([8, 8.5, 9, 9.5, 10, 10.5]);
    expect(niceTicks(-0.03, 0.61)).to.deep.equal([-0.2, 0, 0.2, 0.4, 0.6, 0.8]);
    // Log axis: decades, thinned to at most 7.
    expect(scaleTicks('log', Math.log10(0.002), Math.log10(30))).to.deep.equal([-3, -2, -1, 0, 1, 2]);
    expect(scaleTicks('log', -3, 9)).to.deep.equal([-3, -1, 1, 3, 5, 7, 9]);
    // Symlog: 0 and ± powers of ten, enclosing the data.
    const symlog = scaleTicks('symlog', toScale('symlog', -50), toScale('symlog', 3e5)).map((p) => Math.round(Math.sign(p) * (10 ** Math.abs(p) - 1)));
    expect(symlog).to.deep.equal([-100, -1, 0, 1, 100, 10_000, 1_000_000]);
  });

  it('calls a trial diverged when its Q-values leave the return range or its loss blows up', () => {
    const scan = (q: number[], loss: number[]) => ({
      scalars: {
        'eval/avg_max_q': q.map((value, i): [number, number] => [i, value]),
        'train/loss': loss.map((value, i): [number, number] => [i, value]),
      },
    });
    const calm = scan([5, 40, 90], [0.5, 0.3, 0.2, 0.4]);
    expect(divergence(calm, 100, null)).to.equal(null);
    expect(divergence(scan([5, 40, 2e4], [0.5]), 100, null)).to.match(/avg_max_q reached 2e\+4|avg_max_q reached 20000/);
    expect(divergence(scan([5, -3e6], [0.5]), 100, null)).to.match(/avg_max_q reached -3\.0e\+6, while returns lie within ±100/);
    expect(divergence(scan([5, Number.NaN], [0.5]), 100, null)).to.match(/avg_max_q reached NaN/);
    expect(divergence(scan([5], [0.5, 0.4, 0.5, 0.6, 900]), 100, null)).to.match(/train\/loss rose to 900, 1800 times its median/);
    // Without the env's bound the Q test is skipped; a run that stopped on divergence says so.
    expect(divergence(scan([5, 2e4], [0.5]), undefined, null)).to.equal(null);
    expect(divergence(calm, 100, 'error: diverged at step 7: loss is NaN')).to.equal('error: diverged at step 7: loss is NaN');
  });
});

describe('report data from a folder of plain runs (no sweep.json)', function () {
  this.timeout(120_000);
  let logdir: string;
  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-report-runs-'));
    for (const learningRate of [0.001, 0.002]) {
      for (const seed of [0, 1]) {
        const config = resolveConfig({
          values: {
            env: 'CartPole-v1',
            steps: 600,
            trainStart: 100,
            bufferSize: 1000,
            evalEvery: 300,
            evalEpisodes: 1,
            qValidationSize: 100,
            logEvery: 100,
            snapshotEvery: 0,
            learningRate,
            seed,
            name: `lr${learningRate}-s${seed}`,
            logdir,
          },
          source: 'test',
        });
        const runDir = await prepareRunDir(config, {}, false);
        (await train(config, { runDir, output: memoryOutput() })).learner.dispose();
      }
    }
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  it('groups runs by their config less the seed, with curves and the best policy', async () => {
    const data = await loadReportData(logdir);
    expect(data.swept).to.deep.equal(['learningRate']);
    expect(data.configurations).to.have.length(2);
    for (const configuration of data.configurations) expect(configuration).to.include({ seeds: 2, total: 2 });
    expect(data.configurations.map((c) => c.configName).sort()).to.deep.equal(['learningRate=0.001', 'learningRate=0.002']);
    const evalChart = data.charts.find((chart) => chart.tag === 'eval/return_mean')!;
    expect(evalChart.curves).to.have.length(2);
    expect(evalChart.scales[0]).to.equal('linear');
    for (const curve of evalChart.curves) {
      expect(curve.byScale.linear!.map((p) => [p.step, p.seeds])).to.deep.equal([
        [300, 2],
        [600, 2],
      ]);
      expect(curve.seeds.map((seed) => seed.points.map(([step]) => step))).to.deep.equal([
        [300, 600],
        [300, 600],
      ]);
    }
    expect(data.charts.find((chart) => chart.tag === 'train/loss')!.scales).to.deep.equal(['log', 'linear']);
    expect(data.bestPolicy?.gif.length).to.be.greaterThan(0);
    expect(data.bestPolicy?.configName).to.equal(data.configurations.find((c) => c.best)!.configName);
  });
});

describe('report data from a damaged run', () => {
  it('warns naming the file and still reports the other runs', async () => {
    const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-report-damaged-'));
    try {
      for (const seed of [0, 1]) {
        const dir = path.join(logdir, `s${seed}`);
        const writer = new SummaryWriter(dir);
        for (let step = 100; step <= 300; step += 100) writer.scalar('eval/return_mean', step / 10 + seed, step);
        writer.close();
        await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ env: 'CartPole-v1', steps: 300, seed, gamma: 0.99 }));
      }
      const damaged = listEventFiles(path.join(logdir, 's1'))[0]!;
      const bytes = await fs.readFile(damaged);
      bytes[bytes.length - 6]! ^= 0xff;
      await fs.writeFile(damaged, bytes);
      const warnings: string[] = [];
      const data = await loadReportData(logdir, (message) => warnings.push(message));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include(damaged).and.include('the report shows s1 without its curves');
      expect(data.trials.map((trial) => [trial.name, trial.final])).to.deep.equal([
        ['s0', 30],
        ['s1', null],
      ]);
      expect(data.charts.find((chart) => chart.tag === 'eval/return_mean')!.curves[0]!.seeds).to.have.length(1);
    } finally {
      await fs.rm(logdir, { recursive: true, force: true });
    }
  });
});

describe('sweep report in a real browser (smoke.yaml)', function () {
  this.timeout(180_000);
  let logdir: string;
  let sweepDir: string;
  let results: SweepResults;
  let sweepOutput: string;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
      skipBecause(this, `the report's browser tests need ${CHROMIUM}; install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    }
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-report-'));
    const run = await runSweepCli(['run', 'sweeps/smoke.yaml', '--logdir', logdir, '--progress-every', '0']);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    sweepOutput = run.stdout;
    sweepDir = path.join(logdir, 'smoke');
    results = JSON.parse(await fs.readFile(path.join(sweepDir, 'results.json'), 'utf8')) as SweepResults;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  after(async () => {
    await browser?.close();
    if (logdir) await fs.rm(logdir, { recursive: true, force: true });
  });

  it('sweep run writes report.html at the end; sweep report writes it again', async () => {
    const file = path.join(sweepDir, 'report.html');
    expect(sweepOutput).to.contain(`Report: ${file}`);
    await fs.rm(file);
    const again = await runSweepCli(['report', sweepDir]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.contain(`Report: ${file}`);
    const html = await fs.readFile(file, 'utf8');
    // Self-contained: nothing is fetched from anywhere.
    expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//);
  });

  it('shows the results, the curves and the best policy, without console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!/^(file|data):/.test(request.url())) problems.push(`fetched ${request.url()}`);
    });
    await page.goto(`file://${path.join(sweepDir, 'report.html')}`);

    // One row per configuration, with the numbers `sweep results` computed (from status.json).
    const rows = page.locator('#results tbody tr');
    expect(await rows.count()).to.equal(results.configurations.length);
    for (const configuration of results.configurations) {
      const row = page.locator(`#results tbody tr[data-config="${configuration.configName}"]`);
      const final = row.locator('td.final');
      expect(Number(await final.getAttribute('data-mean'))).to.be.closeTo(configuration.finalMean!, 1e-4);
      expect(Number(await final.getAttribute('data-std'))).to.be.closeTo(configuration.finalStd!, 1e-4);
      expect(await final.textContent()).to.equal(`${formatNumber(configuration.finalMean)} ± ${formatNumber(configuration.finalStd)}`);
      expect(await row.locator('td.seeds').textContent()).to.equal(`${configuration.seeds}/${configuration.total}`);
      expect(await row.getAttribute('class')).to.equal(configuration.best ? 'best' : null);
    }
    expect(await page.locator('#results tr.best').getAttribute('data-config')).to.equal(results.bestConfiguration);

    // Sorting by the final metric, ascending then descending.
    const finalHeader = page.locator('#results thead th').filter({ hasText: 'final' }).locator('button');
    const order = async (): Promise<string[]> => rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-config') ?? ''));
    const byFinal = [...results.configurations].sort((a, b) => a.finalMean! - b.finalMean! || a.configIndex - b.configIndex);
    await finalHeader.click();
    expect((await order())[0]).to.equal(byFinal[0]!.configName);
    await finalHeader.click();
    expect((await order())[0]).to.equal(byFinal.at(-1)!.configName);

    // Every chart drew a band and a mean line per configuration, with real extent on screen, in
    // the scale it opens in (log for the loss); the other scale is one click away.
    for (const tag of ['eval/return_mean', 'train/loss', 'eval/avg_max_q', 'train/episode_return']) {
      const figure = page.locator(`figure.chart-box[data-tag="${tag}"]`);
      const shown = figure.locator('svg.chart').filter({ visible: true });
      expect(await shown.count(), tag).to.equal(1);
      expect(await shown.getAttribute('data-scale'), tag).to.equal(tag === 'train/loss' ? 'log' : 'linear');
      const series = shown.locator('g.series');
      expect(await series.count(), tag).to.equal(results.configurations.length);
      const drawn = await shown.locator('path.mean, path.band').evaluateAll((paths) =>
        paths.map((element) => {
          const box = (element as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return { width: box.width, height: box.height };
        }),
      );
      expect(drawn, tag).to.have.length(2 * results.configurations.length);
      for (const box of drawn) expect(box.width, tag).to.be.greaterThan(100);
    }
    const loss = page.locator('figure.chart-box[data-tag="train/loss"]');
    await loss.locator('button.scale[data-scale="linear"]').click();
    expect(await loss.locator('svg.chart').filter({ visible: true }).getAttribute('data-scale')).to.equal('linear');
    expect(await loss.locator('button.scale[data-scale="linear"]').getAttribute('aria-pressed')).to.equal('true');
    // Each seed's curve, on demand.
    const seedLines = page.locator('figure.chart-box[data-tag="eval/return_mean"] path.seed').filter({ visible: true });
    expect(await seedLines.count()).to.equal(0);
    await page.locator('#show-seeds').check();
    expect(await seedLines.count()).to.equal(results.trials.length);
    const evalPoints = await page
      .locator('svg.chart[data-tag="eval/return_mean"][data-scale="linear"] g.series')
      .evaluateAll((groups) => groups.map((group) => Number(group.getAttribute('data-points'))));
    expect(evalPoints).to.deep.equal(results.configurations.map(() => 3)); // evaluations at 500, 1000, 1500

    // The best trial's GIF decoded in the browser.
    const gif = await page.locator('#best-policy').evaluate((image) => {
      const element = image as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; src: string };
      return { complete: element.complete, width: element.naturalWidth, height: element.naturalHeight, src: element.src.slice(0, 22) };
    });
    expect(gif).to.deep.equal({ complete: true, width: 160, height: 100, src: 'data:image/gif;base64,' });
    const bestTrials = results.trials.filter((trial) => trial.configName === results.bestConfiguration).map((trial) => trial.name);
    expect(bestTrials.some((name) => name.length > 0)).to.equal(true);
    const caption = await page.locator('#policy figcaption').textContent();
    expect(bestTrials.some((name) => (caption ?? '').includes(name))).to.equal(true);

    // Statistics over seeds: the table holds the numbers of results.json, the verdict is the console's
    // Best line, and the IQM curve (with its bootstrap band) and the performance profile are drawn per configuration.
    const statisticsRows = page.locator('#statistics-table tbody tr');
    expect(await statisticsRows.count()).to.equal(results.configurations.length);
    for (const configuration of results.configurations) {
      const row = page.locator(`#statistics-table tbody tr[data-config="${configuration.configName}"]`);
      const score = configuration.score!;
      expect(await row.locator('td.iqm').textContent()).to.equal(`${formatNumber(score.iqm)} ${formatInterval(score.iqmCi)}`);
      expect(await row.locator('td.mean').textContent()).to.equal(`${formatNumber(score.mean)} ± ${formatNumber(score.std)} ${formatInterval(score.meanCi)}`);
      expect(await row.locator('td.versus').textContent()).to.match(configuration.best ? /★ best/ : configuration.tiedWithBest ? /= tied/ : /P\(best beats\)/);
    }
    expect(sweepOutput).to.contain(await page.locator('#verdict').textContent());
    const iqm = page.locator('figure.stats-box[data-chart="iqm"] svg.chart');
    const iqmBoxes = await iqm.locator('path.mean, path.band').evaluateAll((paths) => paths.map((element) => (element as unknown as { getBBox(): { width: number } }).getBBox().width));
    expect(iqmBoxes).to.have.length(2 * results.configurations.length);
    for (const width of iqmBoxes) expect(width).to.be.greaterThan(100);
    const profile = page.locator('figure.stats-box[data-chart="profile"] svg.profile-chart g.profile-series');
    expect(await profile.count()).to.equal(results.configurations.length);
    expect(await profile.evaluateAll((groups) => groups.map((group) => Number(group.getAttribute('data-runs'))))).to.deep.equal(results.configurations.map((c) => c.seeds));

    await fs.mkdir(OUTPUT_DIR, { recursive: true });
    const screenshot = path.join(OUTPUT_DIR, 'report-smoke.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await fs.stat(screenshot)).size).to.be.greaterThan(10_000);
    expect(problems).to.deep.equal([]);
    await page.close();
  });
});
