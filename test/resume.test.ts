import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOutput } from '../src/train/run-output.js';
import { runCli } from '../src/cli/run.js';
import { CHECKPOINTS_DIR, loadLatestCheckpoint, prunableCheckpoints, readCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { readRun } from '../src/tensorboard/index.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A short CartPole run that checkpoints every 500 steps, and keeps both checkpoints when it finishes (for the fallback tests). */
const TRIAL = {
  env: 'CartPole-v1',
  steps: 2500,
  trainStart: 300,
  bufferSize: 4000,
  evalEvery: 500,
  evalEpisodes: 2,
  qValidationSize: 200,
  logEvery: 250,
  snapshotEvery: 0,
  checkpointEvery: 500,
  targetUpdateEvery: 200,
  evalGif: false,
  keepCheckpoints: 'all',
};

/** Start `src/run.ts` in a child process; `until` decides from its output when to act on it. */
function startRun(args: string[], until: RegExp, act: (child: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/run.ts', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let acted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out waiting for ${until}: ${stdout}`));
    }, 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!acted && until.test(stdout)) {
        acted = true;
        act(child);
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout });
    });
  });
}

async function cli(...args: string[]): Promise<{ code: number; text: string }> {
  const output = memoryOutput();
  const code = await runCli(args, output);
  return { code, text: output.lines.join('\n') };
}

/** What must be identical between an uninterrupted and a resumed run. */
async function outcome(runDir: string) {
  const data = readRun(runDir);
  return {
    weights: await fs.readFile(path.join(runDir, 'snapshots', 'step-2500', 'weights.bin')),
    evalReturns: data.scalars['eval/return_mean'],
    avgMaxQ: data.scalars['eval/avg_max_q'],
    episodeReturns: data.scalars['train/episode_return'],
    losses: data.scalars['train/loss'],
  };
}

describe('checkpoints and exact resume', function () {
  this.timeout(240_000);
  let logdir: string;
  let configFile: string;
  let reference: Awaited<ReturnType<typeof outcome>>;

  before(async () => {
    logdir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-resume-'));
    configFile = path.join(logdir, 'trial.json');
    await fs.writeFile(configFile, JSON.stringify({ ...TRIAL, logdir }));
    const { code } = await cli('--config', configFile, '--name', 'reference');
    expect(code).to.equal(0);
    reference = await outcome(path.join(logdir, 'reference'));
  });
  after(() => fs.rm(logdir, { recursive: true, force: true }));

  it('keeps the two newest checkpoints, each complete (keepCheckpoints all)', async () => {
    const names = (await fs.readdir(path.join(logdir, 'reference', CHECKPOINTS_DIR))).sort();
    expect(names).to.deep.equal(['step-1500', 'step-2000']);
    const content = await readCheckpoint(path.join(logdir, 'reference', CHECKPOINTS_DIR, 'step-2000'));
    expect(content.step).to.equal(2000);
    expect(Object.keys(content.arrays)).to.include.members(['observation', 'replay.states', 'online.0', 'target.5', 'adam.m.0', 'adam.v.5', 'qValidation']);
  });

  it('a run killed with SIGKILL after a checkpoint resumes bit-identical to an uninterrupted run', async () => {
    const killed = await startRun(['--config', configFile, '--name', 'killed'], /checkpoints\/step-1500/, (child) => child.kill('SIGKILL'));
    expect(killed.signal).to.equal('SIGKILL');
    const runDir = path.join(logdir, 'killed');
    const resumed = await cli('--resume', runDir);
    expect(resumed.code, resumed.text).to.equal(0);
    expect(resumed.text).to.match(/Resuming from .*checkpoints\/step-1500 \(step 1500 of 2500\)/);
    const after = await outcome(runDir);
    expect(after.weights.equals(reference.weights), 'final weights differ').to.equal(true);
    // After TensorBoard's restart purge, every series equals the uninterrupted run's: no step twice.
    expect(after.evalReturns).to.deep.equal(reference.evalReturns);
    expect(after.avgMaxQ).to.deep.equal(reference.avgMaxQ);
    expect(after.episodeReturns).to.deep.equal(reference.episodeReturns);
    expect(after.losses).to.deep.equal(reference.losses);
    // Two event files: the killed process's and the resumed one's, which starts with SessionLog START.
    const events = (await fs.readdir(runDir)).filter((f) => f.includes('tfevents'));
    expect(events).to.have.length(2);
    const raw = readRun(runDir, { purgeOnRestart: false });
    expect(raw.scalars['eval/return_mean']!.length).to.be.at.least(reference.evalReturns!.length);
  });

  it('a run killed on the SIMD kernels resumes on the JavaScript ones (RLSWEEP_SIMD=0) bit-identical to the uninterrupted SIMD run', async () => {
    const killed = await startRun(['--config', configFile, '--name', 'killed-simd'], /checkpoints\/step-1500/, (child) => child.kill('SIGKILL'));
    expect(killed.stdout).to.include('backend: fused engine (WebAssembly SIMD');
    const runDir = path.join(logdir, 'killed-simd');
    process.env.RLSWEEP_SIMD = '0';
    try {
      const resumed = await cli('--resume', runDir);
      expect(resumed.code, resumed.text).to.equal(0);
      expect(resumed.text).to.include('backend: fused engine (plain JavaScript: RLSWEEP_SIMD=0');
    } finally {
      delete process.env.RLSWEEP_SIMD;
    }
    const after = await outcome(runDir);
    expect(after.weights.equals(reference.weights), 'final weights differ').to.equal(true);
    expect(after.episodeReturns).to.deep.equal(reference.episodeReturns);
    expect(after.losses).to.deep.equal(reference.losses);
    expect(after.evalReturns).to.deep.equal(reference.evalReturns);
  });

  it('Ctrl-C checkpoints at the current step, and the resumed run is bit-identical too', async () => {
    const stopped = await startRun(['--config', configFile, '--name', 'stopped'], /steps \d+\/1000 /, (child) => child.kill('SIGINT'));
    expect(stopped.code).to.equal(130);
    const step = Number(/Interrupted at step (\d+)/.exec(stopped.stdout)![1]);
    expect(stopped.stdout).to.contain(`Continue with --resume ${path.join(logdir, 'stopped')}`);
    const runDir = path.join(logdir, 'stopped');
    expect(await fs.readdir(path.join(runDir, CHECKPOINTS_DIR))).to.include(`step-${step}`);
    const resumed = await cli('--resume', runDir);
    expect(resumed.code).to.equal(0);
    expect(resumed.text).to.contain(`(step ${step} of 2500)`);
    const after = await outcome(runDir);
    expect(after.weights.equals(reference.weights)).to.equal(true);
    expect(after.evalReturns).to.deep.equal(reference.evalReturns);
  });

  it('falls back past a corrupt newest checkpoint, and past one never completed, saying so', async () => {
    const runDir = path.join(logdir, 'corrupt');
    await fs.cp(path.join(logdir, 'reference'), runDir, { recursive: true });
    const newest = path.join(runDir, CHECKPOINTS_DIR, 'step-2000');
    const data = await fs.readFile(path.join(newest, 'data.bin'));
    data[100] = data[100]! ^ 0xff;
    await fs.writeFile(path.join(newest, 'data.bin'), data);
    // A checkpoint whose writer was killed mid-write.
    await fs.mkdir(path.join(runDir, CHECKPOINTS_DIR, '.tmp-step-2500-999999'));
    await fs.writeFile(path.join(runDir, CHECKPOINTS_DIR, '.tmp-step-2500-999999', 'data.bin'), 'half');
    await fs.rm(path.join(runDir, 'snapshots'), { recursive: true });
    const resumed = await cli('--resume', runDir);
    expect(resumed.code, resumed.text).to.equal(0);
    expect(resumed.text).to.contain(`${path.join(runDir, CHECKPOINTS_DIR, '.tmp-step-2500-999999')} was never completed`);
    expect(resumed.text).to.contain(
      `${path.join(newest, 'data.bin')} does not match its SHA-256 in ${path.join(newest, 'checkpoint.json')}; the checkpoint is corrupt; falling back to the previous checkpoint`,
    );
    expect(resumed.text).to.match(/Resuming from .*step-1500 \(step 1500 of 2500\)/);
    expect((await outcome(runDir)).weights.equals(reference.weights)).to.equal(true);
  });

  it('a finished run keeps only its newest checkpoint by default, none with keepCheckpoints none; results are the same', async () => {
    for (const [kept, expected] of [
      ['last', ['step-2000']],
      ['none', undefined],
    ] as const) {
      const { code, text } = await cli('--config', configFile, '--name', `kept-${kept}`, '--keep-checkpoints', kept);
      expect(code, text).to.equal(0);
      const runDir = path.join(logdir, `kept-${kept}`);
      const names = await fs.readdir(path.join(runDir, CHECKPOINTS_DIR)).catch(() => undefined);
      expect(names, kept).to.deep.equal(expected);
      expect((await outcome(runDir)).weights.equals(reference.weights)).to.equal(true);
      // Not a hyperparameter: TensorBoard's hparams do not show it.
      const hparams = readRun(runDir).hparams!;
      expect(hparams).to.have.property('checkpointEvery');
      expect(hparams).to.not.have.property('keepCheckpoints');
    }
    // The kept checkpoint still continues the run.
    const resumed = await cli('--resume', path.join(logdir, 'kept-last'));
    expect(resumed.code, resumed.text).to.equal(0);
    expect(resumed.text).to.match(/Resuming from .*step-2000 \(step 2000 of 2500\)/);
  });

  it('keeps the newest intact checkpoint: a damaged newer one goes with the older ones', async () => {
    const runDir = path.join(logdir, 'prune-damaged');
    await fs.cp(path.join(logdir, 'reference'), runDir, { recursive: true });
    const root = path.join(runDir, CHECKPOINTS_DIR);
    await fs.cp(path.join(root, 'step-2000'), path.join(root, 'step-2400'), { recursive: true });
    await fs.writeFile(path.join(root, 'step-2400', 'data.bin'), 'damaged');
    expect((await prunableCheckpoints(runDir, 'last')).sort()).to.deep.equal([path.join(root, 'step-1500'), path.join(root, 'step-2400')]);
    expect(await prunableCheckpoints(runDir, 'all')).to.deep.equal([]);
    expect(await prunableCheckpoints(runDir, 'none')).to.deep.equal([root]);
    // No intact checkpoint: nothing goes (a damaged one may be wanted for a post-mortem).
    await fs.writeFile(path.join(root, 'step-2000', 'data.bin'), 'damaged');
    await fs.writeFile(path.join(root, 'step-1500', 'data.bin'), 'damaged');
    expect(await prunableCheckpoints(runDir, 'last')).to.deep.equal([]);
  });

  it('reports truncated and unreadable checkpoints by file', async () => {
    const dir = path.join(logdir, 'parts');
    const saved = await saveCheckpoint(dir, { step: 5, state: { a: 1 }, arrays: { x: new Float32Array([1, 2, 3]), y: new Int32Array([4]) } });
    const back = await readCheckpoint(saved);
    expect(Array.from(back.arrays.x!)).to.deep.equal([1, 2, 3]);
    expect(back.arrays.y).to.be.instanceOf(Int32Array);
    await fs.writeFile(path.join(saved, 'data.bin'), Buffer.alloc(3));
    const latest = await loadLatestCheckpoint(dir);
    expect(latest.found).to.equal(undefined);
    expect(latest.skipped[0]).to.contain(`${path.join(saved, 'data.bin')} holds 3 bytes but ${path.join(saved, 'checkpoint.json')} says 16; the checkpoint is truncated`);
    await fs.writeFile(path.join(saved, 'checkpoint.json'), '{"format": "rlsweep-check');
    expect((await loadLatestCheckpoint(dir)).skipped[0]).to.contain(`${path.join(saved, 'checkpoint.json')} is not valid JSON`);
  });

  it('--resume without a checkpoint starts over in place, purging the earlier points', async () => {
    const runDir = path.join(logdir, 'early');
    const killed = await startRun(['--config', configFile, '--name', 'early'], /\/250 /, (child) => child.kill('SIGKILL'));
    expect(killed.signal).to.equal('SIGKILL');
    const resumed = await cli('--resume', runDir);
    expect(resumed.code).to.equal(0);
    expect(resumed.text).to.contain(`No checkpoint in ${runDir}; starting over from step 0`);
    expect((await outcome(runDir)).evalReturns).to.deep.equal(reference.evalReturns);
  });

  it('--resume refuses other options and folders that hold no run', async () => {
    const withFlag = await cli('--resume', path.join(logdir, 'reference'), '--learning-rate', '0.1');
    expect(withFlag.code).to.equal(2);
    expect(withFlag.text).to.contain('drop --learningRate');
    const missing = await cli('--resume', path.join(logdir, 'nothing-here'));
    expect(missing.code).to.equal(2);
    expect(missing.text).to.contain(`cannot read config file ${path.join(logdir, 'nothing-here', 'config.json')}: no such file`);
  });

  it('a diverging run fails naming the step and keeps its last good snapshot', async () => {
    const file = path.join(logdir, 'diverge.json');
    await fs.writeFile(file, JSON.stringify({ ...TRIAL, logdir, learningRate: 1e10, clipNorm: 0, snapshotEvery: 100 }));
    const run = await cli('--config', file, '--name', 'diverge');
    expect(run.code).to.equal(1);
    expect(run.text).to.match(/error: diverged at step \d+: (loss|Q-values) (is|are) (NaN|Infinity|-Infinity)/);
    const snapshots = await fs.readdir(path.join(logdir, 'diverge', 'snapshots'));
    expect(snapshots.length).to.be.greaterThan(0);
    expect(readRun(path.join(logdir, 'diverge')).hparams_session!.end_status).to.equal('failure');
  });
});
