import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { envIds, envSpec, makeEnv, type Env } from '../src/envs/index.js';
import { fusedMultiplyAdd, libmCos, libmSin } from '../src/envs/libm-trig.js';
import { FRAME_HEIGHT, FRAME_WIDTH } from '../src/envs/render-text.js';

/** Layout of shared/reference/gymnasium-classic-control.json (recorded with Gymnasium 1.4.0). */
interface ReferenceEpisode {
  policy: string;
  initial_state: number[];
  initial_observation: number[];
  actions: number[];
  observations: number[][];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
}
interface ReferenceFile {
  source: string;
  envs: Record<string, { max_episode_steps: number; reward_threshold: number; episodes: ReferenceEpisode[] }>;
}

const REFERENCE_URL = new URL('../../shared/reference/gymnasium-classic-control.json', import.meta.url);
const OBSERVATION_TOLERANCE = 1e-6;

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    expect(error, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`).to.be.at.most(OBSERVATION_TOLERANCE);
  }
}

/** Steps until the episode ends; returns the number of steps taken. */
function runToEnd(env: Env, policy: (step: number) => number): number {
  for (let step = 0; ; step++) {
    const result = env.step(policy(step));
    if (result.terminated || result.truncated) return step + 1;
  }
}

/** A state well inside the non-terminal region of each env. */
const CALM_STATES: Record<string, number[]> = {
  'MountainCar-v0': [-0.5, 0],
  'CartPole-v0': [0, 0, 0, 0],
  'CartPole-v1': [0, 0, 0, 0],
  'Acrobot-v1': [0, 0, 0, 0],
};

describe('envs', () => {
  describe('conformance with Gymnasium (shared/reference)', () => {
    const reference = JSON.parse(readFileSync(REFERENCE_URL, 'utf8')) as ReferenceFile;

    it('covers every registered env', () => {
      expect(Object.keys(reference.envs).sort()).to.deep.equal([...envIds].sort());
    });

    for (const [id, recorded] of Object.entries(reference.envs)) {
      describe(id, () => {
        it('has the registered time limit and reward threshold', () => {
          const env = makeEnv(id);
          expect(env.maxEpisodeSteps).to.equal(recorded.max_episode_steps);
          expect(env.rewardThreshold).to.equal(recorded.reward_threshold);
        });

        it('declares observation bounds that hold every recorded observation', () => {
          const env = makeEnv(id);
          for (const episode of recorded.episodes) {
            for (const observation of [episode.initial_observation, ...episode.observations]) {
              observation.forEach((value, i) => {
                // Gymnasium's bounds are float32: -1.2 is stored as -1.2000000476837158.
                expect(value, `component ${i}`).to.be.within(Math.fround(env.observationLow[i]!), Math.fround(env.observationHigh[i]!));
              });
            }
          }
        });

        recorded.episodes.forEach((episode, index) => {
          it(`replays episode ${index} (${episode.policy}, ${episode.actions.length} steps)`, () => {
            const env = makeEnv(id);
            const initial = env.reset({ state: episode.initial_state });
            expectClose(initial, episode.initial_observation, 'initial observation');
            episode.actions.forEach((action, t) => {
              const result = env.step(action);
              expectClose(result.observation, episode.observations[t]!, `step ${t} observation`);
              expect(result.reward, `step ${t} reward`).to.equal(episode.rewards[t]);
              expect(result.terminated, `step ${t} terminated`).to.equal(episode.terminated[t]);
              expect(result.truncated, `step ${t} truncated`).to.equal(episode.truncated[t]);
            });
            expect(() => env.step(episode.actions[0]!), 'the recorded episode ended').to.throw(/after the episode ended/);
          });
        });
      });
    }
  });

  describe('registry', () => {
    it('lists the four classic-control ids', () => {
      expect(envIds).to.deep.equal(['MountainCar-v0', 'CartPole-v0', 'CartPole-v1', 'Acrobot-v1']);
    });

    it('envSpec agrees with the constructed env', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        const { observationSize, actionCount, maxEpisodeSteps, rewardThreshold, observationLow, observationHigh } = env;
        expect(envSpec(id)).to.deep.equal({ id, observationSize, actionCount, maxEpisodeSteps, rewardThreshold, observationLow, observationHigh });
        expect(observationLow).to.have.length(observationSize);
        expect(observationHigh).to.have.length(observationSize);
      }
      expect(envSpec('Acrobot-v1')).to.include({ observationSize: 6, actionCount: 3, maxEpisodeSteps: 500, rewardThreshold: -100 });
      expect(envSpec('MountainCar-v0')).to.include({ observationSize: 2, actionCount: 3, maxEpisodeSteps: 200, rewardThreshold: -110 });
    });

    it('rejects an unknown id, listing the known ones and suggesting the nearest', () => {
      for (const call of [() => makeEnv('CartPole-v2'), () => envSpec('CartPole-v2')]) {
        expect(call).to.throw(Error, /Unknown env id "CartPole-v2"/);
        expect(call).to.throw(/Did you mean "CartPole-v[01]"\?/);
        expect(call).to.throw(/MountainCar-v0, CartPole-v0, CartPole-v1, Acrobot-v1/);
      }
      expect(() => makeEnv('acrobot-v1')).to.throw(/Did you mean "Acrobot-v1"\?/);
      expect(() => makeEnv('Breakout-ram-v4')).to.throw(/Known ids: .*Acrobot-v1/);
    });
  });

  describe('reset', () => {
    it('is reproducible for a seed and differs between seeds', () => {
      for (const id of envIds) {
        const first = makeEnv(id).reset({ seed: 42 });
        const again = makeEnv(id).reset({ seed: 42 });
        const other = makeEnv(id).reset({ seed: 43 });
        expect(Array.from(again), id).to.deep.equal(Array.from(first));
        expect(Array.from(other), id).to.not.deep.equal(Array.from(first));
      }
    });

    it('continues the generator when no seed is given', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        const seeded = Array.from(env.reset({ seed: 7 }));
        const next = Array.from(env.reset());
        expect(next, id).to.not.deep.equal(seeded);
        const replay = makeEnv(id);
        replay.reset({ seed: 7 });
        expect(Array.from(replay.reset()), id).to.deep.equal(next);
      }
    });

    it("draws initial states from Gymnasium's distributions", () => {
      const draws = 300;
      const mountainCar = makeEnv('MountainCar-v0');
      const cartPole = makeEnv('CartPole-v1');
      const acrobot = makeEnv('Acrobot-v1');
      mountainCar.reset({ seed: 1 });
      cartPole.reset({ seed: 1 });
      acrobot.reset({ seed: 1 });
      const positions: number[] = [];
      for (let i = 0; i < draws; i++) {
        const [position, velocity] = mountainCar.reset();
        expect(position).to.be.within(-0.6, -0.4);
        expect(velocity).to.equal(0);
        positions.push(position!);
        for (const value of cartPole.reset()) expect(value).to.be.within(-0.05, 0.05);
        const observation = acrobot.reset();
        const { state } = acrobot.getState();
        for (const value of state) {
          expect(value).to.be.within(-0.1, 0.1);
          expect(Math.fround(value), 'Gymnasium casts the draw to float32').to.equal(value);
        }
        expectClose(observation, [Math.cos(state[0]!), Math.sin(state[0]!), Math.cos(state[1]!), Math.sin(state[1]!), state[2]!, state[3]!], 'acrobot observation');
      }
      // Spread over the interval, not stuck at one value.
      expect(Math.min(...positions)).to.be.below(-0.58);
      expect(Math.max(...positions)).to.be.above(-0.42);
    });

    it('starts from an exact given state and validates it', () => {
      const env = makeEnv('CartPole-v1');
      const state = [0.1, -0.2, 0.03, 0.4];
      const observation = env.reset({ state });
      expect(env.getState().state).to.deep.equal(state);
      expect(Array.from(observation)).to.deep.equal(state.map(Math.fround));
      expect(() => env.reset({ state: [0, 0] })).to.throw(/CartPole-v1: state must have 4 values, got 2/);
      expect(() => env.reset({ state: [0, Number.NaN, 0, 0] })).to.throw(/state\[1\] must be a finite number/);
    });
  });

  describe('episodes', () => {
    it('truncates at the time limit, not before', () => {
      // Coasting MountainCar never reaches the flag; an unactuated Acrobot hangs still.
      const mountainCar = makeEnv('MountainCar-v0');
      mountainCar.reset({ seed: 3 });
      expect(runToEnd(mountainCar, () => 1)).to.equal(200);
      const acrobot = makeEnv('Acrobot-v1');
      acrobot.reset({ state: [0, 0, 0, 0] });
      expect(runToEnd(acrobot, () => 1)).to.equal(500);

      for (const id of envIds) {
        const env = makeEnv(id);
        env.reset({ state: CALM_STATES[id]! });
        env.setState({ ...env.getState(), elapsedSteps: env.maxEpisodeSteps - 1 });
        const last = env.step(0);
        expect(last.truncated, id).to.equal(true);
        expect(last.terminated, id).to.equal(false);
      }
    });

    it('flags termination without truncation', () => {
      const cartPole = makeEnv('CartPole-v0');
      cartPole.reset({ state: [0, 0, 0.2, 0.5] }); // already leaning past 12 degrees next step
      const fallen = cartPole.step(1);
      expect(fallen).to.include({ terminated: true, truncated: false, reward: 1 });

      const mountainCar = makeEnv('MountainCar-v0');
      mountainCar.reset({ state: [0.49, 0.05] });
      expect(mountainCar.step(2)).to.include({ terminated: true, truncated: false, reward: -1 });
    });

    it('refuses to step before the first reset and after the episode ended', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        expect(() => env.step(0)).to.throw(new RegExp(`^${id}: step\\(\\) called before the first reset\\(\\)`));
        env.reset({ seed: 0 });
        env.setState({ ...env.getState(), elapsedSteps: env.maxEpisodeSteps - 1 });
        env.step(0);
        expect(() => env.step(0)).to.throw(new RegExp(`^${id}: step\\(\\) called after the episode ended`));
        env.reset();
        expect(() => env.step(0)).to.not.throw();
      }
      const cartPole = makeEnv('CartPole-v1');
      cartPole.reset({ state: [2.39, 1, 0, 0] });
      expect(cartPole.step(1).terminated).to.equal(true);
      expect(() => cartPole.step(1)).to.throw(/after the episode ended/);
    });

    it('rejects invalid actions with the env, the value and the valid range', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        env.reset({ seed: 0 });
        const last = env.actionCount - 1;
        for (const bad of [-1, env.actionCount, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expect(() => env.step(bad), `${id} ${bad}`).to.throw(RangeError, `${id}: invalid action ${bad}; expected an integer in [0, ${last}]`);
        }
        expect(() => env.step('1' as unknown as number)).to.throw(RangeError, /invalid action 1/);
        expect(() => env.step(last), 'a rejected action leaves the episode usable').to.not.throw();
      }
    });

    it('returns a fresh observation array on every step', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        const initial = env.reset({ seed: 5 });
        const first = env.step(0).observation;
        const second = env.step(0).observation;
        expect(first).to.be.instanceOf(Float32Array).and.have.length(env.observationSize);
        expect(first).to.not.equal(second);
        expect(first).to.not.equal(initial);
      }
    });
  });

  describe('stepInto / resetInto (allocation-free)', () => {
    it('give exactly what step / reset give', () => {
      for (const id of envIds) {
        const viaStep = makeEnv(id);
        const viaInto = makeEnv(id);
        const observation = new Float32Array(viaInto.observationSize);
        let expected = viaStep.reset({ seed: 9 });
        viaInto.resetInto(observation, { seed: 9 });
        for (let i = 0; i < 1200; i++) {
          expect(Array.from(observation), `${id} step ${i}`).to.deep.equal(Array.from(expected));
          const action = (i * 5 + (i >> 3)) % viaStep.actionCount;
          const result = viaStep.step(action);
          const status = viaInto.stepInto(action, observation);
          expect({ reward: status.reward, terminated: status.terminated, truncated: status.truncated }, `${id} step ${i}`).to.deep.equal({
            reward: result.reward,
            terminated: result.terminated,
            truncated: result.truncated,
          });
          expected = result.observation;
          if (result.terminated || result.truncated) {
            expected = viaStep.reset();
            viaInto.resetInto(observation);
          }
        }
      }
    });

    it("reuse the caller's array and the env's status object", () => {
      const env = makeEnv('CartPole-v1');
      const observation = new Float32Array(4);
      env.resetInto(observation, { seed: 1 });
      const first = env.stepInto(0, observation);
      const second = env.stepInto(1, observation);
      expect(second).to.equal(first);
      expect(() => env.stepInto(0, new Float32Array(3))).to.throw(RangeError, /observation array has 3 values, expected 4/);
      expect(() => env.resetInto(new Float32Array(2))).to.throw(RangeError, /expected 4/);
    });
  });

  describe('getState / setState', () => {
    it('restores an env exactly, generator included, through JSON', () => {
      for (const id of envIds) {
        const original = makeEnv(id);
        original.reset({ seed: 11 });
        for (let i = 0; i < 17; i++) original.step(i % original.actionCount);
        const snapshot = JSON.parse(JSON.stringify(original.getState())) as ReturnType<Env['getState']>;

        const restored = makeEnv(id);
        restored.setState(snapshot);
        expect(restored.getState(), id).to.deep.equal(original.getState());
        for (let i = 0; i < 40; i++) {
          const action = (i * 7) % original.actionCount;
          const expected = original.step(action);
          const actual = restored.step(action);
          expect(actual, `${id} step ${i}`).to.deep.equal(expected);
          if (expected.terminated || expected.truncated) {
            expect(Array.from(restored.reset())).to.deep.equal(Array.from(original.reset()));
          }
        }
        // The generator continued identically too.
        expect(Array.from(restored.reset())).to.deep.equal(Array.from(original.reset()));
      }
    });

    it('returns a copy and validates what it restores', () => {
      const env = makeEnv('MountainCar-v0');
      env.reset({ state: [-0.5, 0.01] });
      const snapshot = env.getState();
      snapshot.state[0] = 0.3;
      expect(env.getState().state).to.deep.equal([-0.5, 0.01]);
      expect(snapshot).to.include({ elapsedSteps: 0, needsReset: false });
      expect(() => env.setState({ ...snapshot, state: [1, 2, 3] })).to.throw(/state must have 2 values/);
      expect(() => env.setState({ ...snapshot, elapsedSteps: 201 })).to.throw(/elapsedSteps must be an integer in \[0, 200\]/);
      expect(() => env.setState({ ...snapshot, rngState: [1, 2] })).to.throw(/expected 4 words/);
    });
  });

  describe('renderText', () => {
    it('draws a fixed-size plain ASCII frame for every env', () => {
      for (const id of envIds) {
        const env = makeEnv(id);
        env.reset({ seed: 2 });
        for (let i = 0; i < 30; i++) {
          const frame = env.renderText!();
          const lines = frame.split('\n');
          expect(lines, id).to.have.length(FRAME_HEIGHT);
          for (const line of lines) {
            expect(line, id).to.have.length(FRAME_WIDTH);
            expect(line, id).to.match(/^[\x20-\x7e]*$/);
          }
          expect(lines.filter((line) => line.trim() !== '').length, id).to.be.at.least(3);
          const result = env.step(i % env.actionCount);
          if (result.terminated || result.truncated) env.reset();
        }
      }
    });

    it('shows the moving parts', () => {
      const mountainCar = makeEnv('MountainCar-v0');
      mountainCar.reset({ state: [-0.5, 0] });
      expect(mountainCar.renderText!()).to.include('@').and.include('>');
      const cartPole = makeEnv('CartPole-v1');
      cartPole.reset({ state: [0, 0, 0, 0] });
      expect(cartPole.renderText!()).to.include('[===]').and.include('|');
      const acrobot = makeEnv('Acrobot-v1');
      acrobot.reset({ state: [Math.PI / 2, 0, 0, 0] });
      const frame = acrobot.renderText!();
      expect(frame).to.include('O').and.include('*');
      // Both links horizontal, to the right of the pivot, on the pivot's line.
      const pivotLine = frame.split('\n').find((line) => line.includes('O'))!;
      expect(pivotLine.indexOf('*')).to.be.greaterThan(pivotLine.indexOf('O'));
    });
  });

  describe('libm-compatible sin and cos', () => {
    // Values from glibc 2.36 (x86-64, FMA) where V8's Math.sin/Math.cos differ by an ulp,
    // one argument per code path: polynomial, table, pi/2 - |x|, reduction by pi/2.
    const glibcValues: [string, number, number][] = [
      ['sin', 0.1258079698789667, 0.1254763584323206],
      ['sin', -0.12309462090560175, -0.1227839955226465],
      ['cos', 0.07360045783351787, 0.9972927087570017],
      ['cos', 0.09030802662935511, 0.9959250007776727],
      ['sin', -0.3022165360664151, -0.2976370167612889],
      ['cos', -0.34430752832765565, 0.9413094185756338],
      ['sin', -0.2628495824825571, -0.25983331235649115],
      ['sin', -1.677634199343927, -0.9942982610525671],
      ['sin', 1.781949932328709, 0.9777897834989472],
      ['cos', 1.325032061771993, 0.24329769590258682],
      ['cos', 1.6734614088535573, -0.10248482671558609],
      ['sin', 3.9463840944886774, -0.7206860726670484],
      ['cos', -2.48836736455024, -0.794127760228808],
      ['sin', -2.848707762474314, -0.2887154605815237],
      ['sin', 14.908001578718128, 0.7173293990031767],
      ['cos', -16.475966284848774, -0.7192994075015432],
      ['sin', -29.196379894039993, 0.7968394690605979],
      // glibc's own rounding (0.5006 ulp), which a correctly rounded cos would not give.
      ['cos', 0.24729018364184452, 0.9695792827755128],
    ];

    it('reproduces glibc bit for bit', () => {
      for (const [name, x, expected] of glibcValues) {
        const actual = name === 'sin' ? libmSin(x) : libmCos(x);
        expect(actual, `${name}(${x})`).to.equal(expected);
      }
    });

    it('handles the edge arguments', () => {
      expect(libmSin(0)).to.equal(0);
      expect(Object.is(libmSin(-0), -0)).to.equal(true);
      expect(libmCos(0)).to.equal(1);
      expect(libmSin(1e-10)).to.equal(1e-10);
      expect(libmCos(Math.PI)).to.equal(-1);
      expect(libmSin(Number.NaN)).to.be.NaN;
      expect(libmCos(Number.POSITIVE_INFINITY)).to.be.NaN;
      expect(libmSin(1e9)).to.equal(Math.sin(1e9)); // beyond the reduction range
    });

    it('stays within an ulp of Math.sin/Math.cos', () => {
      for (let i = -2000; i <= 2000; i++) {
        const x = i * 0.01234567;
        for (const [ours, v8] of [
          [libmSin(x), Math.sin(x)],
          [libmCos(x), Math.cos(x)],
        ] as const) {
          expect(Math.abs(ours - v8), `x = ${x}`).to.be.at.most(Number.EPSILON * Math.max(Math.abs(v8), 2 ** -1022));
        }
      }
    });

    it('emulates a fused multiply-add with one rounding', () => {
      // 0.1 * 10 is 1 + 2^-54 exactly; plain arithmetic rounds it to 1 first.
      expect(fusedMultiplyAdd(0.1, 10, -1)).to.equal(2 ** -54);
      expect(0.1 * 10 - 1).to.equal(0);
      // (1 + 2^-52)^2 - 1 = 2^-51 + 2^-104 is a tie, resolved to even; 2^-50 + 3 * 2^-104 rounds up.
      expect(fusedMultiplyAdd(1 + 2 ** -52, 1 + 2 ** -52, -1)).to.equal(2 ** -51);
      expect(fusedMultiplyAdd(1 + 2 ** -52, 1 + 3 * 2 ** -52, -1)).to.equal(2 ** -50 + 2 ** -102);
      expect(fusedMultiplyAdd(1 + 2 ** -52, 1 - 2 ** -52, -1)).to.equal(-(2 ** -104));
      // 1 + 2^-52 + 2^-53 - 2^-111: just below a tie. Adding the low parts with an ordinary
      // rounding lands on the tie and rounds up to 1 + 2^-51; rounding to odd keeps it below.
      expect(fusedMultiplyAdd(1 + 2 ** -29, 2 ** -53 * (1 - 2 ** -29), 1 + 2 ** -52)).to.equal(1 + 2 ** -52);
      expect(fusedMultiplyAdd(3, 5, 7)).to.equal(22);
    });
  });
});
