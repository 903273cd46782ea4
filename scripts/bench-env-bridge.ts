/**
 * What a step costs through the Python Gymnasium bridge (issue 18): the fixture walk
 * (test/fixtures/gym_line_walk.py) stepped from rlsweep over the pipe, the same env stepped
 * inside Python alone, and their difference, the bridge's own overhead per step. The same
 * walk written as a TypeScript module env is timed too, for scale. Part of `npm run bench`
 * (one line), or alone: `npm run bench:bridge` (`-- --seconds 3`).
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { makeEnv } from '../src/envs/index.js';
import { prepareEnv } from '../src/envs/load-env.js';
import { pythonExecutable } from '../src/envs/python-bridge.js';
import { Rng } from '../src/util/random.js';

const PYTHON_ENV = 'gym:test/fixtures/gym_line_walk.py:LineWalk';
const MODULE_ENV = './test/fixtures/envs/line-walk.ts:LineWalk';

export interface BridgeFigures {
  /** Microseconds per step through the bridge (rlsweep's checks included). */
  bridgeMicroseconds: number;
  /** Microseconds per step of the same env inside Python, no bridge. */
  pythonMicroseconds: number;
  /** The bridge's own cost per step: the difference. */
  overheadMicroseconds: number;
  /** The same walk as a TypeScript module env, for scale. */
  moduleMicroseconds: number;
  python: string;
  /** The 1-minute load average when measured: on a shared machine each round trip waits for a core. */
  loadAverage: number;
}

/** Microseconds per step of random play on an env this process can make, for about `seconds`. */
function stepMicroseconds(envId: string, seconds: number): number {
  const env = makeEnv(envId);
  const rng = new Rng(0);
  const observation = new Float32Array(env.observationSize);
  env.resetInto(observation, { seed: 0 });
  let steps = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      const status = env.stepInto(rng.nextInt(env.actionCount), observation);
      if (status.terminated || status.truncated) env.resetInto(observation);
    }
    steps += 100;
  }
  return ((performance.now() - start) * 1000) / steps;
}

/** The fixture stepped by Python itself, timed there. */
function pythonOnlyMicroseconds(seconds: number): number {
  const program = [
    'import random, sys, time',
    'sys.path.insert(0, "test/fixtures")',
    'from gym_line_walk import LineWalk',
    'env = LineWalk(); env.reset(seed=0); pick = random.Random(0)',
    'steps = 0; start = time.perf_counter(); end = start + float(sys.argv[1])',
    'while time.perf_counter() < end:',
    '    for _ in range(100):',
    '        _, _, terminated, truncated, _ = env.step(pick.randrange(2))',
    '        if terminated or truncated: env.reset()',
    '    steps += 100',
    'print((time.perf_counter() - start) * 1e6 / steps)',
  ].join('\n');
  const result = spawnSync(pythonExecutable(), ['-c', program, String(seconds)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`timing the fixture in Python failed: ${result.stderr || result.error?.message}`);
  return Number(result.stdout.trim());
}

export async function measureBridgeOverhead(seconds: number): Promise<BridgeFigures> {
  await prepareEnv(PYTHON_ENV);
  await prepareEnv(MODULE_ENV);
  const bridgeMicroseconds = stepMicroseconds(PYTHON_ENV, seconds);
  const pythonMicroseconds = pythonOnlyMicroseconds(seconds);
  const moduleMicroseconds = stepMicroseconds(MODULE_ENV, seconds);
  const version = spawnSync(pythonExecutable(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { loadAverage: os.loadavg()[0] ?? 0, bridgeMicroseconds, pythonMicroseconds, overheadMicroseconds: bridgeMicroseconds - pythonMicroseconds, moduleMicroseconds, python: version };
}

/** The bench's line, or why the bridge could not be measured (no python3 here). */
export async function bridgeBenchLine(seconds: number): Promise<string> {
  try {
    return bridgeLine(await measureBridgeOverhead(seconds));
  } catch (error) {
    return `Python bridge: not measured (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
  }
}

/** The one line `npm run bench` prints. */
export function bridgeLine(figures: BridgeFigures): string {
  const us = (value: number): string => `${value.toFixed(1)} µs`;
  return (
    `Python bridge (${figures.python}, fixture walk): ${us(figures.bridgeMicroseconds)}/step through the bridge, ${us(figures.pythonMicroseconds)}/step inside Python, ` +
    `overhead ${us(figures.overheadMicroseconds)}/step; the same walk as a TypeScript module env ${us(figures.moduleMicroseconds)}/step (load average ${figures.loadAverage.toFixed(1)} on ${os.availableParallelism()} cores)`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
  console.log(bridgeLine(await measureBridgeOverhead(Number(values.seconds))));
}
