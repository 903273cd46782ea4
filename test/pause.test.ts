/**
 * Exact pausing (--stop-at-step): a run taken through rungs — paused, resumed, paused again,
 * resumed to the end — ends bit-identical to the same run taken straight through.
 */
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../src/cli/run.js';
import { readRun } from '../src/tensorboard/index.js';
import { CHECKPOINTS_DIR } from '../src/train/checkpoint.js';
import { resolveConfig } from '../src/train/config.js';
import { EXIT_PAUSED, type RunProgressMessage } from '../src/train/run-messages.js';
import { memoryOutput } from '../src/train/run-output.js';
import { prepareRunDir, train } from '../src/train/trainer.js';

/** A short CartPole run: 1500 steps, an evaluation every 300, a checkpoint every 500. */
const RUN = {
  env: 'CartPole-v1',
  steps: 1500,
  trainStart: 100,
  bufferSize: 2000,
  evalEvery: 300,
  evalEpisodes: 2,
  qValidationSize: 100,
  logEvery: 100,
  snapshotEvery: 0,
  checkpointEvery: 500,
  targetUpdateEvery: 100,
  evalGif: false,
};

async function cli(...args: string[]): Promise<{ code: number; text: string }> {
  const output = memoryOutput();
  const code = await runCli(args, output);
  return { code, text: output.lines.join('\n') };
}

/** Everything that must match between a straight run and one through rungs: the final weights' bytes, and every series TensorBoard shows but timings (perf/*, wall times). */
async function outcome(runDir: string) {
  const data = readRun(runDir);
  const series = (points: Record<string, Array<[number, ...unknown[]]>>) => Object.fromEntries(Object.entries(points).filter(([tag]) => !tag.startsWith('perf/')));
  return {
    weights: await fs.readFile(path.join(runDir, 'snapshots', `step-${RUN.steps}`, 'weights.bin')),
    scalars: series(data.scalars),
    // Weight histograms at each evaluation, without their wall times.
    histograms: Object.fromEntries(Object.entries(data.histograms).map(([tag, points]) => [tag, points.map(({ step, buckets }) => ({ step, buckets }))])),
    endStatus: data.hparams_session?.end_status,
  };
}

describe('pausing a run at a step (--stop-at-step) and resuming it exactly', function () {
  this.timeout(240_000);
  let logdir: string;
  let configFile: string;
  let straight: Awaited<ReturnType<typeof outcome>>;

  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-pause-'));
    configFile = path.join(logdir, 'run.json');
    await fs.writeFile(configFile, JSON.stringify({ ...RUN, logdir }));
    const run = await cli('--config', configFile, '--name', 'straight');
    expect(run.code, run.text).to.equal(0);
    straight = await outcome(path.join(logdir, 'straight'));
    // The comparison below means something only if the run evaluated, learned and ended episodes.
    expect(straight.scalars['eval/return_mean']!.map(([step]) => step)).to.deep.equal([300, 600, 900, 1200, 1500]);
    expect(straight.scalars['train/loss']!.length).to.be.greaterThan(10);
    expect(straight.scalars['train/episode_return']!.length).to.be.greaterThan(10);
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  /** Runs `rungs` as segments (each a new process's worth of work: a fresh learner from the checkpoint), then to the end. */
  async function throughRungs(name: string, rungs: number[]): Promise<string> {
    const runDir = path.join(logdir, name);
    for (const [i, rung] of rungs.entries()) {
      const args = i === 0 ? ['--config', configFile, '--name', name] : ['--resume', runDir];
      const segment = await cli(...args, '--stop-at-step', String(rung));
      expect(segment.code, segment.text).to.equal(EXIT_PAUSED);
      expect(segment.text).to.contain(`Paused at step ${rung} of ${RUN.steps} (--stop-at-step); checkpoint ${path.join(runDir, CHECKPOINTS_DIR, `step-${rung}`)}`);
      // The checkpoint is AT the rung, whatever checkpointEvery says.
      expect(await fs.readdir(path.join(runDir, CHECKPOINTS_DIR))).to.include(`step-${rung}`);
      expect(readRun(runDir).hparams_session?.end_status).to.equal('unknown');
    }
    const last = await cli('--resume', runDir);
    expect(last.code, last.text).to.equal(0);
    expect(last.text).to.contain(`Resuming from ${path.join(runDir, CHECKPOINTS_DIR, `step-${rungs.at(-1)}`)} (step ${rungs.at(-1)} of ${RUN.steps})`);
    return runDir;
  }

  it('rungs that are evaluation steps (300, 900): same weights, evaluations, episodes and scalars as straight through', async () => {
    const runDir = await throughRungs('rungs-on-evaluations', [300, 900]);
    const paused = await outcome(runDir);
    expect(paused.weights.equals(straight.weights), 'final weights differ').to.equal(true);
    expect(paused.scalars).to.deep.equal(straight.scalars);
    expect(paused.histograms).to.deep.equal(straight.histograms);
    expect(paused.endStatus).to.equal('success');
    // Each evaluation once: the pause added none, the resume repeated none.
    expect(paused.scalars['eval/return_mean']!.map(([step]) => step)).to.deep.equal([300, 600, 900, 1200, 1500]);
  });

  it('rungs between evaluations and checkpoints, mid-episode (350, 1001, 1499): still bit-identical', async () => {
    const runDir = await throughRungs('rungs-mid-episode', [350, 1001, 1499]);
    const paused = await outcome(runDir);
    expect(paused.weights.equals(straight.weights), 'final weights differ').to.equal(true);
    expect(paused.scalars).to.deep.equal(straight.scalars);
    expect(paused.histograms).to.deep.equal(straight.histograms);
  });

  it('stopping at the last step is a normal finish (exit 0), and resuming at the rung it paused at pauses again without training', async () => {
    const atEnd = await cli('--config', configFile, '--name', 'to-the-end', '--stop-at-step', String(RUN.steps));
    expect(atEnd.code, atEnd.text).to.equal(0);
    expect(atEnd.text).not.to.contain('Paused');

    const runDir = path.join(logdir, 'again');
    expect((await cli('--config', configFile, '--name', 'again', '--stop-at-step', '600')).code).to.equal(EXIT_PAUSED);
    const before = readRun(runDir).scalars;
    // As a sweep does when it was killed after the run paused but before it recorded so.
    const repeat = await cli('--resume', runDir, '--stop-at-step', '600');
    expect(repeat.code, repeat.text).to.equal(EXIT_PAUSED);
    expect(readRun(runDir).scalars).to.deep.equal(before);
    expect((await cli('--resume', runDir)).code).to.equal(0);
    expect((await outcome(runDir)).weights.equals(straight.weights)).to.equal(true);
  });

  it('tells its parent with a `paused` message (the step, the checkpoint, the evaluations so far)', async () => {
    const config = resolveConfig({ values: { ...RUN, logdir, name: 'messages' }, source: 'test' });
    const runDir = await prepareRunDir(config, {}, false);
    const messages: RunProgressMessage[] = [];
    const result = await train(config, { runDir, output: memoryOutput(), report: (message) => messages.push(message), stopAtStep: 600 });
    result.learner.dispose();
    expect(result).to.deep.include({ stepsDone: 600, paused: true, interrupted: false });
    const last = messages.at(-1)!;
    const evaluations = messages.filter((message) => message.type === 'evaluation');
    expect(evaluations.map((message) => message.step)).to.deep.equal([300, 600]);
    expect(last).to.deep.equal({
      type: 'paused',
      step: 600,
      totalSteps: RUN.steps,
      checkpoint: path.join(runDir, CHECKPOINTS_DIR, 'step-600'),
      finalReturnMean: evaluations[1]!.returnMean,
      bestReturnMean: Math.max(evaluations[0]!.returnMean, evaluations[1]!.returnMean),
    });
    expect(messages.some((message) => message.type === 'finished')).to.equal(false);
  });
});
