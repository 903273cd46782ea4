/**
 * Learning benchmark (issue #9): runs the tuned presets in sweeps/presets/ (one
 * configuration x 5 seeds each) through the sweep machinery, then prints the table of
 * final greedy evaluations against the targets and writes benchmarks/learning.md.
 *
 *   npm run benchmark:learning                       # run all presets (2 trials at once), print, write the table
 *   npm run benchmark:learning -- --concurrency 4    # more trials at once
 *   npm run benchmark:learning -- --only cartpole    # one preset (comma-separated list)
 *   npm run benchmark:learning -- --no-run           # only tabulate what <logdir> already holds
 *
 * Each preset is `sweep run sweeps/presets/<env>.yaml --logdir <logdir>`: running the
 * command again skips finished trials and resumes interrupted ones, so the table can be
 * printed again at no cost; pass another --logdir (or delete it) to start over.
 * The same seed and config give the same returns on the same engine, so a fresh clone
 * reproduces the per-seed figures; wall times depend on the machine.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSweepSpec } from '../src/sweep/spec.js';
import { readManifest, readStatus } from '../src/sweep/trial-status.js';
import { meanStd } from '../src/sweep/results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Benchmark {
  key: string;
  env: string;
  preset: string;
  /** Human-readable target, and the check on the per-seed final returns. */
  target: string;
  met: (returns: number[]) => boolean;
  others: string;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

const BENCHMARKS: Benchmark[] = [
  {
    key: 'mountaincar',
    env: 'MountainCar-v0',
    preset: 'sweeps/presets/mountaincar.yaml',
    target: 'every seed >= -110, mean >= -101',
    met: (r) => r.every((v) => v >= -110) && mean(r) >= -101,
    others: 'rl-zoo DQN, 1 seed: -100.8 at 120k; Toptal tutorial: -136.75 at 120k; CleanRL, 3 seeds: -194.95',
  },
  {
    key: 'cartpole',
    env: 'CartPole-v1',
    preset: 'sweeps/presets/cartpole.yaml',
    target: 'every seed 500 (mean >= 490)',
    met: (r) => r.every((v) => v >= 500),
    others: 'rl-zoo, 1 seed: 500 at 50k; CleanRL, 3 seeds: 488.7 at 500k',
  },
  {
    key: 'acrobot',
    env: 'Acrobot-v1',
    preset: 'sweeps/presets/acrobot.yaml',
    target: 'mean >= -80, every seed >= -90',
    met: (r) => r.every((v) => v >= -90) && mean(r) >= -80,
    others: 'rl-zoo, 1 seed: -76.6 at 100k; CleanRL, 3 seeds: -91.5',
  },
];

const { values: args } = parseArgs({
  options: {
    logdir: { type: 'string', default: path.join('runs', 'benchmark-learning') },
    concurrency: { type: 'string', default: String(Math.min(2, os.availableParallelism())) },
    only: { type: 'string' },
    out: { type: 'string', default: path.join('benchmarks', 'learning.md') },
    run: { type: 'boolean', default: true },
    'no-run': { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run benchmark:learning -- [--concurrency N] [--only mountaincar,cartpole,acrobot] [--logdir DIR] [--out FILE] [--no-run] [--force]');
  process.exit(0);
}
const concurrency = Number(args.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive integer, got ${args.concurrency}`);
const selected = args.only ? args.only.split(',').map((s) => s.trim().toLowerCase()) : BENCHMARKS.map((b) => b.key);
for (const key of selected) {
  if (!BENCHMARKS.some((b) => b.key === key)) throw new Error(`--only: unknown preset "${key}"; known: ${BENCHMARKS.map((b) => b.key).join(', ')}`);
}
const benchmarks = BENCHMARKS.filter((b) => selected.includes(b.key));
const logdir = path.resolve(args.logdir);

function runSweep(preset: string): Promise<number> {
  const argv = ['--import', 'tsx', path.join(root, 'src/cli/sweep.ts'), 'run', path.join(root, preset), '--logdir', logdir, '--concurrency', String(concurrency), '--progress-every', '60'];
  if (args.force) argv.push('--force');
  console.log(`\n$ sweep run ${preset} --logdir ${path.relative(root, logdir) || '.'} --concurrency ${concurrency}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

interface Row {
  benchmark: Benchmark;
  budget: number;
  seeds: Array<{ seed: number; final: number | null; state: string }>;
  returns: number[];
  evalEpisodes: number;
  wallSeconds: number | null;
  trialSeconds: number;
  /** Most of this preset's trials that ran at the same time. */
  atOnce: number;
}

async function tabulate(benchmark: Benchmark): Promise<Row> {
  const spec = await loadSweepSpec(path.join(root, benchmark.preset));
  const sweepDir = path.join(logdir, spec.name);
  const manifest = await readManifest(sweepDir);
  const fixed = (name: string): number => {
    const parameter = spec.parameters.find((p) => p.key === name);
    return parameter?.kind === 'value' ? Number(parameter.value) : NaN;
  };
  const budget = fixed('steps');
  const evalEpisodes = fixed('evalEpisodes');
  const seeds: Row['seeds'] = [];
  let first = Infinity;
  let last = -Infinity;
  let trialSeconds = 0;
  const intervals: Array<[number, number]> = [];
  for (const entry of manifest?.trials ?? []) {
    const status = await readStatus(path.join(sweepDir, entry.name));
    const done = status?.state === 'done' && status.finalReturnMean !== null;
    seeds.push({ seed: entry.seed, final: done ? status.finalReturnMean : null, state: status?.state ?? 'missing' });
    if (status?.startedAt && status.endedAt) {
      const start = Date.parse(status.startedAt);
      const end = Date.parse(status.endedAt);
      first = Math.min(first, start);
      last = Math.max(last, end);
      trialSeconds += (end - start) / 1000;
      intervals.push([start, end]);
    }
  }
  seeds.sort((a, b) => a.seed - b.seed);
  const returns = seeds.flatMap((s) => (s.final === null ? [] : [s.final]));
  const atOnce = Math.max(0, ...intervals.map(([start]) => intervals.filter(([s, e]) => s <= start && start < e).length));
  return { benchmark, budget, seeds, returns, evalEpisodes, wallSeconds: Number.isFinite(first) ? (last - first) / 1000 : null, trialSeconds, atOnce };
}

const fmt = (v: number): string => v.toFixed(2);
const duration = (s: number | null): string => (s === null ? '-' : s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);

function table(rows: Row[]): string {
  const lines = [
    '| Environment | Budget (env steps) | Final return per seed (seeds 0-4) | Mean ± std | Min | Target | Met | Wall time (trials at once; sum of trials) | What others report |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const stats = meanStd(row.returns);
    const complete = row.returns.length === row.seeds.length && row.seeds.length > 0;
    const perSeed = row.seeds.map((s) => (s.final === null ? s.state : fmt(s.final))).join(', ');
    const met = !complete ? `incomplete (${row.returns.length}/${row.seeds.length})` : row.benchmark.met(row.returns) ? '**yes**' : 'no';
    lines.push(
      `| ${row.benchmark.env} | ${row.budget / 1000}k | ${perSeed} | ${stats ? `${stats.mean.toFixed(2)} ± ${stats.std.toFixed(2)}` : '-'} ` +
        `| ${row.returns.length ? fmt(Math.min(...row.returns)) : '-'} | ${row.benchmark.target} | ${met} ` +
        `| ${duration(row.wallSeconds)} (${row.atOnce}; ${duration(row.trialSeconds)}) | ${row.benchmark.others} |`,
    );
  }
  return lines.join('\n');
}

function cpuModel(): string {
  try {
    const text = execFileSync('lscpu', { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    const model = /^Model name:\s*(.+)$/m.exec(text)?.[1]?.trim();
    if (model) return model;
  } catch {
    /* no lscpu */
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

const exitCodes: Record<string, number> = {};
if (args.run && !args['no-run']) {
  for (const benchmark of benchmarks) exitCodes[benchmark.key] = await runSweep(benchmark.preset);
}

const rows: Row[] = [];
for (const benchmark of benchmarks) rows.push(await tabulate(benchmark));
const date = new Date().toISOString().slice(0, 10);
const machine = `${cpuModel()}, ${os.availableParallelism()} CPUs, Node ${process.version}, ${os.platform()} ${os.arch()}`;
const episodes = [...new Set(rows.map((r) => r.evalEpisodes))].join('/');
const body = table(rows);
const notes = [
  `Date: ${date}. Machine: ${machine}.`,
  '',
  `Each figure is one seed's final greedy evaluation (epsilon 0, mean return over ${episodes} episodes) at the end of the budget; ` +
    "mean ± std (sample) and min are over the 5 seeds. Wall time: first trial start to last trial end (from the trials' status.json, so a rerun that only tabulates keeps it); " +
    "in brackets the most trials of the preset that ran at once and the sum of the trials' times.",
  '',
  'Reproduce: `npm ci && npm run benchmark:learning` (presets: `sweeps/presets/*.yaml`; runs in `runs/benchmark-learning/`).',
].join('\n');

console.log('');
console.log(body);
console.log('');
console.log(notes);

const markdown = ['# Learning benchmark', '', 'DQN with the tuned presets in `sweeps/presets/`, 5 seeds each (issue #9). Written by `npm run benchmark:learning`.', '', body, '', notes, ''].join('\n');
const out = path.resolve(args.out);
await fs.mkdir(path.dirname(out), { recursive: true });
await fs.writeFile(out, markdown);
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);

const failed = Object.entries(exitCodes).filter(([, code]) => code !== 0);
if (failed.length > 0) {
  console.error(`sweep failed for ${failed.map(([key, code]) => `${key} (exit ${code})`).join(', ')}`);
  process.exitCode = 1;
}
