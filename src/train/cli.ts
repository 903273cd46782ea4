/**
 * The single-run CLI. Every RunConfig option becomes a flag (--learningRate or
 * --learning-rate) generated from the config table, so the CLI cannot drift from it.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import yargs, { type Options } from 'yargs';
import {
  type RunConfig, type RunConfigKey, ConfigError, defaultRunConfig, fieldOf, resolveConfig, runConfigFields, runConfigKeys, suggestKey,
} from './config.js';
import { prepareRunDir, runBackendLine, train } from './trainer.js';
import { consoleOutput, type RunOutput } from './console.js';
import { evaluatePolicy, loadPolicy, viewPolicy } from './playback.js';
import { recordPolicyToFile } from './record.js';
import { ipcReporter } from './progress.js';
import { readUtf8File } from '../util/files.js';
import { envSpec } from '../envs/index.js';
import { resolveEngine } from '../agent/index.js';

const require = createRequire(import.meta.url);
export const packageVersion: string = (require('../../package.json') as { version: string }).version;

/** Keys a run adds to its config.json; a config file may contain them and they are ignored. */
export const RUN_INFO_KEYS = ['rlsweepVersion', 'backend', 'engineUsed', 'startedAt'] as const;

/** The flags that are not RunConfig options (exported for the fuzz tests, which generate command lines from them). */
export const commandOptions = {
  config: { type: 'string', description: 'JSON file of options (e.g. a sweep trial, or a run\'s config.json); flags override it', group: 'Input' },
  overwrite: { type: 'boolean', description: 'Replace an existing run folder of the same name', group: 'Input' },
  'dry-run': { type: 'boolean', description: 'Check the options (and --config or --resume\'s config.json), print the resolved configuration, and stop: nothing is trained or written', group: 'Input' },
  resume: { type: 'string', description: 'Continue the run in this folder from its latest checkpoint, with its own config.json', group: 'Input' },
  model: { type: 'string', description: 'A snapshot to use instead of training: its folder or model.json', group: 'Snapshot' },
  view: { type: 'boolean', description: 'With --model: watch the policy play in the terminal', group: 'Snapshot' },
  eval: { type: 'boolean', description: 'With --model: evaluate the policy (evalEpisodes or evalSteps) and print episode_return_avg', group: 'Snapshot' },
  record: { type: 'string', description: 'With --model: write one greedy episode to this file as an animated GIF', group: 'Snapshot' },
  episodes: { type: 'number', description: 'With --view or --eval: episodes to play', group: 'Snapshot' },
  fps: { type: 'number', description: 'With --view: frames per second (0 = as fast as possible)', default: 30, group: 'Snapshot' },
} as const satisfies Record<string, Options>;

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
      // Parsed here rather than by yargs, which turns "many" into NaN and loses what was typed. A flag given twice
      // comes as a list, left for parseField to refuse.
      return { ...base, type: 'string', coerce: (value: unknown) => (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value) };
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
        // Accept "--hidden-layers 64 64" and "--hidden-layers 64,64".
        coerce: (values: Array<string | number>) => values.flatMap((v) => String(v).split(',')).filter((v) => v !== '').map(Number),
      };
  }
}

function buildParser(argv: string[]) {
  const configOptions = Object.fromEntries(runConfigKeys.map((key) => [key, yargsOptionFor(key)]));
  return yargs(argv)
    .scriptName('rlsweep-run')
    .usage('$0 [options]\n\nTrain a DQN agent and write TensorBoard logs and snapshots into <logdir>/<name>/.\n'
      + 'With --model, watch (--view) or evaluate (--eval) a saved snapshot instead.')
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
  const values = { ...(parsed as Record<string, unknown>) };
  for (const key of RUN_INFO_KEYS) delete values[key];
  return values;
}

function flagValues(parsed: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of runConfigKeys) {
    if (parsed[key] !== undefined) values[key] = parsed[key];
  }
  return values;
}

function timestampName(date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`;
}

/** Abort on the first SIGINT/SIGTERM; a second one exits at once. */
function abortOnSignals(output: RunOutput): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    output.line(`\n${name}: stopping after this step (press Ctrl-C again to quit at once)`);
    controller.abort();
  };
  // A sweep's child stops the same way when its parent goes away (IPC channel closed).
  const onDisconnect = (): void => { if (!controller.signal.aborted) controller.abort(); };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('disconnect', onDisconnect);
  return {
    signal: controller.signal,
    dispose: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); process.off('disconnect', onDisconnect); },
  };
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
  const policy = await loadPolicy(parsed.model as string, flags.env as string | undefined, config.engine);
  output.line(await runBackendLine(policy.learner.engine));
  output.line(`Loaded ${policy.snapshot.modelJsonPath} (${policy.env.id}, hidden ${policy.snapshot.spec.hiddenLayers.join('x')})`);
  const episodes = typeof parsed.episodes === 'number' ? parsed.episodes : undefined;
  if (parsed.record !== undefined) {
    const file = String(parsed.record);
    if (!file) throw new ConfigError('--record needs a file name, e.g. --record episode.gif');
    const episode = await recordPolicyToFile(policy.learner, policy.env, file, config.seed);
    output.line(`Wrote ${file} (${episode.frames} frames of ${episode.width}x${episode.height}, episode return ${episode.episodeReturn}, ${episode.steps} steps)`);
    if (!parsed.view && !parsed.eval) return 0;
  }
  if (parsed.view) {
    const aborter = abortOnSignals(output);
    try {
      await viewPolicy(policy, { episodes: episodes ?? 3, fps: parsed.fps as number, seed: config.seed, signal: aborter.signal }, output);
    } finally {
      aborter.dispose();
    }
    return 0;
  }
  const result = evaluatePolicy(policy, episodes !== undefined ? { ...config, evalEpisodes: episodes } : config);
  output.line(`episodes ${result.returns.length} episode_return_avg ${result.returnMean.toFixed(3)} std ${result.returnStd.toFixed(3)}`);
  return 0;
}

async function trainWithSignals(config: RunConfig, runDir: string, resume: boolean, output: RunOutput): Promise<number> {
  const aborter = abortOnSignals(output);
  try {
    const result = await train(config, { runDir, output, signal: aborter.signal, report: ipcReporter(), resume });
    result.learner.dispose();
    return result.interrupted ? 130 : 0;
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
  const overridden = Object.keys(flagValues(parsed)).concat(parsed.config !== undefined ? ['config'] : []);
  if (overridden.length > 0) {
    throw new ConfigError(`--resume continues ${runDir} with its own config.json; drop --${overridden[0]} (to change options, start a new run)`);
  }
  const configPath = path.join(runDir, 'config.json');
  const config = resolveConfig({ values: await readConfigFile(configPath), source: configPath });
  if (parsed.dryRun) return printDryRun(config, runDir, output);
  output.line(`Resuming ${runDir}`);
  return trainWithSignals(config, runDir, true, output);
}

/** Runs the CLI; returns the exit code (0 done, 1 error, 130 interrupted). */
export async function runCli(argv: string[], output: RunOutput = consoleOutput()): Promise<number> {
  const parsed = (await buildParser(argv).parseAsync()) as Record<string, unknown>;
  try {
    checkUnknownFlags(parsed);
    if (parsed.model !== undefined) {
      if (!parsed.view && !parsed.eval && parsed.record === undefined) {
        throw new ConfigError('--model needs --view (watch it play), --record <file.gif> (save one episode as a GIF) or --eval (print its average return)');
      }
      if (parsed.dryRun) throw new ConfigError('--dry-run checks the options of a training run (or --resume); with --model, drop it');
      return await playSnapshot(parsed, output);
    }
    if (parsed.view || parsed.eval) throw new ConfigError('--view and --eval need --model <snapshot folder or model.json>');
    if (parsed.record !== undefined) throw new ConfigError('--record needs --model <snapshot folder or model.json>');
    if (parsed.resume !== undefined) return await resumeRun(parsed, output);
    const config = await resolveRunConfig(parsed);
    const env = envSpec(config.env);
    const engineUsed = resolveEngine({ observationSize: env.observationSize, actionCount: env.actionCount, hiddenLayers: config.hiddenLayers, activation: config.activation }, config.engine);
    if (parsed.dryRun) return printDryRun(config, path.join(config.logdir, config.name), output);
    const runInfo = {
      rlsweepVersion: packageVersion, backend: (await runBackendLine(engineUsed)).replace(/^backend: /, ''), engineUsed, startedAt: new Date().toISOString(),
    };
    const runDir = await prepareRunDir(config, runInfo, Boolean(parsed.overwrite));
    output.line(`Created ${runDir}`);
    return await trainWithSignals(config, runDir, false, output);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.error(`error: ${message}`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

export { runConfigFields, defaultRunConfig };
