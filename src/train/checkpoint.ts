/**
 * Training checkpoints: everything needed to continue a run bit-identically (weights,
 * optimizer, replay buffer, RNG and env states, counters). Separate from the policy
 * snapshots, which hold only the network.
 *
 * A checkpoint is a folder `checkpoints/step-<N>/` with `checkpoint.json` (the plain
 * state plus a manifest of binary arrays and the SHA-256 of the data) and `data.bin`
 * (the arrays, back to back). It is written into a temporary folder and renamed into
 * place; older ones are deleted only after the new one is complete.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TEMPORARY_PREFIX, readJson, writeFolderAtomic } from '../util/files.js';

export const CHECKPOINTS_DIR = 'checkpoints';
const STATE_FILE = 'checkpoint.json';
const DATA_FILE = 'data.bin';
const FORMAT_VERSION = 1;
/** Complete checkpoints kept: the newest, and one to fall back to if it is damaged. */
const KEEP = 2;

export type CheckpointArray = Float32Array | Int32Array;

/** What a checkpoint holds: JSON-able state, and named typed arrays. */
export interface CheckpointContent {
  step: number;
  state: Record<string, unknown>;
  arrays: Record<string, CheckpointArray>;
}

interface ArrayEntry {
  name: string;
  dtype: 'float32' | 'int32';
  length: number;
  offset: number;
}

interface CheckpointFile {
  format: 'rlsweep-checkpoint';
  version: number;
  step: number;
  createdAt: string;
  dataBytes: number;
  dataSha256: string;
  arrays: ArrayEntry[];
  state: Record<string, unknown>;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

function encode(content: CheckpointContent): { json: string; data: Buffer } {
  const entries: ArrayEntry[] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(content.arrays)) {
    const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    entries.push({ name, dtype: array instanceof Float32Array ? 'float32' : 'int32', length: array.length, offset });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = Buffer.concat(chunks);
  const file: CheckpointFile = {
    format: 'rlsweep-checkpoint',
    version: FORMAT_VERSION,
    step: content.step,
    createdAt: new Date().toISOString(),
    dataBytes: data.length,
    dataSha256: createHash('sha256').update(data).digest('hex'),
    arrays: entries,
    state: content.state,
  };
  return { json: JSON.stringify(file), data };
}

/** Write `checkpoints/step-<step>/` under runDir atomically, then prune old ones. */
export async function saveCheckpoint(runDir: string, content: CheckpointContent): Promise<string> {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  const target = path.join(root, `step-${content.step}`);
  const { json, data } = encode(content);
  try {
    // Data first: a state file never points at data that is not there.
    await writeFolderAtomic(target, [
      [DATA_FILE, data],
      [STATE_FILE, json],
    ]);
  } catch (error) {
    throw new CheckpointError(`cannot write the checkpoint ${target}: ${(error as Error).message}`);
  }
  await pruneCheckpoints(root);
  return target;
}

async function listCheckpointSteps(root: string): Promise<number[]> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  return names
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

async function pruneCheckpoints(root: string): Promise<void> {
  const steps = await listCheckpointSteps(root);
  for (const step of steps.slice(KEEP)) await fs.rm(path.join(root, `step-${step}`), { recursive: true, force: true });
}

/** Read and verify one checkpoint folder; any damage is a CheckpointError naming the file. */
export async function readCheckpoint(dir: string): Promise<CheckpointContent> {
  const statePath = path.join(dir, STATE_FILE);
  const dataPath = path.join(dir, DATA_FILE);
  const file = await readJson<CheckpointFile>(statePath, (problem) => {
    throw new CheckpointError(problem);
  }).catch((error: unknown) => {
    throw error instanceof CheckpointError ? error : new CheckpointError(`cannot read ${statePath} (${(error as NodeJS.ErrnoException).code})`);
  });
  if (file === undefined) throw new CheckpointError(`cannot read ${statePath} (ENOENT)`);
  if (file?.format !== 'rlsweep-checkpoint' || file.version !== FORMAT_VERSION || !Array.isArray(file.arrays) || typeof file.state !== 'object') {
    throw new CheckpointError(`${statePath} is not an rlsweep checkpoint of version ${FORMAT_VERSION}`);
  }
  let data: Buffer;
  try {
    data = await fs.readFile(dataPath);
  } catch (error) {
    throw new CheckpointError(`cannot read ${dataPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (data.length !== file.dataBytes) {
    throw new CheckpointError(`${dataPath} holds ${data.length} bytes but ${statePath} says ${file.dataBytes}; the checkpoint is truncated`);
  }
  if (createHash('sha256').update(data).digest('hex') !== file.dataSha256) {
    throw new CheckpointError(`${dataPath} does not match its SHA-256 in ${statePath}; the checkpoint is corrupt`);
  }
  const arrays: Record<string, CheckpointArray> = {};
  for (const entry of file.arrays) {
    // Copy into a fresh aligned buffer: Buffer slices need not be 4-byte aligned.
    const bytes = new Uint8Array(data.subarray(entry.offset, entry.offset + entry.length * 4));
    arrays[entry.name] = entry.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
  }
  return { step: file.step, state: file.state, arrays };
}

export interface LatestCheckpoint {
  /** The newest intact checkpoint, if any. */
  found?: { content: CheckpointContent; dir: string };
  /** What was skipped on the way (damaged or incomplete checkpoints), to tell the user. */
  skipped: string[];
}

/** What a finished run keeps of its checkpoints: RunConfig's keepCheckpoints. */
export type CheckpointsKept = 'last' | 'all' | 'none';

/**
 * The checkpoint folders a finished run lets go under `kept` (nothing is deleted here).
 *
 * 'last', the default, keeps the newest checkpoint that reads back intact: a finished run
 * needs no resume, but that checkpoint is what continues it bit-identically — to train
 * the best trial longer, or for a future adaptive method (ASHA promotion, PBT exploit)
 * to start from it — at the cost of one checkpoint (mostly the replay buffer). The
 * fallback exists only in case the newest is damaged by a crash while writing it; once
 * the newest has been read back whole, it is dead weight. When no checkpoint reads back
 * intact, nothing goes: a damaged one may still be wanted for a post-mortem.
 * 'none' lets the whole checkpoints folder go (the final snapshot stays the policy).
 */
export async function prunableCheckpoints(runDir: string, kept: CheckpointsKept): Promise<string[]> {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  const steps = await listCheckpointSteps(root);
  if (kept === 'all' || steps.length === 0) return [];
  if (kept === 'none') return [root];
  const dirs = steps.map((step) => path.join(root, `step-${step}`));
  for (const [i, dir] of dirs.entries()) {
    const intact = await readCheckpoint(dir).then(
      () => true,
      (error: unknown) => {
        if (error instanceof CheckpointError) return false;
        throw error;
      },
    );
    if (intact) return dirs.filter((_, j) => j !== i);
  }
  return [];
}

/** Deletes what prunableCheckpoints lets go once a run has finished; returns the folders removed. */
export async function pruneFinishedRun(runDir: string, kept: CheckpointsKept): Promise<string[]> {
  const prunable = await prunableCheckpoints(runDir, kept);
  for (const dir of prunable) await fs.rm(dir, { recursive: true, force: true });
  return prunable;
}

/** The newest checkpoint that reads back intact, falling back past damaged ones. */
export async function loadLatestCheckpoint(runDir: string): Promise<LatestCheckpoint> {
  const root = path.join(runDir, CHECKPOINTS_DIR);
  const skipped: string[] = [];
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(TEMPORARY_PREFIX))) {
    skipped.push(`${path.join(root, name)} was never completed (the run was stopped while writing it); removed it`);
    await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
  for (const step of await listCheckpointSteps(root)) {
    const dir = path.join(root, `step-${step}`);
    try {
      return { found: { content: await readCheckpoint(dir), dir }, skipped };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      skipped.push(`${error.message}; falling back to the previous checkpoint`);
    }
  }
  return { skipped };
}
