/**
 * Where trials run. The scheduler only sees TrialExecutor: start a trial, get its
 * progress messages, ask it to stop, learn how it ended. LocalExecutor runs each
 * trial as a child process on this machine; a Slurm job array would be another
 * implementation (submit, poll, scancel) behind the same interface.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRunProgressMessage, type RunProgressMessage } from '../train/progress.js';
import type { Trial } from './expand.js';

export interface TrialLaunch {
  trial: Trial;
  /** The trial's folder, <sweepDir>/<trial name>. */
  dir: string;
  /** JSON file of the trial's RunConfig, passed to the run as --config. */
  configFile: string;
  /** Continue the run already in `dir` from its latest checkpoint (run.ts --resume) instead of starting it. */
  resume: boolean;
  stdoutFile: string;
  stderrFile: string;
  /** Progress messages from the run (started, progress, evaluation, finished). */
  onMessage(message: RunProgressMessage): void;
}

export interface TrialExit {
  /** The run's exit code: 0 done, 1 error, 2 config error, 130 interrupted; null when killed by a signal. */
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

/** `--import tsx` by absolute URL: a bare "tsx" would resolve from the child's cwd, not this package. */
export function tsxExecArgv(): string[] {
  return ['--import', import.meta.resolve('tsx')];
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
      const args = launch.resume ? ['--resume', launch.dir] : ['--config', launch.configFile];
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
    const exited = new Promise<TrialExit>((resolve) => {
      let launchError: string | undefined;
      child.once('error', (error) => {
        launchError = error.message;
        // A failed spawn emits no 'close' in some Node versions.
        if (child.pid === undefined) resolve({ exitCode: null, signal: null, launchError });
      });
      // 'close' comes after 'exit' and after the IPC channel has delivered every message.
      child.once('close', (code, signal) => {
        clearTimeout(killTimer);
        resolve(launchError ? { exitCode: code, signal, launchError } : { exitCode: code, signal });
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
        signal('SIGTERM');
      },
      kill: () => {
        // The run quits at once on a second signal (its exit hook still flushes the event file)...
        signal('SIGTERM');
        if (!stopped) { stopped = true; setTimeout(() => signal('SIGTERM'), 50).unref(); }
        // ...and SIGKILL if it does not.
        killTimer ??= setTimeout(() => signal('SIGKILL'), this.options.killGraceMs ?? 3000);
        killTimer.unref();
      },
    };
  }
}
