/**
 * The fuzz properties: every generated input (test/fuzz/inputs.ts) is given to the real
 * CLI, in-process, and the outcome must be what a user can act on:
 *   - no exception escapes (in a real process it would print a stack trace), no stack
 *     trace, raw Node error ("ENOENT: no such file or directory, open ...") or JS
 *     internals ("Cannot read properties of undefined") in the output;
 *   - exit code 0, 1 or 2 (2 for a problem with the input, by the CLIs' convention),
 *     and an "error: ..." line whenever it is not 0;
 *   - the runs folder unchanged after an error (and always, for commands that only check).
 * Valid inputs never train: run.ts gets --dry-run, sweep files go through `sweep plan`,
 * and `sweep run`/`trial` only ever see files that cannot be run.
 */
import type fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CommandResult, fingerprint, runCommand, sweepCommand, tinyRunFlags } from '../helpers/cli-harness.js';
import { configFileText, type FuzzPaths, type GeneratedFile, runArgv, sweepArgv, sweepFileText } from './inputs.js';

/** The object through which yargs exits: it keeps its own reference to process.exit, taken when it loads. */
interface YargsShim {
  process: { exit: (code?: number) => never };
}

export interface Fixture {
  tmp: string;
  yargsShim: YargsShim;
  paths: FuzzPaths;
  /** Exceptions no one awaited, since the last case (a real process would die of them). */
  unhandled: unknown[];
  dispose(): void;
}

const VALID_SWEEP = [
  'name: fuzz-plan',
  'method: grid',
  'seeds: [0, 1]',
  'parameters:',
  '  env: { value: CartPole-v1 }',
  '  steps: { value: 300 }',
  '  learningRate: { values: [0.001, 0.002] }',
  '',
].join('\n');

/** A temporary folder with a runs folder holding one short real run, and files to point commands at. */
export async function createFixture(): Promise<Fixture> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-fuzz-'));
  const file = (name: string, text: string | Buffer): string => {
    writeFileSync(path.join(tmp, name), text);
    return path.join(tmp, name);
  };
  const logdir = path.join(tmp, 'runs');
  const trained = await runCommand(...tinyRunFlags(logdir, 'existing'));
  if (trained.code !== 0) throw new Error(`fuzz fixture: the short run failed:\n${trained.text}`);
  mkdirSync(path.join(tmp, 'folder'));
  const paths: FuzzPaths = {
    logdir,
    run: path.join(logdir, 'existing'),
    validSweep: file('valid.yaml', VALID_SWEEP),
    files: [
      file('broken.yaml', 'name: x\nparameters:\n  env: { value: CartPole-v1\n'),
      file('latin1.yaml', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0x0a])),
      file('empty.yaml', ''),
      file('config.json', '{"env": "CartPole-v1", "steps": 300}\n'),
      file('list.json', '[1, 2]\n'),
    ],
    folder: path.join(tmp, 'folder'),
    missing: path.join(tmp, 'missing', 'nothing'),
  };
  const yargsDir = path.dirname(createRequire(import.meta.url).resolve('yargs/package.json'));
  const yargsShim = ((await import(pathToFileURL(path.join(yargsDir, 'lib', 'platform-shims', 'esm.mjs')).href)) as { default: YargsShim }).default;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  return {
    tmp,
    paths,
    unhandled,
    yargsShim,
    dispose: () => {
      process.off('unhandledRejection', onUnhandled);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** What a command did. `thrown`: an exception that escaped it. */
export interface Outcome {
  command: string;
  code: number | undefined;
  text: string;
  thrown?: unknown;
  runsChanged: boolean;
}

class ProcessExitCalled extends Error {
  constructor(readonly code: number | undefined) {
    super(`process.exit(${code}) called`);
  }
}

/** Runs one command in-process, with anything it prints on the console or exits with caught. */
async function execute(command: string, logdir: string, fixture: Fixture, call: () => Promise<CommandResult>): Promise<Outcome> {
  const before = fingerprint(logdir);
  const printed: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, exit: process.exit, yargsExit: fixture.yargsShim.process.exit };
  console.log =
    console.error =
    console.warn =
      (...args: unknown[]): void => {
        printed.push(args.map(String).join(' '));
      };
  const exit = (code?: number): never => {
    throw new ProcessExitCalled(code);
  };
  process.exit = exit as typeof process.exit;
  fixture.yargsShim.process.exit = exit;
  let result: CommandResult | undefined;
  let thrown: unknown;
  try {
    result = await call();
  } catch (error) {
    thrown = error;
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn });
    process.exit = saved.exit;
    fixture.yargsShim.process.exit = saved.yargsExit;
  }
  // Let a rejection no one awaited surface before the next case starts.
  await new Promise((resolve) => setImmediate(resolve));
  if (fixture.unhandled.length > 0) thrown ??= fixture.unhandled.splice(0)[0];
  return {
    command,
    code: result?.code,
    text: [...printed, result?.text ?? ''].filter(Boolean).join('\n'),
    thrown,
    runsChanged: fingerprint(logdir) !== before,
  };
}

export interface Violation {
  /** Which rule it breaks, e.g. "raw Node error". */
  rule: string;
  /** The offending output line (or exception). */
  detail: string;
}

const STACK_FRAME = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$|node:internal|file:\/\//m;
/** Node's own fs message: "ENOENT: no such file or directory, open '/x'". */
const RAW_FS_ERROR = /\bE[A-Z]{2,}: [^,\n]+, [a-z]+ '|\b(ENOENT|ENOTDIR|EISDIR|EACCES|EPERM|EEXIST|ENAMETOOLONG|ELOOP|EMFILE|EINVAL|EBUSY)\b(?!,)/;
const JS_INTERNALS =
  /\b(TypeError|ReferenceError|RangeError|AssertionError)\b|Cannot read properties|is not a function|is not iterable|Maximum call stack|\[object Object\]|argument must be of type \w+\. Received/;

function lineMatching(text: string, pattern: RegExp): string {
  return text.split('\n').find((line) => pattern.test(line)) ?? text.split('\n')[0] ?? '';
}

/** The rules an outcome breaks. `checksOnly`: the command never writes, even when it succeeds. */
export function violations(outcome: Outcome, options: { checksOnly: boolean; inputErrorsExit2: boolean }): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, detail: string): void => {
    found.push({ rule: `${outcome.command}: ${rule}`, detail });
  };
  if (outcome.thrown !== undefined) {
    const error = outcome.thrown;
    if (error instanceof ProcessExitCalled) add(`exits the process (code ${error.code}) from inside`, outcome.text.split('\n').at(-1) ?? '');
    else add('exception escapes (a stack trace in a real process)', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    return found;
  }
  const { code, text } = outcome;
  if (code !== 0 && code !== 1 && code !== 2) add('exit code not 0, 1 or 2', `exit ${code}`);
  if (STACK_FRAME.test(text)) add('stack trace in the output', lineMatching(text, STACK_FRAME));
  if (RAW_FS_ERROR.test(text)) add('raw Node error in the output', lineMatching(text, RAW_FS_ERROR));
  if (JS_INTERNALS.test(text)) add('JS internals in the output', lineMatching(text, JS_INTERNALS));
  if (code !== 0 && !/^error: \S/m.test(text)) add('fails without an "error:" line', text.split('\n')[0] || '(no output)');
  if (code === 1 && options.inputErrorsExit2) add('exit 1 for a bad input (the convention is 2)', lineMatching(text, /^error: /));
  if (outcome.runsChanged && (code !== 0 || options.checksOnly)) add(`changed the runs folder (exit ${code})`, lineMatching(text, /^error: /));
  return found;
}

/** A failure's class: its rule and its message with paths, quoted values and numbers blanked, so one bug is one class. */
export function failureClass(violation: Violation): string {
  const raw = /\b(E[A-Z]{2,}): [^,\n]+, ([a-z]+) '/.exec(violation.detail);
  if (raw) return `${violation.rule} | ${raw[1]} ${raw[2]}`;
  const shape = violation.detail
    .replace(/\/[^\s'",:)]+/g, '<path>')
    .replace(/"[^"]*"|'[^']*'/g, '<q>')
    .replace(/-?\d[\d.e+-]*/g, '<n>')
    .replace(/:\s*\S+$/, ': <x>') // "...: <the value>" at the end
    .slice(0, 140);
  return `${violation.rule} | ${shape}`;
}

export interface FuzzProperty<T> {
  name: string;
  arbitrary: (fixture: Fixture) => fc.Arbitrary<T>;
  /** Runs the input; returns the rules broken. */
  check: (input: T, fixture: Fixture) => Promise<Violation[]>;
  /** How to show an input in a report. */
  show: (input: T) => string;
}

function showBytes({ bytes, mutations }: GeneratedFile): string {
  const text = bytes.toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL, tabs and CRs are exactly what must show escaped
  const escaped = /[\uFFFD\u0000\uFEFF\t\r]/.test(text) ? JSON.stringify(text) : text;
  return `${mutations.length > 0 ? `(text mutations: ${mutations.join(', ')})\n` : ''}${escaped}`;
}

const showArgv =
  (prefix: string) =>
  (argv: string[]): string =>
    `${prefix} ${argv.map((a) => (/^[\w./=,:+@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`;

/** A file built with a defect (and not mutated after) must not pass without an error or a warning. */
function silentlyAccepted(input: GeneratedFile, outcome: Outcome): Violation[] {
  if (input.mutations.length > 0 || input.defects.length === 0 || outcome.code !== 0 || /^warning: /m.test(outcome.text)) return [];
  return [{ rule: `${outcome.command}: accepts a defect without an error or a warning`, detail: input.defects[0]! }];
}

/** A sweep file through `sweep plan`; when plan refuses it (exit 2), `sweep run` must refuse it too and write nothing. */
export const sweepFileProperty: FuzzProperty<GeneratedFile> = {
  name: 'sweep files (sweep plan, and sweep run of what plan refuses)',
  arbitrary: () => sweepFileText,
  async check(input, fixture) {
    const target = path.join(fixture.tmp, 'fuzz.yaml');
    writeFileSync(target, input.bytes);
    const { logdir } = fixture.paths;
    const plan = await execute('sweep plan', logdir, fixture, () => sweepCommand('plan', target, '--logdir', logdir));
    const found = [...violations(plan, { checksOnly: true, inputErrorsExit2: true }), ...silentlyAccepted(input, plan)];
    if (plan.code === 2 && plan.thrown === undefined) {
      const run = await execute('sweep run', logdir, fixture, () => sweepCommand('run', target, '--logdir', logdir, '--concurrency', '1'));
      found.push(...violations(run, { checksOnly: false, inputErrorsExit2: true }));
      if (run.code !== 2) found.push({ rule: 'sweep run: accepts a file sweep plan refuses', detail: `plan: exit 2, run: exit ${run.code}` });
    }
    return found;
  },
  show: showBytes,
};

/** A --config JSON file through run.ts --dry-run. */
export const configFileProperty: FuzzProperty<GeneratedFile> = {
  name: 'config JSON files (run.ts --config x.json --dry-run)',
  arbitrary: () => configFileText,
  async check(input, fixture) {
    const target = path.join(fixture.tmp, 'fuzz.json');
    writeFileSync(target, input.bytes);
    const { logdir } = fixture.paths;
    const outcome = await execute('run.ts --config', logdir, fixture, () => runCommand('--dry-run', '--logdir', logdir, '--config', target));
    return [...violations(outcome, { checksOnly: true, inputErrorsExit2: true }), ...silentlyAccepted(input, outcome)];
  },
  show: showBytes,
};

/** run.ts command lines, with --dry-run. */
export const runArgvProperty: FuzzProperty<string[]> = {
  name: 'run.ts command lines (--dry-run)',
  arbitrary: (fixture) => runArgv(fixture.paths),
  async check(argv, fixture) {
    const outcome = await execute('run.ts', fixture.paths.logdir, fixture, () => runCommand(...argv));
    return violations(outcome, { checksOnly: true, inputErrorsExit2: true });
  },
  show: showArgv('run.ts'),
};

/** sweep run/trial/plan command lines (run and trial never get a runnable file). */
export const sweepArgvProperty: FuzzProperty<string[]> = {
  name: 'sweep run/trial/plan command lines',
  arbitrary: (fixture) => sweepArgv(fixture.paths, ['run', 'trial', 'plan']),
  async check(argv, fixture) {
    const outcome = await execute('sweep', fixture.paths.logdir, fixture, () => sweepCommand(...argv));
    return violations(outcome, { checksOnly: true, inputErrorsExit2: true });
  },
  show: showArgv('sweep'),
};

/** sweep status/results/report on folders and files that are or are not sweeps (results and report write when they succeed). */
export const sweepFolderProperty: FuzzProperty<string[]> = {
  name: 'sweep status/results/report command lines',
  arbitrary: (fixture) => sweepArgv(fixture.paths, ['status', 'results', 'report']),
  async check(argv, fixture) {
    const outcome = await execute('sweep', fixture.paths.logdir, fixture, () => sweepCommand(...argv));
    return violations(outcome, { checksOnly: false, inputErrorsExit2: false });
  },
  show: showArgv('sweep'),
};

export const ALL_PROPERTIES = [sweepFileProperty, configFileProperty, runArgvProperty, sweepArgvProperty, sweepFolderProperty] as const;
