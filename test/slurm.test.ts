/**
 * Slurm as an executor: `sweep trial --index` on its own, the error without Slurm,
 * the pieces of a submission, and end to end on a single-node Slurm cluster started
 * here (test/slurm-cluster.ts): smoke.yaml (made to fail one configuration) through a
 * job array gives the same trials, statuses and results as the local executor; a
 * rerun submits only what is not done; --detach with `sweep status`; Ctrl-C cancels
 * the array; a task killed under its trial is reported; a rung segment pauses its trials.
 *
 * Without Slurm's binaries the cluster tests are skipped, saying why; with CI set they fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseDocument } from 'yaml';
import type { SweepResults } from '../src/sweep/results.js';
import { expandSweep } from '../src/sweep/expand.js';
import { arraySpec, batchScript, formatIndices, parseSqueue, type SlurmJobRecord, SlurmExecutor } from '../src/sweep/slurm.js';
import { loadSweepSpec } from '../src/sweep/spec.js';
import { type TrialStatus, writeManifest } from '../src/sweep/trial-status.js';
import { sweepManifest } from '../src/sweep/sweep-files.js';
import { skipBecause } from './skip.js';
import { missingSlurmBinaries, type SlurmCluster, startSlurmCluster } from './slurm-cluster.js';

const ROOT = process.cwd();
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');
const TSX = import.meta.resolve('tsx');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}
interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const runCli = (args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => startCli(args, env).done;

/** sweeps/smoke.yaml with changes. */
function smokeVariant(file: string, changes: Array<[string[], unknown]>): string {
  const doc = parseDocument(readFileSync('sweeps/smoke.yaml', 'utf8'));
  for (const [key, value] of changes) doc.setIn(key, value);
  writeFileSync(file, doc.toString());
  return file;
}

const readStatusFile = (dir: string): TrialStatus => JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as TrialStatus;
const readResults = (sweepDir: string): SweepResults => JSON.parse(readFileSync(path.join(sweepDir, 'results.json'), 'utf8')) as SweepResults;
const readJobs = (sweepDir: string): SlurmJobRecord[] => JSON.parse(readFileSync(path.join(sweepDir, 'slurm', 'jobs.json'), 'utf8')) as SlurmJobRecord[];

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function statusIs(dir: string, test: (status: TrialStatus) => boolean): boolean {
  try {
    return test(readStatusFile(dir));
  } catch {
    return false;
  }
}

/** What must be the same whether a trial ran locally or in a Slurm array task. */
function comparable(status: TrialStatus): Partial<TrialStatus> {
  const { state, exitCode, attempt, step, totalSteps, cause, finalReturnMean, bestReturnMean, lastEvaluation } = status;
  return { state, exitCode, attempt, step, totalSteps, cause, finalReturnMean, bestReturnMean, lastEvaluation };
}

/** The results without the folders (each run has its own logdir). */
function comparableResults(results: SweepResults): unknown {
  return {
    ...results,
    generatedAt: undefined,
    trials: results.trials.map((trial) => ({ ...trial, dir: path.basename(trial.dir), log: path.basename(trial.log), errorLog: path.basename(trial.errorLog) })),
  };
}

/** A trial folder's files, event files by kind (their names hold the time and pid), Slurm's own output left out. */
function folderFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !/^slurm-.*\.out$/.test(name))
    .map((name) => name.replace(/^events\.out\.tfevents\..*$/, 'events.out.tfevents.*'))
    .sort();
}

/** The results table of a sweep's output, from its title to the "Best:" line. */
function resultsTable(stdout: string): string {
  const start = stdout.indexOf('Sweep smoke-fail:');
  return stdout.slice(start, stdout.indexOf('\n', stdout.indexOf('Best:', start)));
}

// Trial order: seeds outermost, then configurations. Adam at a learning rate of 1e10 diverges at once.
const TRIALS = ['learningRate=0.001,seed=0', 'learningRate=10000000000,seed=0', 'learningRate=0.001,seed=1', 'learningRate=10000000000,seed=1'];
const GOOD = [TRIALS[0]!, TRIALS[2]!];
const BAD = [TRIALS[1]!, TRIALS[3]!];

describe('sweep on Slurm', function () {
  this.timeout(180_000);
  let tmp: string;
  let sweepFile: string;
  let localDir: string;
  let local: CliResult;

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-slurm-test-'));
    sweepFile = smokeVariant(path.join(tmp, 'smoke-fail.yaml'), [
      [['name'], 'smoke-fail'],
      [
        ['parameters', 'learningRate', 'values'],
        [0.001, 1e10],
      ],
    ]);
    // The reference: the same sweep through the local executor.
    local = await runCli(['run', sweepFile, '--logdir', path.join(tmp, 'local'), '--concurrency', '2', '--progress-every', '0']);
    localDir = path.join(tmp, 'local', 'smoke-fail');
    expect(local.code, local.stderr + local.stdout).to.equal(1);
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('sweep trial --index (no Slurm needed)', () => {
    it('runs exactly the trial the local executor runs for that index and writes the same files', async () => {
      const logdir = path.join(tmp, 'trial');
      const result = await runCli(['trial', sweepFile, '--index', '0', '--logdir', logdir]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(`done ${TRIALS[0]} (1500 steps`);
      const dir = path.join(logdir, 'smoke-fail', TRIALS[0]!);
      expect(folderFiles(dir)).to.deep.equal(folderFiles(path.join(localDir, TRIALS[0]!)));
      expect(comparable(readStatusFile(dir))).to.deep.equal(comparable(readStatusFile(path.join(localDir, TRIALS[0]!))));
      expect(readFileSync(path.join(dir, 'trial.json'), 'utf8').replace(logdir, '<logdir>')).to.equal(
        readFileSync(path.join(localDir, TRIALS[0]!, 'trial.json'), 'utf8').replace(path.join(tmp, 'local'), '<logdir>'),
      );
      // sweep.json, so that `sweep results` and `sweep status` read the folder.
      expect(existsSync(path.join(logdir, 'smoke-fail', 'sweep.json'))).to.equal(true);

      const again = await runCli(['trial', sweepFile, '--index', '0', '--logdir', logdir]);
      expect(again.code).to.equal(0);
      expect(again.stdout).to.include('is done already');
      expect(readdirSync(dir).filter((name) => name.startsWith('previous-'))).to.deep.equal([]);
    });

    it('a failing trial exits 1 with the same status as under the local executor', async () => {
      const logdir = path.join(tmp, 'trial');
      const result = await runCli(['trial', sweepFile, '--index', '1', '--logdir', logdir]);
      expect(result.code).to.equal(1);
      const status = readStatusFile(path.join(logdir, 'smoke-fail', TRIALS[1]!));
      expect(status.cause).to.match(/^exit code 1: diverged at step \d+/);
      expect(comparable(status)).to.deep.equal(comparable(readStatusFile(path.join(localDir, TRIALS[1]!))));
      expect(result.stdout).to.include(`FAILED ${TRIALS[1]}: ${status.cause}`);
    });

    it('an index out of range is an error that gives the range', async () => {
      const result = await runCli(['trial', sweepFile, '--index', '4', '--logdir', path.join(tmp, 'trial')]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include(`--index 4 is out of range: ${sweepFile} has 4 trials (indices 0 to 3`);
    });
  });

  describe('sweep run --executor slurm without a cluster', () => {
    it('says Slurm is not available before anything is written', async () => {
      const emptyPath = mkdtempSync(path.join(tmp, 'path-'));
      const logdir = path.join(tmp, 'no-slurm');
      const result = await runCli(['run', sweepFile, '--executor', 'slurm', '--logdir', logdir], { ...process.env, PATH: emptyPath });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/^error: Slurm is not available here: sbatch, squeue, scancel are not on PATH/);
      expect(result.stderr).to.include('leave out --executor slurm');
      expect(existsSync(logdir)).to.equal(false);
    });

    it('passes the Slurm options on to sbatch, and says what sbatch refused (a stand-in sbatch)', async () => {
      const bin = mkdtempSync(path.join(tmp, 'fake-slurm-'));
      const argsFile = path.join(bin, 'sbatch.args');
      writeFileSync(
        path.join(bin, 'sbatch'),
        `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\ncase "$*" in *--account=none*) echo "sbatch: error: Invalid account" >&2; exit 1;; esac\necho "4242;cluster"\n`,
        { mode: 0o755 },
      );
      writeFileSync(path.join(bin, 'squeue'), '#!/bin/sh\necho "slurm_load_jobs error: Invalid job id specified" >&2\nexit 1\n', { mode: 0o755 });
      writeFileSync(path.join(bin, 'scancel'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
      const logdir = path.join(tmp, 'fake-slurm');
      const options = ['--executor', 'slurm', '--logdir', logdir, '--detach', '--partition', 'debug', '--time', '00:10:00', '--cpus-per-trial', '2'];
      const submitted = await runCli(['run', sweepFile, ...options, '--sbatch-arg=--mem=2G'], env);
      expect(submitted.code, submitted.stderr).to.equal(0);
      const { script } = readJobs(path.join(logdir, 'smoke-fail'))[0]!;
      expect(readFileSync(argsFile, 'utf8').trim().split('\n')).to.deep.equal([
        '--parsable',
        '--array=0-3%2',
        '--job-name=rlsweep-smoke-fail',
        '--cpus-per-task=2',
        `--output=${path.join(logdir, 'smoke-fail', 'slurm', '%A_%a.out')}`,
        '--partition=debug',
        '--time=00:10:00',
        '--mem=2G',
        script,
      ]);
      expect(submitted.stdout).to.include('Submitted 4 trials of smoke-fail as Slurm job 4242');
      // The job ended as far as this squeue knows: nothing blocks the next submission.
      const refused = await runCli(['run', sweepFile, ...options, '--sbatch-arg=--account=none'], env);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/^error: Slurm refused the job array: sbatch .*: sbatch: error: Invalid account\n\(batch script: .*\.sh\)/);
    });

    it('refuses Slurm options without --executor slurm, and a malformed --time', async () => {
      const partition = await runCli(['run', sweepFile, '--partition', 'debug', '--logdir', path.join(tmp, 'no-slurm')]);
      expect(partition.code).to.equal(2);
      expect(partition.stderr).to.include('--partition applies to Slurm only: add --executor slurm, or drop --partition');
      const time = await runCli(['run', sweepFile, '--executor', 'slurm', '--time', '2 hours', '--logdir', path.join(tmp, 'no-slurm')]);
      expect(time.code).to.equal(2);
      expect(time.stderr).to.include('--time "2 hours" is not a Slurm time limit; use HH:MM:SS');
    });
  });

  describe('Slurm job arrays: the pieces', () => {
    it('writes --array indices as ranges, with the concurrency as %N', () => {
      expect(formatIndices([3, 0, 1, 2, 7, 9, 10])).to.equal('0-3,7,9-10');
      expect(arraySpec([1, 3], 2)).to.equal('1,3%2');
      expect(arraySpec([5], undefined)).to.equal('5');
    });

    it("reads squeue: each task's state, active or ended", () => {
      const tasks = parseSqueue('0|RUNNING|None\n2|PENDING|JobArrayTaskLimit\n3|CANCELLED|None\nN/A|RUNNING|None\n');
      expect([...tasks]).to.deep.equal([
        [0, { active: true, state: 'RUNNING', reason: 'None' }],
        [2, { active: true, state: 'PENDING', reason: 'JobArrayTaskLimit' }],
        [3, { active: false, state: 'CANCELLED', reason: 'None' }],
      ]);
    });

    it('the batch script picks the trial by the task index and runs sweep trial in the submit folder', () => {
      const script = batchScript({
        sweepDir: '/shared/runs/my sweep',
        slurmDir: '/shared/runs/my sweep/slurm',
        workDir: '/shared/repo',
        trialNames: ['a=1,seed=0', "b'2"],
        command: ['/usr/bin/node', 'sweep.ts', 'trial', 'x.yaml', '--logdir', '/shared/runs'],
        submitCommand: ['sbatch', '--array=0-1'],
        sweepFile: 'x.yaml',
      });
      expect(script).to.match(/^#!\/bin\/bash\n/);
      expect(script).to.include("trials=(\n  a=1,seed=0\n  'b'\\''2'\n)");
      expect(script).to.include(`trial_dir='/shared/runs/my sweep'/"\${trials[$SLURM_ARRAY_TASK_ID]}"`);
      expect(script).to.include('exec >>"$trial_dir/slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.out" 2>&1');
      expect(script).to.include('cd /shared/repo\n');
      expect(script).to.include('exec /usr/bin/node sweep.ts trial x.yaml --logdir /shared/runs --index "$SLURM_ARRAY_TASK_ID"\n');
    });
  });

  describe('sweep run --executor slurm (a single-node Slurm cluster)', function () {
    let cluster: SlurmCluster | undefined;
    let logdir: string;
    let sweepDir: string;
    let first: CliResult;
    const slurmRun = (args: string[]): CliRun => startCli(['run', ...args, '--executor', 'slurm', '--poll-seconds', '0.5', '--progress-every', '0'], cluster!.env);

    before(async function () {
      const missing = missingSlurmBinaries();
      if (missing.length > 0) {
        const why = `${missing.join(', ')} not found; install Debian's slurm-wlm and munge (apt-get install -y slurm-wlm munge), as .ci/run does`;
        if (process.env.CI && process.env.CI !== 'false') throw new Error(`the Slurm tests cannot run in CI: ${why}`);
        skipBecause(this, `the Slurm cluster tests: ${why}`);
      }
      cluster = await startSlurmCluster();
      logdir = path.join(tmp, 'slurm');
      sweepDir = path.join(logdir, 'smoke-fail');
      first = await slurmRun([sweepFile, '--logdir', logdir]).done;
    });

    after(async () => {
      await cluster?.stop();
    });

    it('runs the sweep as one job array, 2 at a time: the same trials, statuses and results as the local executor', () => {
      expect(first.code, `${first.stdout}${first.stderr}\n${cluster!.logs()}`).to.equal(1);
      const [job, ...more] = readJobs(sweepDir);
      expect(more).to.have.length(0);
      expect(job!.indices).to.deep.equal([0, 1, 2, 3]);
      expect(job!.sbatch.slice(0, 3)).to.deep.equal(['sbatch', '--parsable', '--array=0-3%2']);
      expect(readFileSync(job!.script, 'utf8')).to.include('trial');
      expect(first.stdout).to.include(`submitted 4 trials of smoke-fail as Slurm job ${job!.jobId}`);

      expect(
        readdirSync(sweepDir)
          .filter((name) => TRIALS.includes(name))
          .sort(),
      ).to.deep.equal([...TRIALS].sort());
      TRIALS.forEach((name, index) => {
        const status = readStatusFile(path.join(sweepDir, name));
        expect(comparable(status), name).to.deep.equal(comparable(readStatusFile(path.join(localDir, name))));
        expect(status.job).to.equal(`${job!.jobId}_${index}`);
        expect(folderFiles(path.join(sweepDir, name))).to.deep.equal(folderFiles(path.join(localDir, name)));
        // The task's own output, in the trial's folder.
        expect(readFileSync(path.join(sweepDir, name, `slurm-${job!.jobId}_${index}.out`), 'utf8')).to.include(`started ${name}`);
      });
      expect(comparableResults(readResults(sweepDir))).to.deep.equal(comparableResults(readResults(localDir)));
      expect(resultsTable(first.stdout)).to.equal(resultsTable(local.stdout));
      for (const name of BAD) expect(first.stdout).to.include(`FAILED ${name}: exit code 1: diverged at step`);
      expect(first.stdout).to.include('2 trials failed:');
      expect(first.stdout).to.include('Rerun the failed trials with: ');

      // At most 2 at once, and 2 did run together.
      const spans = TRIALS.map((name) => readStatusFile(path.join(sweepDir, name))).map((s) => [Date.parse(s.startedAt!), Date.parse(s.endedAt!)] as const);
      const overlapAt = (t: number): number => spans.filter(([start, end]) => start <= t && t < end).length;
      expect(Math.max(...spans.map(([start]) => overlapAt(start)))).to.equal(2);
    });

    it('a rerun submits only the indices that are not done', async () => {
      const mtimes = GOOD.map((name) => statSync(path.join(sweepDir, name, 'status.json')).mtimeMs);
      const rerun = await slurmRun([sweepFile, '--logdir', logdir]).done;
      expect(rerun.code, rerun.stderr).to.equal(1);
      expect(rerun.stdout).to.include('skipping 2 done trials');
      const jobs = readJobs(sweepDir);
      expect(jobs).to.have.length(2);
      expect(jobs[1]!.indices).to.deep.equal([1, 3]);
      expect(jobs[1]!.sbatch).to.include('--array=1,3%2');
      expect(readFileSync(jobs[1]!.script, 'utf8')).to.include('--array=1,3%2');
      expect(GOOD.map((name) => statSync(path.join(sweepDir, name, 'status.json')).mtimeMs)).to.deep.equal(mtimes);
      for (const name of GOOD) expect(rerun.stdout).not.to.include(`started ${name}`);
      for (const name of BAD) expect(readStatusFile(path.join(sweepDir, name))).to.deep.include({ state: 'failed', attempt: 2, job: `${jobs[1]!.jobId}_${TRIALS.indexOf(name)}` });
    });

    it('--detach submits and returns; sweep status shows the job; no second run (here or on Slurm) meanwhile; sweep results works the same', async () => {
      const file = smokeVariant(path.join(tmp, 'smoke-detach.yaml'), [
        [['name'], 'smoke-detach'],
        [['seeds'], [0]],
        [['concurrency'], 1],
      ]);
      const dir = path.join(logdir, 'smoke-detach');
      const submitted = await slurmRun([file, '--logdir', logdir, '--detach']).done;
      expect(submitted.code, submitted.stderr).to.equal(0);
      const jobId = readJobs(dir)[0]!.jobId;
      expect(submitted.stdout).to.include(`Submitted 2 trials of smoke-detach as Slurm job ${jobId}`);
      expect(submitted.stdout).to.match(new RegExp(`progress: .* status ${dir}\\n`));
      expect(submitted.stdout).to.include(`cancel:   scancel ${jobId}`);

      const refused = await slurmRun([file, '--logdir', logdir]).done;
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.include(`Slurm job ${jobId} of this sweep is still queued or running`);
      const refusedHere = await runCli(['run', file, '--logdir', logdir, '--progress-every', '0'], cluster!.env);
      expect(refusedHere.code).to.equal(2);
      expect(refusedHere.stderr).to.include(`Slurm job ${jobId} of this sweep is still queued or running`);

      const early = await runCli(['status', dir], cluster!.env);
      expect(early.code, early.stderr).to.equal(0);
      expect(early.stdout).to.match(new RegExp(`Slurm job ${jobId} \\(submitted .*, 2 trials\\): .*(pending|running)`));
      // The second task waits for the first (concurrency 1) unless that one has already ended: a state that depends on the clock.
      expect(early.stdout, early.stdout).to.match(
        /^(?:pending\s+learningRate=0\.0005,seed=0\s+0\/1500 .*Slurm \d+_1 (?:PENDING|CONFIGURING|RUNNING)|(?:running|done)\s+learningRate=0\.0005,seed=0\s+\d+\/1500)/m,
      );

      const trials = ['learningRate=0.001,seed=0', 'learningRate=0.0005,seed=0'];
      await waitFor(() => trials.every((name) => statusIs(path.join(dir, name), (s) => s.state === 'done')), 60_000, 'the detached trials to finish');
      // The last task may still be exiting.
      const deadline = Date.now() + 30_000;
      let later = await runCli(['status', dir], cluster!.env);
      while (!later.stdout.includes('ended (no task queued or running)') && Date.now() < deadline) later = await runCli(['status', dir], cluster!.env);
      expect(later.stdout).to.include('ended (no task queued or running)');
      expect(later.stdout).to.include('2 trials — done 2');
      const results = await runCli(['results', dir], cluster!.env);
      expect(results.code).to.equal(0);
      expect(results.stdout).to.match(/Best: learningRate=0\.00/);
      expect(readResults(dir).trials.map((trial) => trial.state)).to.deep.equal(['done', 'done']);
    });

    it('Ctrl-C with --cancel-on-interrupt cancels the array: the running trial saves a snapshot, the queued one never starts', async () => {
      const file = smokeVariant(path.join(tmp, 'smoke-cancel.yaml'), [
        [['name'], 'smoke-cancel'],
        [['seeds'], [0]],
        [['concurrency'], 1],
        [['parameters', 'steps', 'value'], 1_000_000],
      ]);
      const dir = path.join(logdir, 'smoke-cancel');
      const [running, queued] = ['learningRate=0.001,seed=0', 'learningRate=0.0005,seed=0'].map((name) => path.join(dir, name));
      const follower = slurmRun([file, '--logdir', logdir, '--cancel-on-interrupt']);
      await waitFor(() => statusIs(running!, (s) => s.state === 'running' && s.step > 0), 60_000, 'the first trial to train');
      follower.child.kill('SIGINT');
      const result = await follower.done;
      expect(result.code, result.stdout + result.stderr).to.equal(130);
      const jobId = readJobs(dir)[0]!.jobId;
      expect(result.stdout).to.include(`Ctrl-C: cancelling Slurm job ${jobId} (scancel ${jobId})`);
      expect(result.stdout).to.include('To resume: ');
      const stopped = readStatusFile(running!);
      expect(stopped).to.deep.include({ state: 'interrupted', exitCode: 130 });
      expect(readdirSync(path.join(running!, 'snapshots'))).to.deep.equal([`step-${stopped.step}`]);
      expect(readStatusFile(queued!).state).to.equal('pending');
      expect((await cluster!.command('squeue', ['-h', '-j', jobId]).catch(() => '')).trim()).to.equal('');
    });

    it('a task killed under its trial is reported failed, naming the task and its output', async () => {
      const file = smokeVariant(path.join(tmp, 'smoke-lost.yaml'), [
        [['name'], 'smoke-lost'],
        [['seeds'], [0]],
        [['parameters', 'learningRate', 'values'], [0.001]],
        [['parameters', 'steps', 'value'], 1_000_000],
      ]);
      const dir = path.join(logdir, 'smoke-lost', 'seed=0');
      const follower = slurmRun([file, '--logdir', logdir]);
      await waitFor(() => statusIs(dir, (s) => s.state === 'running' && s.pid !== null && s.step > 0), 60_000, 'the trial to train');
      // The task's `sweep trial` process first (it would record the run's death), then the run.
      const runPid = readStatusFile(dir).pid!;
      const trialPid = Number(
        readFileSync(`/proc/${runPid}/stat`, 'utf8')
          .replace(/^.*\) /, '')
          .split(' ')[1],
      );
      process.kill(trialPid, 'SIGKILL');
      process.kill(runPid, 'SIGKILL');
      const result = await follower.done;
      expect(result.code, result.stdout + result.stderr).to.equal(1);
      const jobId = readJobs(path.dirname(dir))[0]!.jobId;
      const status = readStatusFile(dir);
      expect(status.state).to.equal('failed');
      expect(status.cause).to.match(
        new RegExp(`^Slurm job ${jobId} task ${jobId}_0 ended \\(.+\\) while the trial was running, without recording its end; ` + `see ${dir.replace(/[.=]/g, '\\$&')}/slurm-${jobId}_0\\.out$`),
      );
      expect(result.stdout).to.include(`FAILED seed=0: ${status.cause}`);
    });

    it('a rung segment as a job array: each task pauses its trial at the rung (sweep trial --stop-at-step), the next submission resumes it bit-identically', async () => {
      const file = smokeVariant(path.join(tmp, 'smoke-rungs.yaml'), [
        [['name'], 'smoke-rungs'],
        [['seeds'], [0]],
        [['parameters', 'learningRate', 'values'], [0.001]],
      ]);
      const sweepDir = path.join(logdir, 'smoke-rungs');
      const spec = await loadSweepSpec(file);
      const trials = expandSweep(spec, { sweepDir });
      // As a sweep's controller does before it submits anything: the folder is the sweep's.
      await writeManifest(sweepDir, sweepManifest(spec, trials));
      const dir = path.join(sweepDir, 'seed=0');
      const executor = new SlurmExecutor({ env: cluster!.env });
      const segment = async (stopAtStep?: number): Promise<string> => {
        const request = { sweepFile: file, sweepName: 'smoke-rungs', sweepDir, trials, indices: [0], concurrency: undefined, retries: 0, force: false };
        const submission = await executor.submit(stopAtStep === undefined ? request : { ...request, stopAtStep });
        const deadline = Date.now() + 120_000;
        while ([...(await submission.poll()).values()].some((task) => task.active)) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${submission.description}\n${cluster!.logs()}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        return submission.taskId(0);
      };
      const paused = await segment(500);
      expect(readStatusFile(dir), readFileSync(path.join(dir, `slurm-${paused}.out`), 'utf8')).to.deep.include({ state: 'paused', rungStep: 500, step: 500, exitCode: 75, job: paused });
      const resumed = await segment();
      expect(readStatusFile(dir)).to.deep.include({ state: 'done', step: 1500, exitCode: 0, job: resumed });
      expect(readFileSync(path.join(dir, 'stdout.log'), 'utf8')).to.match(/Resuming from .*checkpoints\/step-500 \(step 500 of 1500\)/);
      // The same configuration and seed as the local reference's first trial, run there straight through.
      const weights = (trialDir: string): Buffer => readFileSync(path.join(trialDir, 'snapshots', 'step-1500', 'weights.bin'));
      expect(weights(dir).equals(weights(path.join(localDir, TRIALS[0]!))), 'final weights differ').to.equal(true);
    });
  });
});
