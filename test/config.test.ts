import { expect } from 'chai';
import {
  ConfigError, configToHparams, configToMarkdown, defaultRunConfig, mergeConfig, resolveConfig, runConfigKeys,
} from '../src/train/config.js';

describe('RunConfig', () => {
  it('defaults reproduce the Toptal tutorial run.py', () => {
    const config = defaultRunConfig();
    expect(config).to.include({
      env: 'MountainCar-v0', gamma: 0.99, learningRate: 0.001, batchSize: 64, targetUpdateEvery: 1000, trainStart: 2000,
      bufferSize: 50000, steps: 200000, logEvery: 2000, snapshotEvery: 50000, evalEvery: 20000, evalSteps: 10000,
      evalEpsilon: 0, trainEpsilon: 0.01, qValidationSize: 10000, clipNorm: 1, loss: 'mse', activation: 'relu',
      trainFrequency: 1, gradientSteps: 1, tau: 1, epsilonSchedule: 'constant',
    });
    expect(config.hiddenLayers).to.deep.equal([32, 32]);
  });

  it('defaults are fresh copies', () => {
    const a = defaultRunConfig();
    a.hiddenLayers.push(7);
    expect(defaultRunConfig().hiddenLayers).to.deep.equal([32, 32]);
  });

  it('layers merge in order: defaults < file < flags', () => {
    const config = resolveConfig(
      { values: { learningRate: 0.01, gamma: 0.9 }, source: 'trial.json' },
      { values: { gamma: 0.95 }, source: 'command line' },
    );
    expect(config.learningRate).to.equal(0.01);
    expect(config.gamma).to.equal(0.95);
    expect(config.batchSize).to.equal(64);
  });

  it('names an unknown key and suggests the nearest one', () => {
    expect(() => mergeConfig(defaultRunConfig(), { learnigRate: 0.1 }, 'trial.json'))
      .to.throw(ConfigError, /trial\.json: unknown option "learnigRate" \(did you mean "learningRate"\?\)/);
    expect(() => mergeConfig(defaultRunConfig(), { zzzzzzzz: 1 }, 'x.json')).to.throw(/unknown option "zzzzzzzz"\. Valid options/);
  });

  const badValues: Array<[Record<string, unknown>, RegExp]> = [
    [{ learningRate: -1 }, /"learningRate" must be a finite number > 0, got -1/],
    [{ learningRate: 'fast' }, /"learningRate" must be a number, got "fast"/],
    [{ steps: 1.5 }, /"steps" must be an integer, got 1.5/],
    [{ gamma: 1.5 }, /"gamma" must be <= 1, got 1.5/],
    [{ loss: 'l1' }, /"loss" must be one of mse, huber, got "l1"/],
    [{ hiddenLayers: [32, 0] }, /"hiddenLayers"\[1\] must be >= 1/],
    [{ hiddenLayers: 32 }, /"hiddenLayers" must be a list of positive integers/],
    [{ doubleDqn: 'yes' }, /"doubleDqn" must be a boolean, got "yes"/],
    [{ batchSize: 128, bufferSize: 100 }, /batchSize \(128\) must not exceed bufferSize \(100\)/],
    [{ trainStart: 10 }, /trainStart \(10\) must be 0 or at least batchSize \(64\)/],
    [{ env: 'MountainCar-v1' }, /"env" "MountainCar-v1" is not a known environment \(did you mean "MountainCar-v0"\?\); known: MountainCar-v0/],
    [{ name: '../escape' }, /name "\.\.\/escape" must be a relative folder name/],
  ];
  for (const [values, message] of badValues) {
    it(`rejects ${JSON.stringify(values)} with a clear message`, () => {
      expect(() => resolveConfig({ values, source: 'trial.json' })).to.throw(ConfigError, message);
    });
  }

  it('gives hparams for every option but the output ones (location, checkpoints kept), lists as strings', () => {
    const hparams = configToHparams(defaultRunConfig());
    expect(Object.keys(hparams)).to.have.length(runConfigKeys.length - 4);
    expect(hparams).to.not.have.property('keepCheckpoints');
    expect(hparams.hiddenLayers).to.equal('32x32');
    expect(hparams.learningRate).to.equal(0.001);
    expect(hparams).to.not.have.property('logdir');
  });

  it('renders a markdown table of every option', () => {
    const markdown = configToMarkdown(defaultRunConfig());
    expect(markdown.split('\n')).to.have.length(runConfigKeys.length + 2);
    expect(markdown).to.contain('| learningRate | 0.001 |');
  });
});
