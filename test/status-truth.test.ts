/**
 * Status that tells the truth: liveness from pids and heartbeats, `sweep status` of trials
 * whose processes are gone, and atomic writes that leave no temporary file when they fail.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expandSweep } from '../src/sweep/expand.js';
import type { RunningTrial, TrialExecutor, TrialExit, TrialLaunch } from '../src/sweep/executor.js';
import { HEARTBEAT_STALE_MS, type LivenessProbe, trialLiveness } from '../src/sweep/liveness.js';
import { parseSweepSpec } from '../src/sweep/spec.js';
import { pendingStatus, type TrialStatus, writeManifest, writeStatus } from '../src/sweep/trial-status.js';
import { formatSweepStatus } from '../src/sweep/status-report.js';
import { collectResults, formatResults } from '../src/sweep/results.js';
import { loadReportData } from '../src/sweep/report-data.js';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { runTrial } from '../src/sweep/trial.js';
import { sweepManifest } from '../src/sweep/sweep-files.js';
import { explainFsError, isFsError, writeFileAtomic, writeJsonAtomic } from '../src/util/files.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const HOST = 'here';

function probe(alivePids: number[]): LivenessProbe {
  return { now: NOW, host: HOST, alive: (pid) => alivePids.includes(pid) };
}

function running(fields: Partial<TrialStatus>): TrialStatus {
  return {
    ...pendingStatus({ name: 't', index: 0, config: { steps: 1000 } }),
    state: 'running',
    attempt: 1,
    pid: 200,
    step: 400,
    stepsPerSecond: 100,
    host: HOST,
    supervisorPid: 100,
    heartbeatAt: new Date(NOW - 2000).toISOString(),
    ...fields,
  };
}

describe('trial liveness', () => {
  it('a trial whose sweep process and run are alive, with a fresh heartbeat, runs', () => {
    expect(trialLiveness(running({}), probe([100, 200]))).to.deep.equal({ kind: 'alive' });
  });

  it('the sweep process gone (kill -9): orphaned while its run saves a checkpoint, then gone', () => {
    expect(trialLiveness(running({}), probe([200])).kind).to.equal('orphaned');
    const gone = trialLiveness(running({}), probe([]));
    expect(gone).to.deep.equal({ kind: 'gone', detail: 'the sweep process that ran it (pid 100) is gone, and so is its run (pid 200)' });
  });

  it('a live pid with a stale heartbeat is not taken for a running trial (pid reused, or stuck)', () => {
    const stale = running({ heartbeatAt: new Date(NOW - HEARTBEAT_STALE_MS - 60_000).toISOString() });
    expect(trialLiveness(stale, probe([100, 200]))).to.deep.include({ kind: 'lost' });
  });

  it('on another host only the heartbeat tells (Slurm): fresh runs, stale is lost', () => {
    expect(trialLiveness(running({ host: 'node7' }), probe([])).kind).to.equal('alive');
    const lost = trialLiveness(running({ host: 'node7', heartbeatAt: new Date(NOW - 5 * 60_000).toISOString() }), probe([100, 200]));
    expect(lost).to.deep.equal({ kind: 'lost', detail: 'no heartbeat for 5m from host node7; its process or node is most likely gone' });
  });

  it("a status from before heartbeats falls back to the run's pid", () => {
    const old = running({});
    delete old.supervisorPid;
    delete old.heartbeatAt;
    expect(trialLiveness(old, probe([200])).kind).to.equal('alive');
    expect(trialLiveness(old, probe([])).kind).to.equal('gone');
  });

  it('only a running status is judged', () => {
    expect(trialLiveness({ ...running({}), state: 'done' }, probe([])).kind).to.equal('alive');
  });
});

describe('sweep status from liveness', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-truth-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows dead trials as gone or lost, without speed or ETA, and how to resume', async () => {
    const spec = parseSweepSpec('name: s\nseeds: [0, 1, 2]\nparameters:\n  env: { value: CartPole-v1 }\n  steps: { value: 1000 }\n', 's.yaml');
    const sweepDir = path.join(dir, 's');
    const trials = expandSweep(spec, { sweepDir });
    await writeManifest(sweepDir, sweepManifest(spec, trials));
    const statuses = [running({}), running({ supervisorPid: 101, pid: 201 }), running({ host: 'node7', heartbeatAt: new Date(NOW - 600_000).toISOString() })];
    for (const [i, trial] of trials.entries()) {
      mkdirSync(path.join(sweepDir, trial.name), { recursive: true });
      // The trial's config lets the ETA come from the calibrated cost model.
      writeFileSync(path.join(sweepDir, trial.name, 'trial.json'), JSON.stringify(trial.config));
      await writeStatus(path.join(sweepDir, trial.name), { ...statuses[i]!, trial: trial.name, index: i });
    }
    const text = await formatSweepStatus(sweepDir, undefined, { probe: probe([100, 200]) });
    const rows = text.split('\n');
    expect(rows[0]).to.equal(`Sweep s (${sweepDir}): 3 trials — running 1, gone 1, lost 1`);
    expect(rows.find((row) => row.includes('seed=0'))).to.match(/^running\s+seed=0\s+400\/1000\s+-\s+100\s+(\d+[hms])+\s*$/);
    expect(rows.find((row) => row.includes('seed=1'))).to.match(
      /^gone\s+seed=1\s+400\/1000\s+-\s+-\s+-\s+no longer running: the sweep process that ran it \(pid 101\) is gone, and so is its run \(pid 201\)$/,
    );
    expect(rows.find((row) => row.includes('seed=2'))).to.match(/^lost\s+seed=2\s+400\/1000\s+-\s+-\s+-\s+no longer running: no heartbeat for 10m from host node7/);
    expect(text).to.include(`2 trials no longer running without having recorded an end (the sweep was killed, or its node lost); resume the sweep with: sweep run s.yaml --logdir ${dir}`);
  });

  it('results and the report show a killed trial as gone, not running', async () => {
    const spec = parseSweepSpec('name: k\nseeds: [0]\nparameters:\n  env: { value: CartPole-v1 }\n  steps: { value: 1000 }\n', 'k.yaml');
    const sweepDir = path.join(dir, 'k');
    const [trial] = expandSweep(spec, { sweepDir });
    await writeManifest(sweepDir, sweepManifest(spec, [trial!]));
    // Pids of processes that have ended, on this host: what a kill -9 of the sweep leaves behind.
    const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;
    mkdirSync(path.join(sweepDir, trial!.name), { recursive: true });
    await writeStatus(path.join(sweepDir, trial!.name), { ...running({ host: hostname(), supervisorPid: deadPid(), pid: deadPid() }), trial: trial!.name, heartbeatAt: new Date().toISOString() });
    const results = await collectResults(sweepDir);
    expect(results.trials[0]!.state).to.equal('gone');
    expect(formatResults(results, { unfinished: true })).to.match(/gone\s+seed=0: no longer running \(the sweep process that ran it \(pid \d+\) is gone, and so is its run/);
    const report = await loadReportData(sweepDir, () => {});
    expect(report.trials[0]!.state).to.equal('gone');
  });
});

describe("a running trial's heartbeat", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-beat-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("status.json names the process that runs the trial and carries a heartbeat while it runs; once it ended, none, and the run's cause from IPC", async () => {
    const spec = parseSweepSpec('name: s\nparameters:\n  env: { value: CartPole-v1 }\n  steps: { value: 10 }\n', 's.yaml');
    const [trial] = expandSweep(spec, { sweepDir: dir });
    const trialDir = path.join(dir, trial!.name);
    mkdirSync(trialDir, { recursive: true });
    let seenWhileRunning: TrialStatus | undefined;
    let finish!: (exit: TrialExit) => void;
    let launch: TrialLaunch | undefined;
    const executor: TrialExecutor = {
      description: 'one fake run',
      start: (started: TrialLaunch): RunningTrial => {
        launch = started;
        const exited = new Promise<TrialExit>((resolve) => {
          finish = resolve;
        });
        started.onMessage({ type: 'started', runDir: started.dir, totalSteps: 10, engine: 'fake' });
        return { id: '4242', exited, stop: () => {}, kill: () => {} };
      },
    };
    const ended = runTrial({
      trial: trial!,
      dir: trialDir,
      executor,
      retries: 0,
      previous: undefined,
      restart: false,
      control: { stopping: false, killing: false, running: () => {} },
      callbacks: {
        log: () => {},
        progress: () => {},
        ended: () => {},
        started: () => {
          // The first status of the attempt is on its way; read it once written, then end the run (it failed).
          void (async () => {
            for (let i = 0; i < 200 && !seenWhileRunning?.heartbeatAt; i++) {
              await new Promise((resolve) => setTimeout(resolve, 10));
              if (existsSync(path.join(trialDir, 'status.json'))) seenWhileRunning = JSON.parse(readFileSync(path.join(trialDir, 'status.json'), 'utf8')) as TrialStatus;
            }
            // The run's cause comes over IPC: its stderr is on the same full disk.
            launch!.onMessage({ type: 'failed', step: null, reason: 'cannot write runs/x/config.json (ENOSPC, no space left on device)' });
            finish({ exitCode: 1, signal: null });
          })();
        },
      },
    });
    const { status } = await ended;
    expect(seenWhileRunning).to.deep.include({ state: 'running', pid: 4242, supervisorPid: process.pid });
    expect(Date.parse(seenWhileRunning!.heartbeatAt!)).to.be.a('number').and.not.NaN;
    expect(status).to.deep.include({ state: 'failed', cause: 'exit code 1: cannot write runs/x/config.json (ENOSPC, no space left on device)' });
    const final = JSON.parse(readFileSync(path.join(trialDir, 'status.json'), 'utf8')) as TrialStatus;
    expect(final.state).to.equal('failed');
    expect(final).not.to.have.property('heartbeatAt');
  });
});

describe('atomic writes that fail', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leave no temporary file and name the file they could not write', async () => {
    // A folder with something in it stands where the file should go: the rename fails.
    const target = path.join(dir, 'status.json');
    mkdirSync(target);
    writeFileSync(path.join(target, 'keep'), 'x');
    for (const write of [() => writeFileAtomic(target, 'data'), () => writeJsonAtomic(target, { a: 1 })]) {
      let message = '';
      await write().catch((error: Error) => {
        message = error.message;
      });
      expect(message).to.match(new RegExp(`^cannot write ${target} \\((EISDIR|ENOTEMPTY|EEXIST)`));
      expect(readdirSync(dir)).to.deep.equal(['status.json']);
    }
  });

  it('name the file in the way when its folder cannot be made', async () => {
    writeFileSync(path.join(dir, 'a-file'), 'x');
    const target = path.join(dir, 'a-file', 'results.json');
    let message = '';
    await writeJsonAtomic(target, {}).catch((error: Error) => {
      message = error.message;
    });
    expect(message).to.equal(`cannot write ${target} (ENOTDIR, a file stands where a folder should be)`);
    expect(readdirSync(dir)).to.deep.equal(['a-file']);
  });
});

describe('file-system errors nothing foresaw', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-fserr-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('say what was expected at which path, and how to fix it', async () => {
    writeFileSync(path.join(dir, 'sweep.yaml'), 'name: x\n');
    const through = path.join(dir, 'sweep.yaml', 'slurm', 'jobs.json');
    const notDir = await readFile(through).catch((error: NodeJS.ErrnoException) => error);
    expect(isFsError(notDir)).to.equal(true);
    expect(await explainFsError(notDir as NodeJS.ErrnoException)).to.equal(
      `${path.join(dir, 'sweep.yaml')} is a file where a folder was expected (to reach ${through}); give the path of a folder, or move the file away`,
    );
    const isDir = await writeFile(dir, 'x').catch((error: NodeJS.ErrnoException) => error);
    expect(await explainFsError(isDir as NodeJS.ErrnoException)).to.equal(`${dir} is a folder where a file was expected; give the path of a file`);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: path.join(dir, 'results.json') });
    expect(await explainFsError(full)).to.equal(
      `cannot write ${path.join(dir, 'results.json')} (ENOSPC, no space left on device); free some space (or use --logdir on another disk) and run the command again`,
    );
  });
});
