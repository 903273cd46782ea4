/**
 * End to end: `sweep run` on sweeps/smoke.yaml (made to fail one configuration),
 * as a child process like a user would run it, with real trial runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseDocument } from 'yaml';
import { readRun } from '../src/tensorboard/index.js';
import type { SweepResults } from '../src/sweep/results.js';
import type { TrialStatus } from '../src/sweep/trial-status.js';

const ROOT = process.cwd();
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');
const TSX = import.meta.resolve('tsx');

interface CliRun {
  child: ChildProcess;
  output: () => string;
  /** Resolves as soon as stdout holds `text` (checked on each chunk, not polled); rejects if the command ends first. */
  printed: (text: string) => Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const printed = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!stdout.includes(text)) return;
        child.stdout!.off('data', check);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
      void done.then(() => reject(new Error(`the command ended without printing ${JSON.stringify(text)}:\n${stdout}${stderr}`)));
    });
  return { child, output: () => stdout, printed, done };
}

const runCli = (args: string[]) => startCli(args).done;

/** sweeps/smoke.yaml with changes (the smoke sweep is what the tests run). */
function smokeVariant(file: string, changes: Array<[Array<string>, unknown]>): string {
  const doc = parseDocument(readFileSync('sweeps/smoke.yaml', 'utf8'));
  for (const [key, value] of changes) doc.setIn(key, value);
  writeFileSync(file, doc.toString());
  return file;
}

function status(dir: string): TrialStatus {
  return JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as TrialStatus;
}

/**
 * The most trials running at once, as the sweep saw them: its "started <trial>" and end
 * lines (done, FAILED, interrupted, retrying) in the order it printed them. It prints a
 * trial's end line before its slot goes to another trial, so this order is the scheduler's,
 * not the clock's.
 */
function mostRunningAtOnce(stdout: string): { most: number; starts: number; ends: number } {
  const running = new Set<string>();
  let most = 0;
  let starts = 0;
  let ends = 0;
  for (const line of stdout.split('\n')) {
    const started = /^started (\S+)/.exec(line);
    const ended = /^(?:done|FAILED|interrupted|failed) ([^\s:]+)/.exec(line);
    if (started) {
      starts++;
      running.add(started[1]!);
      most = Math.max(most, running.size);
    } else if (ended && running.delete(ended[1]!)) {
      ends++;
    }
  }
  return { most, starts, ends };
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('sweep run (end to end, smoke.yaml)', function () {
  this.timeout(120_000);
  let tmp: string;
  let logdir: string;
  let sweepFile: string;
  let sweepDir: string;
  const GOOD = ['learningRate=0.001,seed=0', 'learningRate=0.001,seed=1'];
  // Adam with a learning rate of 1e10 diverges at once: "diverged at step N".
  const BAD = ['learningRate=10000000000,seed=0', 'learningRate=10000000000,seed=1'];
  let first: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-sweep-'));
    logdir = path.join(tmp, 'runs');
    sweepFile = smokeVariant(path.join(tmp, 'smoke-fail.yaml'), [
      [['name'], 'smoke-fail'],
      [
        ['parameters', 'learningRate', 'values'],
        [0.001, 1e10],
      ],
    ]);
    sweepDir = path.join(logdir, 'smoke-fail');
    first = await runCli(['run', sweepFile, '--logdir', logdir, '--concurrency', '2', '--progress-every', '0']);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('finishes the good trials, marks the failing ones failed, exits 1 naming them and their logs', () => {
    expect(first.code, first.stderr + first.stdout).to.equal(1);
    for (const name of GOOD) {
      const s = status(path.join(sweepDir, name));
      expect(s).to.deep.include({ trial: name, state: 'done', exitCode: 0, attempt: 1, step: 1500, totalSteps: 1500, cause: null, pid: null });
      expect(s.finalReturnMean).to.be.a('number');
      expect(s.bestReturnMean).to.be.at.least(s.finalReturnMean!);
      expect(s.lastEvaluation!.step).to.equal(1500);
      expect(Date.parse(s.endedAt!)).to.be.at.least(Date.parse(s.startedAt!));
      for (const file of ['config.json', 'trial.json', 'stdout.log', 'stderr.log']) expect(existsSync(path.join(sweepDir, name, file)), file).to.equal(true);
    }
    for (const name of BAD) {
      const s = status(path.join(sweepDir, name));
      expect(s).to.deep.include({ state: 'failed', exitCode: 1 });
      expect(s.cause).to.match(/^exit code 1: diverged at step \d+/);
      expect(first.stdout).to.include(`${name}: ${s.cause}`);
      expect(first.stdout).to.include(`log: ${path.join(sweepDir, name, 'stderr.log')}`);
    }
    expect(first.stdout).to.match(/2 trials failed:/);
  });

  it('runs at most 2 trials at once, and 2 did run together', () => {
    // Every trial started and ended once, so the count below saw them all.
    expect(mostRunningAtOnce(first.stdout), first.stdout).to.deep.equal({ most: 2, starts: 4, ends: 4 });
  });

  it('writes results.json and results.csv: per trial final/best, per configuration mean ± std over seeds, best marked', () => {
    const results = JSON.parse(readFileSync(path.join(sweepDir, 'results.json'), 'utf8')) as SweepResults;
    expect(results).to.deep.include({ sweep: 'smoke-fail', metric: 'eval/return_mean', goal: 'maximize', swept: ['learningRate'] });
    expect(results.trials).to.have.length(4);
    expect(results.bestConfiguration).to.equal('learningRate=0.001');
    const [best, failed] = results.configurations;
    const finals = GOOD.map((name) => status(path.join(sweepDir, name)).finalReturnMean!);
    const mean = (finals[0]! + finals[1]!) / 2;
    expect(best).to.deep.include({ rank: 1, best: true, configName: 'learningRate=0.001', seeds: 2, total: 2 });
    expect(best!.finalMean).to.be.closeTo(mean, 1e-9);
    expect(best!.finalStd).to.be.closeTo(Math.abs(finals[0]! - finals[1]!) / Math.SQRT2, 1e-9);
    expect(failed).to.deep.include({ rank: null, best: false, seeds: 0, total: 2, finalMean: null });
    const csv = readFileSync(path.join(sweepDir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).to.have.length(5);
    expect(csv[0]).to.match(/^trial,configuration,learningRate,seed,state,metric,final,best,/);
    expect(csv.filter((line) => line.includes(',done,'))).to.have.length(2);
    expect(csv.filter((line) => line.includes(',failed,'))).to.have.length(2);
    expect(first.stdout).to.match(/\*\s+1\s+0\.001\s/);
  });

  it('writes TensorBoard files: the hparams experiment at the sweep root, a session per trial with its end status', () => {
    const root = readRun(sweepDir);
    expect(root.hparams_experiment!.hparams).to.deep.equal(['learningRate', 'seed']);
    expect(root.hparams_experiment!.metrics).to.include.members(['eval/return_mean', 'eval/return_std', 'eval/avg_max_q', 'train/episode_return']);
    for (const name of [...GOOD, ...BAD]) {
      const run = readRun(path.join(sweepDir, name));
      expect(run.hparams!.learningRate).to.equal(name.includes('0.001') ? 0.001 : 1e10);
      expect(run.hparams!.seed).to.equal(Number(name.at(-1)));
      // Seeds of one configuration form one session group, which TensorBoard aggregates.
      expect(run.hparams_session!.group_name).to.equal(name.replace(/,seed=\d+$/, ''));
      expect(run.hparams_session!.end_status).to.equal(GOOD.includes(name) ? 'success' : 'failure');
      if (GOOD.includes(name)) expect(run.scalars['eval/return_mean']!.map(([step]) => step)).to.deep.equal([500, 1000, 1500]);
    }
  });

  it('a rerun skips done trials, reruns failed ones (with --retries) in place, so TensorBoard shows each step once', async () => {
    const mtimes = GOOD.map((name) => statSync(path.join(sweepDir, name, 'status.json')).mtimeMs);
    const events = GOOD.map((name) => readdirSync(path.join(sweepDir, name)).filter((f) => f.includes('tfevents')));
    const rerun = await runCli(['run', sweepFile, '--logdir', logdir, '--concurrency', '2', '--retries', '1', '--progress-every', '0']);
    expect(rerun.code).to.equal(1);
    expect(rerun.stdout).to.include('skipping 2 done trials');
    for (const name of GOOD) expect(rerun.stdout).not.to.include(`started ${name}`);
    GOOD.forEach((name, i) => {
      expect(statSync(path.join(sweepDir, name, 'status.json')).mtimeMs).to.equal(mtimes[i]);
      expect(readdirSync(path.join(sweepDir, name)).filter((f) => f.includes('tfevents'))).to.deep.equal(events[i]);
    });
    for (const name of BAD) {
      const dir = path.join(sweepDir, name);
      // First run (1), this rerun (2) and its retry (3).
      expect(status(dir)).to.deep.include({ state: 'failed', attempt: 3 });
      expect(rerun.stdout).to.include(`started ${name} (attempt 2)`);
      expect(rerun.stdout).to.include(`started ${name} (attempt 3)`);
      expect(rerun.stdout).to.match(new RegExp(`failed ${name.replace(/[.=,]/g, '\\$&')}: .*; retrying \\(1/1\\)`));
      // Each attempt continued in place (from its checkpoint, or from scratch when it had none).
      expect(readdirSync(dir).filter((f) => f.startsWith('previous-'))).to.have.length(0);
      expect(readFileSync(path.join(dir, 'stdout.log'), 'utf8').match(/^Resuming /gm)).to.have.length(2);
      expect(readdirSync(dir).filter((f) => f.includes('tfevents'))).to.have.length(3);
      // The SessionLog START of each attempt purges the earlier attempts' points: no step twice.
      const steps = readRun(dir).scalars['train/episode_return']?.map(([step]) => step) ?? [];
      expect(new Set(steps).size).to.equal(steps.length);
    }
  });

  it('refuses a changed file that changes finished trials, unless --force', async () => {
    const changed = smokeVariant(path.join(tmp, 'smoke-changed.yaml'), [
      [['name'], 'smoke-fail'],
      [
        ['parameters', 'learningRate', 'values'],
        [0.001, 1e10],
      ],
      [['parameters', 'steps', 'value'], 1600],
    ]);
    const before = GOOD.map((name) => statSync(path.join(sweepDir, name, 'status.json')).mtimeMs);
    const refused = await runCli(['run', changed, '--logdir', logdir, '--progress-every', '0']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/changed the configuration of 2 finished trials/);
    expect(refused.stderr).to.include('learningRate=0.001,seed=0: steps 1500 -> 1600');
    expect(refused.stderr).to.include('--force');
    // Refused before the estimate's calibration spends its seconds.
    expect(refused.stdout).not.to.include('estimate:');
    expect(GOOD.map((name) => statSync(path.join(sweepDir, name, 'status.json')).mtimeMs)).to.deep.equal(before);
  });

  it('refuses to run while another live sweep holds the lock', async () => {
    const lock = path.join(sweepDir, 'sweep.lock');
    // The parent of this test process is alive and is not a sweep.
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: '2024-01-01T00:00:00Z', command: 'sweep run other.yaml' }));
    try {
      const refused = await runCli(['run', sweepFile, '--logdir', logdir, '--progress-every', '0']);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(new RegExp(`another sweep is writing .*smoke-fail: pid ${process.ppid}`));
      expect(refused.stdout).not.to.include('started');
      expect(refused.stdout).not.to.include('estimate:');
    } finally {
      rmSync(lock, { force: true });
    }
  });

  it('plan prints the trial table with the state of each trial, running nothing', async () => {
    const plan = await runCli(['plan', sweepFile, '--logdir', logdir]);
    expect(plan.code).to.equal(0);
    expect(plan.stdout).to.match(/2 configurations x 2 seeds = 4 trials/);
    expect(plan.stdout).to.match(/learningRate=0\.001,seed=0\s+0\.001\s+0\s+1500\s+done/);
    expect(plan.stdout).to.match(/learningRate=10000000000,seed=1\s+10000000000\s+1\s+1500\s+failed/);
  });

  it('sweep results <dir> prints and rewrites the results at any time', async () => {
    rmSync(path.join(sweepDir, 'results.csv'));
    const results = await runCli(['results', sweepDir]);
    expect(results.code).to.equal(0);
    expect(results.stdout).to.match(/Best: learningRate=0\.001/);
    expect(existsSync(path.join(sweepDir, 'results.csv'))).to.equal(true);
  });

  it('--force reruns finished trials whose configuration changed, moving their old runs aside', async () => {
    const changed = smokeVariant(path.join(tmp, 'smoke-force.yaml'), [
      [['name'], 'smoke-fail'],
      [['seeds'], [0]],
      [
        ['parameters', 'learningRate', 'values'],
        [0.001, 1e10],
      ],
      [['parameters', 'steps', 'value'], 1000],
    ]);
    const forced = await runCli(['run', changed, '--logdir', logdir, '--concurrency', '2', '--force', '--progress-every', '0']);
    expect(forced.code, forced.stderr).to.equal(1); // the 1e10 trial fails again
    const dir = path.join(sweepDir, GOOD[0]!);
    expect(status(dir)).to.deep.include({ state: 'done', step: 1000, attempt: 2 });
    const previous = readdirSync(dir).filter((f) => f.startsWith('previous-'));
    expect(previous).to.have.length(1);
    expect(JSON.parse(readFileSync(path.join(dir, previous[0]!, 'config.json'), 'utf8')).steps).to.equal(1500);
    expect(readRun(dir).scalars['eval/return_mean']!.map(([step]) => step)).to.deep.equal([500, 1000]);
    const results = JSON.parse(readFileSync(path.join(sweepDir, 'results.json'), 'utf8')) as SweepResults;
    expect(results.trials.map((t) => t.name)).to.deep.equal([GOOD[0], BAD[0]]);
  });

  it('a bad sweep file exits 2 with the position of the problem', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nparameters:\n  learnigRate: { values: [0.1] }\n');
    const result = await runCli(['run', bad, '--logdir', logdir]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include(`${bad}:3:3: "learnigRate" is not a run option (did you mean "learningRate"?)`);
  });
});

describe('sweep run: Ctrl-C', function () {
  this.timeout(120_000);
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-sweep-int-'));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Starts a long smoke variant and waits until both trials are training. */
  async function startLong(name: string): Promise<{ run: CliRun; dirs: string[]; file: string; logdir: string }> {
    const file = smokeVariant(path.join(tmp, `${name}.yaml`), [
      [['name'], name],
      [['seeds'], [0]],
      [['parameters', 'steps', 'value'], 1_000_000],
    ]);
    const logdir = path.join(tmp, 'runs');
    const run = startCli(['run', file, '--logdir', logdir, '--concurrency', '2', '--progress-every', '0']);
    const dirs = ['learningRate=0.001,seed=0', 'learningRate=0.0005,seed=0'].map((trial) => path.join(logdir, name, trial));
    await waitFor(
      () => dirs.every((dir) => existsSync(path.join(dir, 'stdout.log')) && /steps \d+\/\d+ loss/.test(readFileSync(path.join(dir, 'stdout.log'), 'utf8'))),
      60_000,
      'both trials to train',
    );
    return { run, dirs, file, logdir };
  }

  it('stops the children cleanly, marks them interrupted and prints the resume command', async () => {
    const { run, dirs, file, logdir } = await startLong('smoke-int');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stdout + result.stderr).to.equal(130);
    expect(result.stdout).to.include('Ctrl-C: no new trial starts');
    expect(result.stdout).to.include(`To resume: node --import tsx src/cli/sweep.ts run ${file} --logdir ${logdir} --concurrency 2`);
    for (const dir of dirs) {
      const s = status(dir);
      expect(s).to.deep.include({ state: 'interrupted', exitCode: 130 });
      expect(s.step).to.be.above(0).and.below(1_000_000);
      // The child saved a snapshot and flushed its logs.
      expect(readdirSync(path.join(dir, 'snapshots'))).to.deep.equal([`step-${s.step}`]);
      expect(readFileSync(path.join(dir, 'stdout.log'), 'utf8')).to.include(`Interrupted at step ${s.step}; checkpoint and snapshot saved, logs flushed.`);
      // ... and a checkpoint a rerun resumes from.
      expect(readdirSync(path.join(dir, 'checkpoints'))).to.deep.equal([`step-${s.step}`]);
      expect(readRun(dir).hparams_session!.end_status).to.equal('unknown');
    }
    expect(existsSync(path.join(logdir, 'smoke-int', 'sweep.lock'))).to.equal(false);
  });

  it('a second Ctrl-C stops at once', async () => {
    const { run, dirs } = await startLong('smoke-int2');
    run.child.kill('SIGINT');
    // Once the sweep has taken the first (it has asked the trials to stop), and before they
    // could have saved and stopped: the line comes before the sweep signals them.
    await run.printed('asking 2 running trials to save a snapshot and stop');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).to.equal(130);
    expect(result.stdout).to.include('Ctrl-C again: stopping');
    for (const dir of dirs) expect(status(dir).state).to.equal('interrupted');
  });
});
