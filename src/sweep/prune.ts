/**
 * `sweep prune <sweep folder>`: frees the disk space a sweep holds without need.
 *
 * What goes: the checkpoints a complete trial (done, or stopped at a rung by an adaptive
 * sweep) no longer needs (its keepCheckpoints: by default
 * all but the newest intact one, see prunableCheckpoints), and what cut-short atomic writes
 * left (temporary files and folders named by their writer's pid, see temporaryWriterPid);
 * with `aside`, also the earlier runs a rerun moved aside (previous-*). Nothing else: event
 * files, snapshots, logs, statuses and results stay, and so does anything a sweep did not
 * write. A trial that may still be running (by its status' pid and host, as a rerun of the
 * sweep checks) is left alone entirely, and re-checked just before its files go; a paused
 * one keeps every checkpoint (it waits at a rung, and resumes from there when promoted).
 *
 * Planning and removing are separate, so `--dry-run` shows exactly what a real run removes.
 */
import type { Dirent, Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type CheckpointsKept, prunableCheckpoints } from '../train/checkpoint.js';
import { ConfigError, parseField } from '../train/config.js';
import { describeFsError, isFsError, readJson, temporaryWriterPid } from '../util/files.js';
import { processAlive } from './lock.js';
import { describeRun, mayStillRun } from './sweep-plan.js';
import { type SweepManifest, type TrialState, type TrialStatus, MANIFEST_FILE, STATUS_FILE, TRIAL_CONFIG_FILE, isComplete, readStatus, readTrialConfig } from './trial-status.js';
import { PREVIOUS_PREFIX } from './trial.js';

export type PruneKind = 'checkpoints' | 'temporary' | 'aside';

export interface PruneItem {
  path: string;
  kind: PruneKind;
  bytes: number;
  /** The trial folder it lies in (undefined at the sweep's root): re-checked before removal. */
  trialDir?: string;
}

export interface PruneOptions {
  /** Also remove the earlier runs moved aside (previous-*). */
  aside: boolean;
  /** Instead of each done trial's own keepCheckpoints. */
  keepCheckpoints?: CheckpointsKept;
}

export interface PrunePlan {
  sweepDir: string;
  /** Each trial folder's state when planned ('-' without a readable status). */
  states: Map<string, TrialState | '-'>;
  /** What goes. */
  items: PruneItem[];
  /** Earlier runs moved aside that stay (without `aside`). */
  asideKept: PruneItem[];
  /** Trials left alone, and why. */
  skipped: Array<{ trial: string; reason: string }>;
  /** Damaged files met on the way. */
  warnings: string[];
}

export interface PruneResult {
  removed: PruneItem[];
  /** Left in place at removal time: the trial started meanwhile, or the removal failed. */
  notRemoved: Array<{ item: PruneItem; reason: string }>;
}

/**
 * A leftover whose writer's pid is gone here may still be written from another host of a
 * shared file system (a Slurm node); such a write renames its temporary within seconds.
 */
const LEFTOVER_MIN_AGE_MS = 60_000;

/** Total size (bytes) and newest modification time under a path; symbolic links are not followed, what vanished meanwhile counts 0. */
async function measure(target: string): Promise<{ bytes: number; newestMs: number }> {
  let stat: Stats;
  try {
    stat = await fs.lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { bytes: 0, newestMs: 0 };
    throw new Error(`cannot read ${target} (${describeFsError(error)})`);
  }
  let bytes = stat.isDirectory() ? 0 : stat.size;
  let newestMs = stat.mtimeMs;
  if (stat.isDirectory()) {
    for (const name of await fs.readdir(target).catch(() => [] as string[])) {
      const inner = await measure(path.join(target, name));
      bytes += inner.bytes;
      newestMs = Math.max(newestMs, inner.newestMs);
    }
  }
  return { bytes, newestMs };
}

async function readEntries(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new Error(`cannot read ${dir} (${describeFsError(error)})`);
  }
}

/**
 * The pid-named leftovers of cut-short writes under `dir` whose writer is gone. `exclude`:
 * folders not to enter; `trials`: trial folders, never leftovers whatever their names.
 */
async function findLeftovers(dir: string, exclude: ReadonlySet<string>, trials: ReadonlySet<string>, now: number): Promise<Array<{ path: string; bytes: number }>> {
  const found: Array<{ path: string; bytes: number }> = [];
  for (const entry of await readEntries(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink() || exclude.has(full)) continue;
    const pid = trials.has(full) ? undefined : temporaryWriterPid(entry.name);
    if (pid !== undefined) {
      if (processAlive(pid)) continue;
      const { bytes, newestMs } = await measure(full);
      if (now - newestMs >= LEFTOVER_MIN_AGE_MS) found.push({ path: full, bytes });
    } else if (entry.isDirectory()) {
      found.push(...(await findLeftovers(full, exclude, trials, now)));
    }
  }
  return found;
}

/** Why `dir` is not a sweep folder, and what to give instead. */
async function notASweep(dir: string): Promise<string> {
  const has = (file: string): Promise<boolean> =>
    fs.access(file).then(
      () => true,
      () => false,
    );
  const parent = path.dirname(path.resolve(dir));
  if ((await has(path.join(dir, STATUS_FILE))) && (await has(path.join(parent, MANIFEST_FILE)))) {
    return `${dir} is a trial of the sweep ${path.dirname(dir)}, not a sweep folder; prune the sweep: sweep prune ${path.dirname(dir)}`;
  }
  if (await has(path.join(dir, 'config.json'))) {
    return `${dir} is a single run, not a sweep folder; sweep prune only cleans sweep folders (a run prunes its own checkpoints when it finishes: keepCheckpoints)`;
  }
  const sweeps: string[] = [];
  for (const entry of await readEntries(dir)) {
    if (entry.isDirectory() && (await has(path.join(dir, entry.name, MANIFEST_FILE)))) sweeps.push(entry.name);
  }
  if (sweeps.length > 0) {
    return `${dir} holds sweeps (${sweeps.slice(0, 3).join(', ')}${sweeps.length > 3 ? ', ...' : ''}), it is not one; prune each, e.g. sweep prune ${path.join(dir, sweeps[0]!)}`;
  }
  return `${dir} is not a sweep folder (it has no ${MANIFEST_FILE}); give the folder a sweep run wrote, <logdir>/<sweep name>, e.g. runs/smoke`;
}

/** The sweep's manifest; a ConfigError when `dir` is not a sweep folder. */
async function readSweepManifest(dir: string): Promise<SweepManifest> {
  let stat: Stats;
  try {
    stat = await fs.stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`no folder ${dir}; give a sweep's folder, <logdir>/<sweep name>, e.g. runs/smoke`);
    throw new Error(`cannot read ${dir} (${describeFsError(error)})`);
  }
  if (!stat.isDirectory()) {
    const sweepFile = /\.ya?ml$/i.test(dir) ? " (a sweep file's folder is <logdir>/<its name>)" : '';
    throw new ConfigError(`${dir} is a file, not a sweep folder; give the folder a sweep run wrote, <logdir>/<sweep name>, e.g. runs/smoke${sweepFile}`);
  }
  const file = path.join(dir, MANIFEST_FILE);
  const refuse = (problem: string): never => {
    throw new ConfigError(`${problem}; it is not a sweep manifest rlsweep wrote, so nothing is pruned (running the sweep again rewrites it)`);
  };
  const manifest = await readJson<SweepManifest>(file, refuse).catch((error: unknown) => {
    throw isFsError(error) ? new Error(`cannot read ${file} (${describeFsError(error)})`) : error;
  });
  if (manifest === undefined) throw new ConfigError(await notASweep(dir));
  if (typeof manifest !== 'object' || manifest === null || !Array.isArray(manifest.trials)) return refuse(`${file} has no "trials" list`);
  return manifest;
}

/**
 * The trial folders: those the manifest names, and those of earlier versions of the sweep
 * file (a status.json of a trial of that name, written by a sweep).
 */
async function trialDirs(sweepDir: string, manifest: SweepManifest): Promise<string[]> {
  const names = new Set(manifest.trials.map((trial) => trial.name));
  for (const entry of await readEntries(sweepDir)) {
    if (!entry.isDirectory() || names.has(entry.name)) continue;
    const status = await readJson<Partial<TrialStatus>>(path.join(sweepDir, entry.name, STATUS_FILE), () => {}).catch(() => undefined);
    if (status?.trial === entry.name) names.add(entry.name);
  }
  const dirs: string[] = [];
  for (const name of names) {
    const dir = path.join(sweepDir, name);
    if (
      await fs.stat(dir).then(
        (stat) => stat.isDirectory(),
        () => false,
      )
    )
      dirs.push(dir);
  }
  return dirs;
}

/** A done trial's keepCheckpoints: the option given, else its own (trial.json, config.json), else the default. */
async function checkpointsKept(trialDir: string, options: PruneOptions): Promise<CheckpointsKept> {
  if (options.keepCheckpoints) return options.keepCheckpoints;
  const config = await readTrialConfig(trialDir);
  if (config?.keepCheckpoints === undefined) return 'last';
  const source = await fs.access(path.join(trialDir, TRIAL_CONFIG_FILE)).then(
    () => TRIAL_CONFIG_FILE,
    () => 'config.json',
  );
  return parseField('keepCheckpoints', config.keepCheckpoints, path.join(trialDir, source)) as CheckpointsKept;
}

/** What pruning `sweepDir` would remove; removes nothing. Throws a ConfigError for a folder that is not a sweep. */
export async function planPrune(sweepDir: string, options: PruneOptions): Promise<PrunePlan> {
  const manifest = await readSweepManifest(sweepDir);
  const plan: PrunePlan = { sweepDir, states: new Map(), items: [], asideKept: [], skipped: [], warnings: [] };
  const now = Date.now();
  const dirs = await trialDirs(sweepDir, manifest);
  const leftAlone = new Set<string>();
  for (const dir of dirs) {
    const name = path.basename(dir);
    const status = await readStatus(dir, (message) => plan.warnings.push(message));
    plan.states.set(dir, status?.state ?? '-');
    if (mayStillRun(status, false)) {
      plan.skipped.push({ trial: name, reason: `it may still be running (${describeRun(status!)})` });
      leftAlone.add(dir);
      continue;
    }
    if (status?.state === 'paused') {
      plan.skipped.push({ trial: name, reason: `its checkpoints stay: it is paused at step ${status.rungStep ?? status.step}, and resumes from there if promoted` });
    } else if (isComplete(status)) {
      try {
        const kept = await checkpointsKept(dir, options);
        for (const target of await prunableCheckpoints(dir, kept)) plan.items.push({ path: target, kind: 'checkpoints', bytes: (await measure(target)).bytes, trialDir: dir });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        plan.skipped.push({ trial: name, reason: `its checkpoints stay: ${error.message}` });
      }
    }
    for (const entry of await readEntries(dir)) {
      if (!entry.isDirectory() || !entry.name.startsWith(PREVIOUS_PREFIX)) continue;
      const full = path.join(dir, entry.name);
      const item: PruneItem = { path: full, kind: 'aside', bytes: (await measure(full)).bytes, trialDir: dir };
      if (options.aside) {
        plan.items.push(item);
        leftAlone.add(full); // going whole: no need to look inside
      } else {
        plan.asideKept.push(item);
      }
    }
  }
  const trialOf = (file: string): string | undefined => dirs.find((dir) => file.startsWith(dir + path.sep));
  for (const leftover of await findLeftovers(sweepDir, leftAlone, new Set(dirs), now)) {
    const trialDir = trialOf(leftover.path);
    plan.items.push({ ...leftover, kind: 'temporary', ...(trialDir ? { trialDir } : {}) });
  }
  return plan;
}

/** Removes what the plan lists, first checking again that no trial of it has started meanwhile. */
export async function applyPrune(plan: PrunePlan): Promise<PruneResult> {
  const result: PruneResult = { removed: [], notRemoved: [] };
  const stillSafe = new Map<string, string | undefined>();
  const whyNot = async (trialDir: string): Promise<string | undefined> => {
    if (!stillSafe.has(trialDir)) {
      const status = await readStatus(trialDir, () => {});
      const now = status?.state ?? '-';
      stillSafe.set(
        trialDir,
        mayStillRun(status, false)
          ? `${path.basename(trialDir)} started meanwhile (${describeRun(status!)})`
          : now !== plan.states.get(trialDir)
            ? `${path.basename(trialDir)} went from ${plan.states.get(trialDir)} to ${now} meanwhile`
            : undefined,
      );
    }
    return stillSafe.get(trialDir);
  };
  for (const item of plan.items) {
    const reason = item.trialDir === undefined ? undefined : await whyNot(item.trialDir);
    if (reason !== undefined) {
      result.notRemoved.push({ item, reason });
      continue;
    }
    try {
      await fs.rm(item.path, { recursive: true, force: true });
      result.removed.push(item);
    } catch (error) {
      result.notRemoved.push({ item, reason: `cannot remove it (${describeFsError(error)})` });
    }
  }
  return result;
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const sum = (items: readonly PruneItem[]): number => items.reduce((total, item) => total + item.bytes, 0);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const KIND_LABELS: Record<PruneKind, string> = {
  checkpoints: 'checkpoints of done (or stopped) trials beyond what keepCheckpoints keeps',
  temporary: 'leftovers of cut-short writes',
  aside: 'earlier runs moved aside (previous-*)',
};

/** One line per kind of item: how many, how large, what they are. */
function kindLines(items: readonly PruneItem[]): string[] {
  return (Object.keys(KIND_LABELS) as PruneKind[]).flatMap((kind) => {
    const ofKind = items.filter((item) => item.kind === kind);
    return ofKind.length === 0 ? [] : [`  ${KIND_LABELS[kind]}: ${ofKind.length}, ${megabytes(sum(ofKind))}`];
  });
}

/** The trials by state, e.g. "18 trials: 16 done, 2 running". */
function trialsLine(plan: PrunePlan): string {
  const counts = new Map<string, number>();
  for (const state of plan.states.values()) counts.set(state === '-' ? 'no status' : state, (counts.get(state === '-' ? 'no status' : state) ?? 0) + 1);
  return `${plural(plan.states.size, 'trial')}${counts.size > 0 ? `: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}` : ''}`;
}

/** What stays and why: trials left alone, aside runs without --aside, damaged files. */
function keptLines(plan: PrunePlan): string[] {
  const lines = plan.skipped.map(({ trial, reason }) => `left alone: ${trial}: ${reason}`);
  if (plan.asideKept.length > 0) {
    lines.push(`kept: ${plural(plan.asideKept.length, 'earlier run')} moved aside (previous-*, ${megabytes(sum(plan.asideKept))}); add --aside to remove them too`);
  }
  return [...lines, ...plan.warnings.map((warning) => `warning: ${warning}`)];
}

/** --dry-run: every path that would go, with its size, and the total. */
export function formatPrunePlan(plan: PrunePlan): string {
  const lines = [`sweep prune ${plan.sweepDir} (dry run: nothing removed): ${trialsLine(plan)}`];
  if (plan.items.length === 0) {
    lines.push('nothing to remove');
  } else {
    lines.push('would remove:', ...plan.items.map((item) => `  ${item.path}  ${megabytes(item.bytes)}`), ...kindLines(plan.items));
  }
  lines.push(...keptLines(plan));
  if (plan.items.length > 0) lines.push(`would free ${megabytes(sum(plan.items))}; run without --dry-run to remove them`);
  return lines.join('\n');
}

/** After removing: what went, by kind, and what could not. */
export function formatPruneResult(plan: PrunePlan, result: PruneResult): string {
  const lines = [`sweep prune ${plan.sweepDir}: ${trialsLine(plan)}`];
  lines.push(result.removed.length === 0 ? 'nothing removed' : `removed ${result.removed.length}, freeing ${megabytes(sum(result.removed))}:`, ...kindLines(result.removed));
  lines.push(...result.notRemoved.map(({ item, reason }) => `not removed: ${item.path}: ${reason}`), ...keptLines(plan));
  return lines.join('\n');
}
