/**
 * `npm run bench:estimate -- [files...] [--scale F] [--logdir DIR | --keep] [--existing DIR]`: for each sweep file
 * (default: sweeps/*.yaml and sweeps/presets/*.yaml), the estimate `sweep plan` prints, the
 * real wall time of `sweep run` on it, and their ratio (target: within a factor 1.5).
 *
 * --scale F (0 < F < 1) runs a scaled-down variant instead: `steps` and `trainStart` times F
 * (trainStart kept at least batchSize), everything else as in the file — the same networks,
 * batches, training schedule, evaluation and checkpoint periods — so each trial does F of the
 * work. The output says so on every line. Full runs take long: tens of minutes per file on 2 cores.
 *
 * Before running, a sweep folder of the file that already exists under --existing (default runs/,
 * from an earlier `sweep run`) has its finished trials' wall times set against the estimate for
 * each. The runs themselves go to --logdir (default: a temporary folder, removed at the end
 * unless --keep).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { type Calibration, calibrate, calibrateAndEstimate, costsOf } from '../src/sweep/calibrate.js';
import { envShapeOf, sharingSlowdown, trialSeconds } from '../src/sweep/cost-model.js';
import { tsxExecArgv } from '../src/sweep/executor.js';
import { expandSweep, type Trial } from '../src/sweep/expand.js';
import { formatDuration } from '../src/sweep/progress-view.js';
import { loadSweepSpec, type SweepSpec } from '../src/sweep/spec.js';
import { readStatus } from '../src/sweep/trial-status.js';
import { defaultRunConfig } from '../src/train/config.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scale: { type: 'string', default: '1' },
    logdir: { type: 'string' },
    existing: { type: 'string', default: 'runs' },
    keep: { type: 'boolean', default: false },
  },
});

const scale = Number(values.scale);
if (!(scale > 0 && scale <= 1)) {
  console.error(`bench:estimate: --scale must be a number in (0, 1], got "${values.scale}"`);
  process.exit(2);
}

async function defaultFiles(): Promise<string[]> {
  const inFolder = async (dir: string): Promise<string[]> =>
    (await fs.readdir(dir))
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => path.join(dir, name));
  return [...(await inFolder('sweeps')), ...(await inFolder(path.join('sweeps', 'presets')))];
}

type YamlParameter = { value?: unknown; values?: unknown[] } & Record<string, unknown>;

/** The scaled variant of a sweep file's text: steps and trainStart times `factor`, a new name. */
function scaledSweep(text: string, factor: number, batchSize: number): string {
  const document = parse(text) as { name: string; parameters: Record<string, YamlParameter> };
  const parameters = document.parameters;
  const scaleStep =
    (_key: 'steps' | 'trainStart', least: number) =>
    (value: unknown): unknown =>
      typeof value === 'number' && value > 0 ? Math.max(least, Math.round(value * factor)) : value;
  for (const [key, least] of [
    ['steps', 1],
    ['trainStart', batchSize],
  ] as const) {
    const parameter = parameters[key] ?? { value: defaultRunConfig()[key] };
    const scaleValue = scaleStep(key, least);
    if ('values' in parameter && Array.isArray(parameter.values)) parameter.values = parameter.values.map(scaleValue);
    else if ('value' in parameter) parameter.value = scaleValue(parameter.value);
    else throw new Error(`bench:estimate: cannot scale "${key}" given as a range; run this file with --scale 1`);
    parameters[key] = parameter;
  }
  document.name = `${document.name}-x${factor}`;
  return stringify(document);
}

/**
 * `sweep run` on a file, as a user runs it (its output to a log file): wall seconds, and the
 * CPU seconds of the sweep and its trials (bash's `times`), which other processes on the
 * machine do not inflate.
 */
function runSweep(file: string, logdir: string, logFile: string): Promise<{ seconds: number; cpuSeconds: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const command = [process.execPath, ...tsxExecArgv(), CLI, 'run', file, '--logdir', logdir, '--progress-every', '0'];
    const child = spawn('bash', ['-c', '"$@" >"$RLSWEEP_BENCH_LOG" 2>&1; code=$?; times; exit $code', 'bash', ...command], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RLSWEEP_BENCH_LOG: logFile },
    });
    let times = '';
    child.stdout.on('data', (chunk: Buffer) => {
      times += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      // The second line of `times`: user and system time of the shell's children (the sweep and its trials).
      const children = times.trim().split('\n')[1] ?? '';
      const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
      resolve({ seconds: (performance.now() - start) / 1000, cpuSeconds: seconds, code });
    });
  });
}

interface TrialTiming {
  name: string;
  estimated: number;
  actual: number;
}

/**
 * Finished trials of a sweep folder: each one's wall time against the model's (its one-core
 * seconds, slowed by the cores it shared with the other trials running beside it).
 */
async function finishedTrials(trials: Trial[], sweepDir: string, calibration: Calibration, running: number, cores: number): Promise<TrialTiming[]> {
  const timings: TrialTiming[] = [];
  for (const trial of trials) {
    const status = await readStatus(path.join(sweepDir, trial.name), () => {});
    if (status?.state !== 'done' || !status.startedAt || !status.endedAt || status.attempt !== 1) continue;
    const { config } = trial;
    timings.push({
      name: trial.name,
      estimated: trialSeconds(config, envShapeOf(config.env), costsOf(calibration, config)) * sharingSlowdown(running, cores),
      actual: (Date.parse(status.endedAt) - Date.parse(status.startedAt)) / 1000,
    });
  }
  return timings;
}

function timingSummary(label: string, timings: TrialTiming[]): string {
  if (timings.length === 0) return `${label}: no finished trials`;
  const ratios = timings.map((timing) => timing.actual / timing.estimated);
  const mean = ratios.reduce((sum, ratio) => sum + ratio, 0) / ratios.length;
  return `${label}: ${timings.length} finished trials, actual/estimate per trial ${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)} (mean ${mean.toFixed(2)})`;
}

interface Row {
  file: string;
  trials: number;
  estimate: number;
  actual: number;
  ok: boolean;
  load: [number, number];
  /** CPU seconds used, and the estimate's one-core seconds of the trials. */
  cpu: number;
  coreSeconds: number;
}

const files = positionals.length > 0 ? positionals : await defaultFiles();
const logdir = values.logdir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-bench-estimate-')));
const cores = os.availableParallelism();
const variant = scale === 1 ? 'full sweeps' : `scaled-down variants: steps and trainStart x${scale}, same networks, batches, schedules and evaluation periods (NOT the full sweeps)`;
console.log(`bench:estimate ${new Date().toISOString()}: ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`${variant}; logdir ${logdir}`);

/** The finished trials of an earlier full run of a sweep file, each against its estimate. */
async function reportExisting(spec: SweepSpec, sweepDir: string): Promise<void> {
  if (!existsSync(sweepDir)) return;
  const trials = expandSweep(spec, { sweepDir });
  const running = Math.min(spec.concurrency ?? cores, trials.length);
  const calibration = await calibrate(trials.map((trial) => trial.config));
  const timings = await finishedTrials(trials, sweepDir, calibration, running, cores);
  console.log(timingSummary(`${spec.file}: earlier run in ${sweepDir} (counted as ${running} at a time, the file's concurrency)`, timings));
}

const rows: Row[] = [];
for (const original of files) {
  const label = `${original}${scale < 1 ? ` (x${scale})` : ''}`;
  const originalSpec = await loadSweepSpec(original);
  await reportExisting(originalSpec, path.join(values.existing, originalSpec.name));
  let file = original;
  if (scale < 1) {
    const batchSize = expandSweep(originalSpec, { sweepDir: logdir })[0]?.config.batchSize ?? defaultRunConfig().batchSize;
    file = path.join(logdir, `${path.basename(original, '.yaml')}-x${scale}.yaml`);
    await fs.writeFile(file, scaledSweep(await fs.readFile(original, 'utf8'), scale, batchSize));
  }
  const spec: SweepSpec = await loadSweepSpec(file);
  const sweepDir = path.join(logdir, spec.name);
  const trials = expandSweep(spec, { sweepDir });
  const concurrency = spec.concurrency ?? cores;
  const running = Math.min(concurrency, trials.length);
  if (existsSync(sweepDir)) {
    console.log(`${label}: ${sweepDir} exists; a run would do only what is not done there, so its wall time would not compare: skipped (remove it or pass another --logdir)`);
    continue;
  }
  const { calibration, estimate } = await calibrateAndEstimate(
    trials.map((trial) => trial.config),
    concurrency,
    cores,
  );
  console.log(`${label}: ${trials.length} trials, ${running} at a time; estimate ${formatDuration(estimate.totalSeconds)} (calibrated in ${calibration.seconds.toFixed(1)} s); running...`);
  const loadBefore = os.loadavg()[0]!;
  const run = await runSweep(file, logdir, path.join(logdir, `${spec.name}.log`));
  const loadAfter = os.loadavg()[0]!;
  const ratio = run.seconds / estimate.totalSeconds;
  const ok = run.code === 0 && ratio <= 1.5 && ratio >= 1 / 1.5;
  console.log(
    `${label}: actual ${formatDuration(run.seconds)} (${run.seconds.toFixed(1)} s, exit code ${run.code}), estimate ${estimate.totalSeconds.toFixed(1)} s, actual/estimate ${ratio.toFixed(2)} ${ok ? 'ok' : 'MISSED'}; load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}`,
  );
  const coreSeconds = estimate.trialSeconds.reduce((sum, seconds) => sum + seconds, 0);
  console.log(
    `${label}: CPU time of the sweep and its trials ${run.cpuSeconds.toFixed(1)} s, estimated ${coreSeconds.toFixed(1)} s of one core for the trials (ratio ${(run.cpuSeconds / coreSeconds).toFixed(2)}; less sensitive than wall time to other processes on the machine)`,
  );
  console.log(timingSummary(`${label}: per trial`, await finishedTrials(trials, sweepDir, calibration, running, cores)));
  rows.push({ file: label, trials: trials.length, estimate: estimate.totalSeconds, actual: run.seconds, ok, load: [loadBefore, loadAfter], cpu: run.cpuSeconds, coreSeconds });
}

if (rows.length > 0) {
  console.log(`\n${variant}\n`);
  console.log('| sweep | trials | estimate | actual | actual/estimate | target (within 1.5x) | CPU s used / estimated | load average |');
  console.log('|---|---:|---:|---:|---:|---|---:|---|');
  for (const row of rows) {
    console.log(
      `| ${row.file} | ${row.trials} | ${formatDuration(row.estimate)} | ${formatDuration(row.actual)} | ${(row.actual / row.estimate).toFixed(2)} | ${row.ok ? 'ok' : 'MISSED'} ` +
        `| ${row.cpu.toFixed(0)} / ${row.coreSeconds.toFixed(0)} = ${(row.cpu / row.coreSeconds).toFixed(2)} | ${row.load[0].toFixed(1)} -> ${row.load[1].toFixed(1)} |`,
    );
  }
}
if (!values.keep && values.logdir === undefined) await fs.rm(logdir, { recursive: true, force: true });
