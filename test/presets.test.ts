import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseSweepSpec } from '../src/sweep/spec.js';
import { expandSweep } from '../src/sweep/expand.js';

describe('tuned presets (sweeps/presets/, npm run benchmark:learning)', () => {
  const budgets: Record<string, [string, number]> = {
    mountaincar: ['MountainCar-v0', 120_000],
    cartpole: ['CartPole-v1', 50_000],
    acrobot: ['Acrobot-v1', 100_000],
  };
  for (const [name, [env, steps]] of Object.entries(budgets)) {
    it(`${name}.yaml: one configuration x 5 seeds within the budget, a final evaluation of >= 20 episodes`, () => {
      const file = `sweeps/presets/${name}.yaml`;
      const spec = parseSweepSpec(readFileSync(file, 'utf8'), file);
      expect(spec.method).to.equal('grid');
      expect(spec.seeds).to.deep.equal([0, 1, 2, 3, 4]);
      expect(spec.metric).to.deep.equal({ name: 'eval/return_mean', goal: 'maximize', summary: 'final' });
      const trials = expandSweep(spec, { sweepDir: `runs/${spec.name}` });
      expect(trials).to.have.length(5);
      for (const trial of trials) {
        expect(trial.config.env).to.equal(env);
        expect(trial.config.steps).to.be.at.most(steps);
        expect(trial.config.evalEpisodes).to.be.at.least(20);
        expect(trial.config.steps % trial.config.evalEvery).to.equal(0);
      }
    });
  }
});
