/**
 * Whether a trial whose status.json says `running` still runs. The file alone cannot
 * say: a sweep killed with `kill -9` never records its trials' ends. While a trial runs,
 * the process that runs it (`sweep run`, or `sweep trial` in a batch task) refreshes the
 * status's `heartbeatAt` every HEARTBEAT_MS and records its own pid (`supervisorPid`) and
 * the run's (`pid`); on its host those pids are asked, elsewhere the heartbeat's age.
 */
import { hostname } from 'node:os';
import { processAlive } from './lock.js';
import type { TrialState, TrialStatus } from './trial-status.js';

/** How often a running trial's status.json is rewritten at least. */
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this means nothing updates the trial any more (six beats missed: slow disks and busy machines included). */
export const HEARTBEAT_STALE_MS = 30_000;

export type TrialLiveness =
  /** Something runs it (or its status predates heartbeats and its run's pid is alive). */
  | { kind: 'alive' }
  /** The sweep process that watched it is gone; its run still lives (saving a checkpoint before it stops). */
  | { kind: 'orphaned'; detail: string }
  /** Its processes are gone (checked on this host): it ended without recording how. (Not `stopped`: that is a recorded state, a scheduler's decision.) */
  | { kind: 'gone'; detail: string }
  /** No heartbeat for HEARTBEAT_STALE_MS (on another host, or from a pid that lives but no longer updates it). */
  | { kind: 'lost'; detail: string };

export interface LivenessProbe {
  now: number;
  host: string;
  alive(pid: number): boolean;
}

export const systemProbe = (): LivenessProbe => ({ now: Date.now(), host: hostname(), alive: processAlive });

/** "45s", "3m", "2h": how long ago, coarse. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

/** Whether the trial of a `running` status still runs (any other state: 'alive', nothing to tell). Pure given the probe. */
export function trialLiveness(status: TrialStatus, probe: LivenessProbe = systemProbe()): TrialLiveness {
  if (status.state !== 'running') return { kind: 'alive' };
  const beat = status.heartbeatAt === undefined ? NaN : Date.parse(status.heartbeatAt);
  const age = Number.isNaN(beat) ? undefined : probe.now - beat;
  const silent = age !== undefined && age > HEARTBEAT_STALE_MS ? `no heartbeat for ${formatAge(age)}` : undefined;
  if (status.host !== undefined && status.host !== probe.host) {
    // Its pids mean nothing here: only the heartbeat tells.
    return silent ? { kind: 'lost', detail: `${silent} from host ${status.host}; its process or node is most likely gone` } : { kind: 'alive' };
  }
  const runAlive = status.pid !== null && probe.alive(status.pid);
  const run = status.pid === null ? 'its run' : `its run (pid ${status.pid})`;
  if (status.supervisorPid === undefined) {
    // Written before heartbeats: the run's pid is all there is.
    return runAlive ? { kind: 'alive' } : { kind: 'gone', detail: `${run} is gone` };
  }
  const supervisor = `the sweep process that ran it (pid ${status.supervisorPid})`;
  if (!probe.alive(status.supervisorPid)) {
    return runAlive ? { kind: 'orphaned', detail: `${supervisor} is gone; ${run} is saving a checkpoint and stopping` } : { kind: 'gone', detail: `${supervisor} is gone, and so is ${run}` };
  }
  // A live pid with a silent heartbeat: the pid now belongs to another process, or the sweep is stuck.
  if (silent) return { kind: 'lost', detail: `${silent}, though pid ${status.supervisorPid} is alive (stuck, or now another process)` };
  return { kind: 'alive' };
}

/** A trial's state as a user should read it: its status's, or how a `running` one ended without recording it. */
export type ShownState = TrialState | 'missing' | Exclude<TrialLiveness['kind'], 'alive'>;

/** The state to show for a trial's status (undefined: never started), and why when it is not the recorded one. */
export function shownState(status: TrialStatus | undefined, probe: LivenessProbe = systemProbe()): { state: ShownState; detail: string | null } {
  if (!status) return { state: 'missing', detail: null };
  const liveness = trialLiveness(status, probe);
  return liveness.kind === 'alive' ? { state: status.state, detail: null } : { state: liveness.kind, detail: liveness.detail };
}
