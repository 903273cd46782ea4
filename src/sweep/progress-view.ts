/**
 * What a running sweep shows. On a TTY: one redrawn line per running trial
 * (steps done/total, latest eval return, steps/s, ETA) under an overall line
 * (done/failed/remaining, sweep ETA), with trial events printed above them.
 * Otherwise: the events as plain lines, and the same status every few seconds.
 */
import { type EtaModel, envShapeOf, observedSpeedFactor, remainingWorkSeconds, shareCores, sharingSlowdown, trialSeconds } from './cost-model.js';
import type { EndedTrialState, TrialProgress } from './trial-status.js';
import type { Trial } from './expand.js';

export interface SweepView {
  /** The trials this invocation will run (not the skipped ones); `skipped` were done before. */
  begin(toRun: readonly Trial[], skipped: number): void;
  /** More trials to run (an adaptive sweep makes them as its searcher suggests configurations). */
  trialsAdded(trials: readonly Trial[]): void;
  trialStarted(trial: Trial, attempt: number): void;
  /** The trial's progress changed: what its run reported so far. */
  trialProgress(trial: Trial, progress: Readonly<TrialProgress>): void;
  /** A trial stopped running; `line` says how (printed above the live lines). */
  trialEnded(trial: Trial, state: EndedTrialState | 'retrying', line: string): void;
  /** Any other message. */
  log(line: string): void;
  /** Stop redrawing; leaves the screen with the messages only. */
  end(): void;
}

export interface ViewOptions {
  /** Redraw in place (TTY) or print periodic plain lines. Default: stream.isTTY. */
  tty?: boolean;
  /** Plain mode: seconds between status blocks (0 = never). Default 30. */
  plainIntervalSeconds?: number;
  /** TTY mode: milliseconds between redraws. Default 500. */
  redrawMs?: number;
  now?: () => number;
  /** The cost model behind the ETAs (src/sweep/calibrate.ts); without it they read "?". */
  eta?: EtaModel;
}

interface Running {
  trial: Trial;
  attempt: number;
  startedAt: number;
  step: number;
  total: number;
  stepsPerSecond: number | null;
  evalReturn: number | null;
  /** How much slower than the cost model the trial's latest log interval went (null before its first). */
  speedFactor: number | null;
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatCount(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}

function bar(fraction: number, width = 12): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Milliseconds a computed schedule serves unchanged state (one redraw's lines). */
const SCHEDULE_REUSE_MS = 200;

/** The state behind both renderings; exported for tests. */
export class SweepProgress {
  readonly running = new Map<string, Running>();
  total = 0;
  skipped = 0;
  done = 0;
  failed = 0;
  interrupted = 0;
  /** Stopped by the sweep's scheduler at a rung (a normal end, apart from done). */
  stopped = 0;
  /** Trials waiting at a rung: until promoted (started again) or stopped. */
  readonly paused = new Set<string>();
  /** The trials not started yet, in start order, with one core's seconds each by the cost model. */
  private readonly queued = new Map<string, { trial: Trial; seconds: number }>();
  /** The speed factor of the latest trial that ended, for trials with none of their own yet. */
  private lastSpeedFactor: number | null = null;
  /** Bumped by every change; the schedule is computed once per change and redraw, not once per line. */
  private version = 0;
  private cached: { version: number; at: number; schedule: { totalSeconds: number; trialSeconds: Map<string, number> } } | null = null;
  readonly startedAt: number;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly model?: EtaModel,
  ) {
    this.startedAt = now();
  }

  begin(toRun: readonly Trial[], skipped: number): void {
    this.version++;
    this.total = skipped;
    this.skipped = skipped;
    this.done = skipped;
    this.added(toRun);
  }

  added(trials: readonly Trial[]): void {
    this.version++;
    this.total += trials.length;
    for (const trial of trials) {
      this.queued.set(trial.name, { trial, seconds: this.model ? trialSeconds(trial.config, envShapeOf(trial.config.env), this.model.costsOf(trial.config)) : NaN });
    }
  }

  started(trial: Trial, attempt: number): void {
    this.version++;
    this.queued.delete(trial.name);
    this.paused.delete(trial.name);
    this.running.set(trial.name, {
      trial,
      attempt,
      startedAt: this.now(),
      step: 0,
      total: trial.config.steps,
      stepsPerSecond: null,
      evalReturn: null,
      speedFactor: null,
    });
  }

  /** A running trial's progress, as its run reported it (see applyRunMessage). */
  update(trial: Trial, progress: Readonly<TrialProgress>): void {
    const run = this.running.get(trial.name);
    if (!run) return;
    this.version++;
    const { config } = trial;
    // A log interval ended (the trainer reports every logEvery steps): how fast it went against the model.
    const newInterval = progress.step !== run.step && progress.step % config.logEvery === 0;
    run.step = progress.step;
    run.total = progress.totalSteps;
    run.stepsPerSecond = progress.stepsPerSecond;
    run.evalReturn = progress.lastEvaluation?.returnMean ?? null;
    if (this.model && newInterval && progress.stepsPerSecond !== null) {
      const costs = this.model.costsOf(config);
      // The slowdown the schedule models (sharing the cores, a neighbour beside) is not the trial's own.
      const modelled = sharingSlowdown(this.running.size, this.model.cores) * (this.running.size > 1 ? costs.neighbourSlowdown : 1);
      run.speedFactor = observedSpeedFactor(config, envShapeOf(config.env), costs, { step: progress.step, stepsPerSecond: progress.stepsPerSecond }, modelled) ?? run.speedFactor;
    }
  }

  ended(trial: Trial, state: EndedTrialState | 'retrying'): void {
    this.version++;
    const run = this.running.get(trial.name);
    this.running.delete(trial.name);
    if (run?.speedFactor != null) this.lastSpeedFactor = run.speedFactor;
    this.paused.delete(trial.name);
    if (state === 'done') this.done++;
    else if (state === 'failed') this.failed++;
    else if (state === 'interrupted') this.interrupted++;
    else if (state === 'stopped') this.stopped++;
    else if (state === 'paused') this.paused.add(trial.name);
  }

  get pending(): number {
    return this.queued.size;
  }

  /**
   * Seconds until each running trial ends and until the sweep ends, by the cost model: each
   * trial's remaining train steps and evaluations at the speed its latest log interval showed
   * (trials without one yet: the others' speed), the queued trials after them, all sharing
   * the cores. Null without a model.
   */
  private schedule(): { totalSeconds: number; trialSeconds: Map<string, number> } | null {
    const model = this.model;
    if (!model) return null;
    const at = this.now();
    if (this.cached?.version === this.version && at - this.cached.at < SCHEDULE_REUSE_MS) return this.cached.schedule;
    const runs = [...this.running.values()];
    const known = runs.map((run) => run.speedFactor).filter((factor): factor is number => factor !== null);
    const typical = known.length > 0 ? known.reduce((sum, factor) => sum + factor, 0) / known.length : (this.lastSpeedFactor ?? 1);
    const sharing = sharingSlowdown(runs.length, model.cores);
    const work = runs.map((run) => {
      const { config } = run.trial;
      const costs = model.costsOf(config);
      // Before its first report a trial is still starting up, or training before its first log line.
      const startupLeft = run.speedFactor === null ? Math.max(0, costs.startup - (this.now() - run.startedAt) / 1000 / sharing) : 0;
      return (remainingWorkSeconds(config, envShapeOf(config.env), costs, run.step) + startupLeft) * (run.speedFactor ?? typical);
    });
    for (const { seconds } of this.queued.values()) work.push(seconds * typical);
    const neighbours = [...runs.map((run) => run.trial), ...[...this.queued.values()].map((queued) => queued.trial)].map((trial) => model.costsOf(trial.config).neighbourSlowdown);
    const shared = shareCores(work, model.concurrency, model.cores, neighbours);
    const schedule = { totalSeconds: shared.totalSeconds, trialSeconds: new Map(runs.map((run, i) => [run.trial.name, shared.endSeconds[i]!])) };
    this.cached = { version: this.version, at, schedule };
    return schedule;
  }

  /** Seconds to finish the sweep (NaN without a cost model). */
  etaSeconds(): number {
    return this.schedule()?.totalSeconds ?? NaN;
  }

  trialLine(run: Running, withBar: boolean): string {
    const fraction = run.total > 0 ? run.step / run.total : 0;
    const eta = this.schedule()?.trialSeconds.get(run.trial.name);
    const parts = [
      `${withBar ? `${bar(fraction)} ` : ''}${formatCount(run.step)}/${formatCount(run.total)} (${Math.floor(fraction * 100)}%)`,
      `eval ${run.evalReturn === null ? '-' : run.evalReturn.toFixed(1)}`,
      `${run.stepsPerSecond === null ? '-' : Math.round(run.stepsPerSecond)} steps/s`,
      `ETA ${eta === undefined ? '?' : formatDuration(eta)}`,
    ];
    return `${run.trial.name}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}  ${parts.join('  ')}`;
  }

  overallLine(): string {
    const elapsed = (this.now() - this.startedAt) / 1000;
    const counts = [`done ${this.done}/${this.total}`];
    if (this.failed > 0) counts.push(`failed ${this.failed}`);
    if (this.interrupted > 0) counts.push(`interrupted ${this.interrupted}`);
    if (this.stopped > 0) counts.push(`stopped ${this.stopped}`);
    if (this.paused.size > 0) counts.push(`paused ${this.paused.size}`);
    counts.push(`running ${this.running.size}`, `pending ${this.pending}`);
    return `sweep: ${counts.join(', ')} | ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(this.etaSeconds())}`;
  }
}

function timestamp(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/** The console view of a sweep: redrawn lines on a TTY, periodic plain lines otherwise. */
export function createView(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, options: ViewOptions = {}): SweepView {
  const now = options.now ?? Date.now;
  const progress = new SweepProgress(now, options.eta);
  const tty = options.tty ?? Boolean(stream.isTTY);
  let timer: NodeJS.Timeout | undefined;
  let drawn = 0;
  let ended = false;
  let begun = false;

  const fit = (line: string): string => {
    const columns = stream.columns ?? 0;
    return columns > 1 && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line;
  };
  const clear = (): void => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\r\x1b[J`);
    drawn = 0;
  };
  const liveLines = (): string[] => [...[...progress.running.values()].map((run) => `  ${progress.trialLine(run, true)}`), progress.overallLine()];
  const redraw = (): void => {
    if (!tty || ended || !begun) return;
    const lines = liveLines().map(fit);
    clear();
    stream.write(`${lines.map((line) => `\x1b[2K${line}`).join('\n')}\n`);
    drawn = lines.length;
  };
  const print = (line: string): void => {
    if (tty) {
      clear();
      stream.write(`${line}\n`);
      redraw();
    } else {
      stream.write(`${line}\n`);
    }
  };
  const plainStatus = (): void => {
    const stamp = timestamp(new Date(now()));
    for (const run of progress.running.values()) stream.write(`[${stamp}] ${progress.trialLine(run, false)}\n`);
    stream.write(`[${stamp}] ${progress.overallLine()}\n`);
  };

  return {
    begin(toRun, skipped) {
      begun = true;
      progress.begin(toRun, skipped);
      if (tty) {
        timer = setInterval(redraw, options.redrawMs ?? 500);
      } else if ((options.plainIntervalSeconds ?? 30) > 0) {
        timer = setInterval(plainStatus, (options.plainIntervalSeconds ?? 30) * 1000);
      }
      timer?.unref();
      redraw();
    },
    trialsAdded(trials) {
      progress.added(trials);
    },
    trialStarted(trial, attempt) {
      progress.started(trial, attempt);
      print(`started ${trial.name}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    },
    trialProgress(trial, trialProgress) {
      progress.update(trial, trialProgress);
    },
    trialEnded(trial, state, line) {
      progress.ended(trial, state);
      print(line);
    },
    log(line) {
      print(line);
    },
    end() {
      if (ended) return;
      clearInterval(timer);
      if (!begun) {
        ended = true;
        return;
      }
      if (tty) {
        ended = true;
        // Keep the final overall line, drop the per-trial ones.
        clear();
        stream.write(`${fit(progress.overallLine())}\n`);
      } else {
        ended = true;
        stream.write(`${progress.overallLine()}\n`);
      }
    },
  };
}
