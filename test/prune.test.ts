/**
 * `sweep prune` on real sweep folders: one real sweep is run once (its trials keep both
 * checkpoints, as sweeps did before keepCheckpoints existed), then each test prunes a copy.
 */
import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { applyPrune, planPrune } from '../src/sweep/prune.js';
import type { TrialStatus } from '../src/sweep/trial-status.js';
import { CHECKPOINTS_DIR, readCheckpoint } from '../src/train/checkpoint.js';
import { temporaryWriterPid } from '../src/util/files.js';
import { fingerprint, sweepCommand as sweep } from './helpers/cli-harness.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'rlsweep-prune-'));
/** Above Linux's largest pid (2^22): never a live process. */
const DEAD_PID = 4_194_399;
const TRIALS = ['learningRate=0.001,seed=0', 'learningRate=0.002,seed=0'];

const checkpoints = (trialDir: string): string[] | undefined => (existsSync(path.join(trialDir, CHECKPOINTS_DIR)) ? readdirSync(path.join(trialDir, CHECKPOINTS_DIR)).sort() : undefined);

/** A file or folder as a cut-short write leaves it, last touched `ageMs` ago. */
function leftover(file: string, ageMs = 120_000, folder = false): string {
  if (folder) {
    mkdirSync(file, { recursive: true });
    writeFileSync(path.join(file, 'data.bin'), 'half');
  } else {
    writeFileSync(file, '{"half": ');
  }
  const when = new Date(Date.now() - ageMs);
  if (folder) utimesSync(path.join(file, 'data.bin'), when, when);
  utimesSync(file, when, when);
  return file;
}

function setStatus(trialDir: string, change: Partial<TrialStatus>): void {
  const file = path.join(trialDir, 'status.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }));
}

/** Makes a trial look like one run before keepCheckpoints existed. */
function asOldTrial(trialDir: string): void {
  for (const name of ['trial.json', 'config.json']) {
    const file = path.join(trialDir, name);
    const { keepCheckpoints: _dropped, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(rest));
  }
}

describe('sweep prune', function () {
  this.timeout(120_000);
  const original = path.join(tmp, 'runs', 'prune');
  let copies = 0;
  /** A fresh copy of the finished sweep. */
  const copy = (): string => {
    const dir = path.join(tmp, `copy-${++copies}`, 'prune');
    cpSync(original, dir, { recursive: true });
    return dir;
  };

  /** A sweep file of short CartPole trials that checkpoint every 300 of their 1200 steps. */
  const sweepFile = (name: string, learningRates: string, keep: string): string => {
    const file = path.join(tmp, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        'method: grid',
        'seeds: [0]',
        'concurrency: 2',
        'parameters:',
        '  env: { value: CartPole-v1 }',
        '  steps: { value: 1200 }',
        `  learningRate: { values: [${learningRates}] }`,
        '  trainStart: { value: 200 }',
        '  bufferSize: { value: 2000 }',
        '  qValidationSize: { value: 100 }',
        '  evalEvery: { value: 0 }',
        '  evalEpisodes: { value: 1 }',
        '  evalGif: { value: false }',
        '  logEvery: { value: 300 }',
        '  snapshotEvery: { value: 0 }',
        '  checkpointEvery: { value: 300 }',
        keep,
        '',
      ].join('\n'),
    );
    return file;
  };

  before(async () => {
    const file = sweepFile('prune', '0.001, 0.002', '  keepCheckpoints: { value: all }');
    const run = await sweep('run', file, '--logdir', path.join(tmp, 'runs'), '--progress-every', '0');
    expect(run.code, run.text).to.equal(0);
    for (const trial of TRIALS) expect(checkpoints(path.join(original, trial))).to.deep.equal(['step-600', 'step-900']);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a trial that finishes keeps only its newest checkpoint by default, leaving prune nothing to do', async () => {
    const run = await sweep('run', sweepFile('fresh', '0.001', ''), '--logdir', path.join(tmp, 'runs'), '--progress-every', '0');
    expect(run.code, run.text).to.equal(0);
    const sweepDir = path.join(tmp, 'runs', 'fresh');
    expect(checkpoints(path.join(sweepDir, 'seed=0')), 'a single learning rate is not swept: the trial is seed=0').to.deep.equal(['step-900']);
    const pruned = await sweep('prune', sweepDir, '--dry-run');
    expect(pruned.text).to.include('nothing to remove');
  });

  it('on an old sweep: --dry-run lists the older checkpoints with their size and removes nothing; prune removes them', async () => {
    const dir = copy();
    for (const trial of TRIALS) asOldTrial(path.join(dir, trial));
    const before = fingerprint(dir);
    const dry = await sweep('prune', dir, '--dry-run');
    expect(dry.code, dry.text).to.equal(0);
    expect(fingerprint(dir), 'a dry run changed the folder').to.equal(before);
    for (const trial of TRIALS) expect(dry.text).to.match(new RegExp(`${path.join(dir, trial, CHECKPOINTS_DIR, 'step-600').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  \\d+\\.\\d MB`));
    expect(dry.text).to.match(/2 trials: 2 done/);
    expect(dry.text).to.match(/checkpoints of done \(or stopped\) trials beyond what keepCheckpoints keeps: 2, \d+\.\d MB/);
    expect(dry.text).to.match(/would free \d+\.\d MB; run without --dry-run/);

    const pruned = await sweep('prune', dir);
    expect(pruned.code, pruned.text).to.equal(0);
    expect(pruned.text).to.match(/removed 2, freeing \d+\.\d MB/);
    for (const trial of TRIALS) {
      const trialDir = path.join(dir, trial);
      expect(checkpoints(trialDir)).to.deep.equal(['step-900']);
      expect((await readCheckpoint(path.join(trialDir, CHECKPOINTS_DIR, 'step-900'))).step).to.equal(900);
      // What the results and TensorBoard need stays.
      for (const name of ['status.json', 'trial.json', 'config.json', 'stdout.log', 'stderr.log']) expect(existsSync(path.join(trialDir, name)), name).to.equal(true);
      expect(readdirSync(path.join(trialDir, 'snapshots'))).to.deep.equal(['step-1200']);
      expect(readdirSync(trialDir).some((name) => name.includes('tfevents'))).to.equal(true);
    }
    const again = await sweep('prune', dir);
    expect(again.text).to.include('nothing removed');
  });

  it("follows each done trial's own keepCheckpoints, unless --keep-checkpoints says otherwise; interrupted trials keep theirs", async () => {
    const dir = copy();
    const [done, stopped] = TRIALS.map((trial) => path.join(dir, trial)) as [string, string];
    setStatus(stopped, { state: 'interrupted' });
    const own = await sweep('prune', dir);
    expect(own.text, 'keepCheckpoints all').to.include('nothing removed');
    const none = await sweep('prune', dir, '--keep-checkpoints', 'none');
    expect(none.code, none.text).to.equal(0);
    expect(checkpoints(done)).to.equal(undefined);
    expect(checkpoints(stopped), 'an interrupted trial resumes from them').to.deep.equal(['step-600', 'step-900']);
  });

  it("a paused trial (waiting at a rung) keeps every checkpoint; one the sweep's scheduler stopped is pruned like a done one", async () => {
    const dir = copy();
    const [stoppedAtRung, paused] = TRIALS.map((trial) => path.join(dir, trial)) as [string, string];
    setStatus(stoppedAtRung, { state: 'stopped', rungStep: 900, stoppedBy: 'asha' });
    setStatus(paused, { state: 'paused', rungStep: 900 });
    const pruned = await sweep('prune', dir, '--keep-checkpoints', 'none');
    expect(pruned.code, pruned.text).to.equal(0);
    expect(checkpoints(stoppedAtRung)).to.equal(undefined);
    expect(checkpoints(paused), 'a promotion resumes from them').to.deep.equal(['step-600', 'step-900']);
    expect(pruned.text).to.include(`left alone: ${TRIALS[1]}: its checkpoints stay: it is paused at step 900, and resumes from there if promoted`);
    expect(pruned.text).to.match(/2 trials: 1 stopped, 1 paused/);
  });

  it('removes leftovers of cut-short writes whose writer is gone, and only those', async () => {
    const dir = copy();
    const trialDir = path.join(dir, TRIALS[0]!);
    const gone = [
      leftover(path.join(trialDir, `status.json.tmp-${DEAD_PID}-a1b2c3`)),
      leftover(path.join(trialDir, CHECKPOINTS_DIR, `.tmp-step-1200-${DEAD_PID}`), 120_000, true),
      leftover(path.join(trialDir, 'snapshots', `.old-step-1200-${DEAD_PID}`), 120_000, true),
      leftover(path.join(dir, `results.csv.tmp-${DEAD_PID}`)),
    ];
    const stay = [
      leftover(path.join(trialDir, `trial.json.tmp-${process.pid}-d4e5f6`)), // its writer is alive
      leftover(path.join(dir, `results.json.tmp-${DEAD_PID}-g7h8i9`), 0), // just written: maybe from another host
      leftover(path.join(trialDir, 'notes.tmp-draft')), // not a name our writers make
    ];
    const result = await sweep('prune', dir);
    expect(result.code, result.text).to.equal(0);
    expect(result.text).to.match(/leftovers of cut-short writes: 4, \d+\.\d MB/);
    for (const file of gone) expect(existsSync(file), file).to.equal(false);
    for (const file of stay) expect(existsSync(file), file).to.equal(true);
    expect(checkpoints(trialDir), 'the trial keeps its checkpoints (keepCheckpoints all)').to.deep.equal(['step-600', 'step-900']);
  });

  it('never touches a trial that may be running, here or on another host', async () => {
    const dir = copy();
    for (const trial of TRIALS) asOldTrial(path.join(dir, trial));
    const [here, elsewhere] = TRIALS.map((trial) => path.join(dir, trial)) as [string, string];
    setStatus(here, { state: 'running', pid: process.pid, host: hostname() });
    setStatus(elsewhere, { state: 'running', pid: 12345, host: 'node-7' });
    leftover(path.join(here, `status.json.tmp-${DEAD_PID}-a1b2c3`));
    mkdirSync(path.join(elsewhere, 'previous-20260101T000000Z'));
    const before = [fingerprint(here), fingerprint(elsewhere)];
    const result = await sweep('prune', dir, '--aside');
    expect(result.code, result.text).to.equal(0);
    expect(result.text).to.include(`left alone: ${TRIALS[0]}: it may still be running (pid ${process.pid})`);
    expect(result.text).to.include(`left alone: ${TRIALS[1]}: it may still be running (pid 12345 on host node-7)`);
    expect([fingerprint(here), fingerprint(elsewhere)]).to.deep.equal(before);
  });

  it('checks again before removing: a trial that started after the plan is left alone', async () => {
    const dir = copy();
    for (const trial of TRIALS) asOldTrial(path.join(dir, trial));
    const plan = await planPrune(dir, { aside: false });
    expect(plan.items.map((item) => path.basename(item.path))).to.deep.equal(['step-600', 'step-600']);
    const started = path.join(dir, TRIALS[1]!);
    setStatus(started, { state: 'running', pid: process.pid, host: hostname() });
    const result = await applyPrune(plan);
    expect(result.removed.map((item) => item.trialDir)).to.deep.equal([path.join(dir, TRIALS[0]!)]);
    expect(result.notRemoved).to.have.length(1);
    expect(result.notRemoved[0]!.reason).to.include(`${TRIALS[1]} started meanwhile (pid ${process.pid})`);
    expect(checkpoints(started)).to.deep.equal(['step-600', 'step-900']);
  });

  it('keeps earlier runs moved aside unless --aside', async () => {
    const dir = copy();
    const aside = path.join(dir, TRIALS[0]!, 'previous-20260101T000000Z');
    mkdirSync(aside);
    writeFileSync(path.join(aside, 'config.json'), '{}');
    const kept = await sweep('prune', dir);
    expect(kept.text).to.match(/kept: 1 earlier run moved aside \(previous-\*, 0\.0 MB\); add --aside to remove them too/);
    expect(existsSync(aside)).to.equal(true);
    const removed = await sweep('prune', dir, '--aside');
    expect(removed.text).to.match(/earlier runs moved aside \(previous-\*\): 1, 0\.0 MB/);
    expect(existsSync(aside)).to.equal(false);
  });

  it('reads the writer pid only from the names our atomic writers make', () => {
    expect(temporaryWriterPid('status.json.tmp-123-ab12cd')).to.equal(123);
    expect(temporaryWriterPid('results.csv.tmp-77')).to.equal(77);
    expect(temporaryWriterPid('.tmp-step-2500-999')).to.equal(999);
    expect(temporaryWriterPid('.old-step-2500-42')).to.equal(42);
    for (const name of ['notes.tmp-draft', 'status.json', 'step-2500', '.tmp-', 'previous-20260101T000000Z']) expect(temporaryWriterPid(name), name).to.equal(undefined);
  });
});
