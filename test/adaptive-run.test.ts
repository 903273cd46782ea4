/**
 * Adaptive sweeps end to end with real runs: `sweep run` of a bayes + ASHA sweep, killed
 * with kill -9 mid-search and run again, ends with the same journal (suggestions and
 * decisions) as a sweep never killed, no segment run twice; stopped trials exit 0.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRun } from '../src/tensorboard/index.js';

const ROOT = process.cwd();
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');
const TSX = import.meta.resolve('tsx');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, test: () => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sweepFile(file: string, name: string): void {
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'method: bayes',
      'run_cap: 3',
      'sweep_seed: 5',
      'bayes: { n_startup_trials: 2 }',
      'seeds: [0, 1]',
      'early_terminate: { type: asha, min_steps: 200, reduction_factor: 2 }',
      'parameters:',
      '  env: { value: CartPole-v1 }',
      '  steps: { value: 800 }',
      '  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }',
      '  trainStart: { value: 100 }',
      '  bufferSize: { value: 1000 }',
      '  qValidationSize: { value: 50 }',
      '  evalEvery: { value: 200 }',
      '  evalEpisodes: { value: 1 }',
      '  logEvery: { value: 100 }',
      '  checkpointEvery: { value: 100 }',
      '  snapshotEvery: { value: 0 }',
      '  evalGif: { value: false }',
      '',
    ].join('\n'),
  );
}

function runSweep(args: string[]): { code: number | null; output: string } {
  const result = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The journal's entries after its first line (which names the search, the same for both sweeps). */
function journalEntries(sweepDir: string): string[] {
  return readFileSync(path.join(sweepDir, 'journal.jsonl'), 'utf8').trim().split('\n').slice(1);
}

describe('adaptive sweep end to end (real runs)', function () {
  this.timeout(600_000);
  let tmp: string;
  let logdir: string;
  /** The journal of the sweep run straight through, never stopped. */
  let expected: string[];
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-adaptive-run-'));
    logdir = path.join(tmp, 'runs');
    const straightFile = path.join(tmp, 'straight.yaml');
    sweepFile(straightFile, 'straight');
    const straight = runSweep(['run', straightFile, '--logdir', logdir, '--concurrency', '1', '--progress-every', '0']);
    // Stopped trials are a normal end: exit 0.
    expect(straight.code, straight.output).to.equal(0);
    expect(straight.output).to.match(/stopped early by asha/);
    expected = journalEntries(path.join(logdir, 'straight'));
    expect(
      expected.some((line) => line.includes('"stopped"')),
      expected.join('\n'),
    ).to.equal(true);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('Ctrl-C stops the running trials (exit 130); the same command continues the search with the same decisions', async () => {
    const file = path.join(tmp, 'interrupted.yaml');
    sweepFile(file, 'interrupted');
    const sweepDir = path.join(logdir, 'interrupted');
    const args = ['run', file, '--logdir', logdir, '--concurrency', '1', '--progress-every', '0'];
    const parent = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    parent.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => parent.on('close', resolve));
    const journal = path.join(sweepDir, 'journal.jsonl');
    await waitFor('a second suggestion', () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"configIndex":1,"assignment"'));
    parent.kill('SIGINT');
    expect(await exited, output).to.equal(130);
    expect(output).to.include('the search continues from its journal on a rerun');
    expect(output).to.match(/To resume: .*run .*interrupted\.yaml/);
    const rerun = runSweep(args);
    expect(rerun.code, rerun.output).to.equal(0);
    expect(journalEntries(sweepDir)).to.deep.equal(expected);
    const status = spawnSync(process.execPath, ['--import', TSX, CLI, 'status', sweepDir], { cwd: ROOT, encoding: 'utf8' });
    expect(status.stdout).to.match(/^search: 3 configurations suggested \(the searcher has no more\), \d+ rung results, [1-9]\d* promoted, [1-9]\d* stopped early/m);
  });

  it('kill -9 of the sweep mid-search, then a rerun: the same suggestions and decisions as a sweep never killed, each step run once', async () => {
    const file = path.join(tmp, 'killed.yaml');
    sweepFile(file, 'killed');
    const sweepDir = path.join(logdir, 'killed');
    const args = ['run', file, '--logdir', logdir, '--concurrency', '1', '--progress-every', '0'];
    const parent = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, stdio: 'ignore' });
    const parentExit = new Promise((resolve) => parent.on('exit', resolve));
    const journal = path.join(sweepDir, 'journal.jsonl');
    // Mid-search: after the first promotion, while its trials run.
    await waitFor('a promotion in the journal', () => existsSync(journal) && readFileSync(journal, 'utf8').includes('"promoted"'));
    parent.kill('SIGKILL');
    await parentExit;
    // Its trials notice their parent is gone, checkpoint and exit.
    const trialDirs = (): string[] =>
      readdirSync(sweepDir)
        .filter((name) => name.startsWith('learningRate='))
        .map((name) => path.join(sweepDir, name));
    const runningPids = (): number[] =>
      trialDirs()
        .map((dir) => JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; pid: number | null })
        .filter((status) => status.state === 'running' && status.pid !== null)
        .map((status) => status.pid!);
    await waitFor('the orphaned trials to exit', () => runningPids().every((pid) => !alive(pid)), 60_000);

    const rerun = runSweep(args);
    expect(rerun.code, rerun.output).to.equal(0);
    expect(journalEntries(sweepDir)).to.deep.equal(expected);
    // Every trial: each step once in its event files, and it ended where the straight sweep's twin did.
    for (const dir of trialDirs()) {
      const steps = readRun(dir).scalars['train/episode_return']!.map(([step]) => step);
      expect(
        steps.every((step, i) => i === 0 || step > steps[i - 1]!),
        `${dir}: ${steps.join(',')}`,
      ).to.equal(true);
      const twin = path.join(logdir, 'straight', path.basename(dir));
      const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; step: number };
      const twinStatus = JSON.parse(readFileSync(path.join(twin, 'status.json'), 'utf8')) as { state: string; step: number };
      expect([status.state, status.step]).to.deep.equal([twinStatus.state, twinStatus.step]);
    }
  });
});
