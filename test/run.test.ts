import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, initTf } from '../src/tf.js';
import { type RunConfig, resolveConfig } from '../src/train/config.js';
import { prepareRunDir, train } from '../src/train/trainer.js';
import { memoryOutput } from '../src/train/run-output.js';
import { loadPolicy } from '../src/train/playback.js';
import { runCli } from '../src/cli/run.js';
import { readRun } from '../src/tensorboard/index.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A short CartPole run: enough steps for training, evaluation and snapshots to happen. */
function shortConfig(logdir: string, name: string, overrides: Record<string, unknown> = {}): RunConfig {
  return resolveConfig({
    values: {
      env: 'CartPole-v1',
      steps: 3000,
      trainStart: 500,
      bufferSize: 5000,
      evalEvery: 1000,
      evalEpisodes: 2,
      qValidationSize: 300,
      logEvery: 500,
      snapshotEvery: 1500,
      targetUpdateEvery: 250,
      name,
      logdir,
      ...overrides,
    },
    source: 'test',
  });
}

async function runShort(logdir: string, name: string, overrides: Record<string, unknown> = {}) {
  const config = shortConfig(logdir, name, overrides);
  const runDir = await prepareRunDir(config, { backend: 'test' }, false);
  const output = memoryOutput();
  const result = await train(config, { runDir, output });
  return { config, runDir, output, result };
}

/** Runs `src/run.ts` as users do, returning exit code and output. */
function runProcess(args: string[], options: { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number } = {}) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/run.ts', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('a training run', function () {
  this.timeout(180_000);
  let logdir: string;
  before(async () => {
    await initTf();
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-run-'));
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  describe('writes a run folder', () => {
    let run: Awaited<ReturnType<typeof runShort>>;
    before(async () => {
      run = await runShort(logdir, 'short');
    });

    it('config.json holds the resolved config', async () => {
      const saved = JSON.parse(await fs.readFile(path.join(run.runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(saved).to.include({ env: 'CartPole-v1', steps: 3000, learningRate: 0.001, name: 'short', backend: 'test' });
    });

    it('event files decode to every tag at sensible steps', () => {
      const data = readRun(run.runDir);
      expect(data.truncated_files).to.deep.equal([]);
      const tags = Object.keys(data.scalars).sort();
      expect(tags).to.deep.equal([
        'eval/avg_max_q',
        'eval/return_mean',
        'eval/return_std',
        'perf/rss_mb',
        'perf/steps_per_second',
        'perf/system_memory_used_gb',
        'train/episode_length',
        'train/episode_return',
        'train/epsilon',
        'train/loss',
      ]);
      const steps = (tag: string): number[] => data.scalars[tag]!.map(([step]) => step);
      expect(steps('eval/return_mean')).to.deep.equal([1000, 2000, 3000]);
      expect(steps('train/loss')).to.deep.equal([500, 1000, 1500, 2000, 2500, 3000]);
      expect(steps('perf/rss_mb')).to.deep.equal([500, 1000, 1500, 2000, 2500, 3000]);
      // Episode returns at each episode's last step; CartPole pays 1 per step, so return = length.
      const returns = data.scalars['train/episode_return']!;
      expect(returns.length).to.equal(run.result.episodeReturns.length);
      expect(returns.map(([, value]) => value)).to.deep.equal(data.scalars['train/episode_length']!.map(([, value]) => value));
      for (const [step, value] of data.scalars['eval/return_mean']!) {
        const evaluation = run.result.evaluations.find((e) => e.step === step)!;
        expect(value).to.be.closeTo(evaluation.returnMean, 1e-4);
      }
      expect(data.scalars['train/epsilon']!.every(([, value]) => Math.abs(value - 0.01) < 1e-6)).to.equal(true);
      expect(data.texts.config![0]!.text).to.contain('| learningRate | 0.001 |');
      expect(data.hparams).to.include({ env: 'CartPole-v1', learningRate: 0.001, hiddenLayers: '32x32', steps: 3000 });
    });

    it('prints the tutorial-style lines', () => {
      const lines = run.output.lines;
      expect(lines[0]).to.match(/^backend: /);
      expect(lines).to.include('engine: fused');
      expect(lines.some((l) => /^episode \d+ steps \d+\/500 loss \d+\.\d{7} return [\d.]+ in [\d.]+s [\d.]+ steps\/s [\d.]+\/[\d.]+ GB RAM$/.test(l))).to.equal(true);
      expect(lines.some((l) => /^episode \d+ step 1000 episode_return_avg -?[\d.]+ avg_max_q_value -?[\d.]+$/.test(l))).to.equal(true);
    });

    it('saves snapshots that load back and predict the trained Q-values', async () => {
      expect((await fs.readdir(path.join(run.runDir, 'snapshots'))).sort()).to.deep.equal(['step-1500', 'step-3000']);
      const states = new Float32Array([0.01, 0.2, -0.03, -0.1, 0.1, -0.5, 0.05, 0.3]);
      const trained = new Float32Array(4);
      run.result.learner.qValues(states, 2, trained);
      for (const engine of ['fused', 'tfjs'] as const) {
        const policy = await loadPolicy(path.join(run.runDir, 'snapshots', 'step-3000'), undefined, engine);
        expect(policy.env.id).to.equal('CartPole-v1');
        const loaded = new Float32Array(4);
        policy.learner.qValues(states, 2, loaded);
        loaded.forEach((q, i) => expect(q).to.be.closeTo(trained[i]!, 1e-5));
        policy.learner.dispose();
      }
    });
  });

  it('gives identical returns for the same seed and config, and different ones for another seed', async () => {
    const a = await runShort(logdir, 'seed-a', { steps: 2000, snapshotEvery: 0 });
    const b = await runShort(logdir, 'seed-b', { steps: 2000, snapshotEvery: 0 });
    const c = await runShort(logdir, 'seed-c', { steps: 2000, snapshotEvery: 0, seed: 1 });
    expect(a.result.episodeReturns).to.deep.equal(b.result.episodeReturns);
    expect(a.result.evaluations.map((e) => e.returns)).to.deep.equal(b.result.evaluations.map((e) => e.returns));
    expect(a.result.learner.getWeights('online')).to.deep.equal(b.result.learner.getWeights('online'));
    expect(c.result.episodeReturns).to.not.deep.equal(a.result.episodeReturns);
  });

  it('runs on the tfjs engine without leaking tensors, reproducibly', async () => {
    const overrides = { engine: 'tfjs', steps: 700, trainStart: 300, evalEvery: 350, snapshotEvery: 700, logEvery: 350, qValidationSize: 100 };
    const first = await runShort(logdir, 'tfjs-a', overrides);
    first.result.learner.dispose();
    const tensorsBefore = tf.memory().numTensors;
    const second = await runShort(logdir, 'tfjs-b', overrides);
    second.result.learner.dispose();
    expect(tf.memory().numTensors).to.equal(tensorsBefore);
    expect(second.output.lines).to.include('engine: tfjs');
    expect(second.result.episodeReturns).to.deep.equal(first.result.episodeReturns);
  });

  // What the loop does with each of these options is checked with a spy learner in train-loop.test.ts.
  it('runs end to end with Double DQN, Huber, soft updates, a linear epsilon and several gradient steps', async () => {
    const run = await runShort(logdir, 'variants', {
      steps: 1500,
      doubleDqn: true,
      loss: 'huber',
      tau: 0.05,
      targetUpdateEvery: 1,
      epsilonSchedule: 'linear',
      epsilonStart: 1,
      trainEpsilon: 0.05,
      epsilonFraction: 0.5,
      trainFrequency: 4,
      gradientSteps: 2,
      hiddenLayers: [16],
      activation: 'tanh',
      snapshotEvery: 0,
    });
    const epsilon = readRun(run.runDir).scalars['train/epsilon']!;
    expect(epsilon[0]![1]).to.be.closeTo(1 - (0.95 * 499) / 750, 1e-6);
    expect(epsilon.at(-1)![1]).to.be.closeTo(0.05, 1e-6);
    expect(run.result.evaluations).to.have.length(2);
  });

  it('refuses to overwrite an existing run unless asked', async () => {
    const config = shortConfig(logdir, 'twice');
    await prepareRunDir(config, {}, false);
    await expectRejection(prepareRunDir(config, {}, false), /already holds a run .*--overwrite/);
    await prepareRunDir(config, {}, true);
  });
});

describe('the run CLI', function () {
  this.timeout(180_000);
  let logdir: string;
  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-cli-'));
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  const cli = async (...args: string[]) => {
    const output = memoryOutput();
    const code = await runCli(args, output);
    return { code, text: output.lines.join('\n') };
  };

  it('--help lists every option with its default', async () => {
    const { code, stdout } = await runProcess(['--help']);
    expect(code).to.equal(0);
    for (const flag of ['--learningRate', '--targetUpdateEvery', '--hiddenLayers', '--doubleDqn', '--model', '--view']) expect(stdout).to.contain(flag);
    expect(stdout).to.match(/--learningRate.*\n?.*\[default: 0\.001\]/);
  });

  const badCalls: Array<[string[], RegExp]> = [
    [['--learnig-rate', '0.1'], /unknown flag --learnig-rate \(did you mean --learningRate\?\)/],
    [['--learning-rate', '-3'], /command line: "learningRate" must be a finite number > 0, got -3/],
    [['--env', 'Pong-v0'], /"env" "Pong-v0" is not a known environment/],
    [['--config', '/nonexistent/trial.json'], /cannot read config file \/nonexistent\/trial\.json: no such file/],
    [['--view'], /--view and --eval need --model/],
    [['--model', '/nonexistent/snap'], /--model needs --view .* or --eval/],
    [['--model', '/nonexistent/snap', '--eval'], /no snapshot at \/nonexistent\/snap\/model\.json/],
    [['extra'], /unexpected argument "extra"/],
  ];
  for (const [args, message] of badCalls) {
    it(`rejects ${args.join(' ')}`, async () => {
      // --logdir does not apply to --model (and is refused with it).
      const { code, text } = await cli(...args, ...(args.includes('--model') ? [] : ['--logdir', logdir]));
      expect(code).to.not.equal(0);
      expect(text).to.match(message);
    });
  }

  it('reads a config file, with flags overriding it, and rejects unknown keys in it', async () => {
    const file = path.join(logdir, 'trial.json');
    await fs.writeFile(
      file,
      JSON.stringify({
        env: 'MountainCar-v0',
        steps: 600,
        trainStart: 100,
        bufferSize: 1000,
        evalEvery: 0,
        evalEpisodes: 1,
        qValidationSize: 50,
        logEvery: 300,
        snapshotEvery: 0,
        name: 'from-file',
        logdir,
      }),
    );
    const { code } = await cli('--config', file, '--gamma', '0.9');
    expect(code).to.equal(0);
    const saved = JSON.parse(await fs.readFile(path.join(logdir, 'from-file', 'config.json'), 'utf8')) as RunConfig;
    expect(saved).to.include({ env: 'MountainCar-v0', steps: 600, gamma: 0.9, engine: 'auto', engineUsed: 'fused' });
    expect(saved)
      .to.have.property('backend')
      .that.matches(/^fused engine/);
    expect(saved).to.have.property('rlsweepVersion', '0.1.0');
    // A run's own config.json is a valid --config.
    const again = await cli('--config', path.join(logdir, 'from-file', 'config.json'), '--name', 'again');
    expect(again.code).to.equal(0);
    await fs.writeFile(file, JSON.stringify({ gama: 0.9 }));
    const bad = await cli('--config', file);
    expect(bad.code).to.equal(2);
    expect(bad.text).to.match(new RegExp(`${file.replace(/\//g, '\\/')}: unknown option "gama" \\(did you mean "gamma"\\?\\)`));
  });

  it('--dry-run checks the options and prints the configuration, writing nothing', async () => {
    const file = path.join(logdir, 'dry.json');
    await fs.writeFile(file, JSON.stringify({ env: 'CartPole-v1', steps: 700 }));
    const dryLogdir = path.join(logdir, 'dry-runs');
    const { code, text } = await cli('--dry-run', '--config', file, '--gamma', '0.9', '--name', 'dry', '--logdir', dryLogdir);
    expect(code, text).to.equal(0);
    expect(text).to.contain(`a run would write ${path.join(dryLogdir, 'dry')}/`);
    expect(JSON.parse(text.slice(text.indexOf('{')))).to.include({ env: 'CartPole-v1', steps: 700, gamma: 0.9, name: 'dry' });
    expect(
      await fs.stat(dryLogdir).then(
        () => true,
        () => false,
      ),
      'the logdir was created',
    ).to.equal(false);
    const bad = await cli('--dry-run', '--gamma', '2', '--logdir', dryLogdir);
    expect(bad.code).to.equal(2);
    expect(bad.text).to.match(/"gamma" must be <= 1, got 2/);
    expect((await cli('--dry-run', '--model', '/nonexistent/snap', '--eval')).text).to.match(/--dry-run checks the options of a training run/);
  });

  it('evaluates and views a snapshot, and rejects one that does not fit the env', async () => {
    const { code } = await cli(
      '--env',
      'CartPole-v1',
      '--steps',
      '500',
      '--train-start',
      '100',
      '--eval-every',
      '0',
      '--eval-episodes',
      '1',
      '--q-validation-size',
      '50',
      '--log-every',
      '250',
      '--name',
      'snap',
      '--logdir',
      logdir,
    );
    expect(code).to.equal(0);
    const snapshot = path.join(logdir, 'snap', 'snapshots', 'step-500');
    const evaluation = await cli('--model', snapshot, '--eval', '--episodes', '3');
    expect(evaluation.code).to.equal(0);
    expect(evaluation.text).to.match(/episodes 3 episode_return_avg \d+\.\d{3}/);
    const view = await runProcess(['--model', path.join(snapshot, 'model.json'), '--view', '--episodes', '2', '--fps', '0']);
    expect(view.code).to.equal(0);
    expect(view.stdout).to.contain('[===]'); // the cart
    expect(view.stdout.match(/^episode \d return \d+ steps \d+$/gm)).to.have.length(2);
    const mismatch = await cli('--model', snapshot, '--eval', '--env', 'MountainCar-v0');
    expect(mismatch.code).to.not.equal(0);
    expect(mismatch.text).to.match(/model\.json takes 4 observations and gives 2 actions, but MountainCar-v0 has 2 and 3/);
  });

  it('on SIGINT saves a snapshot at the current step, flushes the logs and exits 130', async () => {
    let sent = false;
    const result = await runProcess(
      ['--env', 'MountainCar-v0', '--steps', '1000000', '--train-start', '100', '--log-every', '500', '--eval-every', '0', '--q-validation-size', '50', '--name', 'interrupted', '--logdir', logdir],
      {
        onStdout: (text, child) => {
          if (!sent && /steps \d+\/1000 /.test(text)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    expect(result.code).to.equal(130);
    const match = /Interrupted at step (\d+)/.exec(result.stdout);
    expect(match, result.stdout + result.stderr).to.not.equal(null);
    const step = Number(match![1]);
    expect(step).to.be.greaterThan(1000);
    const snapshots = await fs.readdir(path.join(logdir, 'interrupted', 'snapshots'));
    expect(snapshots).to.deep.equal([`step-${step}`]);
    const data = readRun(path.join(logdir, 'interrupted'));
    expect(data.truncated_files).to.deep.equal([]);
    expect(data.scalars['train/loss']!.map(([s]) => s)).to.include(1000);
    expect(data.hparams_session?.end_status).to.equal('unknown');
  });
});

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail('expected an error');
}
