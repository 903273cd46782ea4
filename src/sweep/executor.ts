/**
 * Where trials run. A TrialExecutor starts one trial's run, passes on its progress
 * messages, asks it to stop and says how it ended: LocalExecutor runs it as a child
 * process of this one. A BatchExecutor submits many trials at once to a cluster's
 * scheduler (SlurmExecutor, src/sweep/slurm.ts: one job array); each of its tasks
 * runs `sweep trial <file> --index i`, which runs that trial through a LocalExecutor
 * exactly as the local scheduler does (src/sweep/trial.ts), and the scheduler
 * follows the tasks through the queue and the trials' status files.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isRunProgressMessage, type RunProgressMessage } from '../train/run-messages.js';
import type { Trial } from './expand.js';

export interface TrialLaunch {
  trial: Trial;
  /** The trial's folder, <sweepDir>/<trial name>. */
  dir: string;
  /** JSON file of the trial's RunConfig, passed to the run as --config. */
  configFile: string;
  /** Continue the run already in `dir` from its latest checkpoint (run.ts --resume) instead of starting it. */
  resume: boolean;
  /** Pause the run at this environment step (run.ts --stop-at-step): it checkpoints there and exits EXIT_PAUSED. */
  stopAtStep?: number;
  stdoutFile: string;
  stderrFile: string;
  /** Progress messages from the run (started, progress, evaluation, finished). */
  onMessage(message: RunProgressMessage): void;
}

export interface TrialExit {
  /** The run's exit code: 0 done, 1 error, 2 config error, 75 paused (EXIT_PAUSED), 130 interrupted; null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The trial could not be started at all (e.g. the executable is missing). */
  launchError?: string;
}

export interface RunningTrial {
  /** Process id (or job id) when there is one. */
  readonly id: string | undefined;
  /** Resolves when the trial has ended, however it ended; never rejects. */
  readonly exited: Promise<TrialExit>;
  /** Ask the trial to stop cleanly: it saves a snapshot, flushes its logs and exits (130). */
  stop(): void;
  /** Stop at once (second Ctrl-C). */
  kill(): void;
}

export interface TrialExecutor {
  /** Shown to the user, e.g. "local child processes". */
  readonly description: string;
  start(launch: TrialLaunch): RunningTrial;
}

export interface LocalExecutorOptions {
  /** The run entry point; default src/run.ts next to this package. */
  runEntry?: string;
  /** Node options of the child; default: load tsx so the TypeScript entry runs. */
  execArgv?: string[];
  /** Extra environment variables of every child. */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the children (relative logdirs resolve against it); default process.cwd(). */
  cwd?: string;
  /** After kill(), how long to wait before SIGKILL. */
  killGraceMs?: number;
  /**
   * How stop() asks the run to stop: SIGTERM (default), or closing its IPC channel,
   * which the run takes the same way. `sweep trial` uses the channel: a Slurm job's
   * cancellation already sends SIGTERM to every process of the task, and a second
   * SIGTERM would make the run quit at once instead of saving a snapshot.
   */
  stopBy?: 'signal' | 'disconnect';
}

/** One thread per child, so N children use N cores instead of fighting over them. */
export const SINGLE_THREAD_ENV: NodeJS.ProcessEnv = {
  TF_NUM_INTRAOP_THREADS: '1',
  TF_NUM_INTEROP_THREADS: '1',
  OMP_NUM_THREADS: '1',
};

export function defaultRunEntry(): string {
  return fileURLToPath(new URL('../run.ts', import.meta.url));
}

/**
 * `--import tsx` by absolute URL: a bare "tsx" would resolve from the child's cwd, not this
 * package. Resolved through require: import.meta.resolve is missing where this module is
 * compiled to CommonJS (as when a test imports it).
 */
export function tsxExecArgv(): string[] {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const { exports } = require(manifestPath) as { exports: Record<string, unknown> };
  const entry = exports['.'];
  const relative = typeof entry === 'string' ? entry : ((entry as { import?: string }).import ?? './dist/loader.mjs');
  return ['--import', pathToFileURL(path.join(path.dirname(manifestPath), relative)).href];
}

/** Trials as child processes of this one: `node --import tsx src/run.ts --config trial.json`. */
export class LocalExecutor implements TrialExecutor {
  readonly description = 'local child processes';
  private readonly runEntry: string;
  private readonly execArgv: string[];

  constructor(private readonly options: LocalExecutorOptions = {}) {
    this.runEntry = options.runEntry ?? defaultRunEntry();
    this.execArgv = options.execArgv ?? tsxExecArgv();
  }

  start(launch: TrialLaunch): RunningTrial {
    const out = openSync(launch.stdoutFile, 'a');
    const err = openSync(launch.stderrFile, 'a');
    let child: ChildProcess;
    try {
      const args = [...(launch.resume ? ['--resume', launch.dir] : ['--config', launch.configFile]), ...(launch.stopAtStep === undefined ? [] : ['--stop-at-step', String(launch.stopAtStep)])];
      child = fork(this.runEntry, args, {
        cwd: this.options.cwd ?? process.cwd(),
        execArgv: this.execArgv,
        env: { ...process.env, ...SINGLE_THREAD_ENV, ...this.options.env },
        stdio: ['ignore', out, err, 'ipc'],
        // Its own process group: a terminal's Ctrl-C reaches only the sweep, which
        // then stops each child once (a second signal would make it quit at once).
        detached: true,
        serialization: 'json',
      });
    } catch (error) {
      return {
        id: undefined,
        exited: Promise.resolve({ exitCode: null, signal: null, launchError: (error as Error).message }),
        stop: () => {},
        kill: () => {},
      };
    } finally {
      closeSync(out);
      closeSync(err);
    }

    child.on('message', (message) => {
      if (isRunProgressMessage(message)) launch.onMessage(message);
    });
    let killTimer: NodeJS.Timeout | undefined;
    // Node neither waits for a forked child whose IPC channel this side closed (stopBy
    // 'disconnect') nor emits its 'close': this timer keeps the process alive, and 'exit' ends it.
    const keepAlive = setInterval(() => {}, 60_000);
    let disconnected = false;
    const exited = new Promise<TrialExit>((resolve) => {
      let launchError: string | undefined;
      const end = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
        clearTimeout(killTimer);
        clearInterval(keepAlive);
        resolve(launchError ? { exitCode, signal, launchError } : { exitCode, signal });
      };
      child.once('error', (error) => {
        launchError = error.message;
        // A failed spawn emits no 'close' in some Node versions.
        if (child.pid === undefined) end(null, null);
      });
      // 'close' comes after 'exit' and after the IPC channel has delivered every message...
      child.once('close', end);
      // ...unless stop() closed the channel: then no message is left to wait for.
      child.once('exit', (code, signal) => {
        if (disconnected) end(code, signal);
      });
    });
    const signal = (name: NodeJS.Signals): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.kill(name);
      } catch {
        // Already gone.
      }
    };
    let stopped = false;
    return {
      id: child.pid === undefined ? undefined : String(child.pid),
      exited,
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (this.options.stopBy === 'disconnect' && child.connected) {
          disconnected = true;
          child.disconnect();
        } else {
          signal('SIGTERM');
        }
      },
      kill: () => {
        // The run quits at once on a second signal (its exit hook still flushes the event file)...
        signal('SIGTERM');
        if (!stopped) {
          stopped = true;
          setTimeout(() => signal('SIGTERM'), 50).unref();
        }
        // ...and SIGKILL if it does not.
        killTimer ??= setTimeout(() => signal('SIGKILL'), this.options.killGraceMs ?? 3000);
        killTimer.unref();
      },
    };
  }
}

/** What a batch executor needs to run trials as `sweep trial <file> --index i`. */
export interface BatchRequest {
  /** The sweep file the trials come from (as given). */
  sweepFile: string;
  sweepName: string;
  /** <logdir>/<sweep name>. */
  sweepDir: string;
  /** Every trial of the sweep, by index (a task finds its trial's folder by its index). */
  trials: readonly Trial[];
  /** The indices to run. */
  indices: readonly number[];
  /** At most this many at once; undefined: as many as the cluster gives. */
  concurrency: number | undefined;
  /** Extra attempts of a failed trial, made by its task. */
  retries: number;
  /** Rerun done trials whose configuration changed (the sweep checked they may). */
  force: boolean;
  /** Run each trial only up to this environment step (one rung segment: `sweep trial --stop-at-step`); it then pauses there. */
  stopAtStep?: number;
}

/** A task of a submission as the cluster's queue sees it. */
export interface BatchTaskState {
  /** Queued, starting or running (false: it ended, however). */
  active: boolean;
  /** The queue's word for it, e.g. PENDING, RUNNING, COMPLETED, CANCELLED, TIMEOUT. */
  state: string;
  /** Why it waits or ended, when the queue says. */
  reason?: string;
}

/** Trials submitted together (a Slurm job array). */
export interface BatchSubmission {
  /** The job id. */
  readonly id: string;
  /** For messages, e.g. "Slurm job 1234". */
  readonly description: string;
  /** The command that cancels it by hand, e.g. "scancel 1234". */
  readonly cancelCommand: string;
  /** The indices it runs. */
  readonly indices: readonly number[];
  /** The task's own output (before and around the trial's logs). */
  taskLog(trial: Trial): string;
  /** The task's job id, e.g. "1234_5". */
  taskId(index: number): string;
  /**
   * Tasks by trial index; a task the queue no longer knows is missing (it ended).
   * Throws when the queue cannot be asked right now.
   */
  poll(): Promise<Map<number, BatchTaskState>>;
  /** Cancels the tasks still queued, and stops the running ones (they save a snapshot and stop). */
  cancel(): Promise<void>;
}

export interface BatchExecutor {
  readonly kind: 'batch';
  /** Shown to the user, e.g. "a Slurm job array". */
  readonly description: string;
  /** Submissions of the sweep in `sweepDir` (from earlier runs) that still have tasks queued or running. */
  activeSubmissions(sweepDir: string): Promise<BatchSubmission[]>;
  submit(request: BatchRequest): Promise<BatchSubmission>;
}

export function isBatchExecutor(executor: TrialExecutor | BatchExecutor): executor is BatchExecutor {
  return (executor as BatchExecutor).kind === 'batch';
}
