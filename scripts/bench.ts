/**
 * The performance benchmark of issues #5 and #19 (not a test: figures depend on the machine).
 * One run measures, for the fused and the tfjs engine each in its own child process:
 * environment steps/s of the training loop on the default config, gradient steps/s,
 * greedy-action latency and process RSS, and their ratios; the fused engine's WebAssembly
 * SIMD kernels against its JavaScript ones (RLSWEEP_SIMD=0) on the Toptal default, the
 * MountainCar preset's 128x128 schedule and SB3's settings; a run's start-up and resume
 * (process start to the training loop); then raw environment steps/s, the scaling of a
 * sweep's child processes (4 identical trials at concurrency 1 and 2) and, in the full
 * mode, RSS over a 200k-step default run.
 *
 *   npm run bench                full, several minutes
 *   npm run bench -- --quick     about a minute: shorter measurements, no long run
 *   npm run bench -- --no-long   full measurements without the 200k-step run
 *
 * Prints a table and writes benchmarks/perf.json and benchmarks/perf.md (--out DIR).
 * The machine may be shared: compare the ratios measured in one run, and repeat. The
 * load average and the cores' worth of CPU two busy processes actually got are printed
 * with the sweep figure, whose ceiling they are.
 */
import { fork, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureSweepScaling, type SweepFigures } from './sweep-scaling.js';
import { SINGLE_THREAD_ENV, defaultRunEntry, tsxExecArgv } from '../src/sweep/executor.js';
import { bridgeBenchLine } from './bench-env-bridge.js';
import type { BenchSetup, ChildResult, ChildTask, Engine, EngineFigures, EnvFigures, LongRunFigures } from './bench-child.js';

interface BenchPlan {
  mode: 'full' | 'quick';
  /** Training steps after trainStart timed end to end, per engine, and per kernel setup (both kernels). */
  trainSteps: Record<Engine, number>;
  kernelSteps: Record<BenchSetup, number>;
  /** Starts (and resumes) timed per entry; the median is reported. */
  starts: number;
  /** Seconds per micro-benchmark (gradient steps, greedy actions, each env). */
  seconds: number;
  envSeconds: number;
  sweepTrials: number;
  sweepTrialSteps: number;
  longRunSteps: number | null;
}

interface BenchReport {
  date: string;
  /** loadAverage: the 1-minute load average when the bench started and when it ended (others' load skews figures). */
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string; loadAverage: number[] };
  mode: BenchPlan['mode'];
  engines: Record<Engine, EngineFigures>;
  ratios: { envSteps: number; gradientSteps: number; greedyAction: number; rss: number };
  kernels: KernelComparison[];
  startup: StartupFigures;
  envs: EnvFigures[];
  sweep: SweepFigures;
  longRun: LongRunFigures | null;
}

/** The fused engine on one setup with each set of kernels, each in its own child process. */
interface KernelComparison {
  setup: BenchSetup;
  simd: EngineFigures;
  js: EngineFigures;
}

/** Median milliseconds from spawning a run's process to its training loop's start (its 'started' message). */
interface StartupFigures {
  starts: number;
  /** `node -e ''` and `node --import tsx -e ''` to exit: what any process, and the TypeScript loader, cost. */
  nodeMs: number;
  nodeWithTsxMs: number;
  freshMs: number;
  resumeMs: number;
  /** The same from JavaScript compiled beforehand (tsc into a temporary folder, run by plain node): what dropping tsx at start would save. */
  compiledFreshMs: number;
  compiledResumeMs: number;
}

/** The issues' targets, checked in the tables. */
const TARGETS = {
  /** SIMD / JavaScript kernels, env steps/s end to end (issue #19). */
  simdToptal: 2.5,
  simdPreset128: 3,
  ratio: 5,
  fusedEnvStepsPerSecond: 2400,
  mountainCarStepsPerSecond: 1e6,
  sweepSpeedup: 1.8,
  rssMb: 200,
  /** "Flat": the end of the long run within this many MB of its start. */
  rssDriftMb: 10,
};

function benchPlan(quick: boolean, long: boolean): BenchPlan {
  if (quick) {
    return {
      mode: 'quick',
      trainSteps: { fused: 6000, tfjs: 2000 },
      kernelSteps: { toptal: 6000, preset128: 4000, sb3: 6000 },
      starts: 1,
      seconds: 1,
      envSeconds: 0.3,
      sweepTrials: 4,
      sweepTrialSteps: 6000,
      longRunSteps: null,
    };
  }
  return {
    mode: 'full',
    trainSteps: { fused: 20_000, tfjs: 4000 },
    kernelSteps: { toptal: 20_000, preset128: 16_000, sb3: 20_000 },
    starts: 3,
    seconds: 3,
    envSeconds: 1,
    sweepTrials: 4,
    sweepTrialSteps: 15_000,
    longRunSteps: long ? 200_000 : null,
  };
}

const CHILD_SCRIPT = fileURLToPath(new URL('./bench-child.ts', import.meta.url));

/** Runs one measurement in a fresh child process (this process's tsx loader, one thread per library; `env` on top). */
function runChild<T extends ChildResult>(task: ChildTask, env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_SCRIPT, [JSON.stringify(task)], {
      env: { ...process.env, ...SINGLE_THREAD_ENV, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    let result: T | undefined;
    child.on('message', (message) => {
      result = message as T;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`bench child ${task.kind} exited with ${signal ?? code} before reporting`));
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Milliseconds from spawning `command` to its exit. */
function msToExit(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(performance.now() - started));
  });
}

/** How a run's process starts: as a sweep starts it (src/run.ts through tsx), or from compiled JavaScript. */
interface RunEntry {
  file: string;
  execArgv: string[];
}

/** Milliseconds from forking a run to its 'started' message; the process then runs to its end. */
function msToTrainingLoop(entry: RunEntry, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const spawned = performance.now();
    let startedAfter: number | null = null;
    const child = fork(entry.file, args, { execArgv: entry.execArgv, env: { ...process.env, ...SINGLE_THREAD_ENV }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('message', (message: { type?: string }) => {
      if (message.type === 'started' && startedAfter === null) startedAfter = performance.now() - spawned;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (startedAfter !== null && code === 0) resolve(startedAfter);
      else reject(new Error(`bench: run ${args.join(' ')} exited with ${code} (started: ${startedAfter !== null}): ${stderr.trim()}`));
    });
  });
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The project compiled by tsc into `outDir` (src/, with package.json and the SIMD kernels'
 * binary beside it, and node_modules linked), for timing a start without tsx.
 */
async function compileProject(outDir: string): Promise<RunEntry> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', path.join(PROJECT_ROOT, 'tsconfig.json'), '--noEmit', 'false', '--outDir', outDir, '--rootDir', PROJECT_ROOT], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench: tsc exited with ${code}`))));
  });
  await fs.copyFile(path.join(PROJECT_ROOT, 'package.json'), path.join(outDir, 'package.json'));
  await fs.copyFile(path.join(PROJECT_ROOT, 'src/agent/dense-simd.wasm'), path.join(outDir, 'src/agent/dense-simd.wasm'));
  await fs.symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(outDir, 'node_modules'));
  return { file: path.join(outDir, 'src/run.js'), execArgv: [] };
}

/**
 * A run's start-up as a sweep trial pays it: a fresh 400-step run that checkpoints at 200,
 * then --resume of that folder (the checkpoint is loaded, the loop starts at its step);
 * each through tsx and from compiled JavaScript, taking turns.
 */
async function measureStartup(starts: number): Promise<StartupFigures> {
  const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-bench-startup-'));
  try {
    const compiled = await compileProject(path.join(logdir, 'compiled'));
    const viaTsx: RunEntry = { file: defaultRunEntry(), execArgv: tsxExecArgv() };
    const times = { node: [] as number[], nodeWithTsx: [] as number[], fresh: [] as number[], resume: [] as number[], compiledFresh: [] as number[], compiledResume: [] as number[] };
    const runArgs = ['--steps', '400', '--trainStart', '100', '--targetUpdateEvery', '100', '--checkpointEvery', '200', '--keepCheckpoints', 'all', '--evalEvery', '0', '--evalGif', 'false'];
    const startAndResume = async (entry: RunEntry, name: string): Promise<[number, number]> => [
      await msToTrainingLoop(entry, [...runArgs, '--evalEpisodes', '1', '--snapshotEvery', '0', '--logdir', logdir, '--name', name]),
      await msToTrainingLoop(entry, ['--resume', path.join(logdir, name)]),
    ];
    for (let i = 0; i < starts; i++) {
      times.node.push(await msToExit(process.execPath, ['-e', '']));
      times.nodeWithTsx.push(await msToExit(process.execPath, [...tsxExecArgv(), '-e', '']));
      const [fresh, resume] = await startAndResume(viaTsx, `tsx-${i}`);
      const [compiledFresh, compiledResume] = await startAndResume(compiled, `compiled-${i}`);
      times.fresh.push(fresh);
      times.resume.push(resume);
      times.compiledFresh.push(compiledFresh);
      times.compiledResume.push(compiledResume);
    }
    return {
      starts,
      nodeMs: median(times.node),
      nodeWithTsxMs: median(times.nodeWithTsx),
      freshMs: median(times.fresh),
      resumeMs: median(times.resume),
      compiledFreshMs: median(times.compiledFresh),
      compiledResumeMs: median(times.compiledResume),
    };
  } finally {
    await fs.rm(logdir, { recursive: true, force: true });
  }
}

function machine(loadAtStart: number): BenchReport['machine'] {
  return {
    loadAverage: [loadAtStart, os.loadavg()[0]!],
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism(),
    memoryGb: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

async function runBench(plan: BenchPlan, log: (line: string) => void): Promise<BenchReport> {
  const date = new Date().toISOString();
  const loadAtStart = os.loadavg()[0]!;
  const engines = {} as Record<Engine, EngineFigures>;
  for (const engine of ['fused', 'tfjs'] as const) {
    log(`measuring the ${engine} engine (${plan.trainSteps[engine]} training steps end to end)...`);
    engines[engine] = await runChild<EngineFigures>({ kind: 'engine', engine, setup: 'toptal', trainSteps: plan.trainSteps[engine], seconds: plan.seconds });
  }
  const kernels: KernelComparison[] = [];
  for (const setup of ['toptal', 'preset128', 'sb3'] as const) {
    log(`measuring the fused engine's kernels on the ${setup} setup (${plan.kernelSteps[setup]} training steps end to end, SIMD then JavaScript)...`);
    const task: ChildTask = { kind: 'engine', engine: 'fused', setup, trainSteps: plan.kernelSteps[setup], seconds: plan.seconds };
    const simd = await runChild<EngineFigures>(task);
    const js = await runChild<EngineFigures>(task, { RLSWEEP_SIMD: '0' });
    kernels.push({ setup, simd, js });
  }
  log(`measuring start-up and resume (${plan.starts} each)...`);
  const startup = await measureStartup(plan.starts);
  log('measuring raw environment steps...');
  const envs = await runChild<EnvFigures[]>({ kind: 'envs', seconds: plan.envSeconds });
  log(`measuring sweep scaling (${plan.sweepTrials} trials of ${plan.sweepTrialSteps} steps at concurrency 1, then 2)...`);
  const sweep = await measureSweepScaling(plan.sweepTrials, plan.sweepTrialSteps);
  let longRun: LongRunFigures | null = null;
  if (plan.longRunSteps !== null) {
    log(`measuring RSS over a ${plan.longRunSteps}-step default run (fused)...`);
    longRun = await runChild<LongRunFigures>({ kind: 'long', steps: plan.longRunSteps });
  }
  const { fused, tfjs } = engines;
  const ratios = {
    envSteps: fused.envStepsPerSecond / tfjs.envStepsPerSecond,
    gradientSteps: fused.gradientStepsPerSecond / tfjs.gradientStepsPerSecond,
    greedyAction: tfjs.greedyActionMicroseconds / fused.greedyActionMicroseconds,
    rss: fused.rssMb / tfjs.rssMb,
  };
  return { date, machine: machine(loadAtStart), mode: plan.mode, engines, ratios, kernels, startup, envs, sweep, longRun };
}

// --- report -----------------------------------------------------------------------------

interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

const fixed = (value: number, digits = 0): string => value.toFixed(digits);
const times = (ratio: number): string => `${ratio.toFixed(1)}x`;
const millions = (perSecond: number): string => `${(perSecond / 1e6).toFixed(2)}M`;
const check = (ok: boolean, target: string): string => `${ok ? 'ok' : 'MISSED'} (${target})`;

function enginesTable(report: BenchReport): Table {
  const { fused, tfjs } = report.engines;
  const { ratios } = report;
  const ratioTarget = (ratio: number): string => check(ratio >= TARGETS.ratio, `>= ${TARGETS.ratio}x`);
  const fusedTarget = check(fused.envStepsPerSecond >= TARGETS.fusedEnvStepsPerSecond, `fused >= ${TARGETS.fusedEnvStepsPerSecond}/s`);
  return {
    title: `Engines (MountainCar-v0 default config; end to end over ${fused.trainSteps} | ${tfjs.trainSteps} training steps)`,
    header: ['measure', 'fused', 'tfjs', 'fused/tfjs', 'target'],
    rows: [
      ['env steps/s, end to end', fixed(fused.envStepsPerSecond), fixed(tfjs.envStepsPerSecond), times(ratios.envSteps), `${ratioTarget(ratios.envSteps)}, ${fusedTarget}`],
      ['gradient steps/s (batch 64)', fixed(fused.gradientStepsPerSecond), fixed(tfjs.gradientStepsPerSecond), times(ratios.gradientSteps), ratioTarget(ratios.gradientSteps)],
      ['greedy action (µs)', fixed(fused.greedyActionMicroseconds, 2), fixed(tfjs.greedyActionMicroseconds, 1), `${times(ratios.greedyAction)} faster`, ''],
      ['process RSS after the run (MB)', fixed(fused.rssMb), fixed(tfjs.rssMb), ratios.rss.toFixed(2), `peak ${fixed(fused.peakRssMb)} | ${fixed(tfjs.peakRssMb)} MB`],
    ],
  };
}

const SETUP_TITLES: Record<BenchSetup, string> = {
  toptal: 'Toptal default (2x32, 1 gradient step per env step)',
  preset128: 'preset 128x128 (8 gradient steps every 16 env steps)',
  sb3: "Toptal default with SB3's settings (Huber, global-norm clip, PyTorch init)",
};

function kernelTarget(setup: BenchSetup, ratio: number): string {
  if (setup === 'toptal') return check(ratio >= TARGETS.simdToptal, `>= ${TARGETS.simdToptal}x`);
  if (setup === 'preset128') return check(ratio >= TARGETS.simdPreset128, `>= ${TARGETS.simdPreset128}x`);
  return '';
}

function kernelsTable(report: BenchReport): Table {
  const rows = report.kernels.flatMap(({ setup, simd, js }) => {
    const wall = simd.envStepsPerSecond / js.envStepsPerSecond;
    const cpu = simd.envStepsPerCpuSecond / js.envStepsPerCpuSecond;
    const gradient = simd.gradientStepsPerCpuSecond / js.gradientStepsPerCpuSecond;
    const action = js.greedyActionCpuMicroseconds / simd.greedyActionCpuMicroseconds;
    return [
      [`${SETUP_TITLES[setup]}: env steps/s, end to end`, fixed(simd.envStepsPerSecond), fixed(js.envStepsPerSecond), times(wall), kernelTarget(setup, wall)],
      ['  the same per CPU second', fixed(simd.envStepsPerCpuSecond), fixed(js.envStepsPerCpuSecond), times(cpu), kernelTarget(setup, cpu)],
      ['  gradient steps per CPU second (batch 64)', fixed(simd.gradientStepsPerCpuSecond), fixed(js.gradientStepsPerCpuSecond), times(gradient), ''],
      ['  greedy action (CPU µs)', fixed(simd.greedyActionCpuMicroseconds, 2), fixed(js.greedyActionCpuMicroseconds, 2), `${times(action)} faster`, ''],
    ];
  });
  return {
    title:
      'Fused engine kernels: WebAssembly SIMD vs JavaScript (RLSWEEP_SIMD=0), bit-identical results; MountainCar-v0. ' +
      "Per CPU second: this process's CPU time, which other processes on a shared machine distort less than the wall clock",
    header: ['measure', 'SIMD', 'JavaScript', 'SIMD/JS', 'target'],
    rows,
  };
}

function startupTable(startup: StartupFigures): Table {
  return {
    title:
      `Start-up: milliseconds from spawning a run to its training loop; median of ${startup.starts}. ` +
      'Through tsx as a sweep starts a trial (node --import tsx src/run.ts), and from JavaScript compiled beforehand by tsc (node run.js)',
    header: ['what', 'through tsx', 'compiled'],
    rows: [
      ['node -e "" (to exit)', '', fixed(startup.nodeMs)],
      ['node --import tsx -e "" (to exit)', fixed(startup.nodeWithTsxMs), ''],
      ['fresh run: process start to the training loop', fixed(startup.freshMs), fixed(startup.compiledFreshMs)],
      ['--resume: process start to the loop (checkpoint loaded)', fixed(startup.resumeMs), fixed(startup.compiledResumeMs)],
    ],
  };
}

function envsTable(report: BenchReport): Table {
  return {
    title: "Raw environment steps/s (random actions drawn beforehand; stepInto fills the caller's array, step returns a new one)",
    header: ['env', 'stepInto', 'step', 'target'],
    rows: report.envs.map((figures) => [
      figures.env,
      millions(figures.stepIntoPerSecond),
      millions(figures.stepPerSecond),
      figures.env === 'MountainCar-v0' ? check(figures.stepIntoPerSecond >= TARGETS.mountainCarStepsPerSecond, '> 1M/s') : '',
    ]),
  };
}

function sweepTable(sweep: SweepFigures): Table {
  return {
    title:
      `Sweep scaling: ${sweep.trials} identical default trials of ${sweep.stepsPerTrial} steps (src/run.ts child processes; ` +
      `load average ${sweep.loadAverage.map((load) => load.toFixed(1)).join(' -> ')})`,
    header: ['trials', 'concurrency 1 (s)', 'concurrency 2 (s)', 'speedup', 'cores available', 'target'],
    rows: [
      [
        `${sweep.trials} x ${sweep.stepsPerTrial} steps`,
        fixed(sweep.serialSeconds, 1),
        fixed(sweep.parallelSeconds, 1),
        `${sweep.speedup.toFixed(2)}x`,
        sweep.coresAvailable.toFixed(2),
        check(sweep.speedup >= TARGETS.sweepSpeedup, `>= ${TARGETS.sweepSpeedup}x`),
      ],
    ],
  };
}

function longRunTable(longRun: LongRunFigures): Table {
  const flat = Math.abs(longRun.rssEndMb - longRun.rssStartMb) <= TARGETS.rssDriftMb;
  const under = longRun.rssMaxMb < TARGETS.rssMb;
  return {
    title: `RSS of one training process over ${longRun.steps} steps of the default config (fused; evaluations, GIFs, snapshots, checkpoints)`,
    header: ['run', 'RSS at start (MB)', 'at end (MB)', 'max (MB)', 'array buffers start | end (MB)', 'seconds', 'target'],
    rows: [
      [
        `${longRun.steps} steps`,
        fixed(longRun.rssStartMb),
        fixed(longRun.rssEndMb),
        fixed(longRun.rssMaxMb),
        `${fixed(longRun.arrayBuffersStartMb)} | ${fixed(longRun.arrayBuffersEndMb)}`,
        fixed(longRun.seconds),
        `${check(flat, `flat within ${TARGETS.rssDriftMb} MB`)}, ${check(under, `< ${TARGETS.rssMb} MB`)}`,
      ],
    ],
  };
}

function reportTables(report: BenchReport): Table[] {
  const tables = [enginesTable(report), kernelsTable(report), startupTable(report.startup), envsTable(report), sweepTable(report.sweep)];
  if (report.longRun) tables.push(longRunTable(report.longRun));
  return tables;
}

function title(report: BenchReport): string {
  const { machine: m } = report;
  return (
    `rlsweep bench (${report.mode}) ${report.date.slice(0, 16).replace('T', ' ')} UTC: ${m.cpu}, ${m.cores} cores, ` +
    `${m.memoryGb.toFixed(0)} GB, Node ${m.node}, ${m.platform}; load average ${m.loadAverage.map((load) => load.toFixed(1)).join(' -> ')}; ` +
    `tfjs backend ${report.engines.tfjs.backend}`
  );
}

function textTable(table: Table): string {
  const rows = [table.header, ...table.rows];
  const widths = table.header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  // Text columns (the first and the target) align left, figures right.
  const leftAligned = (column: number): boolean => column === 0 || table.header[column] === 'target';
  const line = (row: string[]): string =>
    row
      .map((cell, column) => (leftAligned(column) ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [table.title, ...rows.map(line)].join('\n');
}

function markdownTable(table: Table): string {
  const line = (row: string[]): string => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  const rule = `|${table.header.map((name, column) => (column === 0 || name === 'target' ? '---' : '---:')).join('|')}|`;
  return [`**${table.title}**`, '', line(table.header), rule, ...table.rows.map(line)].join('\n');
}

function textReport(report: BenchReport): string {
  return [title(report), ...reportTables(report).map(textTable)].join('\n\n');
}

function markdownReport(report: BenchReport): string {
  return `${[`### ${title(report)}`, ...reportTables(report).map(markdownTable)].join('\n\n')}\n`;
}

async function writeReport(report: BenchReport, outDir: string): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  const jsonFile = path.join(outDir, 'perf.json');
  const markdownFile = path.join(outDir, 'perf.md');
  await fs.writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(markdownFile, markdownReport(report));
  return [jsonFile, markdownFile];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-long': { type: 'boolean', default: false },
      out: { type: 'string', default: 'benchmarks' },
    },
  });
  const plan = benchPlan(values.quick, !values['no-long']);
  const report = await runBench(plan, (line) => console.error(line));
  console.log(textReport(report));
  // The Python env bridge's overhead per step (issue 18), measured in its own file.
  console.log(`\n${await bridgeBenchLine(plan.envSeconds)}`);
  const files = await writeReport(report, values.out);
  console.log(`\nwrote ${files.join(', ')}`);
}

await main();
