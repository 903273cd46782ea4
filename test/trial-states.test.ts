/**
 * Trials through rungs: `sweep trial --stop-at-step` and runTrial's stopAtStep pause a trial
 * (state `paused`, its rung in status.json), the scheduler's markTrialStopped ends one at its
 * rung (`stopped`), and every view of a sweep — status, results, progress, prune, a rerun —
 * handles both. A trial taken through rungs ends bit-identical to one run straight.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { expandSweep, type Trial } from '../src/sweep/expand.js';
import { LocalExecutor } from '../src/sweep/executor.js';
import { SweepProgress } from '../src/sweep/progress-view.js';
import { collectResults, formatResults, summarizeTrials, type TrialResult } from '../src/sweep/results.js';
import { SlurmExecutor } from '../src/sweep/slurm.js';
import { loadSweepSpec } from '../src/sweep/spec.js';
import { formatSweepStatus } from '../src/sweep/status-report.js';
import { type EndedTrialState, type TrialStatus, readStatus } from '../src/sweep/trial-status.js';
import { markTrialStopped, runTrial } from '../src/sweep/trial.js';
import { readRun } from '../src/tensorboard/index.js';
import { EXIT_PAUSED } from '../src/train/run-messages.js';
import { sweepMain } from '../src/cli/sweep-commands.js';
import { sweepCommand as sweep } from './helpers/cli-harness.js';

/** `sweep` with these arguments, its progress view's lines included. */
async function sweepShowingView(...args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: false, columns: 100 });
  stdout.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const code = await sweepMain(args, { out: (t) => lines.push(t), err: (t) => lines.push(t), stdout });
  return { code, text: lines.join('\n') };
}

const SWEEP = [
  'name: rungs',
  'method: grid',
  'seeds: [0]',
  'parameters:',
  '  env: { value: CartPole-v1 }',
  '  steps: { value: 900 }',
  '  learningRate: { values: [0.001, 0.002] }',
  '  trainStart: { value: 100 }',
  '  bufferSize: { value: 2000 }',
  '  qValidationSize: { value: 100 }',
  '  evalEvery: { value: 300 }',
  '  evalEpisodes: { value: 2 }',
  '  logEvery: { value: 100 }',
  '  snapshotEvery: { value: 0 }',
  '  targetUpdateEvery: { value: 100 }',
  '  checkpointEvery: { value: 0 }',
  '  evalGif: { value: false }',
].join('\n');

const statusOf = (dir: string): Promise<TrialStatus> => readStatus(dir).then((status) => status!);

describe('trials paused at a rung and stopped there', function () {
  this.timeout(240_000);
  let tmp: string;
  let file: string;
  let logdir: string;
  let sweepDir: string;
  let trials: Trial[];
  const dirOf = (index: number): string => path.join(sweepDir, trials[index]!.name);

  before(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-rungs-'));
    file = path.join(tmp, 'rungs.yaml');
    writeFileSync(file, `${SWEEP}\n`);
    logdir = path.join(tmp, 'runs');
    sweepDir = path.join(logdir, 'rungs');
    trials = expandSweep(await loadSweepSpec(file), { sweepDir });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('sweep trial --stop-at-step runs one rung segment: paused (exit 75), its rung and metric in status.json', async () => {
    for (const index of [0, 1]) {
      const segment = await sweep('trial', file, '--index', String(index), '--logdir', logdir, '--stop-at-step', '300');
      expect(segment.code, segment.text).to.equal(EXIT_PAUSED);
      const status = await statusOf(dirOf(index));
      expect(status).to.deep.include({ state: 'paused', rungStep: 300, step: 300, totalSteps: 900, exitCode: EXIT_PAUSED, cause: null });
      expect(status.lastEvaluation?.step, 'the rung is an evaluation step').to.equal(300);
      expect(status.finalReturnMean).to.equal(status.lastEvaluation!.returnMean);
      expect(segment.text).to.include(`paused ${trials[index]!.name} at step 300/900, eval/return_mean ${status.finalReturnMean!.toFixed(2)}`);
      expect(existsSync(path.join(dirOf(index), 'checkpoints', 'step-300', 'checkpoint.json'))).to.equal(true);
    }
    const shown = await formatSweepStatus(sweepDir, undefined);
    expect(shown.split('\n')[0]).to.equal(`Sweep rungs (${sweepDir}): 2 trials — paused 2`);
    expect(shown).to.match(/^paused\s+learningRate=0\.001,seed=0\s+300\/900 .*waiting at the rung at step 300 \(a checkpoint there\); promoted, it resumes from there$/m);
    expect(shown).to.include('Nothing is running and not every trial is done; resume the sweep with: sweep run');
  });

  it('runTrial with stopAtStep resumes a paused trial to the next rung', async () => {
    const ended: Array<[EndedTrialState | 'retrying', string]> = [];
    const run = await runTrial({
      trial: trials[0]!,
      dir: dirOf(0),
      executor: new LocalExecutor(),
      retries: 0,
      previous: await statusOf(dirOf(0)),
      restart: false,
      stopAtStep: 600,
      control: { stopping: false, killing: false, running: () => {} },
      callbacks: { log: () => {}, started: () => {}, progress: () => {}, ended: (state, line) => ended.push([state, line]) },
    });
    expect(run.state).to.equal('paused');
    expect(run.status).to.deep.include({ state: 'paused', rungStep: 600, step: 600, exitCode: EXIT_PAUSED });
    expect(ended).to.have.length(1);
    expect(ended[0]![0]).to.equal('paused');
    expect(readFileSync(path.join(dirOf(0), 'stdout.log'), 'utf8')).to.match(/Resuming from .*checkpoints\/step-300 \(step 300 of 900\)/);
  });

  it('markTrialStopped ends a paused trial at its rung (once; only a paused one), and TensorBoard sees a normal end', async () => {
    const stopped = await markTrialStopped(dirOf(1), 'asha');
    expect(stopped).to.deep.include({ state: 'stopped', rungStep: 300, step: 300, stoppedBy: 'asha' });
    expect(await statusOf(dirOf(1))).to.deep.equal({ ...stopped, updatedAt: (await statusOf(dirOf(1))).updatedAt });
    expect(readRun(dirOf(1)).hparams_session?.end_status).to.equal('success');
    // A replayed decision changes nothing.
    const before = readFileSync(path.join(dirOf(1), 'status.json'), 'utf8');
    expect((await markTrialStopped(dirOf(1), 'asha')).state).to.equal('stopped');
    expect(readFileSync(path.join(dirOf(1), 'status.json'), 'utf8')).to.equal(before);
    const shown = await formatSweepStatus(sweepDir, undefined);
    expect(shown).to.match(/^stopped\s+learningRate=0\.002,seed=0\s+300\/900 .*stopped at the rung at step 300 by asha; its metric is the evaluation there$/m);
    try {
      await markTrialStopped(path.join(tmp, 'nowhere'));
      expect.fail('marked a folder without a status stopped');
    } catch (error) {
      expect((error as Error).message).to.equal(`cannot mark ${path.join(tmp, 'nowhere')} stopped: it has no status.json; only a paused trial (waiting at a rung) can be stopped`);
    }
  });

  it('a plain sweep run resumes the paused trial to its end, skips the stopped one, and exits 0; results rank it below the done one', async () => {
    const rerun = await sweepShowingView('run', file, '--logdir', logdir, '--progress-every', '0');
    expect(rerun.code, rerun.text).to.equal(0);
    expect(rerun.text).to.include(`skipping 1 trial stopped at a rung (already in ${sweepDir})`);
    expect(rerun.text).to.include(`done ${trials[0]!.name} (900 steps`);
    expect(await statusOf(dirOf(0))).to.deep.include({ state: 'done', step: 900 });
    expect((await statusOf(dirOf(1))).state).to.equal('stopped');

    const results = await collectResults(sweepDir);
    const [done, stopped] = results.trials;
    expect(done).to.deep.include({ state: 'done', step: 900 });
    expect(stopped).to.deep.include({ state: 'stopped', step: 300, final: (await statusOf(dirOf(1))).finalReturnMean });
    expect(results.configurations.map((c) => [c.configName, c.rank, c.rungStep])).to.deep.equal([
      [trials[0]!.configName, 1, null],
      [trials[1]!.configName, 2, 300],
    ]);
    const text = formatResults(results);
    expect(text).to.match(/stopped at step/);
    expect(text, 'a stopped trial is no unfinished one').not.to.include('Not done');
    const csv = readFileSync(path.join(sweepDir, 'results.csv'), 'utf8');
    // Its steps are the rung's; no error log to point at.
    expect(csv).to.match(/^"learningRate=0\.002,seed=0",[^\n]*,stopped,eval\/return_mean,[^\n]*,300,900,2,[^\n]*stdout\.log",$/m);
  });

  it('the trial taken through rungs 300 and 600 ends bit-identical to the same trial run straight', async () => {
    const straightLogdir = path.join(tmp, 'straight');
    const straight = await sweep('trial', file, '--index', '0', '--logdir', straightLogdir);
    expect(straight.code, straight.text).to.equal(0);
    const straightDir = path.join(straightLogdir, 'rungs', trials[0]!.name);
    const weights = (dir: string): Buffer => readFileSync(path.join(dir, 'snapshots', 'step-900', 'weights.bin'));
    expect(weights(dirOf(0)).equals(weights(straightDir)), 'final weights differ').to.equal(true);
    const series = (dir: string) => {
      const { scalars } = readRun(dir);
      return Object.fromEntries(Object.entries(scalars).filter(([tag]) => !tag.startsWith('perf/')));
    };
    expect(series(dirOf(0))).to.deep.equal(series(straightDir));
    expect(series(dirOf(0))['eval/return_mean']!.map(([step]) => step)).to.deep.equal([300, 600, 900]);
    expect((await statusOf(dirOf(0))).finalReturnMean).to.equal((await statusOf(straightDir)).finalReturnMean);
  });

  it('a Slurm submission of a rung segment passes --stop-at-step to each task (a stand-in sbatch)', async () => {
    const bin = mkdtempSync(path.join(tmp, 'fake-slurm-'));
    writeFileSync(path.join(bin, 'sbatch'), '#!/bin/sh\necho "4242;cluster"\n', { mode: 0o755 });
    writeFileSync(path.join(bin, 'squeue'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(path.join(bin, 'scancel'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const executor = new SlurmExecutor({ env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` } }, ['sweep', 'trial']);
    const slurmSweepDir = path.join(tmp, 'slurm', 'rungs');
    await executor.submit({ sweepFile: file, sweepName: 'rungs', sweepDir: slurmSweepDir, trials, indices: [0, 1], concurrency: undefined, retries: 0, force: false, stopAtStep: 300 });
    const script = readFileSync(path.join(slurmSweepDir, 'slurm', readdirSync(path.join(slurmSweepDir, 'slurm')).find((name) => name.endsWith('.sh'))!), 'utf8');
    expect(script).to.match(/^exec sweep trial \S+\.yaml --logdir \S+ --stop-at-step 300 --index "\$SLURM_ARRAY_TASK_ID"$/m);
  });
});

describe('paused and stopped trials in the progress view and the rankings', () => {
  const trial = (name: string): Trial => ({ name, index: 0, configIndex: 0, configName: name, seed: 0, hparams: {}, config: { steps: 900, logEvery: 100, env: 'CartPole-v1' } }) as unknown as Trial;

  it('the overall line counts paused trials until promoted or stopped, and stopped ones apart from done', () => {
    const progress = new SweepProgress(() => 0);
    const [a, b, c] = [trial('a'), trial('b'), trial('c')];
    progress.begin([a, b, c], 0);
    for (const t of [a, b, c]) progress.started(t, 1);
    progress.ended(a, 'paused');
    progress.ended(b, 'paused');
    progress.ended(c, 'done');
    expect(progress.overallLine()).to.match(/^sweep: done 1\/3, paused 2, running 0, pending 0 \|/);
    progress.started(a, 2); // promoted
    progress.ended(b, 'stopped');
    expect(progress.overallLine()).to.match(/^sweep: done 1\/3, stopped 1, running 1, pending 0 \|/);
  });

  it('stopped configurations rank below done ones, higher rungs first, then by the metric', () => {
    const result = (configIndex: number, state: TrialResult['state'], step: number, final: number): TrialResult => ({
      index: configIndex,
      name: `c${configIndex}`,
      configName: `c${configIndex}`,
      configIndex,
      seed: 0,
      hparams: {},
      state,
      final,
      best: final,
      score: final,
      step,
      totalSteps: 900,
      exitCode: null,
      cause: null,
      dir: '',
      log: '',
      errorLog: '',
    });
    const configurations = summarizeTrials(
      [result(0, 'stopped', 300, 500), result(1, 'done', 900, 100), result(2, 'stopped', 600, 50), result(3, 'stopped', 600, 80), result(4, 'paused', 300, 999)],
      'maximize',
    );
    expect(configurations.map((c) => [c.configName, c.rank, c.rungStep, c.finalMean])).to.deep.equal([
      ['c1', 1, null, 100],
      ['c3', 2, 600, 80],
      ['c2', 3, 600, 50],
      ['c0', 4, 300, 500],
      // A paused trial's value is not a result yet.
      ['c4', null, null, null],
    ]);
  });
});
