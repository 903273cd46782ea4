/**
 * Stop requests, as every long-running command takes them: the first SIGINT/SIGTERM (or
 * other request) asks to stop gracefully, each later one to stop at once. The run, `sweep
 * run` and `sweep trial` differ only in what stopping means to them (their StopHandlers).
 */

export interface StopHandlers {
  /** The first request: finish what is safe to finish (save a snapshot), then stop. */
  graceful(reason: string): void;
  /** Each later request (`count` 2, 3, ...): stop at once. */
  immediate(reason: string, count: number): void;
}

export interface StopSources {
  /** SIGINT and SIGTERM; `name` says how a signal is named in the reason (default: SIGINT, SIGTERM). */
  signals?: boolean;
  name?: (signal: NodeJS.Signals) => string;
  /** The IPC channel to the parent closing (a sweep's child whose sweep went away): a first request only, with reason PARENT_GONE. */
  parentGone?: boolean;
  /** Aborting it is a request, with `abortReason`. */
  abort?: AbortSignal;
  abortReason?: string;
}

/** The reason of a request made because the parent process went away. */
export const PARENT_GONE = 'parent gone';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Counts stop requests and passes each to the current handlers; dispose() removes its listeners. */
export class StopRequests {
  #count = 0;
  #handlers: StopHandlers;
  readonly #removers: Array<() => void> = [];

  constructor(handlers: StopHandlers, sources: StopSources = {}) {
    this.#handlers = handlers;
    if (sources.signals) {
      const onSignal = (signal: NodeJS.Signals): void => this.request(sources.name?.(signal) ?? signal);
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      this.#removers.push(() => {
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      });
    }
    if (sources.parentGone) {
      // Once a stop is under way, the parent going too must not turn it into a stop at once.
      const onDisconnect = (): void => {
        if (this.#count === 0) this.request(PARENT_GONE);
      };
      process.on('disconnect', onDisconnect);
      this.#removers.push(() => process.off('disconnect', onDisconnect));
    }
    const { abort } = sources;
    if (abort) {
      const onAbort = (): void => this.request(sources.abortReason ?? 'stop requested');
      abort.addEventListener('abort', onAbort);
      this.#removers.push(() => abort.removeEventListener('abort', onAbort));
    }
  }

  /** Requests so far. */
  get count(): number {
    return this.#count;
  }

  /** Whether a stop was requested (the first request came). */
  get stopping(): boolean {
    return this.#count > 0;
  }

  /** Whether a stop at once was requested (a second request came). */
  get stoppingNow(): boolean {
    return this.#count > 1;
  }

  request(reason: string): void {
    this.#count++;
    if (this.#count === 1) this.#handlers.graceful(reason);
    else this.#handlers.immediate(reason, this.#count);
  }

  /** Hands the requests to come to other handlers (the next phase of a command). */
  handleWith(handlers: StopHandlers): void {
    this.#handlers = handlers;
  }

  dispose(): void {
    for (const remove of this.#removers.splice(0)) remove();
  }
}
