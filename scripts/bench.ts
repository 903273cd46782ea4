/**
 * The performance benchmark of issue #5 (not a test: figures depend on the machine).
 * One run measures, for the fused and the tfjs engine each in its own child process:
 * environment steps/s of the training loop on the default config, gradient steps/s,
 * greedy-action latency and process RSS, and their ratios; then raw environment
 * steps/s, the scaling of a sweep's child processes (4 identical trials at concurrency
 * 1 and 2) and, in the full mode, RSS over a 200k-step default run.
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
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SINGLE_THREAD_ENV } from '../src/sweep/executor.js';
import { measureSweepScaling, type SweepFigures } from './sweep-scaling.js';
import { bridgeBenchLine } from './bench-env-bridge.js';
import type { ChildResult, ChildTask, Engine, EngineFigures, EnvFigures, LongRunFigures } from './bench-child.js';

interface BenchPlan {
  mode: 'full' | 'quick';
  /** Training steps after trainStart timed end to end, per engine. */
  trainSteps: Record<Engine, number>;
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
  envs: EnvFigures[];
  sweep: SweepFigures;
  longRun: LongRunFigures | null;
}

/** The issue's targets, checked in the table. */
const TARGETS = {
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
    return { mode: 'quick', trainSteps: { fused: 6000, tfjs: 2000 }, seconds: 1, envSeconds: 0.3, sweepTrials: 4, sweepTrialSteps: 6000, longRunSteps: null };
  }
  return {
    mode: 'full',
    trainSteps: { fused: 20_000, tfjs: 4000 },
    seconds: 3,
    envSeconds: 1,
    sweepTrials: 4,
    sweepTrialSteps: 15_000,
    longRunSteps: long ? 200_000 : null,
  };
}

const CHILD_SCRIPT = fileURLToPath(new URL('./bench-child.ts', import.meta.url));

/** Runs one measurement in a fresh child process (this process's tsx loader, one thread per library). */
function runChild<T extends ChildResult>(task: ChildTask): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_SCRIPT, [JSON.stringify(task)], {
      env: { ...process.env, ...SINGLE_THREAD_ENV },
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
    engines[engine] = await runChild<EngineFigures>({ kind: 'engine', engine, trainSteps: plan.trainSteps[engine], seconds: plan.seconds });
  }
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
  return { date, machine: machine(loadAtStart), mode: plan.mode, engines, ratios, envs, sweep, longRun };
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
  const tables = [enginesTable(report), envsTable(report), sweepTable(report.sweep)];
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
