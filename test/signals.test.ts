/**
 * StopRequests, the one signal handler of the run, `sweep run` and `sweep trial`: requests
 * made through request(), an AbortSignal and a lost parent (no real signal is sent: mocha
 * has its own SIGINT handler).
 */
import { expect } from 'chai';
import { PARENT_GONE, StopRequests } from '../src/util/signals.js';

function recorder(): { calls: string[]; handlers: ConstructorParameters<typeof StopRequests>[0] } {
  const calls: string[] = [];
  return {
    calls,
    handlers: {
      graceful: (reason) => calls.push(`graceful ${reason}`),
      immediate: (reason, count) => calls.push(`immediate ${reason} ${count}`),
    },
  };
}

describe('StopRequests', () => {
  it('asks to stop gracefully on the first request and at once on each later one', () => {
    const { calls, handlers } = recorder();
    const stops = new StopRequests(handlers);
    expect([stops.stopping, stops.stoppingNow]).to.deep.equal([false, false]);
    stops.request('SIGINT');
    expect([stops.stopping, stops.stoppingNow]).to.deep.equal([true, false]);
    stops.request('SIGTERM');
    stops.request('SIGINT');
    expect(stops.stoppingNow).to.equal(true);
    expect(calls).to.deep.equal(['graceful SIGINT', 'immediate SIGTERM 2', 'immediate SIGINT 3']);
  });

  it('hands later requests to the handlers of the next phase, counting on', () => {
    const first = recorder();
    const second = recorder();
    const stops = new StopRequests(first.handlers);
    stops.request('Ctrl-C');
    stops.handleWith(second.handlers);
    stops.request('Ctrl-C');
    expect(first.calls).to.deep.equal(['graceful Ctrl-C']);
    expect(second.calls).to.deep.equal(['immediate Ctrl-C 2']);
  });

  it('takes an abort as a request, and removes every listener on dispose', () => {
    const { calls, handlers } = recorder();
    const controller = new AbortController();
    const signalListeners = (): number[] => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM'), process.listenerCount('disconnect')];
    const before = signalListeners();
    const stops = new StopRequests(handlers, { signals: true, parentGone: true, abort: controller.signal, abortReason: 'stop requested' });
    expect(signalListeners()).to.deep.equal(before.map((count) => count + 1));
    controller.abort();
    expect(calls).to.deep.equal(['graceful stop requested']);
    stops.dispose();
    expect(signalListeners()).to.deep.equal(before);
  });

  it('a lost parent stops gracefully, but never turns a stop under way into a stop at once', () => {
    const { calls, handlers } = recorder();
    const stops = new StopRequests(handlers, { parentGone: true });
    try {
      process.emit('disconnect');
      process.emit('disconnect');
      expect(calls).to.deep.equal([`graceful ${PARENT_GONE}`]);
      stops.request('SIGINT');
      expect(calls).to.deep.equal([`graceful ${PARENT_GONE}`, 'immediate SIGINT 2']);
    } finally {
      stops.dispose();
    }
  });
});
