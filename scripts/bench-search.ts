/**
 * Search-efficiency benchmark (issue 16; not a test): does an adaptive search (method bayes = TPE,
 * with early_terminate asha) pick a configuration as good as the full grid's for at most 25% of
 * the grid's environment steps?
 *
 *   npm run bench:search -- [--quick] [--searches N] [--fresh-seeds N] [--logdir DIR] [--concurrency N] [--verbose]
 *
 * Search space (scripts/search-benchmark.ts, fullSetting): DQN on CartPole-v1, 27,000 environment
 * steps, batch 64, one gradient step every 4 environment steps, training from step 1000,
 * epsilon linear from 1 to 0.02 over epsilonFraction of training, a greedy evaluation of 10
 * episodes every 3000 steps; swept:
 *   learningRate 0.0003 | 0.001 | 0.003, gamma 0.95 | 0.99, targetUpdateEvery 100 | 500 | 2000,
 *   epsilonFraction 0.1 | 0.3, hiddenLayers [32,32] | [64,64]   -> 72 configurations.
 * Every search trains on seed 0:
 *   1. the reference: the full grid (72 trials, 1,944,000 environment steps);
 *   2. method bayes over the same values, run_cap 36, bayes.n_startup_trials 10, early_terminate
 *      asha (min_steps 3000, reduction_factor 3: rungs at 3000 and 9000 steps), sweep_seed 0..N-1
 *      (--searches, default 5).
 * Each sweep's pick (its best configuration run to the end) is then trained on fresh seeds
 * 1000..1004 (--fresh-seeds, default 5), which no search used; its score there is the mean of the
 * final greedy evaluation. Steps spent are the trials' steps in their status.json (stopped and
 * paused trials count the steps they ran). `sweep plan` of the bayes file: 252,000 steps expected
 * per search (13% of the grid), at most 888,000.
 *
 * Cost: 17 min 20 s at the defaults on 2 shared cores (load average about 3; README); --quick
 * (4 configurations of 6000 steps, 2 searches, 2 fresh seeds) about a minute.
 * Everything goes through `sweep run` as a user runs it, into --logdir (default runs/bench-search,
 * or runs/bench-search-quick): a benchmark run again with the same folder reuses the sweeps
 * already done and finishes the others (so raising --searches adds searches to the earlier ones).
 * Fewer searches or fresh seeds than the defaults are reported as a "reduced" setting.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { rungSteps } from '../src/sweep/early-terminate.js';
import { tsxExecArgv } from '../src/sweep/executor.js';
import { RESULTS_JSON, type SweepResults } from '../src/sweep/results.js';
import { readStatus } from '../src/sweep/trial-status.js';
import { ensureDir, readJson, writeFileAtomic } from '../src/util/files.js';
import {
  type BenchSetting,
  bayesSweepFile,
  choosePick,
  type FreshScore,
  freshScore,
  freshSweepFile,
  formatTable,
  gridSize,
  gridSweepFile,
  pickKey,
  type SearchRow,
  type SweepFile,
  type SweepPick,
  fullSetting,
  quickSetting,
  stepsSpent,
} from './search-benchmark.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    searches: { type: 'string', default: '5' },
    'fresh-seeds': { type: 'string', default: '5' },
    logdir: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    verbose: { type: 'boolean', default: false },
  },
});

function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench:search: --${option} must be a whole number of at least 1, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const searches = positiveInteger('searches', values.searches);
const freshCount = positiveInteger('fresh-seeds', values['fresh-seeds']);
const concurrency = positiveInteger('concurrency', values.concurrency);
if (values.quick && (values.searches !== '5' || values['fresh-seeds'] !== '5')) {
  console.error('bench:search: --quick has its own searches and fresh seeds (2 and 2); drop --searches/--fresh-seeds, or drop --quick');
  process.exit(2);
}
const setting: BenchSetting = values.quick ? quickSetting() : fullSetting(searches, freshCount);
const logdir = values.logdir ?? path.join('runs', values.quick ? 'bench-search-quick' : 'bench-search');
const filesDir = path.join(logdir, 'files');
const logsDir = path.join(logdir, 'logs');

function describeSetting(s: BenchSetting): string {
  const steps = s.fixed.steps as number;
  const rungs = rungSteps({ minSteps: s.ashaMinSteps, maxSteps: steps, reductionFactor: s.reductionFactor });
  const seeds = (list: number[]): string => (list.length === 1 ? `seed ${list[0]}` : `seeds ${list[0]}-${list.at(-1)}`);
  return (
    `${s.kind}: CartPole-v1, ${steps} steps, ${gridSize(s)} configurations x ${seeds(s.searchSeeds)}; ` +
    `${s.sweepSeeds.length} bayes+asha searches (run_cap ${s.runCap}, rungs ${rungs.join(', ')}); picks scored on fresh ${seeds(s.freshSeeds)}`
  );
}

const loadAverage = (): string => os.loadavg()[0]!.toFixed(1);

function machineLine(startLoad: string, started: Date): string {
  return `machine: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, Node ${process.version}; load average ${startLoad} at start, ${loadAverage()} at end; ${started.toISOString()} to ${new Date().toISOString()}`;
}

/** Runs `sweep run <file>` as a user would; its output goes to logs/<name>.log (and here with --verbose). */
async function runSweepFile(name: string, file: string): Promise<void> {
  const logFile = path.join(logsDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...tsxExecArgv(), CLI, 'run', file, '--logdir', logdir, '--concurrency', String(concurrency), '--progress-every', '60'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.pipe(log, { end: false });
    if (values.verbose) stream.pipe(process.stdout, { end: false });
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  await new Promise<void>((resolve) => log.end(resolve));
  if (code !== 0) {
    const tail = (await fs.readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(`sweep run ${file} exited with ${code}; its output is in ${logFile}:\n${tail}`);
  }
}

async function writeSweepFile(name: string, sweep: SweepFile): Promise<string> {
  const file = path.join(filesDir, `${name}.yaml`);
  await writeFileAtomic(file, `# Written by scripts/bench-search.ts (${setting.kind} setting).\n${stringify(sweep)}`);
  return file;
}

async function sweepResults(name: string): Promise<SweepResults> {
  const file = path.join(logdir, name, RESULTS_JSON);
  const results = await readJson<SweepResults>(file);
  if (!results) throw new Error(`${file} is missing or damaged after sweep run; see ${path.join(logsDir, `${name}.log`)}`);
  return results;
}

/** Runs one sweep (or finishes it, when an earlier benchmark left it) and reads what it spent and picked. */
async function search(sweep: SweepFile): Promise<{ steps: number; pick: SweepPick }> {
  const name = sweep.name as string;
  const started = performance.now();
  console.log(`${name}: running (log: ${path.join(logsDir, `${name}.log`)})`);
  await runSweepFile(name, await writeSweepFile(name, sweep));
  const results = await sweepResults(name);
  const statuses = await Promise.all(results.trials.map((trial) => readStatus(trial.dir)));
  const steps = stepsSpent(statuses);
  const pick = choosePick(results, setting.swept);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${results.trials.length} trials, ${steps.toLocaleString('en-US')} environment steps, picked ${pick.configName} (${pick.searchScore.toFixed(1)}); ${seconds.toFixed(0)} s here`);
  return { steps, pick };
}

/** The fresh-seed score of each distinct pick: picks that agree share one sweep. */
async function scoreOnFreshSeeds(picks: SweepPick[]): Promise<Map<string, FreshScore>> {
  const scores = new Map<string, FreshScore>();
  for (const pick of picks) {
    const key = pickKey(pick.pick);
    if (scores.has(key)) continue;
    const sweep = freshSweepFile(setting, pick.pick);
    const name = sweep.name as string;
    console.log(`${name}: ${pick.configName} on fresh seeds ${setting.freshSeeds.join(', ')} (log: ${path.join(logsDir, `${name}.log`)})`);
    await runSweepFile(name, await writeSweepFile(name, sweep));
    const score = freshScore(await sweepResults(name));
    console.log(`${name}: ${score.perSeed.map((value) => value.toFixed(1)).join(', ')} -> ${score.mean.toFixed(1)} ± ${score.std.toFixed(1)}`);
    scores.set(key, score);
  }
  return scores;
}

async function main(): Promise<void> {
  const started = new Date();
  const startLoad = loadAverage();
  await ensureDir(filesDir);
  await ensureDir(logsDir);
  console.log(`bench:search, setting ${describeSetting(setting)}; sweeps in ${logdir}`);

  const grid = await search(gridSweepFile(setting));
  const bayes: Array<{ seed: number; steps: number; pick: SweepPick }> = [];
  for (const seed of setting.sweepSeeds) bayes.push({ seed, ...(await search(bayesSweepFile(setting, seed))) });
  const scores = await scoreOnFreshSeeds([grid.pick, ...bayes.map((b) => b.pick)]);
  const scoreOf = (pick: SweepPick): FreshScore => scores.get(pickKey(pick.pick))!;

  const gridRow: SearchRow = { method: 'grid', searchSeed: null, stepsSpent: grid.steps, pick: grid.pick, fresh: scoreOf(grid.pick) };
  const rows: SearchRow[] = bayes.map((b) => ({ method: 'bayes + asha', searchSeed: b.seed, stepsSpent: b.steps, pick: b.pick, fresh: scoreOf(b.pick) }));
  const report = [
    `## bench:search (${setting.kind === 'full' ? 'full setting' : `${setting.kind.toUpperCase()} setting, not the full benchmark`})`,
    '',
    `setting: ${describeSetting(setting)}`,
    machineLine(startLoad, started),
    '',
    formatTable(gridRow, rows, setting.freshSeeds),
    '',
  ].join('\n');
  console.log(`\n${report}`);
  const tableFile = path.join(logdir, 'table.md');
  await writeFileAtomic(tableFile, report);
  console.log(`(also in ${tableFile})`);
}

main().catch((error: unknown) => {
  console.error(`bench:search: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
