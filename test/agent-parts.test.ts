import { expect } from 'chai';
import { ReplayBuffer } from '../src/agent/replay-buffer.js';
import { epsilonSchedule } from '../src/agent/schedules.js';
import { Rng, deriveSeed } from '../src/util/random.js';
import { defaultRunConfig } from '../src/train/config.js';

describe('ReplayBuffer', () => {
  it('wraps around at capacity and keeps the newest transitions', () => {
    const buffer = new ReplayBuffer(3, 2);
    for (let i = 0; i < 5; i++) buffer.add([i, -i], i % 3, i * 10, [i + 1, -i - 1], i === 4);
    expect(buffer.size).to.equal(3);
    const batch = buffer.allocateBatch(200);
    buffer.sample(new Rng(1), batch);
    const seen = new Set<number>();
    for (let b = 0; b < batch.size; b++) {
      const first = batch.states[b * 2]!;
      seen.add(first);
      // Every field of a sampled row comes from the same transition.
      expect(batch.states[b * 2 + 1]).to.equal(-first);
      expect(batch.nextStates[b * 2]).to.equal(first + 1);
      expect(batch.actions[b]).to.equal(first % 3);
      expect(batch.rewards[b]).to.equal(first * 10);
      expect(batch.terminals[b]).to.equal(first === 4 ? 1 : 0);
    }
    expect([...seen].sort()).to.deep.equal([2, 3, 4]);
  });

  it('samples uniformly', () => {
    const buffer = new ReplayBuffer(10, 1);
    for (let i = 0; i < 10; i++) buffer.add([i], 0, 0, [i], false);
    const counts = new Array(10).fill(0);
    const batch = buffer.allocateBatch(1000);
    const rng = new Rng(7);
    for (let round = 0; round < 20; round++) {
      buffer.sample(rng, batch);
      for (let b = 0; b < batch.size; b++) counts[batch.states[b]!]++;
    }
    for (const c of counts) expect(c).to.be.within(1700, 2300);
  });

  it('refuses to sample when empty', () => {
    const buffer = new ReplayBuffer(4, 2);
    expect(() => buffer.sample(new Rng(0), buffer.allocateBatch(2))).to.throw(/empty/);
  });
});

describe('epsilon schedules', () => {
  const base = { ...defaultRunConfig(), steps: 1000, trainEpsilon: 0.05, epsilonStart: 1, epsilonFraction: 0.5, epsilonDecay: 0.99 };
  it('constant', () => {
    const at = epsilonSchedule({ ...base, epsilonSchedule: 'constant' });
    expect(at(1)).to.equal(0.05);
    expect(at(1000)).to.equal(0.05);
  });
  it('linear from start to end over the fraction', () => {
    const at = epsilonSchedule({ ...base, epsilonSchedule: 'linear' });
    expect(at(1)).to.equal(1);
    expect(at(251)).to.be.closeTo(0.525, 1e-12);
    expect(at(501)).to.be.closeTo(0.05, 1e-12);
    expect(at(1000)).to.be.closeTo(0.05, 1e-12);
  });
  it('exponential with a floor', () => {
    const at = epsilonSchedule({ ...base, epsilonSchedule: 'exponential' });
    expect(at(1)).to.equal(1);
    expect(at(11)).to.be.closeTo(0.99 ** 10, 1e-12);
    expect(at(100000)).to.equal(0.05);
  });
});

describe('Rng', () => {
  it('is reproducible and restores its state exactly', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 10; i++) expect(a.nextUint32()).to.equal(b.nextUint32());
    const saved = a.getState();
    const expected = [a.nextFloat(), a.nextInt(7), a.normal()];
    const c = new Rng(0);
    c.setState(saved);
    expect([c.nextFloat(), c.nextInt(7), c.normal()]).to.deep.equal(expected);
  });
  it('draws floats in [0,1) with a sensible mean, and ints in range', () => {
    const rng = new Rng(3);
    let sum = 0;
    for (let i = 0; i < 100000; i++) {
      const x = rng.nextFloat();
      expect(x >= 0 && x < 1).to.equal(true);
      sum += x;
    }
    expect(sum / 100000).to.be.closeTo(0.5, 0.01);
    for (let i = 0; i < 1000; i++) expect(rng.nextInt(3)).to.be.oneOf([0, 1, 2]);
  });
  it('derives different seeds for different streams', () => {
    expect(deriveSeed(1, 'env')).to.not.equal(deriveSeed(1, 'explore'));
    expect(deriveSeed(1, 'env')).to.not.equal(deriveSeed(2, 'env'));
    expect(deriveSeed(1, 'env')).to.equal(deriveSeed(1, 'env'));
  });
});
