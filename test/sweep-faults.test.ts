import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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

async function waitFor(what: string, test: () => boolean, timeoutMs = 120_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

function status(dir: string): { state: string; pid: number | null; step: number } {
  return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state: string; pid: number | null; step: number };
}

/** A sweep file of CartPole trials that train after 200 steps and write no evaluation GIF; `parameters` adds its own lines. */
function writeSweepFile(file: string, head: string[], parameters: string[]): void {
  writeFileSync(
    file,
    [
      ...head,
      'method: grid',
      'parameters:',
      '  env: { value: CartPole-v1 }',
      '  trainStart: { value: 200 }',
      '  bufferSize: { value: 2000 }',
      '  qValidationSize: { value: 100 }',
      '  evalEvery: { value: 0 }',
      '  evalEpisodes: { value: 1 }',
      '  snapshotEvery: { value: 0 }',
      '  evalGif: { value: false }',
      ...parameters,
      '',
    ].join('\n'),
  );
}

/** `sweep <args>` as a child process, with its stdout and stderr. */
function startSweep(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; output: string }> } {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, output }))) };
}

describe('sweep: kill -9 of the sweep parent', function () {
  this.timeout(300_000);
  let tmp: string;
  /** Trial processes a test froze (SIGSTOP): killed after it, should it fail before they have exited. */
  let frozen: number[];
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-faults-'));
    frozen = [];
  });
  afterEach(() => {
    for (const pid of frozen.filter(alive)) {
      process.kill(pid, 'SIGKILL');
      process.kill(pid, 'SIGCONT');
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('its children checkpoint and exit; a rerun resumes every incomplete trial and repeats no finished one', async () => {
    // Short enough that the rerun is quick; the long trials are frozen (SIGSTOP) once they
    // have a checkpoint, so they are still running when the parent is killed however fast they train.
    const LONG = 4000;
    const file = path.join(tmp, 'faults.yaml');
    writeSweepFile(
      file,
      ['name: faults', 'seeds: [0]', 'concurrency: 3'],
      [`  steps: { values: [400, ${LONG}] }`, '  learningRate: { values: [0.001, 0.002] }', '  logEvery: { value: 100 }', '  checkpointEvery: { value: 200 }'],
    );
    const logdir = path.join(tmp, 'runs');
    const sweepDir = path.join(logdir, 'faults');
    const parent = spawn(process.execPath, ['--import', TSX, CLI, 'run', file, '--logdir', logdir, '--progress-every', '0'], { cwd: ROOT, stdio: 'ignore' });
    const parentExit = new Promise((resolve) => parent.on('exit', resolve));
    const trialDirs = (): string[] =>
      existsSync(sweepDir)
        ? readdirSync(sweepDir)
            .filter((n) => n.startsWith('steps='))
            .map((n) => path.join(sweepDir, n))
        : [];
    const shortDirs = (): string[] => trialDirs().filter((d) => path.basename(d).startsWith('steps=400,'));
    const longDirs = (): string[] => trialDirs().filter((d) => path.basename(d).startsWith(`steps=${LONG},`));
    const hasCheckpoint = (dir: string): boolean => existsSync(path.join(dir, 'checkpoints')) && readdirSync(path.join(dir, 'checkpoints')).some((n) => n.startsWith('step-'));
    const running = (dir: string): { pid: number } | undefined => {
      const s = existsSync(path.join(dir, 'status.json')) ? status(dir) : undefined;
      return s?.state === 'running' && s.pid !== null ? { pid: s.pid } : undefined;
    };

    // Wait until one short trial is done and both long ones are running with a checkpoint;
    // freeze each long one as soon as it is, so that it cannot finish meanwhile.
    const longFrozen = new Set<string>();
    await waitFor(
      'a finished short trial and checkpointed long trials',
      () => {
        for (const dir of longDirs().filter((d) => !longFrozen.has(d) && hasCheckpoint(d))) {
          const run = running(dir);
          expect(run, `${dir} ended before it could be frozen: ${JSON.stringify(status(dir))}`).not.to.equal(undefined);
          process.kill(run!.pid, 'SIGSTOP');
          frozen.push(run!.pid);
          longFrozen.add(dir);
        }
        const done = shortDirs().filter((d) => existsSync(path.join(d, 'status.json')) && status(d).state === 'done');
        return done.length >= 1 && longFrozen.size === 2;
      },
      120_000,
      20,
    );
    const finished = shortDirs().filter((d) => status(d).state === 'done');
    const finishedMtimes = finished.map((d) => statSync(path.join(d, 'status.json')).mtimeMs);
    const childPids = trialDirs()
      .map(running)
      .filter((run) => run !== undefined)
      .map((run) => run.pid);
    expect(childPids.length).to.be.at.least(2);
    parent.kill('SIGKILL');
    await parentExit;
    for (const pid of frozen) process.kill(pid, 'SIGCONT');

    // The children notice their parent is gone, checkpoint and exit by themselves.
    await waitFor('the orphaned trials to exit', () => childPids.every((pid) => !alive(pid)), 60_000);
    frozen = []; // gone: their pids may be reused
    for (const dir of longDirs()) {
      const log = readFileSync(path.join(dir, 'stdout.log'), 'utf8');
      const step = Number(/Interrupted at step (\d+)/.exec(log)?.[1]);
      expect(step, `${dir}: ${log.slice(-500)}`)
        .to.be.above(0)
        .and.below(LONG);
      expect(readdirSync(path.join(dir, 'checkpoints'))).to.include(`step-${step}`);
    }

    // sweep status tells the truth: the killed sweep's trials are gone (no speed, no ETA), and how to resume.
    const shown = spawnSync(process.execPath, ['--import', TSX, CLI, 'status', sweepDir], { cwd: ROOT, encoding: 'utf8' });
    expect(shown.status, shown.stderr).to.equal(0);
    for (const dir of longDirs()) {
      const row = shown.stdout.split('\n').find((line) => line.includes(path.basename(dir)));
      expect(row, shown.stdout).to.match(
        new RegExp(
          `^gone\\s+${path.basename(dir).replace(/[.=,]/g, '\\$&')}\\s+\\d+/${LONG}\\s+\\S+\\s+-\\s+-\\s+no longer running: the sweep process that ran it \\(pid ${parent.pid}\\) is gone, and so is its run`,
        ),
      );
    }
    expect(shown.stdout).to.match(/Sweep faults .*gone \d/);
    expect(shown.stdout).to.include(`resume the sweep with: `);
    expect(shown.stdout).to.include(`run ${file} --logdir ${logdir}`);

    // A rerun resumes the incomplete trials from their checkpoints and leaves the finished one alone.
    const { code, stdout } = await startSweep(['run', file, '--logdir', logdir, '--progress-every', '0']).done;
    expect(code, stdout).to.equal(0);
    expect(stdout).to.match(/skipping \d+ done trials?/);
    finished.forEach((dir, i) => {
      expect(statSync(path.join(dir, 'status.json')).mtimeMs, `${dir} was run again`).to.equal(finishedMtimes[i]);
      expect(stdout).not.to.include(`started ${path.basename(dir)}`);
    });
    for (const dir of longDirs()) {
      expect(status(dir).state).to.equal('done');
      const log = readFileSync(path.join(dir, 'stdout.log'), 'utf8');
      expect(log).to.match(new RegExp(`Resuming from .*checkpoints/step-\\d+ \\(step \\d+ of ${LONG}\\)`));
      // Each step appears once in TensorBoard's view of the trial.
      const steps = readRun(dir).scalars['train/episode_return']!.map(([step]) => step);
      expect(new Set(steps).size).to.equal(steps.length);
      expect(steps.every((step, i) => i === 0 || step > steps[i - 1]!)).to.equal(true);
      expect(steps.at(-1)).to.be.at.most(LONG);
    }
  });

  it('a corrupt status.json is named, and its trial counts as not done and runs again', async () => {
    const file = path.join(tmp, 'corrupt.yaml');
    writeSweepFile(file, ['name: corrupt', 'seeds: [0, 1]', 'concurrency: 2'], ['  steps: { value: 300 }', '  logEvery: { value: 100 }']);
    const logdir = path.join(tmp, 'runs');
    const args = ['run', file, '--logdir', logdir, '--progress-every', '0'];
    const first = await startSweep(args).done;
    expect(first.code, first.output).to.equal(0);
    const dir = path.join(logdir, 'corrupt', 'seed=0');
    writeFileSync(path.join(dir, 'status.json'), '{"state": "do');
    const { code, output } = await startSweep(args).done;
    expect(code, output).to.equal(0);
    expect(output).to.contain(`warning: ${path.join(dir, 'status.json')} is not valid JSON`);
    expect(output).to.contain('the trial counts as not done');
    // The other trial, intact and done, is the one skipped.
    expect(output).to.match(/skipping 1 done trial /);
    expect(output).to.contain('started seed=0');
    expect(output).not.to.contain('started seed=1');
    expect(status(dir).state).to.equal('done');
  });
});
