/** The trial schedulers (src/sweep/search/asha.ts) on scripted results: which configurations they promote and stop. */
import { expect } from 'chai';
import { type SchedulerEvent, type SchedulerSettings, SchedulerState, bracketRungs, schedulerBudget } from '../src/sweep/search/asha.js';

/**
 * Runs `configurations` configurations one at a time (concurrency 1) through the scheduler,
 * each scoring `score(config, step)` at every rung; returns the events in order.
 */
function simulate(settings: SchedulerSettings, configurations: number, score: (configIndex: number, step: number) => number): SchedulerEvent[] {
  const events: SchedulerEvent[] = [];
  const state = new SchedulerState(settings);
  const record = (event: SchedulerEvent): void => {
    events.push(event);
    state.apply(event);
  };
  let started = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const action = state.nextAction(started >= configurations);
    if (action.type === 'finished') return events;
    if (action.type === 'wait') throw new Error('nothing runs at concurrency 1, yet the scheduler waits');
    if (action.type === 'stop') {
      for (const config of action.configs) record({ type: 'stopped', ...config });
      continue;
    }
    const configIndex = action.type === 'new' ? started++ : action.configIndex;
    if (action.type === 'new') record({ type: 'started', configIndex });
    else record({ type: 'promoted', configIndex, step: action.step });
    const step = state.nextRung(configIndex);
    record({ type: 'result', configIndex, step, score: score(configIndex, step) });
  }
  throw new Error('the simulation did not finish');
}

const ASHA: SchedulerSettings = { type: 'asha', minSteps: 1000, maxSteps: 9000, eta: 3 };

describe('trial schedulers', () => {
  it('rungs: minSteps * eta^k below maxSteps, then maxSteps; Hyperband brackets start eta times higher each', () => {
    expect(bracketRungs(ASHA)).to.deep.equal([[1000, 3000, 9000]]);
    expect(bracketRungs({ type: 'asha', minSteps: 2000, maxSteps: 50_000, eta: 3 })).to.deep.equal([[2000, 6000, 18_000, 50_000]]);
    expect(bracketRungs({ type: 'hyperband', minSteps: 1000, maxSteps: 9000, eta: 3, brackets: 3 })).to.deep.equal([[1000, 3000, 9000], [3000, 9000], [9000]]);
    expect(bracketRungs({ type: 'fifo', maxSteps: 5000 })).to.deep.equal([[5000]]);
    // Rungs below rungLimit; every configuration that passes them runs to maxSteps (the trials' steps).
    expect(bracketRungs({ type: 'asha', minSteps: 1000, maxSteps: 20_000, eta: 3, rungLimit: 9000 })).to.deep.equal([[1000, 3000, 20_000]]);
  });

  it('ASHA promotes the top 1/eta of each rung and stops the rest once the searcher is exhausted', () => {
    // Configuration 0 is the best, 8 the worst.
    const events = simulate(ASHA, 9, (configIndex) => -configIndex);
    const state = SchedulerState.replay(ASHA, events);
    const outcome = state.standings().map(({ configIndex, phase, step }) => `${configIndex}:${phase}@${step}`);
    expect(outcome).to.deep.equal(['0:done@9000', '1:stopped@3000', '2:stopped@3000', '3:stopped@1000', '4:stopped@1000', '5:stopped@1000', '6:stopped@1000', '7:stopped@1000', '8:stopped@1000']);
    // Asynchronous: configuration 0 is promoted as soon as 3 have reached the first rung, before 3..8 start.
    const promotions = events.filter((event) => event.type === 'promoted').map((event) => `${event.configIndex}->${event.step}`);
    expect(promotions).to.deep.equal(['0->3000', '1->3000', '2->3000', '0->9000']);
    expect(events.findIndex((event) => event.type === 'promoted')).to.be.lessThan(events.findIndex((event) => event.type === 'started' && event.configIndex === 3));
  });

  it('ASHA lets improving newcomers climb: every configuration that leads its rung is promoted', () => {
    const events = simulate(ASHA, 9, (configIndex) => configIndex);
    const done = SchedulerState.replay(ASHA, events)
      .standings()
      .filter((config) => config.phase === 'done')
      .map((config) => config.configIndex);
    expect(done).to.deep.equal([4, 5, 6, 7, 8]);
  });

  it('a failed configuration is never promoted and does not count at its rung', () => {
    const state = new SchedulerState(ASHA);
    for (let c = 0; c < 3; c++) state.apply({ type: 'started', configIndex: c });
    state.apply({ type: 'result', configIndex: 0, step: 1000, score: null });
    state.apply({ type: 'result', configIndex: 1, step: 1000, score: 5 });
    state.apply({ type: 'result', configIndex: 2, step: 1000, score: 1 });
    expect(state.standing(0)!.phase).to.equal('failed');
    // Two scores at the rung: floor(2/3) = 0 promotions yet.
    expect(state.nextAction(false)).to.deep.equal({ type: 'new' });
    state.apply({ type: 'started', configIndex: 3 });
    state.apply({ type: 'result', configIndex: 3, step: 1000, score: 2 });
    expect(state.nextAction(false)).to.deep.equal({ type: 'promote', configIndex: 1, step: 3000 });
  });

  it('waits while a running configuration may still make a paused one promotable', () => {
    const state = new SchedulerState(ASHA);
    state.apply({ type: 'started', configIndex: 0 });
    state.apply({ type: 'started', configIndex: 1 });
    state.apply({ type: 'result', configIndex: 0, step: 1000, score: 1 });
    expect(state.nextAction(true)).to.deep.equal({ type: 'wait' });
    state.apply({ type: 'result', configIndex: 1, step: 1000, score: 2 });
    expect(state.nextAction(true)).to.deep.equal({
      type: 'stop',
      configs: [
        { configIndex: 0, step: 1000 },
        { configIndex: 1, step: 1000 },
      ],
    });
  });

  it('Hyperband: new configurations take the brackets in turn; each bracket halves on its own rungs', () => {
    const settings: SchedulerSettings = { type: 'hyperband', minSteps: 1000, maxSteps: 9000, eta: 3, brackets: 3 };
    const events = simulate(settings, 9, (configIndex) => -configIndex);
    const state = SchedulerState.replay(settings, events);
    expect(state.standings().map((config) => config.bracket)).to.deep.equal([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    // Bracket 2 (2, 5, 8) is plain full runs; bracket 1 (1, 4, 7) starts at 3000 and promotes its best to the end;
    // bracket 0 (0, 3, 6) promotes its best to 3000, where it is alone: stopped there.
    const phases = Object.fromEntries(state.standings().map((config) => [config.configIndex, `${config.phase}@${config.step}`]));
    expect(phases).to.deep.equal({ 0: 'stopped@3000', 1: 'done@9000', 2: 'done@9000', 3: 'stopped@1000', 4: 'stopped@3000', 5: 'done@9000', 6: 'stopped@1000', 7: 'stopped@3000', 8: 'done@9000' });
  });

  it('FIFO runs every configuration to the end', () => {
    const settings: SchedulerSettings = { type: 'fifo', maxSteps: 5000 };
    const events = simulate(settings, 4, (configIndex) => configIndex);
    expect(events.filter((event) => event.type === 'result').map((event) => [event.configIndex, event.step])).to.deep.equal([
      [0, 5000],
      [1, 5000],
      [2, 5000],
      [3, 5000],
    ]);
    expect(events.some((event) => event.type === 'promoted' || event.type === 'stopped')).to.equal(false);
  });

  it('the state is a pure reduction of the events: a replay of any prefix continues with the same actions', () => {
    const events = simulate(ASHA, 12, (configIndex, step) => Math.sin(configIndex * 7.1) * step);
    for (let cut = 0; cut <= events.length; cut += 5) {
      const whole = SchedulerState.replay(ASHA, events);
      const prefix = SchedulerState.replay(ASHA, events.slice(0, cut));
      for (const event of events.slice(cut)) prefix.apply(event);
      expect(prefix.standings()).to.deep.equal(whole.standings());
    }
  });

  it('the budget: configurations reaching each rung (expected and at most), and the environment steps per seed', () => {
    expect(schedulerBudget(ASHA, 27)).to.deep.equal([
      {
        bracket: 0,
        rungs: [
          { step: 1000, expected: 27, atMost: 27 },
          { step: 3000, expected: 9, atMost: 25 },
          { step: 9000, expected: 3, atMost: 23 },
        ],
        expectedSteps: 27 * 1000 + 9 * 2000 + 3 * 6000,
        maxSteps: 27 * 1000 + 25 * 2000 + 23 * 6000,
      },
    ]);
    const hyperband = schedulerBudget({ type: 'hyperband', minSteps: 1000, maxSteps: 9000, eta: 3, brackets: 2 }, 7);
    expect(hyperband.map((bracket) => bracket.rungs.map((rung) => rung.expected))).to.deep.equal([
      [4, 1, 0],
      [3, 1],
    ]);
  });

  it('the maximum bounds what a simulated search spends, and improving configurations reach it', () => {
    const spent = (events: SchedulerEvent[]): number => {
      let total = 0;
      const reached = new Map<number, number>();
      for (const event of events) {
        if (event.type !== 'result') continue;
        total += event.step - (reached.get(event.configIndex) ?? 0);
        reached.set(event.configIndex, event.step);
      }
      return total;
    };
    for (const configurations of [5, 9, 20]) {
      const budget = schedulerBudget(ASHA, configurations)[0]!;
      expect(spent(simulate(ASHA, configurations, (configIndex) => (configIndex * 37) % 11))).to.be.at.most(budget.maxSteps);
      // Each newcomer better than all before it: the worst case.
      expect(spent(simulate(ASHA, configurations, (configIndex) => configIndex))).to.equal(budget.maxSteps);
    }
  });
});
