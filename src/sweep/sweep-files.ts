/**
 * The files a sweep keeps at its root besides the trials' folders: sweep.json (the
 * manifest of its trials) and the hparams experiment summary of TensorBoard; and the
 * check that a folder is this sweep's before anything is written there.
 */
import { rmSync } from 'node:fs';
import { ConfigError } from '../train/config.js';
import { describeFsError } from '../util/files.js';
import { type FolderContents, describeContents, folderContents } from '../util/run-folders.js';
import { SummaryWriter, listEventFiles, type MetricInfo } from '../tensorboard/index.js';
import { experimentHParams, sweptParameters, type Trial } from './expand.js';
import { LOCK_FILE } from './lock.js';
import type { SweepSpec } from './spec.js';
import { type SweepManifest, readManifest } from './trial-status.js';

/** Metrics declared in the hparams experiment. */
export const EXPERIMENT_METRICS: MetricInfo[] = [
  { tag: 'eval/return_mean', displayName: 'eval return (mean)', datasetType: 'validation' },
  { tag: 'eval/return_std', displayName: 'eval return (std)', datasetType: 'validation' },
  { tag: 'eval/avg_max_q', displayName: 'eval avg max Q', datasetType: 'validation' },
  { tag: 'train/episode_return', displayName: 'train episode return', datasetType: 'training' },
];

/** The end of the names of the event files a sweep writes at its root (its hparams experiment). */
export const SWEEP_EVENT_FILE_SUFFIX = '.sweep';

/** Replaces the sweep root's hparams experiment summary; deletes no event file but the sweep's own earlier ones. */
export function writeExperimentSummary(sweepDir: string, spec: SweepSpec): void {
  // One experiment summary (the current one) is enough.
  for (const file of listEventFiles(sweepDir)) if (file.endsWith(SWEEP_EVENT_FILE_SUFFIX)) rmSync(file, { force: true });
  const metrics = [...EXPERIMENT_METRICS];
  if (!metrics.some((metric) => metric.tag === spec.metric.name)) metrics.push({ tag: spec.metric.name });
  const writer = new SummaryWriter(sweepDir, { flushSeconds: 0, filenameSuffix: SWEEP_EVENT_FILE_SUFFIX });
  writer.hparamsExperiment(experimentHParams(spec), metrics, { name: spec.name, description: spec.description ?? `rlsweep sweep ${spec.name} (${spec.file})` });
  writer.close();
}

/** sweep.json of the trials. */
export function sweepManifest(spec: SweepSpec, trials: Trial[]): SweepManifest {
  return {
    name: spec.name,
    file: spec.file,
    method: spec.method,
    metric: spec.metric,
    seeds: spec.seeds,
    swept: sweptParameters(spec).map((parameter) => parameter.key),
    updatedAt: new Date().toISOString(),
    trials: trials.map((trial) => ({
      index: trial.index,
      name: trial.name,
      configName: trial.configName,
      configIndex: trial.configIndex,
      seed: trial.seed,
      hparams: trial.hparams,
      steps: trial.config.steps,
    })),
  };
}

/**
 * Refuses a sweep folder that is not this sweep's, before anything is written there: a
 * sweep may only write (and delete) its own files. Its own: absent, empty, or holding
 * this sweep's sweep.json (a sweep.json of another file is this sweep edited: finished
 * trials it would change are refused in planSweep). The lock file alone is what a
 * sweep killed before writing sweep.json leaves.
 */
export async function checkSweepFolder(sweepDir: string, spec: SweepSpec): Promise<void> {
  let contents: FolderContents;
  try {
    contents = await folderContents(sweepDir);
  } catch (error) {
    throw new ConfigError(`cannot read the sweep folder ${sweepDir} (${describeFsError(error)}); check its permissions or pass --logdir`);
  }
  const elsewhere = `another name ("name:" in ${spec.file}) or pass --logdir <another folder>`;
  if (contents.kind === 'file') {
    throw new ConfigError(
      contents.file === sweepDir
        ? `${sweepDir} is a file, but the sweep "${spec.name}" needs that path for its folder; give the sweep ${elsewhere}`
        : `${contents.file} is a file where a folder was expected (the sweep's folder is ${sweepDir}); pass --logdir <a folder>`,
    );
  }
  if (contents.kind === 'absent' || contents.kind === 'empty') return;
  if (contents.kind === 'other' && contents.entries.every((name) => name === LOCK_FILE)) return;
  if (contents.kind === 'sweep') {
    const manifest = await readManifest(sweepDir);
    if (manifest === undefined || manifest.name === spec.name) return;
    throw new ConfigError(`${sweepDir} holds the sweep "${manifest.name}" (of ${manifest.file}), not "${spec.name}"; give the sweep ${elsewhere}. Nothing was written.`);
  }
  throw new ConfigError(
    `${sweepDir} ${describeContents(sweepDir, contents)}, so it is not the folder of the sweep "${spec.name}": ` +
      `a sweep writes only into its own folder. Give the sweep ${elsewhere}. Nothing was written.`,
  );
}
