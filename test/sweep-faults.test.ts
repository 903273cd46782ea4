import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

async function waitFor(what: string, test: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function status(dir: string): { state: string; pid: number | null; step: number } {
  return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; pid: number | null; step: number };
}

describe('sweep: kill -9 of the sweep parent', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-faults-')); });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  let file: string;
  let logdir: string;

  it('its children checkpoint and exit; a rerun resumes every incomplete trial and repeats no finished one', async () => {
    file = path.join(tmp, 'faults.yaml');
    writeFileSync(file, [
      'name: faults', 'method: grid', 'seeds: [0]', 'concurrency: 3', 'parameters:',
      '  env: { value: CartPole-v1 }', '  steps: { values: [400, 40000] }', '  learningRate: { values: [0.001, 0.002] }',
      '  trainStart: { value: 200 }', '  bufferSize: { value: 2000 }', '  qValidationSize: { value: 100 }',
      '  evalEvery: { value: 0 }', '  evalEpisodes: { value: 1 }', '  logEvery: { value: 200 }', '  snapshotEvery: { value: 0 }',
      '  checkpointEvery: { value: 400 }', '  evalGif: { value: false }', '',
    ].join('\n'));
    logdir = path.join(tmp, 'runs');
    const sweepDir = path.join(logdir, 'faults');
    const parent = spawn(process.execPath, ['--import', TSX, CLI, 'run', file, '--logdir', logdir, '--progress-every', '0'], { cwd: ROOT, stdio: 'ignore' });
    const trialDirs = (): string[] => (existsSync(sweepDir) ? readdirSync(sweepDir).filter((n) => n.startsWith('steps=')).map((n) => path.join(sweepDir, n)) : []);
    const shortDirs = (): string[] => trialDirs().filter((d) => path.basename(d).startsWith('steps=400,'));
    const longDirs = (): string[] => trialDirs().filter((d) => path.basename(d).startsWith('steps=40000,'));
    const hasCheckpoint = (dir: string): boolean => existsSync(path.join(dir, 'checkpoints')) && readdirSync(path.join(dir, 'checkpoints')).some((n) => n.startsWith('step-'));

    // Wait until one short trial is done and both long ones are running with a checkpoint.
    await waitFor('a finished short trial and checkpointed long trials', () => {
      const done = shortDirs().filter((d) => existsSync(path.join(d, 'status.json')) && status(d).state === 'done');
      return done.length >= 1 && longDirs().length === 2 && longDirs().every(hasCheckpoint);
    });
    const finished = shortDirs().filter((d) => status(d).state === 'done');
    const finishedMtimes = finished.map((d) => statSync(path.join(d, 'status.json')).mtimeMs);
    const childPids = trialDirs().map((d) => status(d)).filter((s) => s.state === 'running' && s.pid !== null).map((s) => s.pid!);
    expect(childPids.length).to.be.at.least(2);
    parent.kill('SIGKILL');

    // The children notice their parent is gone, checkpoint and exit by themselves.
    await waitFor('the orphaned trials to exit', () => childPids.every((pid) => !alive(pid)), 60_000);
    for (const dir of longDirs()) {
      const log = readFileSync(path.join(dir, 'stdout.log'), 'utf8');
      const step = Number(/Interrupted at step (\d+)/.exec(log)?.[1]);
      expect(step, `${dir}: ${log.slice(-500)}`).to.be.above(0);
      expect(readdirSync(path.join(dir, 'checkpoints'))).to.include(`step-${step}`);
    }

    // sweep status tells the truth: the killed sweep's trials are stopped (no speed, no ETA), and how to resume.
    const shown = spawnSync(process.execPath, ['--import', TSX, CLI, 'status', sweepDir], { cwd: ROOT, encoding: 'utf8' });
    expect(shown.status, shown.stderr).to.equal(0);
    for (const dir of longDirs()) {
      const row = shown.stdout.split('\n').find((line) => line.includes(path.basename(dir)));
      expect(row, shown.stdout).to.match(new RegExp(`^stopped\\s+${path.basename(dir).replace(/[.=,]/g, '\\$&')}\\s+\\d+/40000\\s+\\S+\\s+-\\s+-\\s+no longer running: the sweep process that ran it \\(pid ${parent.pid}\\) is gone, and so is its run`));
    }
    expect(shown.stdout).to.match(/Sweep faults .*stopped \d/);
    expect(shown.stdout).to.include(`resume the sweep with: `);
    expect(shown.stdout).to.include(`run ${file} --logdir ${logdir}`);

    // A rerun resumes the incomplete trials from their checkpoints and leaves the finished one alone.
    const rerun = spawn(process.execPath, ['--import', TSX, CLI, 'run', file, '--logdir', logdir, '--progress-every', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    rerun.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => rerun.on('close', resolve));
    expect(code, stdout).to.equal(0);
    expect(stdout).to.match(/skipping \d+ done trials?/);
    finished.forEach((dir, i) => {
      expect(statSync(path.join(dir, 'status.json')).mtimeMs, `${dir} was run again`).to.equal(finishedMtimes[i]);
      expect(stdout).not.to.include(`started ${path.basename(dir)}`);
    });
    for (const dir of longDirs()) {
      expect(status(dir).state).to.equal('done');
      const log = readFileSync(path.join(dir, 'stdout.log'), 'utf8');
      expect(log).to.match(/Resuming from .*checkpoints\/step-\d+ \(step \d+ of 40000\)/);
      // Each step appears once in TensorBoard's view of the trial.
      const steps = readRun(dir).scalars['train/episode_return']!.map(([step]) => step);
      expect(new Set(steps).size).to.equal(steps.length);
      expect(steps.every((step, i) => i === 0 || step > steps[i - 1]!)).to.equal(true);
      expect(steps.at(-1)).to.be.at.most(40000);
    }
  });

  it('a corrupt status.json is named, and its trial counts as not done and runs again', async () => {
    const dir = path.join(logdir, 'faults', 'steps=400,learningRate=0.001,seed=0');
    writeFileSync(path.join(dir, 'status.json'), '{"state": "do');
    const rerun = spawn(process.execPath, ['--import', TSX, CLI, 'run', file, '--logdir', logdir, '--progress-every', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    rerun.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    rerun.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => rerun.on('close', resolve));
    expect(code, output).to.equal(0);
    expect(output).to.contain(`warning: ${path.join(dir, 'status.json')} is not valid JSON`);
    expect(output).to.contain('the trial counts as not done');
    expect(output).to.match(/skipping 3 done trials/);
    expect(status(dir).state).to.equal('done');
  });
});
