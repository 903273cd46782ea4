/**
 * The catalogue of bad inputs: each one must fail (non-zero exit) with a message that
 * names the file, the field and the value at fault, and leave the runs folder exactly
 * as it was.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fingerprint, tinyRunFlags, runCommand as run, sweepCommand as sweep } from './helpers/cli-harness.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-bad-'));
const logdir = path.join(tmp, 'runs');
const file = (name: string): string => path.join(tmp, name);
/** Test envs of the module contract, named as the env option names them (relative to the working directory). */
const FIXTURE_ENVS = './test/fixtures/envs';
/** Where runs of envs that break mid-run go: they write their folder, unlike the cases that fail before starting. */
const envRuns = path.join(tmp, 'env-runs');

const GOOD_SWEEP = ['name: bad', 'method: grid', 'seeds: [0]', 'parameters:', '  env: { value: CartPole-v1 }', '  steps: { value: 300 }', '  learningRate: { values: [0.001, 0.002] }'].join('\n');

const ADAPTIVE_SWEEP = [
  'name: bad-adaptive',
  'method: bayes',
  'run_cap: 3',
  'bayes: { n_startup_trials: 1 }',
  'seeds: [0]',
  'early_terminate: { type: asha, min_steps: 100 }',
  'parameters:',
  '  env: { value: CartPole-v1 }',
  '  steps: { value: 300 }',
  '  trainStart: { value: 100 }',
  '  evalEvery: { value: 100 }',
  '  learningRate: { min: 0.001, max: 0.01, distribution: log_uniform_values }',
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
  /** The exit code: 2 (a usage or input error) unless said. */
  code?: number;
}

const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function catalogue(): BadInput[] {
  const snapshotDir = path.join(tmp, 'snapshot');
  const s =
    (name: string, text: string | Buffer, ...extra: string[]) =>
    () =>
      sweep('run', sweepFile(name, text), '--logdir', logdir, ...extra);
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
    {
      what: 'unknown method',
      call: s('method.yaml', GOOD_SWEEP.replace('method: grid', 'method: bays')),
      message: /method\.yaml:2:\d+: "method" must be one of grid, random, bayes, got "bays" \(did you mean "bayes"\?\)/,
    },
    { what: 'seeds not a list of integers', call: s('seeds.yaml', GOOD_SWEEP.replace('seeds: [0]', 'seeds: [0, "one"]')), message: /seeds\.yaml:3:\d+: "seed" must be an integer, got "one"/ },
    { what: 'concurrency 0', call: s('conc.yaml', withLine('concurrency: 0')), message: /conc\.yaml:8:\d+: .*concurrency.*0/ },
    { what: 'unknown env', call: s('env.yaml', GOOD_SWEEP.replace('CartPole-v1', 'Pong-v0')), message: /env\.yaml:5:\d+: "env" "Pong-v0" is not a known environment/ },
    { what: 'duplicate key', call: s('dup.yaml', withLine('  steps: { value: 400 }')), message: /dup\.yaml:8:3: YAML syntax error: Map keys must be unique/ },
    {
      what: 'metric goal invalid',
      call: s('goal.yaml', withLine('metric: { name: eval/return_mean, goal: biggest }')),
      message: /goal\.yaml:8:\d+: "metric\.goal" must be one of maximize, minimize, got "biggest"/,
    },
    { what: 'huge grid without --yes', call: s('huge.yaml', withLine('  bufferSize: { min: 1000, max: 9000, distribution: int_uniform }')), message: /huge\.yaml: .*\d{4,} trials.*--yes/ },
    { what: 'q_uniform without q', call: s('q.yaml', withLine('  batchSize: { min: 32, max: 128, distribution: q_uniform }')), message: /q\.yaml:8:\d+: .*\bq\b/ },
    { what: 'missing sweep file', call: () => sweep('run', file('nope.yaml'), '--logdir', logdir), message: new RegExp(`cannot read sweep file ${esc(file('nope.yaml'))}: no such file`) },
    { what: 'a folder instead of a sweep file', call: () => sweep('run', tmp, '--logdir', logdir), message: new RegExp(`cannot read sweep file ${esc(tmp)}: it is a folder`) },
    {
      what: 'sweep file not UTF-8',
      call: s('latin1.yaml', Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\n')])),
      message: /latin1\.yaml is not UTF-8 text \(invalid byte 0xe9 on line 1/,
    },
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
    {
      what: 'config file not UTF-8',
      call: cfg('latin1.json', Buffer.concat([Buffer.from('{"env": "Cart'), Buffer.from([0xff]), Buffer.from('"}')])),
      message: /latin1\.json is not UTF-8 text \(invalid byte 0xff on line 1, byte offset 13\)/,
    },

    // Snapshots
    { what: 'missing snapshot', call: () => run('--model', file('no-snapshot'), '--eval'), message: new RegExp(`no snapshot at ${esc(path.join(file('no-snapshot'), 'model.json'))}`) },
    {
      what: 'model.json corrupt',
      call: async () => {
        const dir = copySnapshot('corrupt-json');
        writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
        return run('--model', dir, '--eval');
      },
      message: /corrupt-json\/model\.json is not valid JSON/,
    },
    {
      what: 'weights.bin truncated',
      call: async () => {
        const dir = copySnapshot('short-weights');
        writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(12));
        return run('--model', dir, '--eval');
      },
      message: /short-weights\/weights\.bin holds 12 bytes but .*model\.json describes \d+/,
    },
    {
      what: 'snapshot of another env',
      call: () => run('--model', snapshotDir, '--eval', '--env', 'MountainCar-v0'),
      message: /model\.json takes 4 observations and gives 2 actions, but MountainCar-v0 has 2 and 3/,
    },
    {
      what: 'weights.bin given as the model',
      call: () => run('--model', path.join(snapshotDir, 'weights.bin'), '--eval'),
      message: /snapshot\/weights\.bin is a file but not a model\.json; give the snapshot folder/,
    },
    {
      what: 'model.json that is a folder',
      call: async () => {
        const dir = copySnapshot('json-folder');
        rmSync(path.join(dir, 'model.json'));
        mkdirSync(path.join(dir, 'model.json'));
        return run('--model', dir, '--eval');
      },
      message: /cannot read .*json-folder\/model\.json/,
    },

    // Checkpoints and --resume
    {
      what: '--resume of a folder with no run',
      call: () => run('--resume', file('no-run')),
      message: new RegExp(`cannot read config file ${esc(path.join(file('no-run'), 'config.json'))}: no such file`),
    },
    {
      what: '--resume with a corrupt config.json',
      call: async () => {
        const dir = file('bad-resume');
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'config.json'), '{"env": 3}');
        return run('--resume', dir);
      },
      message: /bad-resume\/config\.json: "env" must be a string, got 3/,
    },
    { what: '--resume with other options', call: () => run('--resume', path.join(tmp, 'trained'), '--gamma', '0.5'), message: /--resume continues .*trained with its own config\.json; drop --gamma/ },

    {
      what: 'keepCheckpoints not one of its choices',
      call: () => run('--keep-checkpoints', 'some', '--logdir', logdir),
      message: /command line: "keepCheckpoints" must be one of last, all, none, got "some"/,
    },
    {
      what: 'sweep prune --keep-checkpoints not one of its choices',
      call: () => sweep('prune', path.join(logdir, 'existing'), '--keep-checkpoints', 'some'),
      message: /Argument: keep-checkpoints, Given: "some", Choices: "last", "all", "none"/,
    },
    // sweep prune (disk): only a sweep's own folder, never a running trial, nothing touched on refusal
    { what: 'sweep prune of the runs folder', call: () => sweep('prune', logdir), message: new RegExp(`${esc(logdir)} holds sweeps \\(.*\\), it is not one; prune each, e\\.g\\. sweep prune `) },
    { what: 'sweep prune of a single run', call: () => sweep('prune', path.join(logdir, 'existing')), message: /existing is a single run, not a sweep folder/ },
    { what: 'sweep prune of a sweep file', call: () => sweep('prune', sweepFile('prune.yaml', GOOD_SWEEP)), message: /prune\.yaml is a file, not a sweep folder; .*<logdir>\/<its name>/ },
    { what: 'sweep prune of a missing folder', call: () => sweep('prune', path.join(logdir, 'nope')), message: /no folder .*nope; give a sweep's folder/ },
    {
      what: "sweep prune of a running trial's folder",
      call: () => untouched(pruneFixture(), (sweepDir) => sweep('prune', path.join(sweepDir, 'lr=1,seed=0'))),
      message: /lr=1,seed=0 is a trial of the sweep .*, not a sweep folder; prune the sweep: sweep prune /,
    },
    {
      what: 'sweep prune with a damaged sweep.json',
      call: () => untouched(pruneFixture('{"name": '), (sweepDir) => sweep('prune', sweepDir)),
      message: /sweep\.json is not valid JSON .*nothing is pruned/,
    },
    // Folders of another kind, and files where folders belong (issue 20: data loss, status truth)
    {
      what: 'a sweep named like an existing single run',
      call: s('over-run.yaml', GOOD_SWEEP.replace('name: bad', 'name: existing')),
      message: new RegExp(`${esc(path.join(logdir, 'existing'))} holds a single run .*Give the sweep another name \\("name:" in .*over-run\\.yaml\\) or pass --logdir`),
    },
    {
      what: "a sweep named like a folder of the user's files",
      call: s('over-mine.yaml', GOOD_SWEEP.replace('name: bad', 'name: mine')),
      message: /mine holds files of its own \(todo\.txt\), so it is not the folder of the sweep "mine"/,
    },
    {
      what: 'a sweep named like a file in the logdir',
      call: s('over-file.yaml', GOOD_SWEEP.replace('name: bad', 'name: notes')),
      message: /notes is a file, but the sweep "notes" needs that path for its folder; give the sweep another name/,
    },
    {
      what: 'a sweep named like a trial folder',
      call: () => sweep('run', sweepFile('over-trial.yaml', GOOD_SWEEP.replace('name: bad', 'name: t0')), '--logdir', path.join(logdir, 'a-sweep')),
      message: /t0 holds a trial of a sweep \(its trial\.json\), so it is not the folder of the sweep "t0"/,
    },
    {
      what: "a sweep named like another sweep's folder",
      call: s('over-sweep.yaml', GOOD_SWEEP.replace('name: bad', 'name: renamed')),
      message: /renamed holds the sweep "other" \(of other\.yaml\), not "renamed"/,
    },
    {
      what: 'sweep run --logdir that is a file',
      call: () => sweep('run', sweepFile('good.yaml', GOOD_SWEEP), '--logdir', path.join(logdir, 'notes')),
      message: /notes is a file where a folder was expected \(the sweep's folder is .*notes\/bad\); pass --logdir <a folder>/,
    },
    {
      what: 'a run named like a sweep folder',
      call: () => run('--name', 'a-sweep', '--logdir', logdir, '--steps', '300'),
      message: /a-sweep holds a sweep \(its sweep\.json\), not a run: .*choose another --name, or pass --logdir/,
    },
    {
      what: 'a run named like a sweep folder, with --overwrite',
      call: () => run('--name', 'a-sweep', '--overwrite', '--logdir', logdir, '--steps', '300'),
      message: /a-sweep holds a sweep \(its sweep\.json\), not a run/,
    },
    {
      what: "a run named like a sweep's trial folder",
      call: () => run('--name', 't0', '--logdir', path.join(logdir, 'a-sweep'), '--steps', '300'),
      message: /t0 holds a trial of a sweep \(its trial\.json\): rerun or resume it with "sweep run <its sweep file>"/,
    },
    { what: "a run named like a folder of the user's files", call: () => run('--name', 'mine', '--logdir', logdir, '--steps', '300'), message: /mine holds files of its own \(todo\.txt\), not a run/ },
    {
      what: 'a run named like an existing run, without --resume',
      call: () => run('--name', 'existing', '--logdir', logdir, '--steps', '300'),
      message: /existing already holds a run .*continue it with --resume .*choose another --name, or pass --overwrite/,
    },
    {
      what: '--resume of a sweep folder',
      call: () => run('--resume', path.join(logdir, 'a-sweep')),
      message: /a-sweep holds a sweep \(its sweep\.json\), not a run; resume a sweep with "sweep run <its sweep file>"/,
    },
    {
      what: 'sweep results of a sweep file',
      call: () => sweep('results', sweepFile('named.yaml', GOOD_SWEEP)),
      message: /named\.yaml is a sweep file, but sweep results takes a sweep's folder: for this file, sweep results runs\/bad/,
    },
    { what: 'sweep status of a sweep file', call: () => sweep('status', sweepFile('named.yaml', GOOD_SWEEP)), message: /named\.yaml is a sweep file, but sweep status takes a sweep's folder/ },
    { what: 'sweep report of a sweep file', call: () => sweep('report', sweepFile('named.yaml', GOOD_SWEEP)), message: /named\.yaml is a sweep file, but sweep report takes a sweep's folder/ },
    { what: 'sweep status of a folder that does not exist', call: () => sweep('status', path.join(logdir, 'nothing')), message: /nothing does not exist; sweep status takes a sweep's folder/ },
    {
      what: "sweep results of a single run's folder",
      call: () => sweep('results', path.join(logdir, 'existing')),
      message: /existing is not a sweep folder: it has no valid sweep\.json and holds a single run/,
    },
    { what: 'sweep status of a path through a file', call: () => sweep('status', path.join(logdir, 'notes', 'x')), message: /notes is a file, so .*notes\/x cannot be a folder/ },
    // Nothing accepted silently (issue 20, section 4): inputs that used to be ignored, or misread without a word
    { what: 'empty parameters map', call: s('noparams.yaml', 'name: bad\nparameters: {}\n'), message: /noparams\.yaml:2:13: "parameters" is empty: give the run options of the sweep/ },
    { what: 'parameters with no value', call: s('nullparams.yaml', 'name: bad\nparameters:\n'), message: /nullparams\.yaml:2:\d+: "parameters" is empty/ },
    {
      what: 'two YAML documents in one sweep file',
      call: s('multi.yaml', `${GOOD_SWEEP}\n---\n${GOOD_SWEEP}\n`),
      message: /multi\.yaml:8:1: the file holds 2 YAML documents .*put each sweep in its own file/,
    },
    {
      what: 'YAML integer beyond 2^53',
      call: s('bigint.yaml', GOOD_SWEEP.replace('{ value: 300 }', '{ value: 9007199254740993 }')),
      message: /bigint\.yaml:6:\d+: "parameters\.steps\.value" 9007199254740993 is beyond the largest integer a number holds exactly \(9007199254740991; it would be read as 9007199254740992\)/,
    },
    {
      what: 'seed beyond 2^53',
      call: s('bigseed.yaml', GOOD_SWEEP.replace('seeds: [0]', 'seeds: [0, 18014398509481985]')),
      message: /bigseed\.yaml:3:\d+: "seeds" 18014398509481985 is beyond the largest integer/,
    },
    {
      what: 'W&B log_uniform (exponent bounds)',
      call: s('logu.yaml', `${GOOD_SWEEP.replace('method: grid', 'method: random\nrun_cap: 2')}\n  gamma: { min: -0.1, max: -0.01, distribution: log_uniform }\n`),
      message:
        /logu\.yaml:9:\d+: parameter "gamma": distribution "log_uniform" is W&B's, whose min and max are natural-log exponents .* write min: 0\.9048, max: 0\.99, distribution: log_uniform_values/,
    },
    {
      what: 'an aliased value out of range is reported at its anchor',
      call: s('alias.yaml', withLine('  gamma: &g { value: 2 }\n  tau: *g')),
      message: /alias\.yaml:8:\d+: "gamma" must be <= 1, got 2\n.*alias\.yaml:8:\d+: "tau" must be <= 1, got 2/,
    },
    { what: 'an alias inside its own anchor', call: s('cycle.yaml', withLine('  hiddenLayers: &h { values: [*h] }')), message: /cycle\.yaml:8:\d+: alias \*h refers to a value that contains it/ },
    { what: 'a merge key that is not a map', call: s('merge.yaml', withLine('  <<: 3')), message: /merge\.yaml:8:\d+: a merge key "<<" takes a map or an alias of one/ },
    { what: 'run_cap on a grid', call: s('gridcap.yaml', withLine('run_cap: 4')), message: /gridcap\.yaml:8:1: "run_cap" caps random search; a grid runs every configuration/ },
    { what: 'misspelled sweep flag', call: s('flag.yaml', GOOD_SWEEP, '--concurency', '2'), message: /unknown flag --concurency \(did you mean --concurrency\?\)/ },
    {
      what: 'a stray word and a misspelled flag',
      call: s('flag2.yaml', GOOD_SWEEP, 'extra', '--retrys', '1'),
      message: /unknown flag --retrys \(did you mean --retries\?\); unexpected argument "extra"/,
    },
    { what: '--concurrency not a number', call: s('concabc.yaml', GOOD_SWEEP, '--concurrency', 'abc'), message: /--concurrency must be an integer >= 1, got "abc"/ },
    { what: '--concurrency beyond 2^53', call: s('concbig.yaml', GOOD_SWEEP, '--concurrency', '9007199254740993'), message: /--concurrency 9007199254740993 is beyond the largest integer/ },
    { what: '--progress-every negative', call: s('progress.yaml', GOOD_SWEEP, '--progress-every', '-1'), message: /--progress-every must be a number >= 0, got -1/ },
    {
      what: 'a Slurm-only flag without --executor slurm',
      call: s('poll.yaml', GOOD_SWEEP, '--poll-seconds', '5'),
      message: /--poll-seconds applies to Slurm only: add --executor slurm, or drop --poll-seconds/,
    },
    {
      what: 'sweep plan --concurrency not a number',
      call: () => sweep('plan', sweepFile('plan.yaml', GOOD_SWEEP), '--logdir', logdir, '--concurrency', '2x'),
      message: /--concurrency must be an integer >= 1, got "2x"/,
    },
    {
      what: 'sweep trial --index not a number',
      call: () => sweep('trial', sweepFile('index.yaml', GOOD_SWEEP), '--logdir', logdir, '--index', 'first'),
      message: /--index must be an integer >= 0, got "first"/,
    },
    {
      what: 'integer flag beyond 2^53',
      call: () => run('--steps', '9007199254740993', '--logdir', logdir),
      message: /command line: "steps" 9007199254740993 is beyond the largest integer a number holds exactly/,
    },
    {
      what: '--hidden-layers with a word in it',
      call: () => run('--hidden-layers', '64 wide', '--logdir', logdir),
      message: /command line: "hiddenLayers"\[1\] must be a list of positive integers, e\.g\. \[64, 64\], got \[64,"wide"\]/,
    },
    { what: '--episodes 0', call: () => run('--model', snapshotDir, '--view', '--episodes', '0'), message: /--episodes must be an integer >= 1, got 0/ },
    { what: '--episodes negative', call: () => run('--model', snapshotDir, '--eval', '--episodes', '-3'), message: /--episodes must be an integer >= 1, got -3/ },
    { what: '--episodes fractional', call: () => run('--model', snapshotDir, '--eval', '--episodes', '2.5'), message: /--episodes must be an integer >= 1, got 2\.5/ },
    { what: '--episodes without --model', call: () => run('--episodes', '5', '--logdir', logdir), message: /--episodes needs --model/ },
    {
      what: '--episodes with --record only',
      call: () => run('--model', snapshotDir, '--record', file('one.gif'), '--episodes', '5'),
      message: /--episodes applies to --view and --eval; --record saves one episode/,
    },
    {
      what: '--record to a name that is not .gif',
      call: () => run('--model', snapshotDir, '--record', file('episode.png')),
      message: /--record writes an animated GIF, so its file name must end in \.gif, got ".*episode\.png" \(e\.g\. --record "episode\.gif"\)/,
    },
    {
      what: '--fps negative',
      call: () => run('--model', snapshotDir, '--view', '--fps', '-1'),
      message: /--fps must be a number from 0 to 1000 frames per second \(0 = as fast as possible\), got -1/,
    },
    { what: '--fps too high', call: () => run('--model', snapshotDir, '--view', '--fps', '1e9'), message: /--fps must be a number from 0 to 1000 .*got 1000000000/ },
    { what: '--fps not a number', call: () => run('--model', snapshotDir, '--view', '--fps', 'fast'), message: /--fps must be a number .*got "fast"/ },
    { what: '--fps without --view', call: () => run('--model', snapshotDir, '--eval', '--fps', '10'), message: /--fps applies to --view only/ },
    {
      what: 'a training option with --model',
      call: () => run('--model', snapshotDir, '--eval', '--learning-rate', '0.1'),
      message: /--learningRate has no effect with --model .*give only --env, --seed, --engine, --evalEpisodes, --evalSteps, --evalEpsilon/,
    },
    { what: 'an eval option with --model --view', call: () => run('--model', snapshotDir, '--view', '--eval-episodes', '3'), message: /--evalEpisodes has no effect with --model without --eval/ },
    { what: '--config with --model', call: () => run('--model', snapshotDir, '--eval', '--config', file('any.json')), message: /--config does not apply to --model/ },
    { what: '--overwrite with --resume', call: () => run('--resume', path.join(tmp, 'trained'), '--overwrite'), message: /--resume continues .*trained with its own config\.json; drop --overwrite/ },
    { what: 'an empty --logdir for a run', call: () => run('--logdir', '', '--steps', '300'), message: /command line: "logdir" must name a folder, e\.g\. runs, got ""/ },
    {
      what: 'an empty --logdir for a sweep',
      call: () => sweep('plan', sweepFile('emptylogdir.yaml', GOOD_SWEEP), '--logdir', ''),
      message: /--logdir must name a folder, e\.g\. --logdir runs, got ""/,
    },
    { what: 'a sweep flag given twice', call: s('twice.yaml', GOOD_SWEEP, '--logdir', file('other-runs')), message: /--logdir is given more than once; give it once/ },
    { what: 'a run flag given twice', call: () => run('--steps', '300', '--logdir', logdir, '--steps', '400'), message: /--steps is given more than once; give it once/ },
    {
      what: 'config JSON with a duplicated key',
      call: cfg('dupkey.json', '{\n  "gamma": 0.9,\n  "gamma": 0.5\n}'),
      message: /dupkey\.json:3:3: "gamma" is given twice \(first at .*dupkey\.json:2:3\), and JSON keeps only the last one/,
    },
    {
      what: 'config JSON integer beyond 2^53',
      call: cfg('bigint.json', '{"steps": 9007199254740993}'),
      message: /bigint\.json:1:11: "steps" 9007199254740993 is beyond the largest integer a number holds exactly/,
    },
    // Found by fuzzing (issue 20 §6, test/fuzz.test.ts)
    { what: 'numeric flag given twice', call: () => run('--tau', '--tau=0', '--logdir', logdir), message: /--tau is given more than once; give it once/ },
    { what: 'a flag named like a member of every object', call: () => run('--constructor', '--logdir', logdir), message: /unknown flag --constructor; see --help/ },
    { what: 'a sweep flag named like a member of every object', call: () => sweep('plan', file('nope.yaml'), '--toString'), message: /unknown flag --toString/ },
    {
      what: 'a YAML alias to an anchor never set',
      call: s('noanchor.yaml', 'name: *n\nparameters:\n  env: { value: CartPole-v1 }\n'),
      message: /noanchor\.yaml:1:7: alias \*n names no anchor set before it/,
    },
    { what: 'sweep results of an empty path', call: () => sweep('results', ''), message: /sweep results got an empty path; sweep results takes a sweep's folder/ },
    { what: 'sweep flag missing its value', call: () => sweep('run', file('nope.yaml'), '--sbatch-arg', '--logdir', logdir), message: /error: Not enough arguments following: sbatch-arg/ },
    // found by npm run fuzz, seed 1 (a flag spelt with a trailing "-", which yargs camel-cases onto the option; the sweep cases were tried by hand after it)
    {
      what: 'a list flag with a trailing hyphen',
      call: () => run('--hiddenLayers-', '1', '--logdir', logdir),
      message: /^error: unknown flag --hiddenLayers- \(did you mean --hiddenLayers\?\); see --help$/m,
    },
    {
      what: 'a sweep flag with a trailing hyphen',
      call: () => sweep('plan', file('nope.yaml'), '--concurrency-', '2'),
      message: /^error: unknown flag --concurrency- \(did you mean --concurrency\?\)$/m,
    },
    {
      what: 'a sweep flag spelt so that yargs folds it onto an option',
      call: () => sweep('run', file('nope.yaml'), '--poll-Seconds', '5', '--logdir', logdir),
      message: /^error: unknown flag --poll-Seconds \(did you mean --poll-seconds\?\)$/m,
    },
    {
      what: 'a sweep flag with a trailing hyphen, on an option with a hyphen',
      call: () => sweep('run', file('nope.yaml'), '--progress-every-', '-5', '--logdir', logdir),
      message: /^error: unknown flag --progress-every- \(did you mean --progress-every\?\)$/m,
    },
    // Estimates (sweep plan): a bad option is refused before anything is calibrated or written
    {
      what: 'plan with --concurrency 0',
      call: () => sweep('plan', sweepFile('plan0.yaml', GOOD_SWEEP), '--logdir', logdir, '--concurrency', '0'),
      message: /--concurrency must be an integer >= 1, got 0/,
    },
    {
      what: 'plan with a fractional --concurrency',
      call: () => sweep('plan', sweepFile('plan-frac.yaml', GOOD_SWEEP), '--logdir', logdir, '--concurrency', '1.5'),
      message: /--concurrency must be an integer >= 1, got 1\.5/,
    },
    // Adaptive search (issue 16, searchers and sweep file keys): method bayes, bayes:, early_terminate:
    {
      what: 'bayes without run_cap',
      call: s('bayes-cap.yaml', GOOD_SWEEP.replace('method: grid', 'method: bayes')),
      message: /bayes-cap\.yaml:2:9: bayes search needs "run_cap": how many configurations to try/,
    },
    {
      what: 'bayes whose run_cap leaves nothing after the random start',
      call: s('bayes-startup.yaml', `${GOOD_SWEEP.replace('method: grid', 'method: bayes\nrun_cap: 4')}\nbayes: { n_startup_trials: 4 }\n`),
      message: /bayes-startup\.yaml:9:28: "run_cap" \(4\) is not above bayes\.n_startup_trials \(4\), so every configuration would be drawn at random/,
    },
    {
      what: 'bayes run_cap above the configurations the parameters allow',
      call: s('bayes-space.yaml', `${GOOD_SWEEP.replace('method: grid', 'method: bayes\nrun_cap: 3')}\nbayes: { n_startup_trials: 1 }\n`),
      message: /bayes-space\.yaml: bayes search: run_cap 3 asks for 3 configurations, but the parameters allow only 2 distinct configurations; lower run_cap to 2/,
    },
    {
      what: 'bayes settings on a grid',
      call: s('bayes-grid.yaml', withLine('bayes: { n_startup_trials: 5 }')),
      message: /bayes-grid\.yaml:8:1: "bayes" sets up method: bayes, but this sweep's method is grid/,
    },
    {
      what: 'misspelled bayes setting',
      call: s('bayes-key.yaml', `${GOOD_SWEEP.replace('method: grid', 'method: bayes\nrun_cap: 20')}\nbayes: { n_ei_candidate: 5 }\n`),
      message: /bayes-key\.yaml:9:10: "bayes": unknown key "n_ei_candidate" \(did you mean "n_ei_candidates"\?\)/,
    },
    {
      what: 'misspelled early_terminate key',
      call: s('et-key.yaml', withLine('early_terminate: { type: asha, min_step: 100 }')),
      message: /et-key\.yaml:8:32: "early_terminate": unknown key "min_step" \(did you mean "min_steps"\?\)/,
    },
    {
      what: 'unknown early_terminate type',
      call: s('et-type.yaml', withLine('early_terminate: { type: median, min_steps: 100 }')),
      message: /et-type\.yaml:8:26: "early_terminate\.type" must be one of asha, hyperband, got "median"/,
    },
    {
      what: 'a rung at or above the steps',
      call: s('et-above.yaml', withLine('  evalEvery: { value: 100 }\n  trainStart: { value: 100 }\nearly_terminate: { type: asha, min_steps: 400 }')),
      message: /et-above\.yaml:10:43: "early_terminate": the lowest rung, min_steps 400, is not below the trials' steps \(300, set at .*et-above\.yaml:6:3\), so no rung would stop anything/,
    },
    {
      what: 'reduction_factor below 2',
      call: s('et-eta.yaml', withLine('  evalEvery: { value: 100 }\n  trainStart: { value: 100 }\nearly_terminate: { type: asha, min_steps: 100, reduction_factor: 1 }')),
      message: /et-eta\.yaml:10:\d+: "early_terminate\.reduction_factor" must be an integer >= 2, got 1/,
    },
    {
      what: 'a rung between evaluations',
      call: s('et-eval.yaml', withLine('  evalEvery: { value: 100 }\n  trainStart: { value: 100 }\nearly_terminate: { type: asha, min_steps: 150 }')),
      message: /et-eval\.yaml:10:43: .*min_steps 150, is not a multiple of evalEvery \(100, .*\): a rung's metric is the evaluation at that step.*e\.g\. min_steps: 200/,
    },
    {
      what: 'a rung before trainStart',
      call: s('et-start.yaml', withLine('  evalEvery: { value: 100 }\nearly_terminate: { type: hyperband, min_iter: 1 }')),
      message: /et-start\.yaml:9:\d+: .*min_iter 1 .*comes before trainStart \(2000\): trials evaluate only from trainStart on/,
    },
    {
      what: 'early_terminate with swept steps',
      call: s('et-steps.yaml', `${GOOD_SWEEP.replace('{ value: 300 }', '{ values: [300, 600] }')}\n  evalEvery: { value: 100 }\nearly_terminate: { type: asha, min_steps: 100 }\n`),
      message: /et-steps\.yaml:9:1: "early_terminate" needs one steps for every trial, but steps is swept \(.*et-steps\.yaml:6:3\)/,
    },
    {
      what: 'early_terminate without evaluations',
      call: s('et-noeval.yaml', withLine('  evalEvery: { value: 0 }\nearly_terminate: { type: asha, min_steps: 100 }')),
      message: /et-noeval\.yaml:9:1: "early_terminate" compares configurations at evaluations, but evalEvery is 0/,
    },
    {
      what: "W&B's lenient hyperband",
      call: s('et-strict.yaml', withLine('  evalEvery: { value: 100 }\n  trainStart: { value: 100 }\nearly_terminate: { type: hyperband, min_iter: 1, strict: false }')),
      message: /et-strict\.yaml:10:\d+: "early_terminate\.strict: false" \(W&B's lenient mode\) is not supported/,
    },
    // Adaptive sweeps (issue 16, controller): the journal of a sweep folder
    {
      what: 'an adaptive sweep whose journal holds another search (the file changed since it ran)',
      call: () => untouched(journalFixture('{"type":"search","search":"an older search"}\n'), (dir) => sweep('run', sweepFile('adaptive.yaml', ADAPTIVE_SWEEP), '--logdir', dir)),
      message: /journal\.jsonl is the journal of another search \(an older search\), not of this one .*Give the sweep another name \(or --logdir\) to start a new search, or restore the file/,
    },
    {
      what: "an adaptive sweep's journal damaged before its last line",
      call: () =>
        untouched(journalFixture('{"type":"search","search":"s"}\nnot json\n{"type":"exhausted","configIndex":0}\n'), (dir) =>
          sweep('run', sweepFile('adaptive2.yaml', ADAPTIVE_SWEEP), '--logdir', dir),
        ),
      message: /journal\.jsonl:2: not a journal entry: "not json"; the journal is damaged, so the search cannot be replayed/,
    },
    // Pausing at a step (--stop-at-step, issue 16): a step the run cannot pause at is refused before anything is written
    {
      what: '--stop-at-step 0',
      call: () => run(...tinyRunFlags(logdir, 'stop-zero'), '--stop-at-step', '0'),
      message: /^error: --stop-at-step must be an integer from 1 to steps \(300\), got 0; leave it out to run to the end$/m,
    },
    {
      what: '--stop-at-step beyond steps',
      call: () => run(...tinyRunFlags(logdir, 'stop-beyond'), '--stop-at-step', '301'),
      message: /^error: --stop-at-step must be an integer from 1 to steps \(300\), got 301; leave it out to run to the end$/m,
    },
    {
      what: '--stop-at-step not a number',
      call: () => run(...tinyRunFlags(logdir, 'stop-text'), '--stop-at-step', 'end'),
      message: /--stop-at-step must be an integer from 1 to steps \(300\), got "end"/,
    },
    {
      what: '--resume with --stop-at-step below the checkpoint it resumes from',
      call: async () => {
        const pausedLogdir = file('paused-runs');
        const paused = await run(...tinyRunFlags(pausedLogdir, 'paused'), '--stop-at-step', '200');
        expect(paused.code, paused.text).to.equal(75);
        return untouched(path.join(pausedLogdir, 'paused'), (dir) => run('--resume', dir, '--stop-at-step', '100'));
      },
      message: /^error: --stop-at-step 100 is below step 200, where the checkpoint this run resumes from was taken; give a step from 200 to 300, or leave it out to run to the end$/m,
    },
    {
      what: '--stop-at-step with --model',
      call: () => run('--model', copySnapshot('snapshot-stop'), '--eval', '--stop-at-step', '100'),
      message: /--stop-at-step does not apply to --model \(it plays a saved snapshot; nothing is trained or written to a run folder\); drop --stop-at-step/,
    },
    {
      what: "sweep trial --stop-at-step beyond the trial's steps",
      call: () => sweep('trial', sweepFile('stop-trial.yaml', GOOD_SWEEP), '--index', '0', '--logdir', logdir, '--stop-at-step', '301'),
      message: /--stop-at-step \(trial learningRate=0\.001,seed=0 of .*stop-trial\.yaml\) must be an integer from 1 to steps \(300\), got 301/,
    },
    {
      what: 'sweep trial --stop-at-step 0',
      call: () => sweep('trial', sweepFile('stop-trial0.yaml', GOOD_SWEEP), '--index', '0', '--logdir', logdir, '--stop-at-step', '0'),
      message: /--stop-at-step must be an integer >= 1, got 0/,
    },
    // Metric summaries (issue 23, statistics): a summary's keys and goal must agree with it
    {
      what: 'metric summary misspelt',
      call: s('summary.yaml', withLine('metric: { name: eval/return_mean, summary: aucc }')),
      message: /summary\.yaml:8:44: "metric\.summary" must be one of final, best, mean_last_k, auc, steps_to_threshold, got "aucc" \(did you mean "auc"\?\)/,
    },
    {
      what: 'steps_to_threshold with goal maximize',
      call: s('steps-goal.yaml', withLine('metric: { name: eval/return_mean, goal: maximize, summary: steps_to_threshold }')),
      message: /steps-goal\.yaml:8:41: "metric\.goal" maximize contradicts summary steps_to_threshold: the score is a number of steps, and fewer is better; write goal: minimize, or leave goal out/,
    },
    {
      what: 'steps_to_threshold on a metric that is not a return',
      call: s('steps-loss.yaml', withLine('metric: { name: train/loss, summary: steps_to_threshold }')),
      message:
        /steps-loss\.yaml:8:17: "metric\.summary" steps_to_threshold counts the steps until a return reaches a threshold; "metric\.name" must be eval\/return_mean or train\/episode_return, got "train\/loss"/,
    },
    {
      what: 'a threshold that is not a number',
      call: s('threshold.yaml', withLine('metric: { name: eval/return_mean, summary: steps_to_threshold, threshold: solved }')),
      message: /threshold\.yaml:8:\d+: "metric\.threshold" must be a number \(the value of eval\/return_mean to reach, e\.g\. 475 for CartPole-v1\), got "solved"/,
    },
    {
      what: 'k without summary mean_last_k',
      call: s('k.yaml', withLine('metric: { name: eval/return_mean, summary: auc, k: 5 }')),
      message: /k\.yaml:8:\d+: "metric\.k" goes with summary: mean_last_k \(the number of last values to average\); summary is auc: remove k or set summary: mean_last_k/,
    },
    {
      what: 'mean_last_k with k 0',
      call: s('k0.yaml', withLine('metric: { name: eval/return_mean, summary: mean_last_k, k: 0 }')),
      message: /k0\.yaml:8:\d+: "metric\.k" must be an integer >= 1, got 0/,
    },
    // Environments as modules (issue 18): the module named in the error, a broken env's call and step too.
    // Failures while running write their run into envRuns (checked whole in test/custom-env.test.ts), never into logdir.
    {
      what: 'env module that does not exist',
      call: () => run('--env', `${FIXTURE_ENVS}/nope.ts:Walk`, '--logdir', logdir),
      message: /env "\.\/test\/fixtures\/envs\/nope\.ts:Walk": cannot load the module: .*nope\.ts does not exist/,
    },
    {
      what: 'env module without that export',
      call: () => run('--env', `${FIXTURE_ENVS}/line-walk.ts:LineWlak`, '--logdir', logdir),
      message: /line-walk\.ts has no export "LineWlak"; its exported classes and functions: LineWalk, /,
    },
    {
      what: 'env export that is not an env',
      call: () => run('--env', `${FIXTURE_ENVS}/line-walk.ts:NotAnEnv`, '--logdir', logdir),
      message: /export "NotAnEnv" of .*line-walk\.ts is a number, not an env class or a function that returns a new env/,
    },
    {
      what: 'env class without step()',
      call: () => run('--env', `${FIXTURE_ENVS}/line-walk.ts:NoStep`, '--logdir', logdir),
      message: /line-walk\.ts:NoStep is not an environment: it has no step\(\) method/,
    },
    { what: 'env module given to --check-env that does not exist', call: () => run('--check-env', `${FIXTURE_ENVS}/nope.ts:Walk`), message: /cannot load the module: .*nope\.ts does not exist/ },
    {
      what: 'sweep over an env module that does not exist',
      call: s('env-module.yaml', GOOD_SWEEP.replace('CartPole-v1', `${FIXTURE_ENVS}/nope.ts:Walk`)),
      message: /cannot load the module: .*nope\.ts does not exist/,
    },
    {
      what: 'env that throws in reset',
      code: 1,
      call: () => run(...tinyRunFlags(envRuns, 'reset-throws', { env: `${FIXTURE_ENVS}/line-walk.ts:ThrowsInReset` })),
      message: /env .*line-walk\.ts:ThrowsInReset: reset\(\{ seed: \d+ \}\) threw: no map loaded \(episode 1\)/,
    },
    {
      what: 'env that throws in step',
      code: 1,
      call: () => run(...tinyRunFlags(envRuns, 'step-throws', { env: `${FIXTURE_ENVS}/line-walk.ts:ThrowsInStep` })),
      message: /ThrowsInStep: step\([01]\) threw: the simulator lost its state \(episode 1, step 3\) \(at training step 3\)/,
    },
    {
      what: 'env that returns NaN',
      code: 1,
      call: () => run(...tinyRunFlags(envRuns, 'nan', { env: `${FIXTURE_ENVS}/line-walk.ts:NaNObservation` })),
      message: /NaNObservation: step\([01]\) returned observation\[0\] = NaN; observations must be finite numbers \(episode 1, step 3\) \(at training step 3\)/,
    },
    {
      what: 'env that changes its observation length mid-run',
      code: 1,
      call: () => run(...tinyRunFlags(envRuns, 'length', { env: `${FIXTURE_ENVS}/line-walk.ts:WrongLength` })),
      message: /WrongLength: step\([01]\) returned an observation of 3 values; the env declares observationSize 2 \(episode 1, step 3\) \(at training step 3\)/,
    },
    {
      what: 'Python env that returns NaN',
      code: 1,
      call: () => run(...tinyRunFlags(envRuns, 'py-nan', { env: 'gym:test/fixtures/gym_line_walk.py:LineWalkNaN' })),
      message: /gym_line_walk\.py:LineWalkNaN: step\([01]\) returned observation\[0\] = NaN; .* \(episode 1, step 3\) \(at training step 3\)/,
    },
    {
      what: 'Python env class that does not exist',
      call: () => run('--env', 'gym:test/fixtures/gym_line_walk.py:LineWalkk', '--logdir', logdir),
      message: /cannot create it in Python: RuntimeError: .*gym_line_walk\.py has no class LineWalkk/,
    },
    {
      what: 'Python env without python3',
      call: async () => {
        process.env.RLSWEEP_PYTHON = path.join(tmp, 'no-python3');
        try {
          return await run('--env', 'gym:CartPole-v1', '--logdir', logdir);
        } finally {
          delete process.env.RLSWEEP_PYTHON;
        }
      },
      message: /env gym:CartPole-v1: .*no-python3 was not found; gym: envs need python3 .*set RLSWEEP_PYTHON/,
    },
    {
      what: 'Python env that gymnasium cannot make (or gymnasium not installed)',
      call: () => run('--env', 'gym:NoSuchEnv-v0', '--logdir', logdir),
      message: /env gym:NoSuchEnv-v0: cannot create it in Python: (RuntimeError: gymnasium is not installed for .*; install it with: .* -m pip install gymnasium|NameNotFound: .*NoSuchEnv)/,
    },
    { what: 'env spelt gym: with nothing after it', call: () => run('--env', 'gym:', '--logdir', logdir), message: /"env" "gym:" names no Python env; write gym:<Gymnasium id>/ },
  ];

  /** A logdir outside the runs folder holding the adaptive sweep's folder with this journal. */
  function journalFixture(journal: string): string {
    const dir = file(`adaptive-runs-${Math.random().toString(36).slice(2, 8)}`);
    const sweepDir = path.join(dir, 'bad-adaptive');
    mkdirSync(sweepDir, { recursive: true });
    const manifest = { name: 'bad-adaptive', file: 'adaptive.yaml', method: 'bayes', metric: { name: 'eval/return_mean', goal: 'maximize' }, seeds: [0], swept: [], updatedAt: '', trials: [] };
    writeFileSync(path.join(sweepDir, 'sweep.json'), JSON.stringify(manifest));
    writeFileSync(path.join(sweepDir, 'journal.jsonl'), journal);
    return dir;
  }

  /** A sweep folder outside the runs folder whose one trial is running (this process), with a checkpoint and a leftover. */
  function pruneFixture(manifest?: string): string {
    const sweepDir = file(`prune-sweep-${Math.random().toString(36).slice(2, 8)}`);
    const trialDir = path.join(sweepDir, 'lr=1,seed=0');
    mkdirSync(path.join(trialDir, 'checkpoints', 'step-5'), { recursive: true });
    writeFileSync(path.join(sweepDir, 'sweep.json'), manifest ?? JSON.stringify({ name: 'prune', trials: [{ index: 0, name: 'lr=1,seed=0' }] }));
    writeFileSync(path.join(trialDir, 'status.json'), JSON.stringify({ trial: 'lr=1,seed=0', index: 0, state: 'running', pid: process.pid, host: os.hostname() }));
    writeFileSync(path.join(trialDir, 'status.json.tmp-4194399-abcdef'), '{');
    return sweepDir;
  }

  /** Runs `call` on `dir` and fails the case if anything under `dir` changed. */
  async function untouched(dir: string, call: (dir: string) => Promise<{ code: number; text: string }>): Promise<{ code: number; text: string }> {
    const before = fingerprint(dir);
    const result = await call(dir);
    expect(fingerprint(dir), `${dir} changed`).to.equal(before);
    return result;
  }

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
    const trained = await run(...tinyRunFlags(logdir, 'existing'));
    expect(trained.code, trained.text).to.equal(0);
    cpSync(path.join(logdir, 'existing', 'snapshots', 'step-300'), path.join(tmp, 'snapshot'), { recursive: true });
    cpSync(path.join(logdir, 'existing'), path.join(tmp, 'trained'), { recursive: true });
    // Folders of other kinds for the collision cases: a sweep with a trial, another sweep's folder, the user's files.
    const manifest = (name: string, file: string): string =>
      JSON.stringify({ name, file, method: 'grid', metric: { name: 'eval/return_mean', goal: 'maximize' }, seeds: [0], swept: [], updatedAt: '', trials: [] });
    mkdirSync(path.join(logdir, 'a-sweep', 't0'), { recursive: true });
    writeFileSync(path.join(logdir, 'a-sweep', 'sweep.json'), manifest('a-sweep', 'a.yaml'));
    writeFileSync(path.join(logdir, 'a-sweep', 't0', 'trial.json'), '{}');
    mkdirSync(path.join(logdir, 'renamed'));
    writeFileSync(path.join(logdir, 'renamed', 'sweep.json'), manifest('other', 'other.yaml'));
    mkdirSync(path.join(logdir, 'mine'));
    writeFileSync(path.join(logdir, 'mine', 'todo.txt'), 'mine');
    writeFileSync(path.join(logdir, 'notes'), 'a file, not a folder');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const cases = catalogue();
  for (const { what, call, message, code: expectedCode } of cases) {
    it(what, async () => {
      const before = fingerprint(logdir);
      const { code, text } = await call();
      // Usage and input errors exit 2, runtime failures 1 (see runCli), for scripts and the fuzz tests.
      expect(code, text).to.equal(expectedCode ?? 2);
      expect(text).to.match(message);
      // One clear line, not a trace: the error is said once, and no stack frame or raw Node error leaks out.
      expect(text.match(/^error: /gm), text).to.have.length(1);
      expect(text, 'a stack trace').to.not.match(/^\s+at .+:\d+:\d+\)?$/m);
      expect(fingerprint(logdir), 'the runs folder changed').to.equal(before);
    });
  }

  /**
   * Inputs that are valid but almost surely not meant: they run, with a one-line warning.
   * Each is checked on a command that writes nothing (sweep plan) or into its own folder.
   */
  describe('and inputs that run with a warning', () => {
    const cpus = os.availableParallelism();
    const warnLogdir = path.join(tmp, 'warned-runs');

    const warnings: Array<{ what: string; call: () => Promise<{ code: number; text: string }>; message: RegExp }> = [
      {
        what: 'a run whose steps never reach trainStart',
        message: /^warning: steps \(200\) < trainStart \(2000\): the run ends before its first gradient step, so the network is never trained; lower trainStart or raise steps$/m,
        call: () =>
          run('--env', 'CartPole-v1', '--steps', '200', '--eval-every', '0', '--eval-episodes', '1', '--q-validation-size', '50', '--no-eval-gif', '--logdir', warnLogdir, '--name', 'no-training'),
      },
      {
        what: 'a run whose target network is never updated',
        message: /^warning: targetUpdateEvery \(1000\) > steps \(300\) after trainStart \(100\): the target network is never updated/m,
        call: () => run(...tinyRunFlags(warnLogdir, 'no-target')),
      },
      {
        what: 'a sweep whose trials never reach trainStart',
        message: /^warning: .*short\.yaml: every trial: steps \(300\) < trainStart \(2000\)/m,
        call: () => sweep('plan', sweepFile('short.yaml', GOOD_SWEEP), '--logdir', logdir),
      },
      {
        what: 'a sweep where some trials never reach trainStart',
        message: /^warning: .*some\.yaml: 1 of 2 trials \(e\.g\. trainStart=2000,seed=0\): steps \(300\) < trainStart \(2000\)/m,
        call: () => sweep('plan', sweepFile('some.yaml', GOOD_SWEEP.replace('learningRate: { values: [0.001, 0.002] }', 'trainStart: { values: [2000, 100] }')), '--logdir', logdir),
      },
      {
        what: 'a concurrency above the CPUs',
        message: new RegExp(`^warning: concurrency ${cpus + 1} is more than this machine's ${cpus} CPUs`, 'm'),
        call: () =>
          sweep(
            'plan',
            sweepFile('wide.yaml', GOOD_SWEEP.replace('seeds: [0]', `seeds: [${Array.from({ length: cpus + 1 }, (_, i) => i).join(', ')}]`)),
            '--logdir',
            logdir,
            '--concurrency',
            String(cpus + 1),
          ),
      },
      {
        what: 'a concurrency in the file above the CPUs',
        message: new RegExp(`^warning: concurrency ${cpus * 4} is more than this machine's ${cpus} CPUs`, 'm'),
        call: () =>
          sweep(
            'plan',
            sweepFile('wide2.yaml', `${GOOD_SWEEP.replace('seeds: [0]', `seeds: [${Array.from({ length: cpus * 4 }, (_, i) => i).join(', ')}]`)}\nconcurrency: ${cpus * 4}\n`),
            '--logdir',
            logdir,
          ),
      },
    ];

    for (const { what, call, message } of warnings) {
      it(what, async () => {
        const before = fingerprint(logdir);
        const { code, text } = await call();
        expect(code, text).to.equal(0);
        expect(text).to.match(message);
        expect(fingerprint(logdir), 'the runs folder changed').to.equal(before);
      });
    }

    it('a sensible sweep plans without a warning', async () => {
      const { code, text } = await sweep('plan', sweepFile('fine.yaml', withLine('  trainStart: { value: 100 }\n  targetUpdateEvery: { value: 100 }')), '--logdir', logdir, '--concurrency', '1');
      expect(code, text).to.equal(0);
      expect(text).to.not.match(/warning/);
    });
  });
});
