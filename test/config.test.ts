import { expect } from 'chai';
import { ConfigError, configToHparams, configToMarkdown, configWarnings, defaultRunConfig, mergeConfig, resolveConfig, runConfigKeys } from '../src/train/config.js';
import { inexactIntegerReason, numberFromText } from '../src/util/numbers.js';
import { repeatedFlag } from '../src/util/yargs.js';

describe('RunConfig', () => {
  it('defaults reproduce the Toptal tutorial run.py', () => {
    const config = defaultRunConfig();
    expect(config).to.include({
      env: 'MountainCar-v0',
      gamma: 0.99,
      learningRate: 0.001,
      batchSize: 64,
      targetUpdateEvery: 1000,
      trainStart: 2000,
      bufferSize: 50000,
      steps: 200000,
      logEvery: 2000,
      snapshotEvery: 50000,
      evalEvery: 20000,
      evalSteps: 10000,
      evalEpsilon: 0,
      trainEpsilon: 0.01,
      qValidationSize: 10000,
      clipNorm: 1,
      loss: 'mse',
      activation: 'relu',
      trainFrequency: 1,
      gradientSteps: 1,
      tau: 1,
      epsilonSchedule: 'constant',
    });
    expect(config.hiddenLayers).to.deep.equal([32, 32]);
  });

  it('defaults are fresh copies', () => {
    const a = defaultRunConfig();
    a.hiddenLayers.push(7);
    expect(defaultRunConfig().hiddenLayers).to.deep.equal([32, 32]);
  });

  it('layers merge in order: defaults < file < flags', () => {
    const config = resolveConfig({ values: { learningRate: 0.01, gamma: 0.9 }, source: 'trial.json' }, { values: { gamma: 0.95 }, source: 'command line' });
    expect(config.learningRate).to.equal(0.01);
    expect(config.gamma).to.equal(0.95);
    expect(config.batchSize).to.equal(64);
  });

  it('names an unknown key and suggests the nearest one', () => {
    expect(() => mergeConfig(defaultRunConfig(), { learnigRate: 0.1 }, 'trial.json')).to.throw(ConfigError, /trial\.json: unknown option "learnigRate" \(did you mean "learningRate"\?\)/);
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

describe('inputs taken as typed (issue 20, section 4)', () => {
  it('an integer literal beyond 2^53 is named as typed; the largest exact ones pass', () => {
    expect(inexactIntegerReason('9007199254740991')).to.equal(undefined);
    expect(inexactIntegerReason('-9007199254740991')).to.equal(undefined);
    expect(inexactIntegerReason('9007199254740992')).to.match(/^9007199254740992 is beyond the largest integer/);
    expect(inexactIntegerReason('-9007199254740993')).to.match(/it would be read as -9007199254740992\)$/);
    expect(inexactIntegerReason('1e300')).to.equal(undefined); // a float literal, read as the float it is
    expect(numberFromText('0.5')).to.equal(0.5);
    expect(numberFromText('9007199254740993')).to.equal('9007199254740993');
    expect(numberFromText('abc')).to.equal('abc');
    expect(numberFromText(' ')).to.equal(' ');
  });

  it('finds a flag given twice in any spelling, except the repeatable ones', () => {
    expect(repeatedFlag(['--steps', '1', '--gamma', '0.9'])).to.equal(undefined);
    expect(repeatedFlag(['--train-start', '1', '--trainStart=2'])).to.equal('--trainStart');
    expect(repeatedFlag(['--eval-gif', '--no-eval-gif'])).to.equal('--eval-gif');
    expect(repeatedFlag(['--sbatch-arg=a', '--sbatch-arg=b'], ['sbatch-arg'])).to.equal(undefined);
    expect(repeatedFlag(['--', '--x', '--x'])).to.equal(undefined);
  });

  it('warns when no gradient step or no target update would happen, and only then', () => {
    const config = (values: Record<string, unknown>) => resolveConfig({ values, source: 'test' });
    expect(configWarnings(defaultRunConfig())).to.deep.equal([]);
    expect(configWarnings(config({ steps: 1999 })))
      .to.have.length(1)
      .and.to.match(/steps \(1999\) < trainStart \(2000\)/);
    // steps == trainStart trains once and updates the target at step 2000.
    expect(configWarnings(config({ steps: 2000 }))).to.deep.equal([]);
    expect(configWarnings(config({ steps: 2500, targetUpdateEvery: 3000 }))[0]).to.match(/target network is never updated/);
    expect(configWarnings(config({ steps: 2999, trainStart: 0, batchSize: 64, targetUpdateEvery: 3000 }))[0]).to.match(/never updated/);
    expect(configWarnings(config({ steps: 3000, trainStart: 0, targetUpdateEvery: 3000 }))).to.deep.equal([]);
  });
});
