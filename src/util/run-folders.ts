/**
 * What a folder under a logdir holds, told by the files that mark each kind: a sweep
 * writes sweep.json at its root, a sweep trial trial.json, a run config.json. A sweep
 * and a single run both refuse a folder of another kind, so neither ever writes into
 * (or deletes from) the other's files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TEMPORARY_FILE_MARK, fileInTheWay } from './files.js';

/** The marks (kept here, below train and sweep, so both can tell the kinds apart). */
export const RUN_CONFIG_FILE = 'config.json';
export const SWEEP_MANIFEST_FILE = 'sweep.json';
export const TRIAL_CONFIG_FILE = 'trial.json';

export type FolderContents =
  | { kind: 'absent' }
  /** `file` is the path itself or a parent of it that is a file. */
  | { kind: 'file'; file: string }
  | { kind: 'empty' }
  | { kind: 'sweep' }
  | { kind: 'trial' }
  | { kind: 'run' }
  /** Files of none of the kinds above (leftover temporary files aside). */
  | { kind: 'other'; entries: string[] };

/** What `dir` holds; throws only for errors other than "missing" and "a file in the way" (EACCES, ...). */
export async function folderContents(dir: string): Promise<FolderContents> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    if (code === 'ENOTDIR') {
      const file = await fileInTheWay(dir);
      return { kind: 'file', file: file === undefined || file === path.resolve(dir) ? dir : file };
    }
    throw error;
  }
  if (entries.includes(SWEEP_MANIFEST_FILE)) return { kind: 'sweep' };
  if (entries.includes(TRIAL_CONFIG_FILE)) return { kind: 'trial' };
  if (entries.includes(RUN_CONFIG_FILE)) return { kind: 'run' };
  const kept = entries.filter((name) => !name.includes(TEMPORARY_FILE_MARK)).sort();
  return kept.length === 0 ? { kind: 'empty' } : { kind: 'other', entries: kept };
}

/** "holds a single run (config.json)" and the like, for messages that refuse a folder. */
export function describeContents(dir: string, contents: FolderContents): string {
  switch (contents.kind) {
    case 'absent':
      return 'does not exist';
    case 'file':
      return contents.file === dir ? 'is a file' : `cannot be a folder: ${contents.file} is a file`;
    case 'empty':
      return 'is empty';
    case 'sweep':
      return `holds a sweep (its ${SWEEP_MANIFEST_FILE})`;
    case 'trial':
      return `holds a trial of a sweep (its ${TRIAL_CONFIG_FILE})`;
    case 'run':
      return `holds a single run (its ${RUN_CONFIG_FILE} and event files)`;
    case 'other': {
      const shown = contents.entries.slice(0, 3).join(', ');
      return `holds files of its own (${shown}${contents.entries.length > 3 ? `, and ${contents.entries.length - 3} more` : ''})`;
    }
  }
}
