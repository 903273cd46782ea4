/**
 * Sweep scaling: identical trials run as a sweep runs them (one `src/run.ts` child process
 * each, single-threaded), timed at several concurrencies. Used by `npm run bench` (4 trials at
 * concurrency 1 and 2) and `npm run bench:scaling` (any trial count and concurrencies, e.g.
 * on a machine with many cores).
 */
import { fork, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SINGLE_THREAD_ENV, defaultRunEntry, tsxExecArgv } from '../src/sweep/executor.js';

export interface SweepFigures {
  trials: number;
  stepsPerTrial: number;
  /** Wall seconds to run all trials at concurrency 1 and 2. */
  serialSeconds: number;
  parallelSeconds: number;
  speedup: number;
  /** 1-minute load average before each phase and after: other processes on the machine take cores too. */
  loadAverage: number[];
  /**
   * Cores' worth of CPU the machine gave two busy processes just before (2 on an idle
   * 2-core machine, 1 when something else keeps one core busy): the ceiling of the speedup.
   */
  coresAvailable: number;
}

/** One `node --import tsx src/run.ts --config ...` trial, as a sweep starts it; resolves when it ends. */
function runTrial(configFile: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(defaultRunEntry(), ['--config', configFile, '--name', name], {
      execArgv: tsxExecArgv(),
      env: { ...process.env, ...SINGLE_THREAD_ENV },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trial ${name} exited with ${code}: ${stderr.trim()}`))));
  });
}

/** A fixed CPU-bound loop in a fresh Node process; resolves with its wall seconds. */
function busyLoop(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', 'let x = 0; for (let i = 0; i < 1.5e9; i++) x += i & 1; if (x < 0) console.log(x);'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve((performance.now() - started) / 1000));
  });
}

/** How many cores' worth of CPU two concurrent processes get now, from one busy loop alone and two at once. */
export async function coresAvailable(): Promise<number> {
  const alone = await busyLoop();
  const together = await Promise.all([busyLoop(), busyLoop()]);
  return (2 * alone) / Math.max(...together);
}

/** Wall seconds to run `count` trials with at most `concurrency` at a time. */
export async function runTrials(configFile: string, count: number, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await runTrial(configFile, `c${concurrency}-trial-${next++}`);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}

export interface ScalingRow {
  concurrency: number;
  seconds: number;
}

/** Wall seconds of `trials` identical default trials of `steps` steps at each concurrency, in order. */
export async function measureScaling(trials: number, steps: number, concurrencies: number[], onRow?: (row: ScalingRow) => void): Promise<ScalingRow[]> {
  const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-bench-scaling-'));
  try {
    const configFile = path.join(logdir, 'trial.json');
    await fs.writeFile(configFile, JSON.stringify({ steps, logdir }));
    const rows: ScalingRow[] = [];
    for (const concurrency of concurrencies) {
      const row = { concurrency, seconds: await runTrials(configFile, trials, concurrency) };
      rows.push(row);
      onRow?.(row);
    }
    return rows;
  } finally {
    await fs.rm(logdir, { recursive: true, force: true });
  }
}

export async function measureSweepScaling(trials: number, steps: number): Promise<SweepFigures> {
  const logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-bench-sweep-'));
  try {
    const configFile = path.join(logdir, 'trial.json');
    await fs.writeFile(configFile, JSON.stringify({ steps, logdir }));
    const cores = await coresAvailable();
    const loadAverage = [os.loadavg()[0]!];
    const serialSeconds = await runTrials(configFile, trials, 1);
    loadAverage.push(os.loadavg()[0]!);
    const parallelSeconds = await runTrials(configFile, trials, 2);
    loadAverage.push(os.loadavg()[0]!);
    return { trials, stepsPerTrial: steps, serialSeconds, parallelSeconds, speedup: serialSeconds / parallelSeconds, loadAverage, coresAvailable: cores };
  } finally {
    await fs.rm(logdir, { recursive: true, force: true });
  }
}
