/**
 * The catalogue of bad inputs: each one must fail (non-zero exit) with a message that
 * names the file, the field and the value at fault, and leave the runs folder exactly
 * as it was.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memoryOutput } from '../src/train/console.js';
import { runCli } from '../src/train/cli.js';
import { sweepMain } from '../src/cli/sweep-commands.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-bad-'));
const logdir = path.join(tmp, 'runs');
const file = (name: string): string => path.join(tmp, name);

/** A fingerprint of every file under the runs folder: names, sizes and contents. */
function fingerprint(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const hash = createHash('sha256');
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, name);
    hash.update(name);
    if (statSync(full).isFile()) hash.update(readFileSync(full));
  }
  return hash.digest('hex');
}

async function run(...args: string[]): Promise<{ code: number; text: string }> {
  const output = memoryOutput();
  const code = await runCli(args, output);
  return { code, text: output.lines.join('\n') };
}

async function sweep(...args: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const stdout = Object.assign(new PassThrough(), { isTTY: false, columns: 100 });
  const code = await sweepMain(args, { out: (t) => lines.push(t), err: (t) => lines.push(t), stdout });
  return { code, text: lines.join('\n') };
}

const GOOD_SWEEP = [
  'name: bad', 'method: grid', 'seeds: [0]', 'parameters:', '  env: { value: CartPole-v1 }', '  steps: { value: 300 }',
  '  learningRate: { values: [0.001, 0.002] }',
].join('\n');

/** A sweep file: the good one with `changes` replacing whole lines that start the same way, or appended. */
function sweepFile(name: string, text: string | Buffer): string {
  const target = file(name);
  writeFileSync(target, text);
  return target;
}
const withLine = (line: string): string => `${GOOD_SWEEP}\n${line}\n`;

interface BadInput {
  what: string;
  /** Runs the command; returns its exit code and output. */
  call: () => Promise<{ code: number; text: string }>;
  message: RegExp;
}

const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function catalogue(): BadInput[] {
  const snapshotDir = path.join(tmp, 'snapshot');
  const s = (name: string, text: string | Buffer, ...extra: string[]) => () => sweep('run', sweepFile(name, text), '--logdir', logdir, ...extra);
  const cfg = (name: string, text: string | Buffer) => () => run('--config', sweepFile(name, text), '--logdir', logdir);
  return [
    // Sweep YAML
    { what: 'YAML syntax error', call: s('syntax.yaml', 'name: bad\nparameters:\n  env: { value: CartPole-v1\n'), message: /syntax\.yaml:\d+:\d+: / },
    { what: 'YAML tab indentation', call: s('tabs.yaml', 'name: bad\nparameters:\n\tenv: { value: CartPole-v1 }\n'), message: /tabs\.yaml:3:\d+: / },
    { what: 'unknown top-level key', call: s('topkey.yaml', withLine('methd: grid')), message: /topkey\.yaml:8:1: .*"methd".*did you mean "method"/ },
    { what: 'unknown parameter', call: s('param.yaml', withLine('  learnigRate: { value: 0.1 }')), message: /param\.yaml:8:3: .*"learnigRate".*did you mean "learningRate"/ },
    { what: 'parameter of the wrong type', call: s('type.yaml', withLine('  gamma: { value: "high" }')), message: /type\.yaml:8:\d+: "gamma" must be a number, got "high"/ },
    { what: 'parameter out of range', call: s('range.yaml', withLine('  gamma: { values: [0.9, 1.5] }')), message: /range\.yaml:8:\d+: "gamma" must be <= 1, got 1\.5/ },
    { what: 'continuous distribution in a grid', call: s('grid.yaml', withLine('  gamma: { min: 0.9, max: 0.99, distribution: uniform }')), message: /grid\.yaml:8:\d+: .*gamma.*uniform.*grid/ },
    { what: 'empty values list', call: s('empty.yaml', withLine('  gamma: { values: [] }')), message: /empty\.yaml:8:\d+: .*gamma.*empty|at least one/ },
    { what: 'min above max', call: s('minmax.yaml', `${GOOD_SWEEP.replace('grid', 'random')}\nrun_cap: 4\n  gamma: { min: 0.99, max: 0.9 }\n`), message: /minmax\.yaml:\d+:\d+: / },
    { what: 'unknown method', call: s('method.yaml', GOOD_SWEEP.replace('method: grid', 'method: bayes')), message: /method\.yaml:2:\d+: "method" bayes is not supported; use grid or random/ },
    { what: 'seeds not a list of integers', call: s('seeds.yaml', GOOD_SWEEP.replace('seeds: [0]', 'seeds: [0, "one"]')), message: /seeds\.yaml:3:\d+: "seed" must be an integer, got "one"/ },
    { what: 'concurrency 0', call: s('conc.yaml', withLine('concurrency: 0')), message: /conc\.yaml:8:\d+: .*concurrency.*0/ },
    { what: 'unknown env', call: s('env.yaml', GOOD_SWEEP.replace('CartPole-v1', 'Pong-v0')), message: /env\.yaml:5:\d+: "env" "Pong-v0" is not a known environment/ },
    { what: 'duplicate key', call: s('dup.yaml', withLine('  steps: { value: 400 }')), message: /dup\.yaml:8:3: YAML syntax error: Map keys must be unique/ },
    { what: 'metric goal invalid', call: s('goal.yaml', withLine('metric: { name: eval/return_mean, goal: biggest }')), message: /goal\.yaml:8:\d+: "metric\.goal" must be one of maximize, minimize, got "biggest"/ },
    { what: 'huge grid without --yes', call: s('huge.yaml', withLine('  bufferSize: { min: 1000, max: 9000, distribution: int_uniform }')), message: /huge\.yaml: .*\d{4,} trials.*--yes/ },
    { what: 'q_uniform without q', call: s('q.yaml', withLine('  batchSize: { min: 32, max: 128, distribution: q_uniform }')), message: /q\.yaml:8:\d+: .*\bq\b/ },
    { what: 'missing sweep file', call: () => sweep('run', file('nope.yaml'), '--logdir', logdir), message: new RegExp(`cannot read sweep file ${esc(file('nope.yaml'))}: no such file`) },
    { what: 'a folder instead of a sweep file', call: () => sweep('run', tmp, '--logdir', logdir), message: new RegExp(`cannot read sweep file ${esc(tmp)}: it is a folder`) },
    { what: 'sweep file not UTF-8', call: s('latin1.yaml', Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\n')])), message: /latin1\.yaml is not UTF-8 text \(invalid byte 0xe9 on line 1/ },
    { what: 'empty sweep file', call: s('blank.yaml', ''), message: /blank\.yaml: / },
    { what: 'sweep parameters not a map', call: s('params.yaml', 'name: bad\nparameters: [1, 2]\n'), message: /params\.yaml:2:\d+: .*parameters/ },

    // Command-line flags
    { what: 'misspelled flag', call: () => run('--learnig-rate', '0.1', '--logdir', logdir), message: /unknown flag --learnig-rate \(did you mean --learningRate\?\)/ },
    { what: 'negative learning rate', call: () => run('--learning-rate', '-1', '--logdir', logdir), message: /command line: "learningRate" must be a finite number > 0, got -1/ },
    { what: 'fractional steps', call: () => run('--steps', '1.5', '--logdir', logdir), message: /command line: "steps" must be an integer, got 1\.5/ },
    { what: 'steps not a number', call: () => run('--steps', 'many', '--logdir', logdir), message: /command line: "steps" must be an integer, got (NaN|"many")/ },
    { what: 'unknown env flag', call: () => run('--env', 'Pong-v0', '--logdir', logdir), message: /command line: "env" "Pong-v0" is not a known environment/ },
    { what: 'zero-unit hidden layer', call: () => run('--hidden-layers', '32,0', '--logdir', logdir), message: /command line: "hiddenLayers"\[1\] must be >= 1, got \[32,0\]/ },
    { what: 'unknown loss', call: () => run('--loss', 'l1', '--logdir', logdir), message: /command line: "loss" must be one of mse, huber, got "l1"/ },
    { what: 'batch larger than buffer', call: () => run('--batch-size', '100', '--buffer-size', '50', '--logdir', logdir), message: /batchSize \(100\) must not exceed bufferSize \(50\)/ },
    { what: 'name escaping the logdir', call: () => run('--name', '../outside', '--logdir', logdir), message: /name "\.\.\/outside" must be a relative folder name/ },
    { what: 'stray positional argument', call: () => run('train', '--logdir', logdir), message: /unexpected argument "train"/ },
    { what: '--view without --model', call: () => run('--view', '--logdir', logdir), message: /--view and --eval need --model/ },

    // Config JSON
    { what: 'missing config file', call: () => run('--config', file('none.json'), '--logdir', logdir), message: new RegExp(`cannot read config file ${esc(file('none.json'))}: no such file`) },
    { what: 'a folder as config file', call: () => run('--config', tmp, '--logdir', logdir), message: new RegExp(`cannot read config file ${esc(tmp)}: it is a folder`) },
    { what: 'config file not JSON', call: cfg('broken.json', '{"gamma": 0.9,'), message: /broken\.json is not valid JSON/ },
    { what: 'config file a JSON list', call: cfg('list.json', '[1, 2]'), message: /list\.json must hold a JSON object of options/ },
    { what: 'unknown config key', call: cfg('key.json', '{"gama": 0.9}'), message: /key\.json: unknown option "gama" \(did you mean "gamma"\?\)/ },
    { what: 'config value of the wrong type', call: cfg('wrong.json', '{"doubleDqn": "yes"}'), message: /wrong\.json: "doubleDqn" must be a boolean, got "yes"/ },
    { what: 'config value out of range', call: cfg('eps.json', '{"trainEpsilon": 2}'), message: /eps\.json: "trainEpsilon" must be <= 1, got 2/ },
    { what: 'config file not UTF-8', call: cfg('latin1.json', Buffer.concat([Buffer.from('{"env": "Cart'), Buffer.from([0xff]), Buffer.from('"}')])), message: /latin1\.json is not UTF-8 text \(invalid byte 0xff on line 1, byte offset 13\)/ },

    // Snapshots
    { what: 'missing snapshot', call: () => run('--model', file('no-snapshot'), '--eval'), message: new RegExp(`no snapshot at ${esc(path.join(file('no-snapshot'), 'model.json'))}`) },
    { what: 'model.json corrupt', call: async () => { const dir = copySnapshot('corrupt-json'); writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": '); return run('--model', dir, '--eval'); }, message: /corrupt-json\/model\.json is not valid JSON/ },
    { what: 'weights.bin truncated', call: async () => { const dir = copySnapshot('short-weights'); writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(12)); return run('--model', dir, '--eval'); }, message: /short-weights\/weights\.bin holds 12 bytes but .*model\.json describes \d+/ },
    { what: 'snapshot of another env', call: () => run('--model', snapshotDir, '--eval', '--env', 'MountainCar-v0'), message: /model\.json takes 4 observations and gives 2 actions, but MountainCar-v0 has 2 and 3/ },
    { what: 'weights.bin given as the model', call: () => run('--model', path.join(snapshotDir, 'weights.bin'), '--eval'), message: /snapshot\/weights\.bin is a file but not a model\.json; give the snapshot folder/ },
    { what: 'model.json that is a folder', call: async () => { const dir = copySnapshot('json-folder'); rmSync(path.join(dir, 'model.json')); mkdirSync(path.join(dir, 'model.json')); return run('--model', dir, '--eval'); }, message: /cannot read .*json-folder\/model\.json/ },

    // Checkpoints and --resume
    { what: '--resume of a folder with no run', call: () => run('--resume', file('no-run')), message: new RegExp(`cannot read config file ${esc(path.join(file('no-run'), 'config.json'))}: no such file`) },
    { what: '--resume with a corrupt config.json', call: async () => { const dir = file('bad-resume'); mkdirSync(dir, { recursive: true }); writeFileSync(path.join(dir, 'config.json'), '{"env": 3}'); return run('--resume', dir); }, message: /bad-resume\/config\.json: "env" must be a string, got 3/ },
    { what: '--resume with other options', call: () => run('--resume', path.join(tmp, 'trained'), '--gamma', '0.5'), message: /--resume continues .*trained with its own config\.json; drop --gamma/ },

    // Estimates (sweep plan): a bad option is refused before anything is calibrated or written
    { what: 'plan with --concurrency 0', call: () => sweep('plan', sweepFile('plan0.yaml', GOOD_SWEEP), '--logdir', logdir, '--concurrency', '0'), message: /--concurrency must be an integer >= 1, got 0/ },
    { what: 'plan with a fractional --concurrency', call: () => sweep('plan', sweepFile('plan-frac.yaml', GOOD_SWEEP), '--logdir', logdir, '--concurrency', '1.5'), message: /--concurrency must be an integer >= 1, got 1\.5/ },
  ];

  function copySnapshot(name: string): string {
    const dir = file(name);
    cpSync(snapshotDir, dir, { recursive: true });
    return dir;
  }
}

describe('bad inputs: a clear error, and runs/ left as it was', function () {
  this.timeout(120_000);

  before(async () => {
    // One real run in the runs folder (so "left as it was" means something), and a snapshot to damage.
    const trained = await run('--env', 'CartPole-v1', '--steps', '300', '--train-start', '100', '--eval-every', '0', '--eval-episodes', '1',
      '--q-validation-size', '50', '--log-every', '100', '--no-eval-gif', '--logdir', logdir, '--name', 'existing');
    expect(trained.code, trained.text).to.equal(0);
    cpSync(path.join(logdir, 'existing', 'snapshots', 'step-300'), path.join(tmp, 'snapshot'), { recursive: true });
    cpSync(path.join(logdir, 'existing'), path.join(tmp, 'trained'), { recursive: true });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const cases = catalogue();
  it(`has at least 40 cases (${cases.length})`, () => expect(cases.length).to.be.at.least(40));

  for (const { what, call, message } of cases) {
    it(what, async () => {
      const before = fingerprint(logdir);
      const { code, text } = await call();
      expect(code, text).to.not.equal(0);
      expect(text).to.match(message);
      expect(fingerprint(logdir), 'the runs folder changed').to.equal(before);
    });
  }
});
