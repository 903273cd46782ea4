import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Writes a file through a temporary name and a rename, so a crash never leaves half a file. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    await fs.writeFile(temporary, data);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
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
    throw Object.assign(new Error(`${file} is not UTF-8 text (invalid byte 0x${bytes[offset]?.toString(16).padStart(2, '0')} on line ${line}, byte offset ${offset}); save it as UTF-8`), { code: 'EILSEQ' });
  }
}

/** Where the first byte that cannot start or continue a UTF-8 sequence is. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
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
  const replacing = await fs.rename(dir, previous).then(() => true, () => false);
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
