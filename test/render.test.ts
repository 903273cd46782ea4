import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GifReader } from 'omggif';
import { makeEnv } from '../src/envs/index.js';
import { RENDER_COLORS, RENDER_PALETTE, type Rgb, renderRgb } from '../src/envs/render-rgb.js';
import { createLearner } from '../src/agent/index.js';
import type { QLearner } from '../src/agent/learner.js';
import { type RunConfig, defaultRunConfig, resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { learnerOptions } from '../src/train/run-state.js';
import { memoryOutput } from '../src/train/run-output.js';
import { runCli } from '../src/cli/run.js';
import { EVAL_GIF_OPTIONS, effectiveFrameSkip, recordEpisode } from '../src/train/policy-gif.js';
import { AnimatedGifEncoder } from '../src/train/gif.js';
import { readRun } from '../src/tensorboard/index.js';
import { deriveSeed } from '../src/util/random.js';

const WIDTH = 160;
const HEIGHT = 100;

interface Pixel {
  x: number;
  y: number;
}

function pixelsOfColor(frame: Uint8Array, width: number, color: Rgb, tolerance = 0): Pixel[] {
  const found: Pixel[] = [];
  for (let p = 0; p < frame.length / 3; p++) {
    const close = [0, 1, 2].every((c) => Math.abs(frame[p * 3 + c]! - color[c]!) <= tolerance);
    if (close) found.push({ x: p % width, y: Math.floor(p / width) });
  }
  return found;
}

/** Pixels at least 60 levels darker in `frame` than in `reference` on every channel. */
function darkerPixels(frame: Uint8Array, reference: Uint8Array, width: number): Pixel[] {
  const found: Pixel[] = [];
  for (let p = 0; p < frame.length / 3; p++) {
    if ([0, 1, 2].every((c) => reference[p * 3 + c]! - frame[p * 3 + c]! >= 60)) found.push({ x: p % width, y: Math.floor(p / width) });
  }
  return found;
}

function centroid(pixels: Pixel[]): Pixel {
  expect(pixels.length, 'no pixels of the colour').to.be.greaterThan(0);
  return { x: pixels.reduce((s, p) => s + p.x, 0) / pixels.length, y: pixels.reduce((s, p) => s + p.y, 0) / pixels.length };
}

function frameAt(envId: string, state: number[], width = WIDTH, height = HEIGHT): Uint8Array {
  const env = makeEnv(envId);
  env.reset({ state });
  return renderRgb(env, width, height);
}

interface DecodedGif {
  width: number;
  height: number;
  frames: Uint8Array[];
  delaysCs: number[];
}

/** Decodes every frame to RGBA, compositing over the previous one as a viewer does (disposal 1). */
function decodeGif(bytes: Uint8Array): DecodedGif {
  const reader = new GifReader(Buffer.from(bytes));
  const canvas = new Uint8Array(reader.width * reader.height * 4);
  const frames: Uint8Array[] = [];
  const delaysCs: number[] = [];
  for (let i = 0; i < reader.numFrames(); i++) {
    reader.decodeAndBlitFrameRGBA(i, canvas);
    frames.push(Uint8Array.from(canvas));
    delaysCs.push(reader.frameInfo(i).delay);
  }
  return { width: reader.width, height: reader.height, frames, delaysCs };
}

/** An untrained network: its greedy policy is some fixed function of the observation. */
async function untrainedLearner(envId: string): Promise<QLearner> {
  const env = makeEnv(envId);
  return createLearner(learnerOptions(defaultRunConfig(), env.observationSize, env.actionCount), 'fused');
}

/** A learner whose greedy action is always `action`, to make episodes of a known length. */
function constantPolicy(base: QLearner, action: number): QLearner {
  return Object.assign(Object.create(base) as QLearner, { greedyAction: () => action });
}

describe('RGB rendering', () => {
  it('draws every env at the requested size, over a white background', () => {
    for (const envId of ['MountainCar-v0', 'CartPole-v0', 'CartPole-v1', 'Acrobot-v1']) {
      const env = makeEnv(envId);
      env.reset({ seed: 1 });
      for (const [width, height] of [
        [160, 100],
        [160, 120],
        [64, 48],
      ] as const) {
        const frame = renderRgb(env, width, height);
        expect(frame.length, envId).to.equal(width * height * 3);
        const background = pixelsOfColor(frame, width, RENDER_COLORS.background).length;
        expect(background / (width * height), envId).to.be.within(0.3, 0.995);
      }
    }
  });

  it('CartPole: the pole stands on the cart at its x and leans with theta', () => {
    const pole = (state: number[]): Pixel => centroid(pixelsOfColor(frameAt('CartPole-v1', state), WIDTH, RENDER_COLORS.pole));
    const centre = pole([0, 0, 0, 0]);
    expect(centre.x).to.be.closeTo(WIDTH / 2, 1.5);
    const right = pole([1.5, 0, 0, 0]);
    const left = pole([-1.5, 0, 0, 0]);
    expect(right.x - centre.x).to.be.closeTo(centre.x - left.x, 1);
    expect(right.x - centre.x).to.be.greaterThan(WIDTH / 5);
    expect(pole([0, 0, 0.2, 0]).x).to.be.greaterThan(centre.x + 2);
    // The cart: ink straight below the pole's foot, not only on the one-pixel track line.
    const frame = frameAt('CartPole-v1', [1.5, 0, 0, 0]);
    const cartColumn = pixelsOfColor(frame, WIDTH, RENDER_COLORS.ink).filter((p) => Math.abs(p.x - right.x) < 1);
    expect(cartColumn.length).to.be.at.least(4);
  });

  it('MountainCar: the car sits on the hill where its position is, the flag at the goal', () => {
    // The car is what turns dark when it drives in, compared with a frame where it is far away.
    const car = (position: number): Pixel => {
      const frame = frameAt('MountainCar-v0', [position, 0]);
      const elsewhere = frameAt('MountainCar-v0', [position < -0.3 ? 0.4 : -1.1, 0]);
      return centroid(darkerPixels(frame, elsewhere, WIDTH));
    };
    const valley = car(-Math.PI / 6);
    const left = car(-1.0);
    const right = car(0.3);
    expect(left.x).to.be.lessThan(valley.x - 20);
    expect(right.x).to.be.greaterThan(valley.x + 20);
    expect(valley.y).to.be.greaterThan(right.y + 20); // the valley is low, the right slope high
    const flag = centroid(pixelsOfColor(frameAt('MountainCar-v0', [-0.5, 0]), WIDTH, RENDER_COLORS.flag));
    expect(flag.x).to.be.greaterThan(WIDTH * 0.8);
    expect(flag.y).to.be.lessThan(HEIGHT * 0.2);
  });

  it('Acrobot: the links hang down at rest and point up when swung over', () => {
    const links = (theta1: number): Pixel => centroid(pixelsOfColor(frameAt('Acrobot-v1', [theta1, 0, 0, 0]), WIDTH, RENDER_COLORS.link));
    const hanging = links(0);
    const upright = links(Math.PI);
    expect(hanging.x).to.be.closeTo(WIDTH / 2, 1);
    expect(hanging.y).to.be.greaterThan(HEIGHT * 0.7);
    expect(upright.y).to.be.lessThan(HEIGHT * 0.3);
    expect(links(Math.PI / 2).x).to.be.greaterThan(WIDTH / 2 + 15);
    expect(pixelsOfColor(frameAt('Acrobot-v1', [0, 0, 0, 0]), WIDTH, RENDER_COLORS.joint).length).to.be.greaterThan(3);
  });

  it('keeps the palette small enough for a 32-colour GIF with a transparent slot', () => {
    expect(RENDER_PALETTE.length).to.be.at.most(31);
    expect(RENDER_PALETTE[0]).to.deep.equal(RENDER_COLORS.background);
  });

  it('does not change the env it draws', () => {
    const env = makeEnv('Acrobot-v1');
    env.reset({ seed: 4 });
    const before = env.getState();
    renderRgb(env, WIDTH, HEIGHT);
    expect(env.getState()).to.deep.equal(before);
  });
});

describe('policy GIFs', () => {
  let learner: QLearner;
  before(async () => {
    learner = await untrainedLearner('CartPole-v1');
  });
  after(() => learner.dispose());

  it('AnimatedGifEncoder round-trips frames through a GIF decoder', () => {
    const frames = [frameAt('CartPole-v1', [0, 0, 0, 0]), frameAt('CartPole-v1', [0.5, 0, 0.1, 0]), frameAt('CartPole-v1', [1, 0, 0.2, 0])];
    const encoder = new AnimatedGifEncoder({ width: WIDTH, height: HEIGHT, palette: RENDER_PALETTE, frameDelayMs: 40, finalFrameDelayMs: 1000 });
    for (const frame of frames) encoder.addFrame(frame);
    const gif = encoder.finish();
    const decoded = decodeGif(gif);
    expect(decoded).to.include({ width: WIDTH, height: HEIGHT });
    expect(decoded.delaysCs).to.deep.equal([4, 4, 100]);
    decoded.frames.forEach((rgba, i) => {
      // Every pixel comes back as the palette colour nearest the drawn one.
      let far = 0;
      for (let p = 0; p < WIDTH * HEIGHT; p++) {
        const distance = Math.max(...[0, 1, 2].map((c) => Math.abs(rgba[p * 4 + c]! - frames[i]![p * 3 + c]!)));
        // Anti-aliased edges snap to the nearest of a few blend levels: at most ~1/8 of the range off.
        if (distance > 36) far++;
      }
      expect(far, `frame ${i}`).to.be.at.most(WIDTH * HEIGHT * 0.002);
    });
  });

  it('recordEpisode encodes the whole episode, first and last frame included', () => {
    const env = makeEnv('CartPole-v1');
    const episode = recordEpisode(constantPolicy(learner, 1), env, { width: WIDTH, height: HEIGHT, maxFrames: 300, frameSkip: 2, seed: 3 });
    expect(effectiveFrameSkip(env.maxEpisodeSteps, 300, 2)).to.equal(2);
    // Always pushing right topples the pole within a few dozen steps.
    expect(episode.steps).to.be.within(5, 60);
    expect(episode.episodeReturn).to.equal(episode.steps);
    const expectedFrames = 1 + Math.floor(episode.steps / 2) + (episode.steps % 2 === 0 ? 0 : 1);
    expect(episode.frames).to.equal(expectedFrames);
    const decoded = decodeGif(episode.gif);
    expect(decoded.frames).to.have.length(expectedFrames);
    expect(decoded).to.include({ width: WIDTH, height: HEIGHT });
    // The last frame shows where the episode ended.
    const last = decoded.frames.at(-1)!;
    const finalFrame = renderRgb(env, WIDTH, HEIGHT);
    const poleAt = (rgbaOrRgb: Uint8Array, stride: number): number => {
      const xs: number[] = [];
      for (let p = 0; p < WIDTH * HEIGHT; p++) {
        if ([0, 1, 2].every((c) => rgbaOrRgb[p * stride + c] === RENDER_COLORS.pole[c])) xs.push(p % WIDTH);
      }
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(poleAt(last, 4)).to.be.closeTo(poleAt(finalFrame, 3), 0.5);
  });

  it('fits long episodes into maxFrames and stays far below 1 MB', () => {
    for (const envId of ['MountainCar-v0', 'Acrobot-v1']) {
      const env = makeEnv(envId);
      // Doing nothing never reaches either goal, so the episode runs to its time limit.
      const episode = recordEpisode(constantPolicy(learner, 1), env, { ...EVAL_GIF_OPTIONS, seed: 0 });
      expect(episode.steps, envId).to.equal(env.maxEpisodeSteps);
      const skip = effectiveFrameSkip(env.maxEpisodeSteps, EVAL_GIF_OPTIONS.maxFrames, EVAL_GIF_OPTIONS.frameSkip);
      expect(episode.frames, envId).to.equal(1 + Math.ceil(env.maxEpisodeSteps / skip));
      expect(episode.frames, envId).to.be.at.most(EVAL_GIF_OPTIONS.maxFrames);
      expect(decodeGif(episode.gif).frames, envId).to.have.length(episode.frames);
      expect(episode.gif.length, envId).to.be.lessThan(150_000);
    }
  });
});

describe('eval/policy in TensorBoard and --record', function () {
  this.timeout(180_000);
  let logdir: string;
  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-render-'));
    withGif = await runShort('with-gif');
  });
  after(async () => {
    withGif.result.learner.dispose();
    await fs.rm(logdir, { recursive: true, force: true });
  });

  function shortConfig(name: string, overrides: Record<string, unknown> = {}): RunConfig {
    return resolveConfig({
      values: {
        env: 'CartPole-v1',
        steps: 1000,
        trainStart: 200,
        bufferSize: 2000,
        evalEvery: 500,
        evalEpisodes: 2,
        qValidationSize: 200,
        logEvery: 250,
        snapshotEvery: 0,
        targetUpdateEvery: 100,
        name,
        logdir,
        ...overrides,
      },
      source: 'test',
    });
  }

  async function runShort(name: string, overrides: Record<string, unknown> = {}) {
    const config = shortConfig(name, overrides);
    const runDir = await prepareRunDir(config, { backend: 'test' }, false);
    const result = await train(config, { runDir, output: memoryOutput() });
    return { config, runDir, result };
  }

  let withGif: Awaited<ReturnType<typeof runShort>>;

  it('logs one animated GIF per evaluation that decodes from the event file', () => {
    const images = readRun(withGif.runDir).images['eval/policy']!;
    expect(images.map((image) => image.step)).to.deep.equal([500, 1000]);
    for (const image of images) {
      expect(image).to.include({ format: 'gif', width: EVAL_GIF_OPTIONS.width, height: EVAL_GIF_OPTIONS.height });
      expect(image.bytes.length).to.be.lessThan(1_000_000);
      const decoded = decodeGif(image.bytes);
      expect(decoded).to.include({ width: EVAL_GIF_OPTIONS.width, height: EVAL_GIF_OPTIONS.height });
      expect(decoded.frames.length).to.be.within(2, EVAL_GIF_OPTIONS.maxFrames);
    }
  });

  it("the last GIF is the final policy's greedy episode, frame for frame", () => {
    const logged = readRun(withGif.runDir).images['eval/policy']!.at(-1)!;
    const replayed = recordEpisode(withGif.result.learner, makeEnv('CartPole-v1'), {
      ...EVAL_GIF_OPTIONS,
      seed: deriveSeed(withGif.config.seed + 1000, 'eval-gif'),
    });
    expect(decodeGif(logged.bytes).frames).to.have.length(replayed.frames);
    expect(Buffer.from(logged.bytes).equals(Buffer.from(replayed.gif))).to.equal(true);
  });

  it('evalGif false logs no image, and recording changes no return', async () => {
    const without = await runShort('without-gif', { evalGif: false });
    try {
      expect(readRun(without.runDir).images['eval/policy']).to.equal(undefined);
      expect(without.result.episodeReturns).to.deep.equal(withGif.result.episodeReturns);
      expect(without.result.evaluations.map((e) => e.returns)).to.deep.equal(withGif.result.evaluations.map((e) => e.returns));
    } finally {
      without.result.learner.dispose();
    }
  });

  it('run.ts --model <snapshot> --record writes a decodable GIF atomically', async () => {
    const snapshot = path.join(withGif.runDir, 'snapshots', 'step-1000');
    const file = path.join(logdir, 'out', 'episode.gif');
    const output = memoryOutput();
    expect(await runCli(['--model', snapshot, '--record', file], output)).to.equal(0);
    expect(output.lines.some((line) => line.startsWith(`Wrote ${file} (`))).to.equal(true);
    const decoded = decodeGif(await fs.readFile(file));
    expect(decoded).to.include({ width: EVAL_GIF_OPTIONS.width, height: EVAL_GIF_OPTIONS.height });
    expect(decoded.frames.length).to.be.at.least(2);
    expect(await fs.readdir(path.dirname(file))).to.deep.equal(['episode.gif']);
  });

  it('--record needs --model and a file name', async () => {
    const output = memoryOutput();
    expect(await runCli(['--record', 'x.gif'], output)).to.equal(2);
    expect(await runCli(['--model', path.join(withGif.runDir, 'snapshots', 'step-1000'), '--record', ''], output)).to.equal(2);
    expect(output.lines.join('\n'))
      .to.match(/--record needs --model/)
      .and.to.match(/--record needs a file name/);
  });
});
