/**
 * The sweep's parts without real runs: the scheduler through a fake TrialExecutor,
 * results, the lock, moving partial runs aside, progress lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { expandSweep, type Trial } from '../src/sweep/expand.js';
import type { RunningTrial, TrialExecutor, TrialExit, TrialLaunch } from '../src/sweep/executor.js';
import { acquireLock, LOCK_FILE, SweepLockedError } from '../src/sweep/lock.js';
import { createView, formatDuration, SweepProgress } from '../src/sweep/progress-view.js';
import { collectResults, formatResults, meanStd, resultsCsv, scoringOf, summarizeTrials, type SweepResults, type TrialResult } from '../src/sweep/results.js';
import { rankingVerdict } from '../src/sweep/ranking.js';
import { runSweep, type SweepOutcome } from '../src/sweep/scheduler.js';
import { configDifferences, moveAside } from '../src/sweep/trial.js';
import { parseSweepSpec } from '../src/sweep/spec.js';
import { readStatus, writeManifest, writeStatus, pendingStatus, type TrialStatus } from '../src/sweep/trial-status.js';
import { readRun, SummaryWriter } from '../src/tensorboard/index.js';
import { defaultRunConfig } from '../src/train/config.js';
import { reporter } from './helpers/progress.js';

/** What a fake trial does: its exit, after `ms`, and the eval return it reports. */
type Script = (trial: Trial, attempt: number) => { exit: TrialExit; ms?: number; returnMean?: number; stopExit?: TrialExit; filesDeleted?: boolean };

class FakeExecutor implements TrialExecutor {
  readonly description = 'fake trials';
  active = 0;
  maxActive = 0;
  readonly starts: string[] = [];
  private readonly attempts = new Map<string, number>();
  constructor(private readonly script: Script) {}

  start(launch: TrialLaunch): RunningTrial {
    const attempt = (this.attempts.get(launch.trial.name) ?? 0) + 1;
    this.attempts.set(launch.trial.name, attempt);
    this.starts.push(launch.trial.name);
    // The scheduler hands over a config file and log files in the trial's folder.
    expect(JSON.parse(readFileSync(launch.configFile, 'utf8')).name).to.equal(launch.trial.name);
    writeFileSync(launch.stderrFile, '');
    const plan = this.script(launch.trial, attempt);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const total = launch.trial.config.steps;
    let finish!: (exit: TrialExit) => void;
    const exited = new Promise<TrialExit>((resolve) => {
      finish = resolve;
    });
    let ended = false;
    const end = (exit: TrialExit, step: number): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      if (exit.exitCode === 0 || exit.exitCode === 130) {
        if (exit.exitCode === 0 && !plan.filesDeleted) writeFinishedRunFiles(launch.dir, step);
        launch.onMessage({ type: 'evaluation', step, returnMean: plan.returnMean ?? 1, returnStd: 0, avgMaxQ: 0 });
        launch.onMessage({ type: 'finished', step, totalSteps: total, interrupted: exit.exitCode === 130, finalReturnMean: plan.returnMean ?? 1, bestReturnMean: plan.returnMean ?? 1 });
      } else if (exit.exitCode === 1) {
        writeFileSync(launch.stderrFile, 'some warning\nerror: diverged at step 7: loss is NaN\n');
      }
      this.active--;
      finish(exit);
    };
    launch.onMessage({ type: 'started', runDir: launch.dir, totalSteps: total, engine: 'fake' });
    launch.onMessage({ type: 'progress', step: total / 2, totalSteps: total, stepsPerSecond: 1000, episodes: 1, lastEpisodeReturn: 1, loss: 0.1 });
    const timer = setTimeout(() => end(plan.exit, total), plan.ms ?? 20);
    return {
      id: undefined,
      exited,
      stop: () => end(plan.stopExit ?? { exitCode: 130, signal: null }, total / 2),
      kill: () => end({ exitCode: null, signal: 'SIGKILL' }, total / 2),
    };
  }
}

/** What a real run that finished at `step` leaves (the scheduler checks it before calling the trial done). */
function writeFinishedRunFiles(dir: string, step: number): void {
  writeFileSync(path.join(dir, 'config.json'), '{}');
  writeFileSync(path.join(dir, 'events.out.tfevents.0.fake.1.0'), '');
  mkdirSync(path.join(dir, 'snapshots', `step-${step}`), { recursive: true });
  for (const name of ['model.json', 'weights.bin']) writeFileSync(path.join(dir, 'snapshots', `step-${step}`, name), '');
}

const SPEC = `name: fake
seeds: [0, 1]
parameters:
  env: { value: CartPole-v1 }
  steps: { value: 1000 }
  learningRate: { values: [0.001, 0.002, 0.003] }
`;

function silentView() {
  const lines: string[] = [];
  const stream = {
    write: (text: string) => {
      lines.push(text);
      return true;
    },
    isTTY: false,
  } as unknown as NodeJS.WritableStream;
  return { view: createView(stream, { tty: false, plainIntervalSeconds: 0 }), lines };
}

describe('sweep scheduler (fake executor)', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-sched-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  async function run(
    script: Script,
    options: { concurrency?: number; retries?: number; stop?: AbortSignal; text?: string } = {},
  ): Promise<{ outcome: SweepOutcome; executor: FakeExecutor; printed: string; sweepDir: string; trials: Trial[] }> {
    const spec = parseSweepSpec(options.text ?? SPEC, 'fake.yaml');
    const sweepDir = path.join(tmp, spec.name);
    const trials = expandSweep(spec, { sweepDir });
    const executor = new FakeExecutor(script);
    let printed = '';
    const outcome = await runSweep({
      spec,
      trials,
      sweepDir,
      executor,
      concurrency: options.concurrency ?? 2,
      retries: options.retries ?? 0,
      view: silentView().view,
      resumeCommand: 'sweep run fake.yaml',
      print: (text) => {
        printed += text;
      },
      ...(options.stop ? { stopSignal: options.stop } : {}),
    });
    return { outcome, executor, printed, sweepDir, trials };
  }

  it('runs every trial once, at most `concurrency` at once', async () => {
    const { outcome, executor, trials, sweepDir } = await run(() => ({ exit: { exitCode: 0, signal: null } }), { concurrency: 2 });
    expect(outcome.exitCode).to.equal(0);
    expect(outcome.done).to.have.length(6);
    expect(executor.maxActive).to.equal(2);
    // Each once; the first two start together, the later ones as slots free up.
    expect([...executor.starts].sort()).to.deep.equal(trials.map((t) => t.name).sort());
    expect(executor.starts.slice(0, 2)).to.have.members(trials.slice(0, 2).map((t) => t.name));
    for (const trial of trials) expect((await readStatus(path.join(sweepDir, trial.name)))!.state).to.equal('done');
    expect(existsSync(path.join(sweepDir, LOCK_FILE))).to.equal(false);
  });

  it('ranks configurations by their mean over seeds', async () => {
    const { outcome } = await run((trial) => ({ exit: { exitCode: 0, signal: null }, returnMean: trial.config.learningRate * 1000 + trial.seed }));
    expect(outcome.results.configurations.map((c) => [c.configName, c.finalMean, c.rank, c.best])).to.deep.equal([
      ['learningRate=0.003', 3.5, 1, true],
      ['learningRate=0.002', 2.5, 2, false],
      ['learningRate=0.001', 1.5, 3, false],
    ]);
  });

  it('retries failed trials up to --retries, then reports the final failures with their cause and log', async () => {
    // learningRate=0.002 always fails; 0.003 fails on its first attempt only.
    const { outcome, executor, printed, sweepDir } = await run(
      (trial, attempt) => ({
        exit: trial.config.learningRate === 0.002 || (trial.config.learningRate === 0.003 && attempt === 1) ? { exitCode: 1, signal: null } : { exitCode: 0, signal: null },
      }),
      { retries: 1 },
    );
    expect(outcome.exitCode).to.equal(1);
    expect(outcome.failed).to.deep.equal(['learningRate=0.002,seed=0', 'learningRate=0.002,seed=1']);
    expect(outcome.done).to.have.length(4);
    expect(executor.starts.filter((name) => name === 'learningRate=0.002,seed=0')).to.have.length(2);
    const failed = (await readStatus(path.join(sweepDir, 'learningRate=0.002,seed=0')))!;
    expect(failed).to.deep.include({ state: 'failed', attempt: 2, exitCode: 1, cause: 'exit code 1: diverged at step 7: loss is NaN' });
    expect(printed).to.include(`log: ${path.join(sweepDir, 'learningRate=0.002,seed=0', 'stderr.log')}`);
    // The first, failed attempt of a retried trial was moved aside.
    expect(readdirSync(path.join(sweepDir, 'learningRate=0.003,seed=0')).filter((f) => f.startsWith('previous-'))).to.have.length(1);
  });

  it('a trial that finishes without its files (deleted while it ran) fails, naming them, and gives no result', async () => {
    const { outcome, sweepDir, printed } = await run((trial) => ({ exit: { exitCode: 0, signal: null }, filesDeleted: trial.config.learningRate === 0.002 }));
    expect(outcome.exitCode).to.equal(1);
    expect(outcome.failed).to.deep.equal(['learningRate=0.002,seed=0', 'learningRate=0.002,seed=1']);
    const status = (await readStatus(path.join(sweepDir, 'learningRate=0.002,seed=0')))!;
    expect(status.state).to.equal('failed');
    expect(status.cause).to.equal(
      'the run finished, but config.json, its event file, snapshots/step-1000/model.json, snapshots/step-1000/weights.bin are missing ' + '(deleted while it ran?); run the sweep again to rerun it',
    );
    expect(printed).to.include('learningRate=0.002,seed=0: the run finished, but config.json');
    const configuration = outcome.results.configurations.find((c) => c.configName === 'learningRate=0.002')!;
    expect(configuration).to.deep.include({ seeds: 0, finalMean: null, rank: null });
  });

  it('a trial killed by a signal fails with that cause; one that cannot start fails too', async () => {
    const { outcome, sweepDir } = await run((trial) => ({
      exit:
        trial.config.learningRate === 0.001
          ? { exitCode: null, signal: 'SIGKILL' }
          : trial.config.learningRate === 0.002
            ? { exitCode: null, signal: null, launchError: 'spawn ENOENT' }
            : { exitCode: 0, signal: null },
    }));
    expect(outcome.exitCode).to.equal(1);
    expect((await readStatus(path.join(sweepDir, 'learningRate=0.001,seed=0')))!.cause).to.equal('killed by SIGKILL');
    expect((await readStatus(path.join(sweepDir, 'learningRate=0.002,seed=0')))!.cause).to.equal('could not start the run: spawn ENOENT');
  });

  it('stopping: running trials are interrupted, no new trial starts, exit 130 with the resume command', async () => {
    const stop = new AbortController();
    const started = run(() => ({ exit: { exitCode: 0, signal: null }, ms: 10_000 }), { stop: stop.signal, concurrency: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop.abort();
    const { outcome, executor, printed, sweepDir } = await started;
    expect(outcome.exitCode).to.equal(130);
    expect(executor.starts).to.have.length(2);
    expect(outcome.interrupted).to.have.length(2);
    expect(outcome.notStarted).to.have.length(4);
    expect(printed).to.include('To resume: sweep run fake.yaml');
    expect((await readStatus(path.join(sweepDir, 'learningRate=0.001,seed=0')))!.state).to.equal('interrupted');
    expect((await readStatus(path.join(sweepDir, 'learningRate=0.003,seed=0')))!.state).to.equal('pending');
  });

  it('a rerun starts only the trials that are not done', async () => {
    const first = await run((trial) => ({ exit: trial.seed === 1 ? { exitCode: 1, signal: null } : { exitCode: 0, signal: null } }));
    expect(first.outcome.failed).to.have.length(3);
    const second = await run(() => ({ exit: { exitCode: 0, signal: null } }));
    expect(second.outcome.skipped).to.have.length(3);
    // Failures are listed as they end, which need not be the order they started in.
    expect([...second.executor.starts].sort()).to.deep.equal([...first.outcome.failed].sort());
    expect(second.outcome.exitCode).to.equal(0);
  });

  it('writes the hparams experiment at the sweep root', async () => {
    const { sweepDir } = await run(() => ({ exit: { exitCode: 0, signal: null } }));
    const root = readRun(sweepDir);
    expect(root.hparams_experiment).to.deep.equal({
      hparams: ['learningRate', 'seed'],
      metrics: ['eval/return_mean', 'eval/return_std', 'eval/avg_max_q', 'train/episode_return'],
    });
    // A rerun replaces it rather than adding another.
    await run(() => ({ exit: { exitCode: 0, signal: null } }));
    expect(readdirSync(sweepDir).filter((f) => f.includes('tfevents'))).to.have.length(1);
  });
});

describe('sweep results', () => {
  const trial = (name: string, configIndex: number, seed: number, state: TrialResult['state'], final: number | null, best = final): TrialResult => ({
    index: 0,
    name,
    configName: `c${configIndex}`,
    configIndex,
    seed,
    hparams: { learningRate: configIndex, seed },
    state,
    final,
    best,
    score: final,
    step: 10,
    totalSteps: 10,
    exitCode: state === 'done' ? 0 : 1,
    cause: null,
    dir: name,
    log: `${name}/stdout.log`,
    errorLog: `${name}/stderr.log`,
  });
  const trials = [
    trial('a0', 0, 0, 'done', -100),
    trial('a1', 0, 1, 'done', -120, -90),
    trial('b0', 1, 0, 'done', -150),
    trial('b1', 1, 1, 'failed', null),
    trial('c0', 2, 0, 'failed', null),
    trial('c1', 2, 1, 'interrupted', -10),
  ];

  it("reads a metric the finished message lacks from the trial's event files", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-results-'));
    try {
      await writeManifest(dir, {
        name: 'r',
        file: 'r.yaml',
        method: 'grid',
        metric: { name: 'train/loss', goal: 'minimize' },
        seeds: [0],
        swept: [],
        updatedAt: '',
        trials: [{ index: 0, name: 'seed=0', configName: 'default', configIndex: 0, seed: 0, hparams: { seed: 0 }, steps: 30 }],
      });
      const trialDir = path.join(dir, 'seed=0');
      const writer = new SummaryWriter(trialDir, { flushSeconds: 0 });
      [
        [10, 0.5],
        [20, 0.2],
        [30, 0.3],
      ].forEach(([step, loss]) => writer.scalar('train/loss', loss!, step!));
      writer.close();
      await writeStatus(trialDir, { ...pendingStatus({ name: 'seed=0', index: 0, config: { steps: 30 } }), state: 'done', step: 30, finalReturnMean: 5, bestReturnMean: 6 });
      const results = await collectResults(dir);
      expect(results.trials[0]).to.deep.include({ state: 'done', final: 0.30000001192092896, best: 0.20000000298023224 });
      expect(results.bestConfiguration).to.equal('default');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mean and sample std', () => {
    expect(meanStd([])).to.equal(null);
    expect(meanStd([3])).to.deep.equal({ mean: 3, std: 0 });
    const { mean, std } = meanStd([2, 4, 4, 4, 5, 5, 7, 9])!;
    expect(mean).to.equal(5);
    expect(std).to.be.closeTo(2.138, 1e-3);
  });

  it('groups over seeds counting only done trials, sorts by the goal, marks the best', () => {
    const max = summarizeTrials(trials, 'maximize');
    expect(max.map((c) => [c.configName, c.rank, c.best, c.seeds, c.total])).to.deep.equal([
      ['c0', 1, true, 2, 2],
      ['c1', 2, false, 1, 2],
      ['c2', null, false, 0, 2],
    ]);
    expect(max[0]!.finalMean).to.equal(-110);
    expect(max[0]!.finalStd).to.be.closeTo(Math.sqrt(200), 1e-9);
    expect(max[0]!.bestMean).to.equal(-95);
    expect(max[0]!.hparams).to.deep.equal({ learningRate: 0 });
    const min = summarizeTrials(trials, 'minimize');
    expect(min.map((c) => c.configName)).to.deep.equal(['c1', 'c0', 'c2']);
  });

  it('csv: one row per trial with its configuration, fields quoted when needed; a readable table', () => {
    const configurations = summarizeTrials(trials, 'maximize');
    const results: SweepResults = {
      sweep: 's',
      metric: 'eval/return_mean',
      goal: 'maximize',
      swept: ['learningRate'],
      trials,
      configurations,
      bestConfiguration: 'c0',
      scoring: scoringOf({ name: 'eval/return_mean', goal: 'maximize' }, new Set()),
      ranking: rankingVerdict(configurations),
      generatedAt: '',
    };
    results.trials[3]!.cause = 'exit code 1: "bad", really';
    const csv = resultsCsv(results).trim().split('\n');
    expect(csv).to.have.length(7);
    expect(csv[0]).to.match(/,cause,log,error_log$/);
    // The columns before the statistics were added stay, in their order.
    expect(csv[0]!.split(',').filter((name) => !/^(summary|score|config_score_.*|config_ci_rough|config_not_solved|tied_with_best|p_best_beats)$/.test(name))).to.deep.equal(
      'trial,configuration,learningRate,seed,state,metric,final,best,steps,total_steps,config_rank,config_final_mean,config_final_std,config_best_mean,config_seeds,best_configuration,exit_code,cause,log,error_log'.split(
        ',',
      ),
    );
    // Measured values to 6 significant digits; the log with the run's output, and for a trial not done its error log.
    const row = (line: string): Record<string, string> => Object.fromEntries(csv[0]!.split(',').map((name, i) => [name, line.split(',')[i]!]));
    expect(row(csv[1]!)).to.deep.equal({
      trial: 'a0',
      configuration: 'c0',
      learningRate: '0',
      seed: '0',
      state: 'done',
      metric: 'eval/return_mean',
      summary: 'final',
      final: '-100',
      best: '-100',
      score: '-100',
      steps: '10',
      total_steps: '10',
      config_rank: '1',
      config_final_mean: '-110',
      config_final_std: '14.1421',
      config_best_mean: '-95',
      config_seeds: '2',
      // Two seeds, -100 and -120: the IQM of 2 values is their mean; a resample is both the same (1/4 each) or one of each, so the 95% interval spans the two.
      config_score_iqm: '-110',
      config_score_iqm_ci_low: '-120',
      config_score_iqm_ci_high: '-100',
      config_score_mean: '-110',
      config_score_mean_ci_low: '-120',
      config_score_mean_ci_high: '-100',
      config_score_median: '-110',
      config_score_std: '14.1421',
      config_score_min: '-120',
      config_score_max: '-100',
      config_score_seeds: '2',
      config_ci_rough: 'true',
      config_not_solved: '0',
      tied_with_best: '',
      p_best_beats: '',
      best_configuration: 'true',
      exit_code: '0',
      cause: '',
      log: 'a0/stdout.log',
      error_log: '',
    });
    // c1 (one seed, -150) cannot be compared by intervals; every run of c0 beats its run.
    expect(row(csv[3]!)).to.deep.include({ config_rank: '2', config_score_iqm_ci_low: '', config_score_seeds: '1', tied_with_best: '', p_best_beats: '1' });
    expect(csv[4]).to.include(',"exit code 1: ""bad"", really",b1/stdout.log,b1/stderr.log');
    const text = formatResults(results);
    expect(text).to.match(/^\*\s+1\s+0\s+-110\.00\s+\[-120\.00, -100\.00\]\s+-110\.00 ± 14\.14\s+\[-120\.00, -100\.00\]\s+-110\.00\s+-120\.00\s+2\/2\s+n=2, CI rough$/m);
    expect(text).to.match(/^\s+2\s+1\s+-150\.00\s+no CI\s+-150\.00 ± 0\.00\s+no CI\s+-150\.00\s+-150\.00\s+1\/2\s+n=1, no CI$/m);
    expect(text).to.match(
      /^Best: c0 \(IQM -110\.00, 95% CI \[-120\.00, -100\.00\]; n=2, CI rough\); c1: too few seeds \(1\) to compare with it; P\(a run of the best beats one of the runner-up c1\) = 1\.00$/m,
    );
    expect(text).to.match(/failed\s+b1: exit code 1: "bad", really — log: b1\/stderr\.log/);
    expect(text).to.match(/interrupted c1: at step 10\/10/);
  });

  it('csv: rounds measured values to 6 significant digits, without float noise', () => {
    const noisy = [trial('x0', 0, 0, 'done', 0.1 + 0.2, 123.456789012), trial('x1', 0, 1, 'done', 1 / 3, 2e-7 / 3)];
    const results: SweepResults = {
      sweep: 's',
      metric: 'm',
      goal: 'maximize',
      swept: [],
      trials: noisy,
      configurations: summarizeTrials(noisy, 'maximize'),
      bestConfiguration: 'c0',
      scoring: scoringOf({ name: 'm', goal: 'maximize' }, new Set()),
      ranking: rankingVerdict(summarizeTrials(noisy, 'maximize')),
      generatedAt: '',
    };
    const [x0, x1] = resultsCsv(results)
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    expect(x0!.slice(5, 7)).to.deep.equal(['0.3', '123.457']);
    expect(x1!.slice(5, 7)).to.deep.equal(['0.333333', '6.66667e-8']);
    expect(x0![12]).to.equal('0.316667'); // the configuration's mean final
  });
});

describe('sweep lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken, refused to a second taker while held, and released', async () => {
    const lock = await acquireLock(dir, 'sweep run a.yaml');
    const info = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
    expect(info).to.deep.include({ pid: process.pid, hostname: hostname(), command: 'sweep run a.yaml' });
    await acquireLock(dir).then(
      () => {
        throw new Error('expected a refusal');
      },
      (error) => expect(error).to.be.instanceOf(SweepLockedError),
    );
    await lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).to.equal(false);
  });

  it('refuses a lock held by another live process, naming it', async () => {
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 'then', command: 'sweep run b.yaml' }));
    const error = await acquireLock(dir).catch((e: Error) => e);
    expect(error).to.be.instanceOf(SweepLockedError);
    expect((error as Error).message).to.match(new RegExp(`another sweep is writing .*: pid ${process.ppid}, started then \\(sweep run b\\.yaml\\)`));
  });

  it('takes over a stale lock whose process is gone, and says so', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: 'then', command: 'x' }));
    const lock = await acquireLock(dir);
    expect(lock.tookOver).to.match(new RegExp(`taking over a stale lock .*: its sweep \\(pid ${dead}, started then\\) is no longer running`));
    expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('refuses a lock from another host (its pid cannot be checked)', async () => {
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, hostname: 'elsewhere', startedAt: 'then', command: 'x' }));
    expect(((await acquireLock(dir).catch((e: Error) => e)) as Error).message).to.match(/locked by a sweep on host elsewhere/);
  });
});

describe('sweep trial folders', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-trial-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves an incomplete run aside, keeping status.json, trial.json and earlier moves', async () => {
    expect(await moveAside(path.join(dir, 'missing'))).to.equal(undefined);
    for (const file of ['status.json', 'trial.json', 'config.json', 'events.out.tfevents.1.host.1.0', 'stdout.log']) writeFileSync(path.join(dir, file), 'x');
    mkdirSync(path.join(dir, 'snapshots', 'step-5'), { recursive: true });
    const first = (await moveAside(dir))!;
    expect(path.basename(first)).to.match(/^previous-\d{8}T\d{6}Z$/);
    expect(readdirSync(dir).sort()).to.deep.equal([path.basename(first), 'status.json', 'trial.json']);
    expect(readdirSync(first).sort()).to.deep.equal(['config.json', 'events.out.tfevents.1.host.1.0', 'snapshots', 'stdout.log']);
    expect(await moveAside(dir)).to.equal(undefined);
    writeFileSync(path.join(dir, 'config.json'), 'y');
    const second = (await moveAside(dir))!;
    expect(second).not.to.equal(first);
    expect(readdirSync(dir).filter((f) => f.startsWith('previous-'))).to.have.length(2);
  });

  it('status.json round-trips; an unreadable one reads as missing', async () => {
    const status: TrialStatus = { ...pendingStatus({ name: 't', index: 3, config: { steps: 100 } }), state: 'done', exitCode: 0 };
    await writeStatus(dir, status);
    expect(await readStatus(dir)).to.deep.include({ trial: 't', index: 3, state: 'done', exitCode: 0, totalSteps: 100 });
    expect(readdirSync(dir)).to.deep.equal(['status.json']);
    writeFileSync(path.join(dir, 'status.json'), '{"trial": "t", "sta');
    expect(await readStatus(dir)).to.equal(undefined);
  });

  it('config differences name the changed options, ignoring name and logdir', () => {
    const before = { ...defaultRunConfig(), name: 'a', logdir: 'runs/x' };
    const after = { ...defaultRunConfig(), name: 'b', logdir: 'elsewhere', steps: 5, hiddenLayers: [64, 64] };
    expect(configDifferences(before, after)).to.deep.equal(['steps 200000 -> 5', 'hiddenLayers [32,32] -> [64,64]']);
    expect(configDifferences({ steps: 5 }, after)).to.deep.equal([]);
  });
});

describe('sweep progress view', () => {
  it('formats durations', () => {
    expect([0, 42, 75, 3599, 3700, NaN].map(formatDuration)).to.deep.equal(['0s', '42s', '1m15s', '59m59s', '1h01m', '?']);
  });

  it("per-trial lines and the sweep's counts (ETAs need the cost model: test/cost-model.test.ts)", () => {
    let now = 0;
    const progress = new SweepProgress(() => now);
    const report = reporter(progress);
    const spec = parseSweepSpec(SPEC, 'fake.yaml');
    const trials = expandSweep(spec, { sweepDir: 'runs/fake' });
    progress.begin(trials.slice(1), 1);
    progress.started(trials[1]!, 1);
    progress.started(trials[2]!, 2);
    report(trials[1]!, { type: 'progress', step: 500, totalSteps: 1000, stepsPerSecond: 100, episodes: 3, lastEpisodeReturn: 9, loss: 0.1 });
    report(trials[1]!, { type: 'evaluation', step: 500, returnMean: 12.34, returnStd: 1, avgMaxQ: 2 });
    report(trials[2]!, { type: 'progress', step: 0, totalSteps: 1000, stepsPerSecond: 100, episodes: 0, lastEpisodeReturn: null, loss: null });
    now = 65_000;
    const run = progress.running.get(trials[1]!.name)!;
    expect(progress.trialLine(run, true)).to.equal('learningRate=0.002,seed=0  [######......] 500/1000 (50%)  eval 12.3  100 steps/s  ETA ?');
    expect(progress.trialLine(progress.running.get(trials[2]!.name)!, false)).to.match(/^learningRate=0\.003,seed=0 \(attempt 2\) {2}0\/1000/);
    progress.ended(trials[1]!, 'done');
    progress.ended(trials[2]!, 'failed');
    expect(progress.overallLine()).to.equal('sweep: done 2/6, failed 1, running 0, pending 3 | 1m05s elapsed, ETA ?');
  });

  it('redraws in place on a TTY and prints events above the live lines', () => {
    const writes: string[] = [];
    const stream = {
      write: (text: string) => {
        writes.push(text);
        return true;
      },
      isTTY: true,
      columns: 200,
    } as unknown as NodeJS.WritableStream;
    const view = createView(stream, { redrawMs: 60_000 });
    const trials = expandSweep(parseSweepSpec(SPEC, 'fake.yaml'), { sweepDir: 'runs/fake' });
    view.begin(trials, 0);
    view.trialStarted(trials[0]!, 1);
    view.trialEnded(trials[0]!, 'done', 'done learningRate=0.001,seed=0');
    view.end();
    const screen = writes.join('');
    expect(screen).to.include('\x1b[2A\r\x1b[J');
    expect(screen).to.include('started learningRate=0.001,seed=0\n');
    expect(screen).to.include('\x1b[2K  learningRate=0.001,seed=0  [............] 0/1000 (0%)');
    expect(screen.endsWith('sweep: done 1/6, running 0, pending 5 | 0s elapsed, ETA ?\n')).to.equal(true);
  });

  it('prints plain lines when not a TTY', () => {
    const { view, lines } = silentView();
    const trials = expandSweep(parseSweepSpec(SPEC, 'fake.yaml'), { sweepDir: 'runs/fake' });
    view.begin(trials, 0);
    view.trialStarted(trials[0]!, 1);
    view.end();
    expect(lines.join('')).not.to.include('\x1b[');
    expect(lines[0]).to.equal('started learningRate=0.001,seed=0\n');
  });
});
