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
import { alignedCurve, binnedCurve, loadReportData } from '../src/sweep/report-data.js';
import { niceTicks } from '../src/sweep/report-chart.js';
import { formatNumber, type SweepResults } from '../src/sweep/results.js';
import { resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { memoryOutput } from '../src/train/console.js';
import { skipBecause } from './skip.js';

const ROOT = process.cwd();
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** Where the test leaves its screenshot (ignored by git). */
const OUTPUT_DIR = path.join(ROOT, '.tmp', 'test-output');

function runSweepCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'sweep.ts'), ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('report curves and axes', () => {
  it('averages seeds step by step, with the sample std', () => {
    const curve = alignedCurve([[[100, 1], [200, 3]], [[100, 3], [200, 3]], [[100, 2]]]);
    expect(curve.map((p) => [p.step, p.mean, p.seeds])).to.deep.equal([[100, 2, 3], [200, 3, 2]]);
    expect(curve[0]!.std).to.be.closeTo(1, 1e-12);
    expect(curve[1]!.std).to.equal(0);
  });

  it('bins series logged at different steps per seed before averaging them', () => {
    const curve = binnedCurve([[[10, 1], [20, 3], [90, 5]], [[15, 4], [95, 7]]], 2);
    // Bins of 47.5 steps: seed A averages 2 then 5, seed B 4 then 7.
    expect(curve.map((p) => [p.step, p.mean, p.seeds])).to.deep.equal([[24, 3, 2], [71, 6, 2]]);
  });

  it('puts axis ticks on round numbers that enclose the data', () => {
    expect(niceTicks(0, 1500)).to.deep.equal([0, 500, 1000, 1500]);
    expect(niceTicks(8.3, 10.2)).to.deep.equal([8, 8.5, 9, 9.5, 10, 10.5]);
    expect(niceTicks(-0.03, 0.61)).to.deep.equal([-0.2, 0, 0.2, 0.4, 0.6, 0.8]);
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
            env: 'CartPole-v1', steps: 600, trainStart: 100, bufferSize: 1000, evalEvery: 300, evalEpisodes: 1, qValidationSize: 100,
            logEvery: 100, snapshotEvery: 0, learningRate, seed, name: `lr${learningRate}-s${seed}`, logdir,
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
    for (const curve of evalChart.curves) expect(curve.points.map((p) => [p.step, p.seeds])).to.deep.equal([[300, 2], [600, 2]]);
    expect(data.bestPolicy?.gif.length).to.be.greaterThan(0);
    expect(data.bestPolicy?.configName).to.equal(data.configurations.find((c) => c.best)!.configName);
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
    page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => { if (!/^(file|data):/.test(request.url())) problems.push(`fetched ${request.url()}`); });
    await page.goto(`file://${path.join(sweepDir, 'report.html')}`);

    // One row per configuration, with the numbers `sweep results` computed (from status.json).
    const rows = page.locator('#results tbody tr');
    expect(await rows.count()).to.equal(results.configurations.length);
    for (const configuration of results.configurations) {
      const row = page.locator(`#results tbody tr[data-config="${configuration.configName}"]`);
      const final = row.locator('td.final');
      expect(Number(await final.getAttribute('data-mean'))).to.be.closeTo(configuration.finalMean!, 1e-4);
      expect(Number(await final.getAttribute('data-std'))).to.be.closeTo(configuration.finalStd!, 1e-4);
      expect(await final.innerText()).to.equal(`${formatNumber(configuration.finalMean)} ± ${formatNumber(configuration.finalStd)}`);
      expect(await row.locator('td.seeds').innerText()).to.equal(`${configuration.seeds}/${configuration.total}`);
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

    // Every chart drew a band and a mean line per configuration, with real extent on screen.
    for (const tag of ['eval/return_mean', 'train/loss', 'eval/avg_max_q', 'train/episode_return']) {
      const chart = page.locator(`svg.chart[data-tag="${tag}"]`);
      expect(await chart.count(), tag).to.equal(1);
      const series = chart.locator('g.series');
      expect(await series.count(), tag).to.equal(results.configurations.length);
      const drawn = await chart.locator('path.mean, path.band').evaluateAll((paths) => paths.map((element) => {
        const box = (element as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return { width: box.width, height: box.height };
      }));
      expect(drawn, tag).to.have.length(2 * results.configurations.length);
      for (const box of drawn) expect(box.width, tag).to.be.greaterThan(100);
    }
    const evalPoints = await page.locator('svg.chart[data-tag="eval/return_mean"] g.series').evaluateAll(
      (groups) => groups.map((group) => Number(group.getAttribute('data-points'))));
    expect(evalPoints).to.deep.equal(results.configurations.map(() => 3)); // evaluations at 500, 1000, 1500

    // The best trial's GIF decoded in the browser.
    const gif = await page.locator('#best-policy').evaluate((image) => {
      const element = image as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; src: string };
      return { complete: element.complete, width: element.naturalWidth, height: element.naturalHeight, src: element.src.slice(0, 22) };
    });
    expect(gif).to.deep.equal({ complete: true, width: 160, height: 100, src: 'data:image/gif;base64,' });
    const bestTrials = results.trials.filter((trial) => trial.configName === results.bestConfiguration).map((trial) => trial.name);
    expect(bestTrials.some((name) => name.length > 0)).to.equal(true);
    const caption = await page.locator('#policy figcaption').innerText();
    expect(bestTrials.some((name) => caption.includes(name))).to.equal(true);

    await fs.mkdir(OUTPUT_DIR, { recursive: true });
    const screenshot = path.join(OUTPUT_DIR, 'report-smoke.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await fs.stat(screenshot)).size).to.be.greaterThan(10_000);
    expect(problems).to.deep.equal([]);
    await page.close();
  });
});
