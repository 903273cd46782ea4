/**
 * A lock file in the sweep folder, so two sweeps never write the same trials at
 * once. It holds the owner's pid and host; a lock whose process is gone (on this
 * host) is stale and taken over, with a message saying so.
 */
import { promises as fs, unlinkSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describeFsError, readTextIfExists } from '../util/files.js';

export const LOCK_FILE = 'sweep.lock';

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

export class SweepLockedError extends Error {
  override name = 'SweepLockedError';
  constructor(
    message: string,
    readonly holder: LockInfo | undefined,
  ) {
    super(message);
  }
}

export interface SweepLock {
  readonly file: string;
  /** Set when a stale lock was taken over: what to tell the user. */
  readonly tookOver?: string;
  release(): Promise<void>;
}

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file's text (compared before it is removed: only an unchanged one is) and its holder, if it names one. */
async function readLock(file: string): Promise<{ text: string; info: LockInfo | undefined } | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    const info = JSON.parse(text) as LockInfo;
    return { text, info: typeof info?.pid === 'number' ? info : undefined };
  } catch {
    return { text, info: undefined };
  }
}

/** The error for a lock held by a sweep that may still run (alive on this host, or on another host); undefined when it is stale. */
function liveHolderError(sweepDir: string, file: string, holder: LockInfo | undefined): SweepLockedError | undefined {
  if (holder && holder.hostname === hostname() && processAlive(holder.pid)) {
    return new SweepLockedError(
      `another sweep is writing ${sweepDir}: pid ${holder.pid}, started ${holder.startedAt} (${holder.command}). ` +
        `Wait for it to finish or stop it (Ctrl-C) first; if that process is not a sweep, delete ${file}.`,
      holder,
    );
  }
  if (holder && holder.hostname !== hostname()) {
    return new SweepLockedError(
      `${sweepDir} is locked by a sweep on host ${holder.hostname} (pid ${holder.pid}, started ${holder.startedAt}); ` + `if it is no longer running, delete ${file}.`,
      holder,
    );
  }
  return undefined;
}

/** Refuses, as acquireLock would, while another live sweep holds the lock of `sweepDir`; takes nothing, so a command can refuse before its slow preparations. */
export async function refuseIfLocked(sweepDir: string): Promise<void> {
  const file = path.join(sweepDir, LOCK_FILE);
  const held = await readLock(file);
  const live = held && liveHolderError(sweepDir, file, held.info);
  if (live) throw live;
}

/**
 * Takes the lock of `sweepDir` (which must exist) or throws SweepLockedError
 * naming the sweep that holds it.
 */
export async function acquireLock(sweepDir: string, command = process.argv.slice(1).join(' ')): Promise<SweepLock> {
  const file = path.join(sweepDir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), command };
  const text = `${JSON.stringify(mine, null, 2)}\n`;
  let tookOver: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, text, { flag: 'wx' });
      const release = async (): Promise<void> => {
        process.off('exit', releaseSync);
        const current = await readLock(file).catch(() => undefined);
        if (current?.text === text) await fs.rm(file, { force: true });
      };
      // Also on a hard exit (process.exit from a second Ctrl-C).
      const releaseSync = (): void => {
        try {
          if (readFileSync(file, 'utf8') === text) unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
      process.on('exit', releaseSync);
      return tookOver === undefined ? { file, release } : { file, release, tookOver };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        // 'wx' created the file before the write failed: it is ours, and empty or cut.
        await fs.rm(file, { force: true });
        throw new Error(`cannot write the lock file ${file} (${describeFsError(error)}); free some space (or pass --logdir on another disk) and run the sweep again`);
      }
      if (code !== 'EEXIST') throw error;
    }
    const held = await readLock(file);
    if (!held) continue; // released meanwhile
    const holder = held.info;
    if (holder && holder.pid === process.pid && holder.hostname === hostname()) {
      throw new SweepLockedError(`${file} is already held by this process`, holder);
    }
    const live = liveHolderError(sweepDir, file, holder);
    if (live) throw live;
    // Stale: the owner is gone (or the file is unreadable). Remove it only if unchanged since read.
    const again = await readLock(file);
    if (again?.text === held.text) await fs.rm(file, { force: true });
    tookOver = holder ? `taking over a stale lock ${file}: its sweep (pid ${holder.pid}, started ${holder.startedAt}) is no longer running` : `taking over an unreadable lock ${file}`;
  }
  throw new SweepLockedError(`could not take the lock ${file}; another sweep keeps taking it`, undefined);
}
