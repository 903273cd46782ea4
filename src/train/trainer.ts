/**
 * One DQN training run, top to bottom, as CleanRL's dqn.py reads: act, store, learn,
 * then the periodic duties (log, evaluate, snapshot, checkpoint: duties.ts). What the
 * run is made of and carries between steps is in run-state.ts, so a checkpoint saves it
 * and a resumed run continues bit-identically.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { fusedKernelsDescription } from '../agent/index.js';
import type { QLearner } from '../agent/learner.js';
import { EnvError } from '../envs/errors.js';
import { epsilonSchedule, learningRateSchedule } from '../agent/schedules.js';
import { SummaryWriter } from '../tensorboard/index.js';
import { type RunConfig, ConfigError, checkStopAtStep, configToHparams, configToMarkdown } from './config.js';
import { epsilonGreedy } from './evaluate.js';
import { CHECKPOINTS_DIR, loadLatestCheckpoint, pruneFinishedRun } from './checkpoint.js';
import type { RunOutput } from './run-output.js';
import { modelSummary } from './model-summary.js';
import type { ProgressReporter } from './run-messages.js';
import { describeFsError, ensureDir, writeFileAtomic } from '../util/files.js';
import { DivergedError, type Duty, type RunContext, checkpoints, evaluation, intervalLog, snapshots, takeQValidationSet } from './duties.js';
import { DEFAULT_FACTORIES, type EvaluationRecord, type LoopState, type RunFactories, createRunParts, initialLoopState, restoreCheckpoint } from './run-state.js';
import { type FolderContents, RUN_CONFIG_FILE, SWEEP_MANIFEST_FILE, TRIAL_CONFIG_FILE, describeContents, folderContents } from '../util/run-folders.js';
import { maxOf } from '../util/extent.js';

export interface TrainOptions {
  /** The run's folder; it must exist and hold config.json already. */
  runDir: string;
  output: RunOutput;
  /** Aborting stops training at the next step: a checkpoint and a snapshot are saved and the logs flushed. */
  signal?: AbortSignal;
  /** Receives progress (a sweep's child sends it to the parent over IPC). */
  report?: ProgressReporter;
  /** Continue from the run folder's latest intact checkpoint (from scratch when there is none). */
  resume?: boolean;
  /**
   * Pause after this environment step (--stop-at-step): evaluate if it is an evaluation step,
   * as always, save a snapshot and a checkpoint there and return `paused`. A resume continues
   * bit-identically to a run never paused. At `config.steps` the run simply finishes.
   */
  stopAtStep?: number;
  /** Seams: how the run makes its envs and its learner (tests pass fakes or spies). */
  factories?: Partial<RunFactories>;
}

export interface TrainResult {
  stepsDone: number;
  interrupted: boolean;
  /** It stopped at `stopAtStep`, before its last step, with a checkpoint there. */
  paused: boolean;
  /** The step this invocation started from (0, or the checkpoint's step when resuming). */
  resumedFrom: number;
  episodeReturns: number[];
  evaluations: EvaluationRecord[];
  learner: QLearner;
}

/** How long the synchronous loop may run before yielding, so signals and log flushes get through. */
const YIELD_EVERY_MS = 50;

/**
 * The start-up line that says what computes. The fused engine needs no TensorFlow.js, so
 * it is not loaded then (it costs ~90 MB and half a second per process, per sweep trial).
 */
export async function runBackendLine(engine: 'fused' | 'tfjs'): Promise<string> {
  if (engine === 'fused') return `backend: fused engine (${fusedKernelsDescription()}; TensorFlow.js not loaded)`;
  const { backendLine } = await import('../tf.js');
  return backendLine();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The latest checkpoint's loop state (restored into `context.parts`), or a fresh one. */
async function startingLoop(context: Omit<RunContext, 'loop' | 'writer'>, resume: boolean): Promise<LoopState> {
  const { runDir, output, config, parts } = context;
  if (!resume) return initialLoopState();
  const latest = await loadLatestCheckpoint(runDir);
  for (const message of latest.skipped) output.error(`warning: ${message}`);
  if (!latest.found) {
    output.line(`No checkpoint in ${runDir}; starting over from step 0`);
    return initialLoopState();
  }
  const loop = restoreCheckpoint(latest.found.content, parts);
  output.line(`Resuming from ${latest.found.dir} (step ${loop.step} of ${config.steps})`);
  return loop;
}

/** The run's TensorBoard writer, with what a fresh run or a resume must say first. */
function openWriter(config: RunConfig, runDir: string, resume: boolean, resumedFrom: number): SummaryWriter {
  const writer = new SummaryWriter(runDir);
  if (resume) {
    // TensorBoard drops the points logged earlier at this step or later, so none shows twice:
    // those a killed process logged after its checkpoint, or all of them when starting over.
    writer.sessionLogStart(resumedFrom === 0 ? 0 : resumedFrom + 1);
  }
  if (resumedFrom === 0) {
    writer.text('config', configToMarkdown(config), 0);
    writer.hparamsSessionStart(configToHparams(config), { groupName: config.group || config.name });
  }
  return writer;
}

export async function train(config: RunConfig, options: TrainOptions): Promise<TrainResult> {
  const { runDir, output, signal } = options;
  const report: ProgressReporter = options.report ?? (() => {});
  const factories: RunFactories = { ...DEFAULT_FACTORIES, ...options.factories };
  const parts = await createRunParts(config, factories);
  const { env, learner, replay, exploreRng, replayRng } = parts;
  const batch = replay.allocateBatch(config.batchSize);
  const epsilonAt = epsilonSchedule(config);
  const learningRateAt = learningRateSchedule(config);

  output.line(await runBackendLine(learner.engine));
  output.line(`engine: ${learner.engine}`);
  output.line(modelSummary(learner.spec));

  const loop = await startingLoop({ config, runDir, output, report, parts, factories }, options.resume ?? false);
  const resumedFrom = loop.step;
  // Checked against the checkpoint's step before anything is written.
  const endStep = options.stopAtStep === undefined ? config.steps : checkStopAtStep(options.stopAtStep, config, resumedFrom);
  const writer = openWriter(config, runDir, options.resume ?? false, resumedFrom);
  report({ type: 'started', runDir, totalSteps: config.steps, engine: learner.engine });

  const context: RunContext = { config, runDir, output, report, writer, parts, loop, factories };
  const evaluate = evaluation(context);
  const snapshot = snapshots(context);
  const checkpoint = checkpoints(context);
  const duties: Duty[] = [intervalLog(context, epsilonAt), evaluate, snapshot, checkpoint];

  let nextObservation: Float32Array = new Float32Array(env.observationSize);
  let lastYield = performance.now();

  try {
    while (loop.step < endStep) {
      if (signal?.aborted) break;
      const step = ++loop.step;

      // Act and store the transition.
      const action = epsilonGreedy(learner, parts.observation, epsilonAt(step), env.actionCount, exploreRng);
      const { reward, terminated, truncated } = env.stepInto(action, nextObservation);
      // A time-limit cut is not a terminal state: bootstrap through it unless asked not to.
      replay.add(parts.observation, action, reward, nextObservation, terminated || (truncated && config.terminalOnTruncation));
      loop.episodeReturn += reward;
      loop.episodeLength++;
      // Two observation buffers take turns, so stepping allocates nothing.
      [parts.observation, nextObservation] = [nextObservation, parts.observation];

      if (terminated || truncated) {
        writer.scalar('train/episode_return', loop.episodeReturn, step);
        writer.scalar('train/episode_length', loop.episodeLength, step);
        loop.episodeReturns.push(loop.episodeReturn);
        loop.lastEpisodeReturn = loop.episodeReturn;
        loop.lastEpisodeLength = loop.episodeLength;
        loop.episode++;
        loop.episodeReturn = 0;
        loop.episodeLength = 0;
        env.resetInto(parts.observation);
      }

      // Learn.
      if (step >= config.trainStart && replay.size >= config.batchSize) {
        if (step % config.trainFrequency === 0) {
          if (learningRateAt) learner.setLearningRate(learningRateAt(step));
          for (let g = 0; g < config.gradientSteps; g++) {
            const loss = learner.trainStep(replay.sample(replayRng, batch));
            if (!Number.isFinite(loss)) throw new DivergedError(step, `loss is ${loss}`);
            loop.lossSum += loss;
            loop.lossCount++;
          }
        }
        if (step % config.targetUpdateEvery === 0) learner.updateTarget(config.tau);
      }
      if (step === config.qValidationSize && !parts.qValidationStates) takeQValidationSet(context);

      // Log, evaluate, snapshot, checkpoint.
      for (const duty of duties) if (duty.due(step)) await duty.run(step);

      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
        writer.throwIfFailed();
      }
    }

    const interrupted = loop.step < endStep;
    const paused = !interrupted && loop.step < config.steps;
    // A pause adds no evaluation: one would draw on the eval env and its random stream, and the resumed run would differ from a straight one.
    if (!interrupted && !paused && loop.lastEvaluatedStep !== loop.step && loop.step > 0) await evaluate.run(loop.step);
    if (loop.lastSnapshotStep !== loop.step && loop.step > 0) await snapshot.run(loop.step);
    const checkpointDir = path.join(runDir, CHECKPOINTS_DIR, `step-${loop.step}`);
    if (interrupted || paused) {
      if (loop.lastCheckpointStep !== loop.step) await checkpoint.run(loop.step);
      output.line(
        paused
          ? `Paused at step ${loop.step} of ${config.steps} (--stop-at-step); checkpoint ${checkpointDir} and snapshot saved, logs flushed. Continue with --resume ${runDir}`
          : `Interrupted at step ${loop.step}; checkpoint and snapshot saved, logs flushed. Continue with --resume ${runDir}`,
      );
    } else {
      // Checkpoints exist to resume; a finished run keeps what keepCheckpoints says. A failure here leaves a complete run.
      await pruneFinishedRun(runDir, config.keepCheckpoints).catch((error: unknown) =>
        output.error(`warning: could not remove the older checkpoints in ${path.join(runDir, CHECKPOINTS_DIR)} (${describeFsError(error)}); the run itself is complete`),
      );
    }
    // TensorBoard has no 'interrupted' or 'paused' status; 'unknown' keeps them apart from success and failure
    // (a resumed run that finishes writes 'success' after it, and the last end counts).
    writer.hparamsSessionEnd(interrupted || paused ? 'unknown' : 'success');
    const returnMeans = loop.evaluations.map((e) => e.returnMean);
    const returns = { finalReturnMean: returnMeans.at(-1) ?? null, bestReturnMean: returnMeans.length > 0 ? maxOf(returnMeans) : null };
    report(
      paused
        ? { type: 'paused', step: loop.step, totalSteps: config.steps, checkpoint: checkpointDir, ...returns }
        : { type: 'finished', step: loop.step, totalSteps: config.steps, interrupted, ...returns },
    );
    return {
      stepsDone: loop.step,
      interrupted,
      paused,
      resumedFrom,
      episodeReturns: loop.episodeReturns,
      evaluations: loop.evaluations,
      learner,
    };
  } catch (error) {
    // An env's failure says its call and episode step; the run adds where training was.
    if (error instanceof EnvError) error.atTrainingStep(loop.step);
    try {
      writer.hparamsSessionEnd('failure');
      writer.close();
    } catch {
      // The log itself may be what failed (a full disk); the first error is the one to report.
    }
    throw error;
  } finally {
    if (!writer.closed) writer.close();
  }
}

/**
 * Refuses a folder that holds something other than a run (a sweep, a sweep's trial, files
 * of the user's): a run writes only into a new or empty folder, or replaces a run with
 * --overwrite. A sweep trial's own run is started from its trial.json (`configFile`).
 */
async function checkRunFolder(runDir: string, configFile: string | undefined): Promise<void> {
  let contents: FolderContents;
  try {
    contents = await folderContents(runDir);
  } catch (error) {
    throw new Error(`cannot read the run folder ${runDir} (${describeFsError(error)}); check its permissions or pass --logdir`);
  }
  const elsewhere = 'choose another --name, or pass --logdir <another folder>';
  switch (contents.kind) {
    case 'sweep':
      throw new ConfigError(`${runDir} ${describeContents(runDir, contents)}, not a run: a run writes only into its own folder, so it is left as it was; ${elsewhere}`);
    case 'trial': {
      const ownTrial = configFile !== undefined && path.resolve(configFile) === path.resolve(runDir, TRIAL_CONFIG_FILE);
      if (ownTrial) return;
      throw new ConfigError(
        `${runDir} ${describeContents(runDir, contents)}: rerun or resume it with "sweep run <its sweep file>" ` +
          `(named in ${path.join(path.dirname(runDir), SWEEP_MANIFEST_FILE)}), or ${elsewhere}`,
      );
    }
    case 'other':
      throw new ConfigError(`${runDir} ${describeContents(runDir, contents)}, not a run: a run writes only into a new or empty folder, so it is left as it was; ${elsewhere}`);
    default:
    // absent, empty, a run (refused below unless --overwrite), or a file in the way (ensureDir says so).
  }
}

/** Make the run folder and write config.json (the resolved config plus how it ran). `configFile`: the --config it came from. */
export async function prepareRunDir(config: RunConfig, runInfo: Record<string, string>, overwrite: boolean, configFile?: string): Promise<string> {
  const runDir = path.join(config.logdir, config.name);
  await checkRunFolder(runDir, configFile);
  const configPath = path.join(runDir, RUN_CONFIG_FILE);
  const exists = await fs.access(configPath).then(
    () => true,
    () => false,
  );
  if (exists && !overwrite) {
    throw new ConfigError(`${runDir} already holds a run (${configPath}); continue it with --resume ${runDir}, choose another --name, or pass --overwrite to replace it`);
  }
  if (exists) await fs.rm(runDir, { recursive: true, force: true });
  try {
    await ensureDir(runDir);
    await writeFileAtomic(configPath, `${JSON.stringify({ ...config, ...runInfo }, null, 2)}\n`);
  } catch (error) {
    throw new Error(`cannot write the run folder ${runDir} (${describeFsError(error)}); check that ${config.logdir} is writable or pass --logdir`);
  }
  return runDir;
}
