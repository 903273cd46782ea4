/**
 * Bring your own environment (issue 18): envs named by module and export, checked by checkEnv,
 * trained, resumed, played back from snapshots and swept (locally, as a Slurm task and on a
 * test cluster); Python envs over the bridge; and the package's library API used by name.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkEnv } from '../src/envs/check-env.js';
import { parseEnvRef } from '../src/envs/env-ref.js';
import { makeEnv } from '../src/envs/index.js';
import { prepareEnv } from '../src/envs/load-env.js';
import { pythonExecutable } from '../src/envs/python-bridge.js';
import { loadPolicy as loadPolicyForPlayback, viewPolicy } from '../src/train/playback.js';
import { CHECKPOINTS_DIR, loadLatestCheckpoint } from '../src/train/checkpoint.js';
import { memoryOutput } from '../src/train/run-output.js';
import { readRun } from '../src/tensorboard/index.js';
import { loadPolicy } from '../src/index.js';
import { runCommand as run, sweepCommand as sweep, tinyRunFlags } from './helpers/cli-harness.js';
import { missingSlurmBinaries, startSlurmCluster } from './slurm-cluster.js';
import { skipBecause } from './skip.js';
import { LineWalk } from './fixtures/envs/line-walk.js';

const LINE_WALK = './test/fixtures/envs/line-walk.ts:LineWalk';
const GRID_WORLD = './examples/grid-world/grid-world.ts:GridWorld';
const PYTHON_LINE_WALK = 'gym:test/fixtures/gym_line_walk.py:LineWalk';

/** A run that checkpoints every 200 steps and keeps the two newest, so the older one can be resumed from. */
function resumableFlags(logdir: string, name: string, env: string): string[] {
  return [...tinyRunFlags(logdir, name, { env, steps: '600', 'checkpoint-every': '200', 'eval-every': '200', 'target-update-every': '100' }), '--keep-checkpoints', 'all'];
}

/** Resumes a copy of a finished run from its older checkpoint; returns the resumed command's result. */
async function resumeCopyFromOlderCheckpoint(runDir: string, copy: string): Promise<{ code: number; text: string }> {
  cpSync(runDir, copy, { recursive: true });
  const checkpoints = readdirSync(path.join(copy, CHECKPOINTS_DIR)).sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
  rmSync(path.join(copy, CHECKPOINTS_DIR, checkpoints.at(-1)!), { recursive: true });
  return run('--resume', copy);
}

function finalWeights(runDir: string, step: number): Buffer {
  return readFileSync(path.join(runDir, 'snapshots', `step-${step}`, 'weights.bin'));
}

function pythonCan(module: string): boolean {
  return spawnSync(pythonExecutable(), ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

describe('environments as modules (issue 18)', function () {
  this.timeout(240_000);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-custom-env-'));
  const logdir = path.join(tmp, 'runs');
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('how the env option names an env', () => {
    it('tells ids, modules and Python envs apart', () => {
      expect(parseEnvRef('CartPole-v1')).to.deep.equal({ kind: 'id', id: 'CartPole-v1' });
      expect(parseEnvRef('Pong-v0')).to.deep.equal({ kind: 'id', id: 'Pong-v0' });
      expect(parseEnvRef('./envs/walk.ts:Walk')).to.deep.equal({ kind: 'module', specifier: './envs/walk.ts', exportName: 'Walk' });
      expect(parseEnvRef('envs/walk.js')).to.deep.equal({ kind: 'module', specifier: 'envs/walk.js', exportName: 'default' });
      expect(parseEnvRef('@lab/envs:GridWorld')).to.deep.equal({ kind: 'module', specifier: '@lab/envs', exportName: 'GridWorld' });
      expect(parseEnvRef('gym:LunarLander-v3')).to.deep.equal({ kind: 'python', target: 'LunarLander-v3', file: undefined, className: undefined });
      expect(parseEnvRef('gym:my_pkg:MyEnv-v0')).to.deep.equal({ kind: 'python', target: 'my_pkg:MyEnv-v0', file: undefined, className: undefined });
      expect(parseEnvRef('gym:envs/walk.py:Walk')).to.deep.equal({ kind: 'python', target: 'envs/walk.py:Walk', file: 'envs/walk.py', className: 'Walk' });
    });
  });

  describe('checkEnv', () => {
    it('passes a built-in env, with every feature', async () => {
      const report = await checkEnv('CartPole-v1');
      expect(report.problems).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      expect(report.features).to.deep.equal({ exactResume: true, gif: true, textView: true });
    });

    it('passes a module env, and says which features it has', async () => {
      const report = await checkEnv(LINE_WALK);
      expect(report.problems).to.deep.equal([]);
      expect(report.stepsChecked).to.equal(2000);
      expect(report.features).to.deep.equal({ exactResume: true, gif: false, textView: true });
      expect(report.notes.join('\n')).to.match(/does not truncate its own episodes at maxEpisodeSteps \(30\); rlsweep applies the limit/);
    });

    it('checks an env object as well as a name', async () => {
      const report = await checkEnv(new LineWalk());
      expect(report.ok, report.problems.join('\n')).to.equal(true);
    });

    it('lists every contract violation of a sloppy env', async () => {
      const report = await checkEnv('./test/fixtures/envs/line-walk.ts:Sloppy');
      expect(report.ok).to.equal(false);
      const problems = report.problems.join('\n');
      expect(problems).to.match(/reset\(\{ seed: 0 \}\) twice gave different first observations/);
      expect(problems).to.include('step(-1), step(2), step(0.5) were accepted; actions are the integers 0..1, and any other must throw');
      expect(problems).to.match(/step\(0\) after the episode ended \(terminated\) was accepted; it must throw until reset\(\)/);
      expect(report.notes.join('\n')).to.match(/no getState\(\)\/setState\(\)/);
      expect(report.features).to.deep.equal({ exactResume: false, gif: false, textView: false });
    });

    it('finds observations outside the declared bounds, non-finite values and a state that does not round-trip', async () => {
      const env = new LineWalk();
      const broken = {
        observationSize: 2,
        actionCount: 2,
        observationLow: [0, 0],
        observationHigh: [5, 1],
        maxEpisodeSteps: 30,
        reset: (options?: { seed?: number }) => env.reset(options),
        step: (action: number) => {
          const output = env.step(action);
          return { ...output, reward: env.getState().position === 3 ? Number.NaN : output.reward };
        },
        getState: () => env.getState(),
        // Forgets the generator: the episode after a restore differs.
        setState: (saved: { position: number; steps: number; seed: number }) => env.setState({ ...saved, seed: 7 }),
      };
      const report = await checkEnv(broken);
      const problems = report.problems.join('\n');
      expect(problems).to.match(/returned observation\[0\] = ([6-9]|10), outside the declared bounds \[0, 5\]/);
      expect(problems).to.match(/returned reward NaN; rewards must be finite numbers/);
      expect(problems).to.match(/getState\(\) right after setState\(saved\) differs from saved|after setState\(getState\(\)\), the same actions gave different steps/);
      expect(report.features.exactResume).to.equal(false);
    });

    it('is a command: --check-env prints the report and exits 1 when the env has problems', async () => {
      const good = await run('--check-env', GRID_WORLD);
      expect(good.code, good.text).to.equal(0);
      expect(good.text).to.include(`${GRID_WORLD}: no problems found`);
      expect(good.text).to.include('exact resume: yes; evaluation GIFs and --record: yes; --view: yes');
      const bad = await run('--check-env', './test/fixtures/envs/line-walk.ts:Sloppy');
      expect(bad.code).to.equal(1);
      expect(bad.text).to.match(/Sloppy: 3 problem\(s\):\n {2}problem: reset/);
      const extra = await run('--check-env', GRID_WORLD, '--steps', '10');
      expect(extra.code).to.equal(2);
      expect(extra.text).to.include('--steps has no effect with --check-env');
    });
  });

  describe('a run on a module env', () => {
    it('trains on a BaseEnv subclass, logs its evaluation GIF and names the module in config.json and the snapshot', async () => {
      const result = await run(...tinyRunFlags(logdir, 'grid', { env: GRID_WORLD, 'eval-every': '150' }).filter((flag) => flag !== '--no-eval-gif'));
      expect(result.code, result.text).to.equal(0);
      const runDir = path.join(logdir, 'grid');
      expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')).env).to.equal(GRID_WORLD);
      expect(readFileSync(path.join(runDir, 'snapshots', 'step-300', 'model.json'), 'utf8')).to.include(`"env":${JSON.stringify(GRID_WORLD)}`);
      const images = readRun(runDir).images['eval/policy'] ?? [];
      expect(images.map((image) => image.step)).to.deep.equal([150, 300]);
    });

    it('skips the evaluation GIF with one line when the env has no RGB renderer', async () => {
      const result = await run(...tinyRunFlags(logdir, 'walk-no-gif', { env: LINE_WALK, 'eval-every': '150' }).filter((flag) => flag !== '--no-eval-gif'));
      expect(result.code, result.text).to.equal(0);
      expect(result.text.match(/eval\/policy GIF skipped: .*line-walk\.ts:LineWalk has no RGB renderer \(renderRgb\)/g)).to.have.length(1);
      expect(readRun(path.join(logdir, 'walk-no-gif')).images['eval/policy']).to.equal(undefined);
    });

    it('resumes bit-identically from a checkpoint when the env saves its state', async () => {
      const reference = await run(...resumableFlags(logdir, 'walk', LINE_WALK));
      expect(reference.code, reference.text).to.equal(0);
      const resumed = await resumeCopyFromOlderCheckpoint(path.join(logdir, 'walk'), path.join(logdir, 'walk-resumed'));
      expect(resumed.code, resumed.text).to.equal(0);
      expect(resumed.text).to.match(/Resuming from .*step-(200|400) \(step (200|400) of 600\)/);
      expect(finalWeights(path.join(logdir, 'walk-resumed'), 600).equals(finalWeights(path.join(logdir, 'walk'), 600))).to.equal(true);
      expect(readRun(path.join(logdir, 'walk-resumed')).scalars['train/episode_return']).to.deep.equal(readRun(path.join(logdir, 'walk')).scalars['train/episode_return']);
    });

    it('says at the start that an env without getState/setState cannot resume, and --resume refuses it', async () => {
      const env = './test/fixtures/envs/line-walk.ts:LineWalkWithoutState';
      const first = await run(...resumableFlags(logdir, 'stateless', env));
      expect(first.code, first.text).to.equal(0);
      expect(first.text).to.match(/note: .*LineWalkWithoutState cannot save and restore its state \(getState\/setState\), so this run cannot be resumed exactly/);
      const resumed = await resumeCopyFromOlderCheckpoint(path.join(logdir, 'stateless'), path.join(logdir, 'stateless-resumed'));
      expect(resumed.code).to.equal(1);
      expect(resumed.text).to.match(/^error: .*LineWalkWithoutState has no getState\(\)\/setState\(\), so a run on it cannot continue exactly from a checkpoint/m);
    });

    it('an env that breaks mid-run fails with the module and step named, and leaves its checkpoint and logs readable', async () => {
      const env = './test/fixtures/envs/line-walk.ts:ThrowsLater';
      const result = await run(...tinyRunFlags(logdir, 'breaks', { env, 'checkpoint-every': '100' }));
      expect(result.code).to.equal(1);
      expect(result.text).to.match(/^error: env .*line-walk\.ts:ThrowsLater: step\([01]\) threw: the simulator ran out of memory \(episode \d+, step \d+\) \(at training step 150\)$/m);
      const runDir = path.join(logdir, 'breaks');
      const latest = await loadLatestCheckpoint(runDir);
      expect(latest.found?.content.step).to.equal(100);
      const logged = readRun(runDir);
      expect(logged.truncated_files).to.deep.equal([]);
      expect(logged.scalars['train/episode_return']?.length).to.be.greaterThan(0);
    });
  });

  describe('snapshots of a module env', () => {
    it('--model finds the module in the snapshot: --eval and --record work without --env', async () => {
      const snapshot = path.join(logdir, 'grid', 'snapshots', 'step-300');
      const evaluated = await run('--model', snapshot, '--eval', '--episodes', '2');
      expect(evaluated.code, evaluated.text).to.equal(0);
      expect(evaluated.text).to.match(/episodes 2 episode_return_avg -?\d/);
      const gif = path.join(tmp, 'grid.gif');
      const recorded = await run('--model', snapshot, '--record', gif);
      expect(recorded.code, recorded.text).to.equal(0);
      expect(readFileSync(gif).subarray(0, 6).toString()).to.equal('GIF89a');
    });

    it('--view draws the env as text, and --record of an env without renderRgb says why', async () => {
      const snapshot = path.join(logdir, 'walk', 'snapshots', 'step-600');
      const policy = await loadPolicyForPlayback(snapshot, undefined);
      const frames: string[] = [];
      await viewPolicy(policy, { episodes: 1, fps: 0, seed: 0, drawFrame: (frame) => frames.push(frame) }, memoryOutput());
      expect(frames[0]).to.match(/^\.*A\.*/);
      policy.learner.dispose();
      const recorded = await run('--model', snapshot, '--record', path.join(tmp, 'walk.gif'));
      expect(recorded.code).to.equal(2);
      expect(recorded.text).to.match(/^error: --record draws the env as RGB frames, but .*LineWalk has no renderRgb\(width, height\) method; use --view or --eval$/m);
      expect(existsSync(path.join(tmp, 'walk.gif'))).to.equal(false);
    });

    it('loadPolicy (the library) acts with it', async () => {
      const policy = await loadPolicy(path.join(logdir, 'grid', 'snapshots', 'step-300'));
      const env = makeEnv((await prepareEnv(GRID_WORLD)).id);
      const observation = env.reset({ seed: 1 });
      const qValues = policy.qValues(observation);
      expect(qValues).to.have.length(4);
      expect(policy.act(observation)).to.equal(qValues.indexOf(Math.max(...qValues)));
      expect(policy.env).to.equal(GRID_WORLD);
      expect(() => policy.act([1, 2, 3])).to.throw(/takes observations of 2 values, got 3/);
      policy.dispose();
    });
  });

  describe('sweeps over module envs', () => {
    const sweepText = (name: string): string =>
      [
        `name: ${name}`,
        'method: grid',
        'seeds: [0]',
        'parameters:',
        `  env: { values: ['${LINE_WALK}', './test/fixtures/envs/line-walk.ts:ThrowsInStep'] }`,
        '  steps: { value: 300 }',
        '  trainStart: { value: 100 }',
        '  targetUpdateEvery: { value: 100 }',
        '  evalEvery: { value: 0 }',
        '  evalEpisodes: { value: 1 }',
        '  qValidationSize: { value: 50 }',
        '  evalGif: { value: false }',
      ].join('\n');
    const good = 'env=._test_fixtures_envs_line-walk.ts_LineWalk,seed=0';
    const broken = 'env=._test_fixtures_envs_line-walk.ts_ThrowsInStep,seed=0';

    it('child processes load the module from the trial config; only the trial whose env breaks fails', async () => {
      const file = path.join(tmp, 'envs.yaml');
      writeFileSync(file, sweepText('envs'));
      const result = await sweep('run', file, '--logdir', logdir, '--progress-every', '0');
      expect(result.code, result.text).to.equal(1);
      const status = (trial: string): { state: string; cause?: string } => JSON.parse(readFileSync(path.join(logdir, 'envs', trial, 'status.json'), 'utf8'));
      expect(status(good).state).to.equal('done');
      expect(status(broken).state).to.equal('failed');
      expect(status(broken).cause).to.match(/^exit code 1: env .*ThrowsInStep: step\([01]\) threw: the simulator lost its state \(episode 1, step 3\) \(at training step 3\)/);
      expect(result.text).to.match(/1 trial failed:\n {2}env=\._test_fixtures_envs_line-walk\.ts_ThrowsInStep,seed=0: exit code 1: env /);
      expect(existsSync(path.join(logdir, 'envs', good, 'snapshots', 'step-300', 'model.json'))).to.equal(true);
    });

    it('a Slurm task (sweep trial --index) resolves the same module', async () => {
      const file = path.join(tmp, 'envs-task.yaml');
      writeFileSync(file, sweepText('envs-task'));
      const task = await sweep('trial', file, '--index', '0', '--logdir', logdir);
      expect(task.code, task.text).to.equal(0);
      expect(task.text).to.include(`done ${good} (300 steps`);
    });

    it('runs on a Slurm test cluster', async function () {
      const missing = missingSlurmBinaries();
      if (missing.length > 0) skipBecause(this, `the Slurm cluster: ${missing.join(', ')} not found`);
      const cluster = await startSlurmCluster();
      try {
        const file = path.join(tmp, 'envs-slurm.yaml');
        writeFileSync(file, sweepText('envs-slurm'));
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', 'run', file, '--logdir', logdir, '--executor', 'slurm', '--poll-seconds', '0.5', '--progress-every', '0'], {
          env: cluster.env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code, `${text}\n${cluster.logs()}`).to.equal(1);
        expect(text).to.include(`done ${good}`);
        expect(text).to.match(/FAILED .*ThrowsInStep.*the simulator lost its state/);
      } finally {
        await cluster.stop();
      }
    });
  });

  describe('Python envs over the bridge', () => {
    before(function () {
      if (!pythonCan('json')) skipBecause(this, `the Python bridge: ${pythonExecutable()} does not run`);
    });

    it('checkEnv passes the plain-Python fixture, which saves its state', async () => {
      const report = await checkEnv(PYTHON_LINE_WALK);
      expect(report.problems).to.deep.equal([]);
      expect(report.features.exactResume).to.equal(true);
    });

    it('passes seeds through to reset(seed=...): the same seed gives the same episode, another seed another', async () => {
      await prepareEnv(PYTHON_LINE_WALK);
      const [a, b] = [makeEnv(PYTHON_LINE_WALK), makeEnv(PYTHON_LINE_WALK)];
      const episode = (env: typeof a, seed: number): number[][] => {
        const seen = [Array.from(env.reset({ seed }))];
        for (let i = 0; i < 12; i++) seen.push(Array.from(env.step(i % 3 === 0 ? 0 : 1).observation));
        return seen;
      };
      expect(episode(a, 5)).to.deep.equal(episode(b, 5));
      const starts = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => a.reset({ seed })[0]));
      expect(starts.size).to.be.greaterThan(1);
    });

    it('trains, and resumes bit-identically through get_state/set_state', async () => {
      const reference = await run(...resumableFlags(logdir, 'python-walk', PYTHON_LINE_WALK));
      expect(reference.code, reference.text).to.equal(0);
      const resumed = await resumeCopyFromOlderCheckpoint(path.join(logdir, 'python-walk'), path.join(logdir, 'python-walk-resumed'));
      expect(resumed.code, resumed.text).to.equal(0);
      expect(finalWeights(path.join(logdir, 'python-walk-resumed'), 600).equals(finalWeights(path.join(logdir, 'python-walk'), 600))).to.equal(true);
    });

    it('gym:CartPole-v1 follows the same trajectory as the built-in port (when gymnasium is installed)', async function () {
      if (!pythonCan('gymnasium')) skipBecause(this, `gymnasium is not importable by ${pythonExecutable()}`);
      const id = 'gym:CartPole-v1';
      await prepareEnv(id);
      const python = makeEnv(id);
      const port = makeEnv('CartPole-v1');
      const first = python.reset({ seed: 42 });
      // Gymnasium's observation is its float64 state rounded to float32: start the port there.
      let ours = port.reset({ state: Array.from(first) });
      // 100 steps: the pole is unstable, so the float32 rounding of the start grows; by then it is still far below 1e-3.
      for (let step = 1; step <= 100; step++) {
        const action = ours[2]! > 0 ? 1 : 0;
        const theirs = python.step(action);
        const mine = port.step(action);
        for (let i = 0; i < 4; i++) expect(mine.observation[i]!, `step ${step}, component ${i}`).to.be.closeTo(theirs.observation[i]!, 1e-3);
        expect([mine.terminated, mine.truncated], `step ${step}`).to.deep.equal([theirs.terminated, theirs.truncated]);
        ours = mine.observation;
        if (mine.terminated || mine.truncated) break;
      }
    });
  });

  describe('the library API, from a program that imports rlsweep by its package name', () => {
    it('registers, checks and trains an env of its own, and acts with the snapshot', async () => {
      const child = spawnSync(process.execPath, ['test/fixtures/library-script.mjs', path.join(tmp, 'library')], { encoding: 'utf8' });
      expect(child.status, child.stderr).to.equal(0);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(result.builtIn).to.deep.equal(['MountainCar-v0', 'CartPole-v0', 'CartPole-v1', 'Acrobot-v1']);
      expect(result.check).to.deep.equal({ ok: true, problems: [], features: { exactResume: true, gif: false, textView: false } });
      expect(result.stepsDone).to.equal(400);
      expect(result.evaluations).to.equal(2);
      expect(result.policyEnv).to.equal('Corridor-v0');
      const qValues = result.qValues as number[];
      expect(qValues).to.have.length(2);
      expect(result.action).to.equal(qValues.indexOf(Math.max(...qValues)));
      expect(existsSync(path.join(tmp, 'library', 'corridor', 'config.json'))).to.equal(true);
    });
  });
});
