import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

/**
 * Writes a file through a temporary name beside it and a rename, so a reader never sees
 * half a file. On any failure (a full disk, a folder removed under it) the temporary file
 * is removed and the error names `file` (its code is kept: ENOSPC, EACCES, ...). The
 * temporary name carries the pid and a random tag, so writers of one file never share one.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  const temporary = `${file}${TEMPORARY_FILE_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await ensureDir(path.dirname(path.resolve(file)));
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => {});
    const full = ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException).code ?? '');
    if (!(options.inPlaceWhenFull && full && (await overwriteInPlace(file, data)))) throw fileWriteError(file, error);
  }
}

export interface AtomicWriteOptions {
  /**
   * On a full disk (ENOSPC, EDQUOT), rewrite an existing `file` in place instead: its blocks
   * are reused, so a small file (a trial's status) can still record how something ended.
   * Not atomic: a crash in the middle leaves a cut file, which readers report as damaged.
   */
  inPlaceWhenFull?: boolean;
}

/** Overwrites an existing file from its start and cuts it to the new length; false when that failed too. */
async function overwriteInPlace(file: string, data: Uint8Array | string): Promise<boolean> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    const handle = await fs.open(file, 'r+');
    try {
      await handle.write(bytes, 0, bytes.length, 0);
      await handle.truncate(bytes.length);
    } finally {
      await handle.close();
    }
    return true;
  } catch {
    return false;
  }
}

/** JSON (two-space indented, one trailing newline) written by writeFileAtomic. */
export async function writeJsonAtomic(file: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** A time as it goes into a file name, to the second and in UTC: 20261202T163005Z. */
export function fileNameStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** What temporary files of writeFileAtomic have in their names (`<file>.tmp-<pid>-<tag>`). */
export const TEMPORARY_FILE_MARK = '.tmp-';

/** "cannot write <file> (ENOSPC, no space left on device)", keeping the cause's code. */
function fileWriteError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return Object.assign(new Error(`cannot write ${file} (${describeFsError(error)})`, { cause: error }), code ? { code } : {});
}

const REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file stands where a folder should be',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'cannot create folders there',
};

/** "ENOSPC, no space left on device" for an fs error; the code alone when it has no gloss. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (!code) return (error as Error).message;
  return REASONS[code] ? `${code}, ${REASONS[code]}` : code;
}

/**
 * mkdir -p, one level at a time. Node's recursive mkdir never returns on some
 * pseudo-filesystems (/proc) and reports ENOENT where the cause is EROFS; creating
 * each level ourselves gives the real error at once.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    const stat = await fs.stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (stat) {
      if (!stat.isDirectory()) throw Object.assign(new Error(`${current} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing) {
    await fs.mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

/** A file's text; undefined when it does not exist (other errors are thrown as they are: EACCES, EISDIR, ...). */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Told what is wrong with a file that is read as missing (e.g. "runs/a/status.json is not valid JSON (...)"). */
export type Warn = (message: string) => void;
export const warnOnStderr: Warn = (message) => console.error(`warning: ${message}`);
const ignoringIt: Warn = (problem) => warnOnStderr(`${problem}; ignoring it`);

/**
 * A JSON file's value; undefined when it is missing or damaged. `damaged` is told "<file> is
 * not valid JSON (<the parser's words>)" (default: a warning on stderr, "...; ignoring it"); a
 * caller that must not go on throws its own error from it. Read errors other than a missing
 * file are thrown as they are.
 */
export async function readJson<T>(file: string, damaged: Warn = ignoringIt): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    damaged(`${file} is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * A text file's contents, refusing bytes that are not UTF-8 (Node would quietly turn
 * them into U+FFFD and the error would surface later, far from its cause).
 */
export async function readUtf8File(file: string): Promise<string> {
  const bytes = await fs.readFile(file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const line = bytes.subarray(0, offset).toString('latin1').split('\n').length;
    throw Object.assign(new Error(`${file} is not UTF-8 text (invalid byte 0x${bytes[offset]?.toString(16).padStart(2, '0')} on line ${line}, byte offset ${offset}); save it as UTF-8`), {
      code: 'EILSEQ',
    });
  }
}

/** Where the first byte that cannot start or continue a UTF-8 sequence is. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    const continuation = lead < 0x80 ? 0 : lead >= 0xc2 && lead <= 0xdf ? 1 : (lead & 0xf0) === 0xe0 ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1;
    if (continuation < 0) return i;
    for (let k = 1; k <= continuation; k++) {
      if (i + k >= bytes.length || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    }
    i += continuation + 1;
  }
  return bytes.length;
}

async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems cannot fsync a directory; the rename is atomic all the same.
  } finally {
    await handle.close();
  }
}

/** The prefix of the temporary folders writeFolderAtomic leaves only if killed mid-write. */
export const TEMPORARY_PREFIX = '.tmp-';

/**
 * Write a folder of files so that it appears whole or not at all: the files go into a
 * temporary sibling (fsynced), which is then renamed into place, replacing any folder
 * of that name. On an error nothing half-written is left behind.
 */
export async function writeFolderAtomic(dir: string, files: ReadonlyArray<readonly [string, string | Uint8Array]>): Promise<void> {
  const parent = path.dirname(dir);
  await ensureDir(parent);
  const temporary = path.join(parent, `${TEMPORARY_PREFIX}${path.basename(dir)}-${process.pid}`);
  await fs.rm(temporary, { recursive: true, force: true });
  try {
    await fs.mkdir(temporary);
    for (const [name, data] of files) await writeFileSynced(path.join(temporary, name), data);
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  const previous = path.join(parent, `.old-${path.basename(dir)}-${process.pid}`);
  const replacing = await fs.rename(dir, previous).then(
    () => true,
    () => false,
  );
  await fs.rename(temporary, dir);
  await syncDirectory(parent);
  if (replacing) await fs.rm(previous, { recursive: true, force: true });
}

/**
 * The writer's pid in the name of a temporary file or folder our atomic writers make —
 * `<file>.tmp-<pid>[-<random>]` (writeFileAtomic, writeJsonAtomic) and `.tmp-<name>-<pid>`,
 * `.old-<name>-<pid>` (writeFolderAtomic) — or undefined for any other name, so a clean-up
 * only ever removes what these writers left.
 */
export function temporaryWriterPid(name: string): number | undefined {
  const match = /^\.(?:tmp|old)-.+-(\d+)$/.exec(name) ?? /\.tmp-(\d+)(?:-[a-z0-9]+)?$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The nearest of `target` and its parents that exists as a file (not a folder), if any. */
export async function fileInTheWay(target: string): Promise<string | undefined> {
  for (let current = path.resolve(target); ; current = path.dirname(current)) {
    const stat = await fs.stat(current).catch(() => undefined);
    if (stat) return stat.isDirectory() ? undefined : current;
    if (path.dirname(current) === current) return undefined;
  }
}

/**
 * A file-system error as a user can act on it: what was expected at which path, and how
 * to fix it (for the errors a command did not foresee; foreseen ones get their own words).
 */
export async function explainFsError(error: NodeJS.ErrnoException): Promise<string> {
  const where = error.path;
  if (where === undefined) return error.message;
  switch (error.code) {
    case 'ENOTDIR': {
      const file = await fileInTheWay(where);
      return `${file ?? where} is a file where a folder was expected${file && file !== path.resolve(where) ? ` (to reach ${where})` : ''}; give the path of a folder, or move the file away`;
    }
    case 'EISDIR':
      return `${where} is a folder where a file was expected; give the path of a file`;
    case 'ENOENT':
      return `${where} does not exist; check the path`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `cannot access ${where} (${describeFsError(error)}); check its permissions, or use another folder (--logdir)`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `cannot write ${where} (${describeFsError(error)}); free some space (or use --logdir on another disk) and run the command again`;
    default:
      return error.message.includes(where) ? error.message : `${error.message} (${where})`;
  }
}

/** Whether `error` is one of Node's file-system errors (it has a code and a path). */
export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).path === 'string';
}
