/**
 * The single-run CLI. Every RunConfig option becomes a flag (--learningRate or
 * --learning-rate) generated from the config table, so the CLI cannot drift from it.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { Options } from 'yargs';
import { LineCounter, isScalar, parseDocument, visit } from 'yaml';
import {
  type RunConfig,
  type RunConfigKey,
  ConfigError,
  checkStopAtStep,
  configWarnings,
  defaultRunConfig,
  fieldOf,
  numbersFromBigInts,
  parseField,
  listText,
  resolveConfig,
  runConfigFields,
  runConfigKeys,
  suggestKey,
} from '../train/config.js';
import { prepareRunDir, runBackendLine, train } from '../train/trainer.js';
import { DivergedError } from '../train/duties.js';
import { consoleOutput, type RunOutput } from '../train/run-output.js';
import { evaluatePolicy, loadPolicy, recordProblem, viewPolicy } from '../train/playback.js';
import { recordPolicyToFile } from '../train/policy-gif.js';
import { SnapshotError } from '../train/snapshot.js';
import { EXIT_PAUSED, ipcReporter } from '../train/run-messages.js';
import { readUtf8File } from '../util/files.js';
import { PARENT_GONE, StopRequests } from '../util/signals.js';
import { SWEEP_MANIFEST_FILE, folderContents } from '../util/run-folders.js';
import { inexactIntegerReason, numberFromText } from '../util/numbers.js';
import { numberTextOption, objectMemberFlag, repeatedFlag, yargs } from '../util/yargs.js';
import { EnvError, supportsExactResume } from '../envs/index.js';
import { prepareEnv } from '../envs/load-env.js';
import { checkEnv, formatCheckEnvReport } from '../envs/check-env.js';
import { resolveEngine } from '../agent/index.js';

const require = createRequire(import.meta.url);
export const packageVersion: string = (require('../../package.json') as { version: string }).version;

/** Keys a run adds to its config.json; a config file may contain them and they are ignored. */
export const RUN_INFO_KEYS = ['rlsweepVersion', 'backend', 'engineUsed', 'startedAt'] as const;

/** Frames per second of --view. */
const FPS_RANGE = { min: 0, max: 1000, default: 30 } as const;

/** The flags that are not RunConfig options (exported for the fuzz tests, which generate command lines from them). */
export const commandOptions = {
  config: { type: 'string', description: "JSON file of options (e.g. a sweep trial, or a run's config.json); flags override it", group: 'Input:' },
  overwrite: { type: 'boolean', description: 'Replace an existing run folder of the same name', group: 'Input:' },
  'dry-run': { type: 'boolean', description: "Check the options (and --config or --resume's config.json), print the resolved configuration, and stop: nothing is trained or written", group: 'Input:' },
  resume: { type: 'string', description: 'Continue the run in this folder from its latest checkpoint, with its own config.json', group: 'Input:' },
  // A launch option, not a RunConfig one: each segment of a paused run is given its own, and
  // neither config.json nor the hparams (the trial's identity) may change between them.
  'stop-at-step': {
    ...numberTextOption(),
    description: `Pause after this environment step (1 to steps): evaluate if it is an evaluation step, save a checkpoint and a snapshot there and exit with code ${EXIT_PAUSED}; --resume continues exactly (again with --stop-at-step to pause later)`,
    group: 'Input:',
  },
  'check-env': {
    type: 'string',
    description:
      'Check an environment against the env contract (as the env option names it, e.g. ./envs/grid-world.ts:GridWorld): step it with random actions, list every problem and the features it supports; exit 1 when it has problems',
    group: 'Input:',
  },
  model: { type: 'string', description: 'A snapshot to use instead of training: its folder or model.json', group: 'Snapshot:' },
  view: { type: 'boolean', description: 'With --model: watch the policy play in the terminal', group: 'Snapshot:' },
  eval: { type: 'boolean', description: 'With --model: evaluate the policy (evalEpisodes or evalSteps) and print episode_return_avg', group: 'Snapshot:' },
  record: { type: 'string', description: 'With --model: write one greedy episode to this file as an animated GIF', group: 'Snapshot:' },
  episodes: { ...numberTextOption(), description: 'With --view or --eval: episodes to play (an integer >= 1)', defaultDescription: '3 with --view, evalEpisodes with --eval', group: 'Snapshot:' },
  // No yargs default, so that --fps given without --view can be refused.
  fps: {
    ...numberTextOption(),
    description: `With --view: frames per second, ${FPS_RANGE.min} to ${FPS_RANGE.max} (0 = as fast as possible)`,
    defaultDescription: String(FPS_RANGE.default),
    group: 'Snapshot:',
  },
} as const satisfies Record<string, Options>;

/** Run options a snapshot's playback uses; any other one would be ignored, so it is refused. */
const PLAYBACK_KEYS: readonly RunConfigKey[] = ['env', 'seed', 'engine'];
const EVAL_KEYS: readonly RunConfigKey[] = ['evalEpisodes', 'evalSteps', 'evalEpsilon'];

function yargsOptionFor(key: RunConfigKey): Options {
  const field = fieldOf(key);
  const base: Options = {
    description: field.description,
    group: `${field.group}:`,
    // No yargs default: an absent flag must not override the config file.
    defaultDescription: JSON.stringify(field.defaultValue === '' ? undefined : field.defaultValue) ?? '(date and time)',
  };
  switch (field.kind) {
    case 'number':
    case 'integer':
      return { ...base, ...numberTextOption() };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'enum':
      // Checked by parseField with a message naming the value; yargs' own check would exit the process.
      return { ...base, type: 'string', description: `${field.description} (${field.choices!.join(', ')})` };
    case 'string':
      return { ...base, type: 'string' };
    case 'integerList':
      return {
        ...base,
        type: 'array',
        // Accept --hidden-layers 64 64, 64,64 and "64 64"; an entry that is not a number stays text for the message.
        // A flag yargs camel-cases onto this one (--hiddenLayers- 1) arrives as one value, not a list.
        coerce: (values: unknown) =>
          [values]
            .flat()
            .flatMap((v) => String(v).split(/[\s,]+/))
            .filter((v) => v !== '')
            .map(numberFromText),
      };
  }
}

function buildParser(argv: string[]) {
  const configOptions = Object.fromEntries(runConfigKeys.map((key) => [key, yargsOptionFor(key)]));
  return yargs(argv)
    .scriptName('rlsweep-run')
    .usage('$0 [options]\n\nTrain a DQN agent and write TensorBoard logs and snapshots into <logdir>/<name>/.\n' + 'With --model, watch (--view) or evaluate (--eval) a saved snapshot instead.')
    .options(configOptions)
    .options(commandOptions)
    .example('$0 --env CartPole-v1 --steps 50000 --name cartpole', 'train on CartPole')
    .example('$0 --model runs/cartpole/snapshots/step-50000 --view', 'watch the trained policy')
    .example('$0 --model runs/cartpole/snapshots/step-50000 --record episode.gif', 'save one episode as an animated GIF')
    .strict(false)
    .help()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .version(packageVersion);
}

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** yargs' strict mode would reject a typo without a suggestion; do it ourselves. */
function checkUnknownFlags(parsed: Record<string, unknown>): void {
  const known = [...runConfigKeys, ...Object.keys(commandOptions).map(camelCase), 'help', 'version'];
  for (const key of Object.keys(parsed)) {
    if (key === '_' || key === '$0' || known.includes(camelCase(key))) continue;
    throw new ConfigError(`unknown flag --${key}${suggestKey(camelCase(key), known).replace(/"(\w+)"/, (_, k: string) => `--${k}`)}; see --help`);
  }
  const positional = parsed._ as unknown[];
  if (positional.length > 0) throw new ConfigError(`unexpected argument ${JSON.stringify(positional[0])}; options are given as --name value (see --help)`);
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readUtf8File(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EILSEQ') throw new ConfigError((error as Error).message);
    throw new ConfigError(`cannot read config file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder; give a JSON file' : (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${file} must hold a JSON object of options, e.g. {"learningRate": 0.001}`);
  }
  checkJsonSource(text, file);
  const values = { ...(parsed as Record<string, unknown>) };
  for (const key of RUN_INFO_KEYS) delete values[key];
  return values;
}

/**
 * What JSON.parse passes over without a word: a key given twice (the last one wins) and an
 * integer a number cannot hold (it becomes another number). JSON is YAML, so the yaml parser
 * finds both, with their line and column.
 */
function checkJsonSource(text: string, file: string): void {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, intAsBigInt: true, uniqueKeys: false });
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const problems: string[] = [];
  visit(doc, {
    Map(_, map) {
      const first = new Map<string, number | undefined>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        if (first.has(key)) problems.push(`${at(offset)}: "${key}" is given twice (first at ${at(first.get(key))}), and JSON keeps only the last one; remove one of them`);
        else first.set(key, offset);
      }
    },
  });
  for (const { node, reason } of numbersFromBigInts(doc)) problems.push(`${at(node.range?.[0])}: ${reason}`);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
}

function flagValues(parsed: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of runConfigKeys) {
    const value = parsed[key];
    if (value === undefined) continue;
    const inexact = typeof value === 'string' && ['number', 'integer'].includes(fieldOf(key).kind) ? inexactIntegerReason(value) : undefined;
    if (inexact) throw new ConfigError(`command line: "${key}" ${inexact}`);
    values[key] = value;
  }
  return values;
}

/** A whole number of episodes from --episodes, or undefined when not given. */
function episodesFlag(parsed: Record<string, unknown>): number | undefined {
  const value = parsed.episodes;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`--episodes must be an integer >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

function fpsFlag(parsed: Record<string, unknown>): number {
  const value = parsed.fps;
  if (value === undefined) return FPS_RANGE.default;
  if (typeof value !== 'number' || !(value >= FPS_RANGE.min && value <= FPS_RANGE.max)) {
    throw new ConfigError(`--fps must be a number from ${FPS_RANGE.min} to ${FPS_RANGE.max} frames per second (0 = as fast as possible), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Options that would change nothing in this kind of call are refused, not ignored: the
 * snapshot flags without --model, and training options with it.
 */
function checkOptionsApply(parsed: Record<string, unknown>): void {
  const given = (key: string): boolean => parsed[key] !== undefined && parsed[key] !== false;
  if (!given('model')) {
    if (given('view') || given('eval')) throw new ConfigError('--view and --eval need --model <snapshot folder or model.json>');
    for (const key of ['record', 'episodes', 'fps']) {
      if (given(key)) throw new ConfigError(`--${key} needs --model <snapshot folder or model.json>${key === 'record' ? '' : ` and ${key === 'fps' ? '--view' : '--view or --eval'}`}`);
    }
    return;
  }
  if (!given('view') && !given('eval') && !given('record')) {
    throw new ConfigError('--model needs --view (watch it play), --record <file.gif> (save one episode as a GIF) or --eval (print its average return)');
  }
  if (given('episodes') && !given('view') && !given('eval')) throw new ConfigError('--episodes applies to --view and --eval; --record saves one episode');
  if (given('fps') && !given('view')) throw new ConfigError('--fps applies to --view only');
  for (const key of ['config', 'resume', 'overwrite', 'stop-at-step']) {
    if (given(key)) throw new ConfigError(`--${key} does not apply to --model (it plays a saved snapshot; nothing is trained or written to a run folder); drop --${key}`);
  }
  const allowed = given('eval') ? [...PLAYBACK_KEYS, ...EVAL_KEYS] : PLAYBACK_KEYS;
  const ignored = runConfigKeys.find((key) => parsed[key] !== undefined && !allowed.includes(key));
  if (ignored) {
    const evalOnly = EVAL_KEYS.includes(ignored) ? ' without --eval' : '';
    throw new ConfigError(
      `--${ignored} has no effect with --model${evalOnly} (a snapshot plays with the network and settings it was trained with); ` + `with --model give only --${allowed.join(', --')}`,
    );
  }
}

/** --record's file: a GIF is all it writes, so the name must say so. */
function recordFile(parsed: Record<string, unknown>): string {
  const file = String(parsed.record);
  if (!file) throw new ConfigError('--record needs a file name, e.g. --record episode.gif');
  if (path.extname(file).toLowerCase() !== '.gif') {
    throw new ConfigError(
      `--record writes an animated GIF, so its file name must end in .gif, got ${JSON.stringify(file)} (e.g. --record ${JSON.stringify(`${path.basename(file, path.extname(file))}.gif`)})`,
    );
  }
  return file;
}

/** Prints each of the config's warnings (configWarnings) as one line. */
function printWarnings(config: RunConfig, output: RunOutput): void {
  for (const warning of configWarnings(config)) output.error(`warning: ${warning}`);
}

function timestampName(date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`;
}

/** Abort on the first SIGINT/SIGTERM (or when a sweep's child loses its parent); a second one exits at once. */
function abortOnSignals(output: RunOutput): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stops = new StopRequests(
    {
      graceful: (reason) => {
        // A child whose sweep went away has no one to tell.
        if (reason !== PARENT_GONE) output.line(`\n${reason}: stopping after this step (press Ctrl-C again to quit at once)`);
        controller.abort();
      },
      immediate: () => process.exit(130),
    },
    { signals: true, parentGone: true },
  );
  return { signal: controller.signal, dispose: () => stops.dispose() };
}

export async function resolveRunConfig(parsed: Record<string, unknown>): Promise<RunConfig> {
  const layers = [];
  if (typeof parsed.config === 'string') layers.push({ values: await readConfigFile(parsed.config), source: parsed.config });
  layers.push({ values: flagValues(parsed), source: 'command line' });
  const config = resolveConfig(...layers);
  return config.name ? config : { ...config, name: timestampName() };
}

async function playSnapshot(parsed: Record<string, unknown>, output: RunOutput): Promise<number> {
  const flags = flagValues(parsed);
  const config = resolveConfig({ values: flags, source: 'command line' });
  const episodes = episodesFlag(parsed);
  const fps = fpsFlag(parsed);
  const record = parsed.record !== undefined ? recordFile(parsed) : undefined;
  const policy = await loadPolicy(parsed.model as string, flags.env as string | undefined, config.engine);
  const cannotRecord = record === undefined ? undefined : recordProblem(policy.env);
  if (cannotRecord) throw new ConfigError(cannotRecord);
  output.line(await runBackendLine(policy.learner.engine));
  output.line(`Loaded ${policy.snapshot.modelJsonPath} (${policy.env.id}, hidden ${listText(policy.snapshot.spec.hiddenLayers)})`);
  if (record !== undefined) {
    const episode = await recordPolicyToFile(policy.learner, policy.env, record, config.seed);
    output.line(`Wrote ${record} (${episode.frames} frames of ${episode.width}x${episode.height}, episode return ${episode.episodeReturn}, ${episode.steps} steps)`);
    if (!parsed.view && !parsed.eval) return 0;
  }
  if (parsed.view) {
    const aborter = abortOnSignals(output);
    try {
      await viewPolicy(policy, { episodes: episodes ?? 3, fps, seed: config.seed, signal: aborter.signal }, output);
    } finally {
      aborter.dispose();
    }
    if (!parsed.eval) return 0;
  }
  const result = evaluatePolicy(policy, episodes !== undefined ? { ...config, evalEpisodes: episodes } : config);
  output.line(`episodes ${result.returns.length} episode_return_avg ${result.returnMean.toFixed(3)} std ${result.returnStd.toFixed(3)}`);
  return 0;
}

/** --stop-at-step, checked against the config's steps (a resume checks it against its checkpoint too); undefined when not given. */
function stopAtStepFlag(parsed: Record<string, unknown>, config: RunConfig): number | undefined {
  const value = parsed['stop-at-step'];
  return value === undefined ? undefined : checkStopAtStep(value, config);
}

async function trainWithSignals(config: RunConfig, runDir: string, resume: boolean, stopAtStep: number | undefined, output: RunOutput): Promise<number> {
  const aborter = abortOnSignals(output);
  try {
    const result = await train(config, { runDir, output, signal: aborter.signal, report: ipcReporter(), resume, ...(stopAtStep === undefined ? {} : { stopAtStep }) });
    result.learner.dispose();
    return result.interrupted ? 130 : result.paused ? EXIT_PAUSED : 0;
  } finally {
    aborter.dispose();
  }
}

/** --dry-run: the configuration a run would use, as the JSON a --config file takes; exit 0. */
function printDryRun(config: RunConfig, runDir: string, output: RunOutput): number {
  output.line(`Dry run: the options are valid; a run would write ${runDir}/ with this configuration (nothing was trained or written):`);
  output.line(JSON.stringify(config, null, 2));
  return 0;
}

/** --resume <runDir>: the run's own config.json, its latest checkpoint, and no other options. */
async function resumeRun(parsed: Record<string, unknown>, output: RunOutput): Promise<number> {
  const runDir = parsed.resume as string;
  if (!runDir) throw new ConfigError('--resume needs the run folder, e.g. --resume runs/<name>');
  const overridden = Object.keys(flagValues(parsed)).concat(['config', 'overwrite'].filter((key) => parsed[key] !== undefined));
  if (overridden.length > 0) {
    throw new ConfigError(`--resume continues ${runDir} with its own config.json; drop --${overridden[0]} (to change options, start a new run)`);
  }
  if ((await folderContents(runDir).catch(() => undefined))?.kind === 'sweep') {
    throw new ConfigError(`${runDir} holds a sweep (its ${SWEEP_MANIFEST_FILE}), not a run; resume a sweep with "sweep run <its sweep file>" (named in ${path.join(runDir, SWEEP_MANIFEST_FILE)})`);
  }
  const configPath = path.join(runDir, 'config.json');
  const config = resolveConfig({ values: await readConfigFile(configPath), source: configPath });
  const stopAtStep = stopAtStepFlag(parsed, config);
  if (parsed.dryRun) return printDryRun(config, runDir, output);
  await prepareEnv(config.env);
  output.line(`Resuming ${runDir}`);
  printWarnings(config, output);
  return trainWithSignals(config, runDir, true, stopAtStep, output);
}

/** --check-env <env>: checkEnv's report; exit 0 when the env has no problems, 1 when it has. Only --seed may come with it. */
async function checkEnvCommand(parsed: Record<string, unknown>, output: RunOutput): Promise<number> {
  const env = parsed.checkEnv;
  if (typeof env !== 'string' || env === '') throw new ConfigError('--check-env needs an environment, e.g. --check-env ./envs/grid-world.ts:GridWorld');
  const flags = flagValues(parsed);
  const extra = Object.keys(flags).find((key) => key !== 'seed') ?? Object.keys(commandOptions).find((key) => key !== 'check-env' && parsed[camelCase(key)] !== undefined);
  if (extra) throw new ConfigError(`--${extra} has no effect with --check-env (it only steps the env); give only --check-env and --seed`);
  const seed = flags.seed === undefined ? 0 : (parseField('seed', flags.seed, 'command line') as number);
  const report = await checkEnv(env, { seed });
  for (const line of formatCheckEnvReport(report)) output.line(line);
  return report.ok ? 0 : 1;
}

/**
 * Runs the CLI; returns the exit code: 0 done, 1 a runtime failure, 2 a usage or input error
 * (a ConfigError: a bad flag, option or file), 75 (EXIT_PAUSED) paused at --stop-at-step,
 * 130 interrupted. `sweep` uses the same codes.
 */
export async function runCli(argv: string[], output: RunOutput = consoleOutput()): Promise<number> {
  const memberFlag = objectMemberFlag(argv);
  if (memberFlag) {
    output.error(`error: unknown flag ${memberFlag}; see --help for the options`);
    return 2;
  }
  const parsed = (await buildParser(argv).parseAsync()) as Record<string, unknown>;
  try {
    checkUnknownFlags(parsed);
    const repeated = repeatedFlag(argv, ['hiddenLayers']);
    if (repeated) throw new ConfigError(`${repeated} is given more than once; give it once`);
    if (parsed.checkEnv !== undefined) return await checkEnvCommand(parsed, output);
    checkOptionsApply(parsed);
    if (parsed.model !== undefined) {
      if (parsed.dryRun) throw new ConfigError('--dry-run checks the options of a training run (or --resume); with --model, drop it');
      return await playSnapshot(parsed, output);
    }
    if (parsed.resume !== undefined) return await resumeRun(parsed, output);
    const config = await resolveRunConfig(parsed);
    const stopAtStep = stopAtStepFlag(parsed, config);
    printWarnings(config, output);
    const env = await prepareEnv(config.env);
    if (!supportsExactResume(config.env)) {
      output.line(`note: ${config.env} cannot save and restore its state (getState/setState), so this run cannot be resumed exactly: --resume will refuse it`);
    }
    const engineUsed = resolveEngine({ observationSize: env.observationSize, actionCount: env.actionCount, hiddenLayers: config.hiddenLayers, activation: config.activation }, config.engine);
    if (parsed.dryRun) return printDryRun(config, path.join(config.logdir, config.name), output);
    const runInfo = {
      rlsweepVersion: packageVersion,
      backend: (await runBackendLine(engineUsed)).replace(/^backend: /, ''),
      engineUsed,
      startedAt: new Date().toISOString(),
    };
    const runDir = await prepareRunDir(config, runInfo, Boolean(parsed.overwrite), typeof parsed.config === 'string' ? parsed.config : undefined);
    output.line(`Created ${runDir}`);
    return await trainWithSignals(config, runDir, false, stopAtStep, output);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.error(`error: ${message}`);
    const failedAt = error instanceof DivergedError ? error.step : error instanceof EnvError ? (error.trainingStep ?? null) : null;
    ipcReporter()({ type: 'failed', step: failedAt, reason: message });
    // A snapshot named by --model that cannot be used is an input error, like a bad --config file; so is an env that cannot be loaded.
    return error instanceof ConfigError || (error instanceof EnvError && error.input) || (parsed.model !== undefined && error instanceof SnapshotError) ? 2 : 1;
  }
}

export { runConfigFields, defaultRunConfig };
