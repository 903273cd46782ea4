/**
 * What a running sweep shows. On a TTY: one redrawn line per running trial
 * (steps done/total, latest eval return, steps/s, ETA) under an overall line
 * (done/failed/remaining, sweep ETA), with trial events printed above them.
 * Otherwise: the events as plain lines, and the same status every few seconds.
 */
import type { RunProgressMessage } from '../train/run-messages.js';
import type { Trial } from './expand.js';

export interface SweepView {
  /** The trials this invocation will run (not the skipped ones); `skipped` were done before. */
  begin(toRun: readonly Trial[], skipped: number): void;
  trialStarted(trial: Trial, attempt: number): void;
  trialMessage(trial: Trial, message: RunProgressMessage): void;
  /** A trial stopped running; `line` says how (printed above the live lines). */
  trialEnded(trial: Trial, state: 'done' | 'failed' | 'interrupted' | 'retrying', line: string): void;
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
}

interface Running {
  trial: Trial;
  attempt: number;
  startedAt: number;
  step: number;
  total: number;
  stepsPerSecond: number | null;
  evalReturn: number | null;
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

/** The state behind both renderings; exported for tests. */
export class SweepProgress {
  readonly running = new Map<string, Running>();
  total = 0;
  skipped = 0;
  done = 0;
  failed = 0;
  interrupted = 0;
  /** Steps of the trials not started yet. */
  private queuedSteps = 0;
  /** Steps and wall seconds of the trials that finished here: the speed ETAs trust most. */
  private finishedSteps = 0;
  private finishedSeconds = 0;
  private readonly queued = new Set<string>();
  readonly startedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  begin(toRun: readonly Trial[], skipped: number): void {
    this.total = toRun.length + skipped;
    this.skipped = skipped;
    this.done = skipped;
    for (const trial of toRun) {
      this.queued.add(trial.name);
      this.queuedSteps += trial.config.steps;
    }
  }

  started(trial: Trial, attempt: number): void {
    if (this.queued.delete(trial.name)) this.queuedSteps -= trial.config.steps;
    this.running.set(trial.name, { trial, attempt, startedAt: this.now(), step: 0, total: trial.config.steps, stepsPerSecond: null, evalReturn: null });
  }

  message(trial: Trial, message: RunProgressMessage): void {
    const run = this.running.get(trial.name);
    if (!run) return;
    switch (message.type) {
      case 'started':
        run.total = message.totalSteps;
        break;
      case 'progress':
        run.step = message.step;
        run.total = message.totalSteps;
        run.stepsPerSecond = message.stepsPerSecond;
        break;
      case 'evaluation':
        run.evalReturn = message.returnMean;
        break;
      case 'finished':
        run.step = message.step;
        break;
    }
  }

  ended(trial: Trial, state: 'done' | 'failed' | 'interrupted' | 'retrying'): void {
    const run = this.running.get(trial.name);
    this.running.delete(trial.name);
    if (state === 'done' && run && run.step > 0) {
      this.finishedSteps += run.step;
      this.finishedSeconds += (this.now() - run.startedAt) / 1000;
    }
    if (state === 'done') this.done++;
    else if (state === 'failed') this.failed++;
    else if (state === 'interrupted') this.interrupted++;
  }

  get pending(): number {
    return this.queued.size;
  }

  /**
   * A trial's expected speed in steps/s: that of the trials that finished (start-up,
   * evaluations and all), else its own last report. A fresh trial's first reports come
   * before training starts and are many times too fast to plan on.
   */
  speedOf(run: Running): number | null {
    if (this.finishedSeconds > 0) return this.finishedSteps / this.finishedSeconds;
    return run.stepsPerSecond;
  }

  /** Seconds to finish: the steps left over the combined speed of the running trials. */
  etaSeconds(): number {
    let left = this.queuedSteps;
    let rate = 0;
    for (const run of this.running.values()) {
      left += Math.max(0, run.total - run.step);
      rate += this.speedOf(run) ?? 0;
    }
    if (left === 0) return 0;
    return rate > 0 ? left / rate : NaN;
  }

  trialLine(run: Running, withBar: boolean): string {
    const fraction = run.total > 0 ? run.step / run.total : 0;
    const parts = [
      `${withBar ? `${bar(fraction)} ` : ''}${formatCount(run.step)}/${formatCount(run.total)} (${Math.floor(fraction * 100)}%)`,
      `eval ${run.evalReturn === null ? '-' : run.evalReturn.toFixed(1)}`,
      `${run.stepsPerSecond === null ? '-' : Math.round(run.stepsPerSecond)} steps/s`,
      `ETA ${this.speedOf(run) ? formatDuration((run.total - run.step) / this.speedOf(run)!) : '?'}`,
    ];
    return `${run.trial.name}${run.attempt > 1 ? ` (attempt ${run.attempt})` : ''}  ${parts.join('  ')}`;
  }

  overallLine(): string {
    const elapsed = (this.now() - this.startedAt) / 1000;
    const counts = [`done ${this.done}/${this.total}`];
    if (this.failed > 0) counts.push(`failed ${this.failed}`);
    if (this.interrupted > 0) counts.push(`interrupted ${this.interrupted}`);
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
  const progress = new SweepProgress(now);
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
  const liveLines = (): string[] => [
    ...[...progress.running.values()].map((run) => `  ${progress.trialLine(run, true)}`),
    progress.overallLine(),
  ];
  const redraw = (): void => {
    if (!tty || ended || !begun) return;
    const lines = liveLines().map(fit);
    clear();
    stream.write(lines.map((line) => `\x1b[2K${line}`).join('\n') + '\n');
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
    trialStarted(trial, attempt) {
      progress.started(trial, attempt);
      print(`started ${trial.name}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    },
    trialMessage(trial, message) {
      progress.message(trial, message);
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
