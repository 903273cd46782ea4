import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryOutput } from '../src/train/run-output.js';
import { runCli } from '../src/cli/run.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { loadSnapshot } from '../src/train/snapshot.js';
import { skipBecause } from './skip.js';
import { readRun } from '../src/tensorboard/index.js';
import { writeJsonAtomic } from '../src/util/files.js';

async function cli(...args: string[]): Promise<{ code: number; text: string }> {
  const output = memoryOutput();
  const code = await runCli(args, output);
  return { code, text: output.lines.join('\n') };
}

const SHORT = ['--env', 'CartPole-v1', '--steps', '3000', '--train-start', '200', '--eval-every', '1000', '--eval-episodes', '1', '--q-validation-size', '100', '--log-every', '250', '--no-eval-gif'];

/** Every file and folder under `dir`, relative, for "left as it was" checks. */
function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('unwritable or full runs/ folder', function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-disk-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("a logdir under /proc (where Node's recursive mkdir never returns) is a clear error at start", async () => {
    const result = await cli(...SHORT, '--logdir', '/proc/rlsweep-test', '--name', 'a');
    expect(result.code).to.equal(1);
    expect(result.text).to.match(/cannot write the run folder \/proc\/rlsweep-test\/a \(ENOENT/);
  });

  it('a logdir that is a file is a clear error at start, writing nothing', async () => {
    const file = path.join(tmp, 'not-a-folder');
    writeFileSync(file, 'x');
    const result = await cli(...SHORT, '--logdir', file, '--name', 'a');
    expect(result.code).to.equal(1);
    expect(result.text).to.contain(`cannot write the run folder ${path.join(file, 'a')} (ENOTDIR, a file stands where a folder should be)`);
    expect(result.text).to.contain(`check that ${file} is writable or pass --logdir`);
  });

  describe('filesystems mounted for the test (tmpfs: a small one, a read-only one)', () => {
    const mountPoint = path.join(os.tmpdir(), `rlsweep-tmpfs-${process.pid}`);
    const readOnly = path.join(os.tmpdir(), `rlsweep-rofs-${process.pid}`);
    const mounted: string[] = [];
    before(function () {
      try {
        for (const [dir, options] of [
          [mountPoint, 'size=160k'],
          [readOnly, 'ro,size=16k'],
        ] as const) {
          mkdirSync(dir, { recursive: true });
          execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
          mounted.push(dir);
        }
      } catch (error) {
        skipBecause(this, `cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}); needs root`);
      }
    });
    after(() => {
      for (const dir of mounted) execFileSync('umount', [dir]);
      for (const dir of [mountPoint, readOnly]) rmSync(dir, { recursive: true, force: true });
    });

    it('a logdir on a read-only filesystem is a clear error at start', async () => {
      const result = await cli(...SHORT, '--logdir', readOnly, '--name', 'a');
      expect(result.code).to.equal(1);
      expect(result.text).to.contain(`cannot write the run folder ${path.join(readOnly, 'a')} (EROFS, read-only file system)`);
      expect(listTree(readOnly)).to.deep.equal([]);
    });

    it('stops with an error naming the file, leaves no half-written file, and keeps what was complete', async () => {
      const result = await cli(...SHORT, '--buffer-size', '3000', '--checkpoint-every', '500', '--snapshot-every', '500', '--logdir', mountPoint, '--name', 'full');
      expect(result.code).to.equal(1);
      expect(result.text).to.match(new RegExp(`error: cannot write (the checkpoint|the snapshot)? ?${mountPoint}/full/\\S+.*ENOSPC`));
      const runDir = path.join(mountPoint, 'full');
      const tree = listTree(runDir);
      expect(
        tree.filter((name) => name.includes('.tmp-')),
        'temporary files left',
      ).to.deep.equal([]);
      // Whatever snapshots and checkpoints exist are whole.
      for (const name of tree.filter((n) => /^snapshots\/step-\d+$/.test(n))) await loadSnapshot(path.join(runDir, name));
      for (const name of tree.filter((n) => /^checkpoints\/step-\d+$/.test(n))) await readCheckpoint(path.join(runDir, name));
      // The event file still reads (at most its last record is cut off).
      const data = readRun(runDir);
      expect(data.scalars['train/episode_return']!.length).to.be.greaterThan(0);
      await fs.rm(runDir, { recursive: true });
    });

    it('on a full disk an atomic write fails naming the file and leaves no temporary file; a status can still be recorded in place', async () => {
      const dir = path.join(mountPoint, 'in-place');
      mkdirSync(dir);
      const status = path.join(dir, 'status.json');
      await writeJsonAtomic(status, { state: 'running', step: 1 });
      // Fill the disk to the last byte.
      const filler = await fs.open(path.join(mountPoint, 'filler'), 'w');
      try {
        for (;;) await filler.write(Buffer.alloc(4096));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC');
      } finally {
        await filler.close();
      }
      const ended = { state: 'failed', step: 1, cause: 'exit code 1: cannot write the checkpoint: ENOSPC' };
      let message = '';
      await writeJsonAtomic(status, ended).catch((error: Error) => {
        message = error.message;
      });
      expect(message).to.equal(`cannot write ${status} (ENOSPC, no space left on device)`);
      expect(readdirSync(dir)).to.deep.equal(['status.json']);
      await writeJsonAtomic(status, ended, { inPlaceWhenFull: true });
      expect(JSON.parse(readFileSync(status, 'utf8'))).to.deep.equal(ended);
      expect(readdirSync(dir)).to.deep.equal(['status.json']);
      await fs.rm(dir, { recursive: true });
      await fs.rm(path.join(mountPoint, 'filler'));
    });

    it('a sweep on a disk that fills: the trial fails with ENOSPC and the file, the sweep says so in one line, no temporary file is left', async () => {
      const file = path.join(tmp, 'full.yaml');
      writeFileSync(
        file,
        [
          'name: full',
          'seeds: [0]',
          'parameters:',
          '  env: { value: CartPole-v1 }',
          '  steps: { value: 3000 }',
          '  trainStart: { value: 200 }',
          '  bufferSize: { value: 3000 }',
          '  qValidationSize: { value: 100 }',
          '  evalEvery: { value: 1000 }',
          '  evalEpisodes: { value: 1 }',
          '  logEvery: { value: 250 }',
          '  checkpointEvery: { value: 500 }',
          '  snapshotEvery: { value: 500 }',
          '  evalGif: { value: false }',
          '',
        ].join('\n'),
      );
      const sweep = spawnSync(process.execPath, ['--import', 'tsx', path.join('src', 'cli', 'sweep.ts'), 'run', file, '--logdir', mountPoint, '--progress-every', '0'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const output = sweep.stdout + sweep.stderr;
      expect(sweep.status, output).to.equal(1);
      const trialDir = path.join(mountPoint, 'full', 'seed=0');
      expect(output).to.match(new RegExp(`FAILED seed=0: exit code 1: cannot write .*${trialDir}/\\S+.*ENOSPC`));
      expect(output).to.contain(`The disk is full: 1 trial failed for lack of space (ENOSPC) under ${path.join(mountPoint, 'full')}; free some space`);
      expect(output).not.to.contain('no error message');
      const status = JSON.parse(readFileSync(path.join(trialDir, 'status.json'), 'utf8')) as { state: string; cause: string };
      expect(status.state).to.equal('failed');
      expect(status.cause).to.match(new RegExp(`cannot write .*${trialDir}/\\S+.*ENOSPC`));
      expect(
        listTree(mountPoint).filter((name) => name.includes('.tmp-')),
        'temporary files left',
      ).to.deep.equal([]);
      // What the sweep wrote at its root is whole, or absent.
      for (const name of ['sweep.json', 'results.json']) {
        const json = path.join(mountPoint, 'full', name);
        if (existsSync(json)) JSON.parse(readFileSync(json, 'utf8'));
      }
      await fs.rm(path.join(mountPoint, 'full'), { recursive: true });
    });
  });
});
