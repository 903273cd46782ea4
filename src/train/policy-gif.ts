/**
 * Recording a policy: play one greedy episode, draw it with the RGB renderer and encode it as
 * an animated GIF — for TensorBoard (eval/policy), `run.ts --record` and the sweep report.
 */
import type { QLearner } from '../agent/learner.js';
import type { Env } from '../envs/index.js';
import { paletteFor, renderFps, renderRgb } from '../envs/render-rgb.js';
import type { SummaryWriter } from '../tensorboard/index.js';
import { writeFileAtomic } from '../util/files.js';
import { deriveSeed } from '../util/random.js';
import { AnimatedGifEncoder } from './gif.js';

export interface RecordOptions {
  width: number;
  height: number;
  /** The GIF never holds more frames than this: long episodes skip more frames. At least 2. */
  maxFrames: number;
  /** Keep every n-th step's frame (raised when needed to fit maxFrames). Default 1. */
  frameSkip?: number;
  /** Reset seed of the episode; without it the env's generator continues. */
  seed?: number;
}

export interface RecordedEpisode {
  gif: Uint8Array;
  width: number;
  height: number;
  /** Frames in the GIF. */
  frames: number;
  episodeReturn: number;
  /** Environment steps of the episode. */
  steps: number;
}

/** Size and frame budget of the eval/policy animation: a few tens of kB per evaluation. */
export const EVAL_GIF_OPTIONS = { width: 160, height: 100, maxFrames: 120, frameSkip: 2 } as const;

/** Steps a GIF records of an env without a time limit (maxEpisodeSteps Infinity), so a policy that never ends the episode cannot hang it. */
export const UNLIMITED_EPISODE_GIF_STEPS = 1000;

/** Seconds the last frame stays before the GIF loops. */
const FINAL_FRAME_HOLD_MS = 1000;

/**
 * The step between kept frames: the requested skip, or more when the longest episode the env
 * allows would not fit in `maxFrames` (the first and last frames are always kept).
 */
export function effectiveFrameSkip(maxEpisodeSteps: number, maxFrames: number, frameSkip = 1): number {
  if (!Number.isInteger(maxFrames) || maxFrames < 2) throw new RangeError(`maxFrames must be an integer >= 2, got ${maxFrames}`);
  if (!Number.isInteger(frameSkip) || frameSkip < 1) throw new RangeError(`frameSkip must be a positive integer, got ${frameSkip}`);
  return Math.max(frameSkip, Math.ceil(maxEpisodeSteps / (maxFrames - 1)));
}

/** Plays one greedy episode on `env` (which it resets) and returns it as an animated GIF. */
export function recordEpisode(learner: QLearner, env: Env, options: RecordOptions): RecordedEpisode {
  const { width, height } = options;
  const stepLimit = Number.isFinite(env.maxEpisodeSteps) ? env.maxEpisodeSteps : UNLIMITED_EPISODE_GIF_STEPS;
  const skip = effectiveFrameSkip(stepLimit, options.maxFrames, options.frameSkip);
  const encoder = new AnimatedGifEncoder({
    width,
    height,
    palette: paletteFor(env),
    frameDelayMs: Math.round((skip * 1000) / (env.renderFps ?? renderFps(env.id))),
    finalFrameDelayMs: FINAL_FRAME_HOLD_MS,
  });
  // One frame buffer for the whole episode: each frame is encoded before the next is drawn.
  const frame = new Uint8Array(width * height * 3);
  let observation = env.reset(options.seed === undefined ? {} : { seed: options.seed });
  encoder.addFrame(renderRgb(env, width, height, frame));
  let episodeReturn = 0;
  let steps = 0;
  for (;;) {
    const result = env.step(learner.greedyAction(observation));
    episodeReturn += result.reward;
    steps++;
    observation = result.observation;
    const done = result.terminated || result.truncated || steps >= stepLimit;
    if (done || steps % skip === 0) encoder.addFrame(renderRgb(env, width, height, frame));
    if (done) break;
  }
  const frames = encoder.frames;
  return { gif: encoder.finish(), width, height, frames, episodeReturn, steps };
}

/**
 * Logs one greedy episode as eval/policy. It plays on an env of its own, seeded from the run
 * seed and step, so the evaluation's env and random streams are untouched and runs stay
 * reproducible.
 */
export function logPolicyAnimation(writer: SummaryWriter, learner: QLearner, env: Env, runSeed: number, step: number): RecordedEpisode {
  const episode = recordEpisode(learner, env, { ...EVAL_GIF_OPTIONS, seed: deriveSeed(runSeed + step, 'eval-gif') });
  writer.image('eval/policy', episode.gif, episode.width, episode.height, step);
  return episode;
}

/** `run.ts --model <snapshot> --record <file.gif>`: the eval/policy animation, written to a file. */
export async function recordPolicyToFile(learner: QLearner, env: Env, file: string, runSeed: number): Promise<RecordedEpisode> {
  const episode = recordEpisode(learner, env, { ...EVAL_GIF_OPTIONS, seed: deriveSeed(runSeed, 'record') });
  await writeFileAtomic(file, episode.gif);
  return episode;
}
