/** Using a snapshot: watch it play in the terminal (--view) or evaluate it (--eval). */
import * as path from 'node:path';
import { readJson } from '../util/files.js';
import { EnvError, makeEnv, type Env } from '../envs/index.js';
import { prepareEnv } from '../envs/load-env.js';
import { canRenderRgb } from '../envs/render-rgb.js';
import { createLearner } from '../agent/index.js';
import type { QLearner } from '../agent/learner.js';
import { Rng, deriveSeed } from '../util/random.js';
import { type RunConfig, defaultRunConfig } from './config.js';
import { checkSnapshotFitsEnv, loadSnapshot, SnapshotError, type LoadedSnapshot } from './snapshot.js';
import { learnerOptions } from './run-state.js';
import { evaluate, mean, standardDeviation, type EvaluationResult } from './evaluate.js';
import type { RunOutput } from './run-output.js';

/** The env a snapshot plays: --env, else what the snapshot says, else its run's config.json. */
async function envIdFor(snapshot: LoadedSnapshot, envFlag: string | undefined): Promise<string> {
  if (envFlag) return envFlag;
  if (snapshot.metadata.env) return snapshot.metadata.env;
  // snapshots live in <run>/snapshots/step-N/model.json
  const runConfigPath = path.resolve(path.dirname(snapshot.modelJsonPath), '..', '..', 'config.json');
  const runConfig = await readJson<{ env?: unknown }>(runConfigPath, () => {}).catch(() => undefined);
  if (typeof runConfig?.env === 'string') return runConfig.env;
  throw new SnapshotError(`${snapshot.modelJsonPath} does not say which environment it was trained on and ${runConfigPath} is missing; pass --env`);
}

export interface LoadedPolicy {
  learner: QLearner;
  env: Env;
  snapshot: LoadedSnapshot;
}

export async function loadPolicy(snapshotPath: string, envFlag: string | undefined, engine: RunConfig['engine'] = 'auto'): Promise<LoadedPolicy> {
  const snapshot = await loadSnapshot(snapshotPath);
  const envId = await envIdFor(snapshot, envFlag);
  // A module or Python env is loaded here, from --env or what the snapshot's run was trained on.
  await prepareEnv(envId);
  const env = makeEnv(envId);
  checkSnapshotFitsEnv(snapshot, env);
  const config: RunConfig = { ...defaultRunConfig(), hiddenLayers: [...snapshot.spec.hiddenLayers], activation: snapshot.spec.activation };
  const learner = await createLearner(learnerOptions(config, env.observationSize, env.actionCount), engine);
  learner.setWeights('online', snapshot.weights);
  learner.setWeights('target', snapshot.weights);
  return { learner, env, snapshot };
}

/** Why --record cannot draw this env, or undefined when it can. */
export function recordProblem(env: Env): string | undefined {
  return canRenderRgb(env) ? undefined : `--record draws the env as RGB frames, but ${env.id} has no renderRgb(width, height) method; use --view or --eval`;
}

export interface ViewOptions {
  episodes: number;
  fps: number;
  seed: number;
  signal?: AbortSignal;
  /** Receives each frame; by default frames go to stdout, redrawn in place on a TTY. */
  drawFrame?: (frame: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function terminalFrameWriter(): (frame: string) => void {
  const tty = process.stdout.isTTY;
  return (frame) => process.stdout.write(tty ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`);
}

/** The finished episodes so far, one line, for the frame's footer (a terminal redraw clears earlier lines). */
function returnsSoFar(returns: readonly number[]): string {
  if (returns.length === 0) return '';
  const shown = returns.length > 10 ? ['...', ...returns.slice(-10)] : returns;
  return `\nreturns so far: ${shown.join(', ')} (mean ${mean(returns).toFixed(1)})`;
}

/**
 * Play greedy episodes, drawing each step with the env's text renderer. Each finished
 * episode's return stays in the frame's footer; after the last one (or Ctrl-C) every
 * episode's line and their average +- std are printed. Returns the finished episodes' returns.
 */
export async function viewPolicy(policy: LoadedPolicy, options: ViewOptions, output: RunOutput): Promise<number[]> {
  const { learner, env } = policy;
  const renderText = env.renderText?.bind(env);
  if (!renderText) throw new EnvError(`--view draws the env as text, but ${env.id} has no renderText() method; use --eval (or --record when it has renderRgb())`, true);
  const draw = options.drawFrame ?? terminalFrameWriter();
  const frameDelay = options.fps > 0 ? 1000 / options.fps : 0;
  const returns: number[] = [];
  const lines: string[] = [];
  let observation = env.reset({ seed: deriveSeed(options.seed, 'view') });
  for (let episode = 1; episode <= options.episodes && !options.signal?.aborted; episode++) {
    let episodeReturn = 0;
    let steps = 0;
    let ended = false;
    draw(`${renderText()}${returnsSoFar(returns)}`);
    while (!ended && !options.signal?.aborted) {
      const result = env.step(learner.greedyAction(observation));
      episodeReturn += result.reward;
      steps++;
      observation = result.observation;
      ended = result.terminated || result.truncated;
      draw(`${renderText()}\n${env.id}  episode ${episode}/${options.episodes}  step ${steps}  return ${episodeReturn}${returnsSoFar(returns)}`);
      if (frameDelay > 0) await sleep(frameDelay);
    }
    if (!ended) {
      lines.push(`episode ${episode} interrupted at step ${steps} (return so far ${episodeReturn}; not counted)`);
      break;
    }
    returns.push(episodeReturn);
    lines.push(`episode ${episode} return ${episodeReturn} steps ${steps}`);
    observation = env.reset();
  }
  for (const line of lines) output.line(line);
  if (returns.length > 0) {
    output.line(`episodes ${returns.length} episode_return_avg ${mean(returns).toFixed(3)} std ${standardDeviation(returns).toFixed(3)}`);
  }
  return returns;
}

/** Evaluate greedily without rendering, as the training run's evaluation does. */
export function evaluatePolicy(policy: LoadedPolicy, config: Pick<RunConfig, 'evalEpisodes' | 'evalSteps' | 'evalEpsilon' | 'seed'>): EvaluationResult {
  policy.env.reset({ seed: deriveSeed(config.seed, 'eval-env') });
  const rng = new Rng(deriveSeed(config.seed, 'eval'));
  return evaluate(policy.learner, policy.env, rng, { episodes: config.evalEpisodes, steps: config.evalSteps, epsilon: config.evalEpsilon });
}
