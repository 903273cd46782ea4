/**
 * `sweep prune <sweep folder> [--dry-run] [--aside] [--keep-checkpoints last|all|none]`:
 * frees the disk space a sweep holds without need (see src/sweep/prune.ts).
 *
 * Exit codes: 0 done (or nothing to do), 1 something could not be removed, 2 not a sweep folder.
 */
import type { CheckpointsKept } from '../train/checkpoint.js';
import { applyPrune, formatPrunePlan, formatPruneResult, planPrune } from '../sweep/prune.js';
import type { SweepIo } from './sweep-io.js';

export interface PruneArgs {
  dir: string;
  dryRun: boolean;
  aside: boolean;
  keepCheckpoints?: CheckpointsKept;
}

export async function commandPrune(args: PruneArgs, io: SweepIo): Promise<number> {
  const plan = await planPrune(args.dir, { aside: args.aside, ...(args.keepCheckpoints ? { keepCheckpoints: args.keepCheckpoints } : {}) });
  if (args.dryRun) {
    io.out(formatPrunePlan(plan));
    return 0;
  }
  const result = await applyPrune(plan);
  io.out(formatPruneResult(plan, result));
  return result.notRemoved.length > 0 ? 1 : 0;
}
