/**
 * An adaptive sweep (bayes + ASHA) on the single-node Slurm cluster (test/slurm-cluster.ts):
 * the controller stays here and submits each configuration's segment to its next rung as
 * a job array (`sweep trial --index i --stop-at-step N`), following it as it decides. At
 * concurrency 1 its journal (every suggestion and decision) equals the local executor's.
 *
 * Without Slurm's binaries it is skipped, saying why; with CI set it fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import type { SlurmJobRecord } from '../src/sweep/slurm.js';
import { skipBecause } from './skip.js';
import { missingSlurmBinaries, type SlurmCluster, startSlurmCluster } from './slurm-cluster.js';

const ROOT = process.cwd();
const CLI = path.join(ROOT, 'src', 'cli', 'sweep.ts');
const TSX = import.meta.resolve('tsx');

const SWEEP = [
  'name: slurm-adaptive',
  'method: bayes',
  'run_cap: 3',
  'sweep_seed: 2',
  'bayes: { n_startup_trials: 2 }',
  'seeds: [0, 1]',
  'early_terminate: { type: asha, min_steps: 200, reduction_factor: 2 }',
  'parameters:',
  '  env: { value: CartPole-v1 }',
  '  steps: { value: 600 }',
  '  learningRate: { min: 0.0001, max: 0.01, distribution: log_uniform_values }',
  '  trainStart: { value: 100 }',
  '  bufferSize: { value: 1000 }',
  '  qValidationSize: { value: 50 }',
  '  evalEvery: { value: 200 }',
  '  evalEpisodes: { value: 1 }',
  '  logEvery: { value: 100 }',
  '  snapshotEvery: { value: 0 }',
  '  evalGif: { value: false }',
  '',
].join('\n');

describe('adaptive sweep on Slurm (a single-node cluster)', function () {
  this.timeout(600_000);
  let tmp: string;
  let cluster: SlurmCluster | undefined;

  before(async function () {
    const missing = missingSlurmBinaries();
    if (missing.length > 0) {
      const why = `${missing.join(', ')} not found; install Debian's slurm-wlm and munge (apt-get install -y slurm-wlm munge), as .ci/run does`;
      if (process.env.CI && process.env.CI !== 'false') throw new Error(`the Slurm tests cannot run in CI: ${why}`);
      skipBecause(this, `the adaptive Slurm test: ${why}`);
    }
    tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-slurm-adaptive-'));
    cluster = await startSlurmCluster();
  });
  after(async () => {
    await cluster?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('submits each segment as a job, follows it, and takes the same decisions as the local executor', () => {
    const file = path.join(tmp, 'adaptive.yaml');
    writeFileSync(file, SWEEP);
    const run = (logdir: string, extra: string[]): { code: number | null; output: string } => {
      const result = spawnSync(process.execPath, ['--import', TSX, CLI, 'run', file, '--logdir', logdir, '--concurrency', '1', '--progress-every', '0', ...extra], {
        cwd: ROOT,
        env: cluster!.env,
        encoding: 'utf8',
      });
      return { code: result.status, output: `${result.stdout}${result.stderr}` };
    };
    const local = run(path.join(tmp, 'local'), []);
    expect(local.code, local.output).to.equal(0);
    const slurm = run(path.join(tmp, 'slurm'), ['--executor', 'slurm', '--poll-seconds', '0.5']);
    expect(slurm.code, `${slurm.output}\n${cluster!.logs()}`).to.equal(0);

    const journal = (logdir: string): string[] =>
      readFileSync(path.join(logdir, 'slurm-adaptive', 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n');
    const decisions = journal(path.join(tmp, 'slurm'));
    expect(decisions).to.deep.equal(journal(path.join(tmp, 'local')));
    expect(decisions.some((line) => line.includes('"promoted"'))).to.equal(true);
    expect(decisions.some((line) => line.includes('"stopped"'))).to.equal(true);
    // One submission per segment (a suggestion's first rung, or a promotion), each with --stop-at-step unless it runs to the end.
    const jobs = JSON.parse(readFileSync(path.join(tmp, 'slurm', 'slurm-adaptive', 'slurm', 'jobs.json'), 'utf8')) as SlurmJobRecord[];
    const segments = decisions.filter((line) => line.includes('"suggested"') || line.includes('"promoted"')).length;
    expect(jobs).to.have.length(segments);
    const script = readFileSync(jobs[0]!.script, 'utf8');
    expect(script).to.include('--stop-at-step 200');
    expect(slurm.output).to.match(/stopped early by asha/);
  });
});
