/**
 * Generators of user input for the fuzz properties, derived from the real schema:
 * option names, kinds, ranges and choices come from the RunConfig table
 * (src/train/config.ts) and the sweep file's keys from src/sweep/spec.ts, so a new
 * option is fuzzed without touching this file. Each generator mixes values the schema
 * accepts (to get past the first check into the deeper ones) with near misses and junk,
 * then mutates the text (typos, broken YAML/JSON, BOM, bytes that are not UTF-8).
 */
import fc from 'fast-check';
import { z } from 'zod';
import { envIds } from '../../src/envs/index.js';
import { fieldOf, type RunConfigKey, runConfigKeys } from '../../src/train/config.js';
import { commandOptions, RUN_INFO_KEYS } from '../../src/cli/run.js';
import { DISTRIBUTIONS, METRIC_GOALS, PARAMETER_KEYS, RESERVED_PARAMETERS, SWEEP_METHODS, SWEEP_METRICS, TOP_LEVEL_KEYS, WANDB_ONLY_KEYS } from '../../src/sweep/spec.js';

/** A number as typed, for literals no JS number holds (2^53 + 1, 1e400, 0x10). */
export class Literal {
  constructor(readonly text: string) {}
}
/** A map as a list of pairs, so that a key can be missing or given twice. */
export class Pairs {
  constructor(
    readonly pairs: ReadonlyArray<readonly [string, Value]>,
    readonly flow = false,
  ) {}
}
export type Value = null | boolean | number | string | Literal | Pairs | Value[];

/** Paths the command lines point at; fixtures that exist are made by the harness. */
export interface FuzzPaths {
  logdir: string;
  /** A run folder under logdir (config.json and the files of a short run). */
  run: string;
  /** Files that exist: a valid sweep file, an invalid one, a JSON config, a file that is not UTF-8. */
  validSweep: string;
  files: string[];
  /** A folder that exists but is not a run or a sweep. */
  folder: string;
  missing: string;
}

const ASCII_PUNCTUATION = [...' \t:#\'"%@`&*!|>-?,[]{}=./\\'];

/** A string one typo away from `text`: a character dropped, doubled, swapped, replaced or its case changed. */
export function typoOf(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(text, fc.nat(), fc.constantFrom('drop', 'double', 'swap', 'replace', 'case', 'suffix'), fc.constantFrom(...'aeiorstxz_-0'))
    .map(([t, at, how, c]) => {
      if (t.length === 0) return c;
      const i = at % t.length;
      switch (how) {
        case 'drop':
          return t.slice(0, i) + t.slice(i + 1);
        case 'double':
          return t.slice(0, i) + t[i] + t.slice(i);
        case 'swap':
          return i + 1 < t.length ? t.slice(0, i) + t[i + 1] + t[i] + t.slice(i + 2) : `${t}${c}`;
        case 'replace':
          return t.slice(0, i) + c + t.slice(i + 1);
        case 'case':
          return t.slice(0, i) + (t[i] === t[i]!.toUpperCase() ? t[i]!.toLowerCase() : t[i]!.toUpperCase()) + t.slice(i + 1);
        default:
          return `${t}${c}`;
      }
    })
    .filter((t) => t.length > 0);
}

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Values no field accepts, or that only look right: wrong types, non-finite, beyond a double, empty. */
const junk: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom<Value>(NaN, Infinity, -Infinity, -1, -0, 0, 0.5, 1.5, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 31),
  fc.constantFrom('9007199254740993', '1e400', '-1e400', '0x10', '0o17', '1_000', '+5', '00012', '.5', '5.').map((t) => new Literal(t)),
  fc.constantFrom<Value>('', ' ', 'many', '0.1', 'true', 'yes', 'null', '1e3', 'NaN', 'Infinity', '64 64', '64x64', 'é', '\u0000', '../x'),
  fc.constantFrom<Value>(null, true, false, [], new Pairs([])),
  fc.string({ maxLength: 12 }),
  fc.double(),
  fc.integer(),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
);

function numberBounds(schema: z.ZodType): { min: number; max: number; integer: boolean } {
  if (!(schema instanceof z.ZodNumber)) throw new Error('numberBounds: not a number schema');
  return { min: schema.minValue ?? -Infinity, max: schema.maxValue ?? Infinity, integer: schema.isInt ?? false };
}

function numbersIn({ min, max, integer }: { min: number; max: number; integer: boolean }): fc.Arbitrary<number> {
  const finiteMin = Math.max(min, -Number.MAX_VALUE);
  const finiteMax = Math.min(max, Number.MAX_VALUE);
  if (integer) {
    const low = Math.max(finiteMin, Number.MIN_SAFE_INTEGER);
    const high = Math.min(finiteMax, Number.MAX_SAFE_INTEGER);
    // Mostly small, sometimes anywhere in the range, and the bounds themselves.
    return fc.oneof(fc.integer({ min: low, max: Math.min(high, low + 5000) }), fc.integer({ min: low, max: high }), fc.constantFrom(low, high));
  }
  return fc.oneof(fc.double({ min: finiteMin, max: finiteMax, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(finiteMin, finiteMax));
}

/** Just outside a numeric field's range, or a fraction where it takes integers. */
function numbersOutside({ min, max, integer }: { min: number; max: number; integer: boolean }): fc.Arbitrary<Value> {
  const near: Value[] = [];
  if (Number.isFinite(min)) near.push(min - 1, min - 1e-9, -min - 1);
  if (Number.isFinite(max)) near.push(max + 1, max * 2 + 1, max + 1e-9);
  if (integer) near.push(new Literal(String(BigInt(Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER) + 2n)), (Number.isFinite(min) ? min : 0) + 0.5);
  return near.length > 0 ? fc.constantFrom(...near) : junk;
}

/** Values the field's own schema accepts. */
export function validValue(key: RunConfigKey): fc.Arbitrary<Value> {
  const field = fieldOf(key);
  const accepted = (v: unknown): boolean => field.schema.safeParse(v).success;
  switch (field.kind) {
    case 'number':
    case 'integer':
      return numbersIn(numberBounds(field.schema)).filter(accepted);
    case 'enum':
      return fc.constantFrom(...field.choices!);
    case 'boolean':
      return fc.boolean();
    case 'string':
      return key === 'env' ? fc.constantFrom(...envIds) : fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._=,+@-]{0,15}$/);
    case 'integerList': {
      const element = numberBounds((field.schema as z.ZodArray<z.ZodNumber>).element);
      return fc.array(fc.oneof(fc.integer({ min: element.min, max: Math.min(element.max, 256) }), fc.constant(element.max)), { maxLength: 4 }).filter(accepted);
    }
  }
}

/** Values the field refuses or that sit on its edges: out of range, a typo of a choice, junk. */
export function nearMissValue(key: RunConfigKey): fc.Arbitrary<Value> {
  const field = fieldOf(key);
  switch (field.kind) {
    case 'number':
    case 'integer':
      return fc.oneof(numbersOutside(numberBounds(field.schema)), junk);
    case 'enum':
      return fc.oneof(typoOf(fc.constantFrom(...field.choices!)), junk);
    case 'string':
      return fc.oneof(key === 'env' ? typoOf(fc.constantFrom(...envIds)) : fc.constantFrom('../outside', '/abs', 'a b', '.', '..', 'a/../..', '-x', 'ünï'), junk);
    case 'boolean':
      return junk;
    case 'integerList':
      return fc.oneof(
        fc.constantFrom<Value>(
          [0],
          [-1],
          [1.5],
          [65537],
          Array.from({ length: 17 }, () => 8),
          [new Literal('1e400')],
          '64,64',
          [[64]],
        ),
        junk,
      );
  }
}

/** Mostly valid values: enough to reach the checks between fields. */
export function fieldValue(key: RunConfigKey): fc.Arbitrary<Value> {
  return fc.oneof({ weight: 3, arbitrary: validValue(key) }, { weight: 1, arbitrary: nearMissValue(key) });
}

const runKey = fc.constantFrom(...runConfigKeys);
/** A run option, or a typo of one. */
const runKeyOrTypo = fc.oneof({ weight: 5, arbitrary: runKey }, { weight: 1, arbitrary: typoOf(runKey) });

/** [key, value] pairs of run options (some misspelt, some twice), values matched to the key. */
function optionPairs(keys: fc.Arbitrary<string>, maxLength: number): fc.Arbitrary<Array<[string, Value]>> {
  return fc.array(
    keys.chain((key) => fc.tuple(fc.constant(key), (runConfigKeys as string[]).includes(key) ? fieldValue(key as RunConfigKey) : junk)),
    { maxLength },
  );
}

// ---------------------------------------------------------------- sweep files

function parameterEntry(key: string): fc.Arbitrary<Value> {
  const value = (runConfigKeys as string[]).includes(key) ? fieldValue(key as RunConfigKey) : junk;
  const distribution = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<string>(...DISTRIBUTIONS) },
    { weight: 1, arbitrary: fc.constantFrom('log_uniform', 'normal', 'categorical', 'constant', 'q_log_uniform_values') },
    { weight: 1, arbitrary: typoOf(fc.constantFrom<string>(...DISTRIBUTIONS)) },
  );
  const flow = fc.boolean();
  return fc.oneof(
    fc.tuple(value, flow).map(([v, f]) => new Pairs([['value', v]], f)),
    fc.tuple(fc.array(value, { maxLength: 4 }), flow).map(([vs, f]) => new Pairs([['values', vs]], f)),
    fc
      .record({ min: value, max: value, distribution: fc.option(distribution, { nil: undefined }), q: fc.option(fc.oneof(fc.constantFrom(1, 2, 0.5, 0.1), junk), { nil: undefined }), flow })
      .map(
        ({ min, max, distribution: d, q, flow: f }) =>
          new Pairs([['min', min], ['max', max], ...(d === undefined ? [] : [['distribution', d] as const]), ...(q === undefined ? [] : [['q', q] as const])], f),
      ),
    // Not a map, empty, or keys a parameter does not have.
    value,
    fc.constant(new Pairs([])),
    fc.tuple(typoOf(fc.constantFrom(...PARAMETER_KEYS)), value).map(([k, v]) => new Pairs([[k, v]], true)),
    fc.tuple(fc.subarray([...PARAMETER_KEYS], { minLength: 2 }), value).map(
      ([ks, v]) =>
        new Pairs(
          ks.map((k) => [k, v] as const),
          true,
        ),
    ),
  );
}

const parameterKey = fc.oneof(
  { weight: 8, arbitrary: runKey.filter((k) => RESERVED_PARAMETERS[k] === undefined) },
  { weight: 1, arbitrary: fc.constantFrom(...(Object.keys(RESERVED_PARAMETERS) as RunConfigKey[])) },
  { weight: 1, arbitrary: typoOf(runKey) },
);

const parametersMap: fc.Arbitrary<Value> = fc.oneof(
  // Mostly distinct keys (a repeated one is a YAML error that stops everything else).
  {
    weight: 8,
    arbitrary: fc
      .uniqueArray(parameterKey, { maxLength: 5 })
      .chain((keys) => fc.tuple(...keys.map((key) => fc.tuple(fc.constant(key), parameterEntry(key)))))
      .map((pairs) => new Pairs(pairs)),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(
        parameterKey.chain((key) => fc.tuple(fc.constant(key), parameterEntry(key))),
        { maxLength: 5 },
      )
      .map((pairs) => new Pairs(pairs)),
  },
  { weight: 1, arbitrary: junk },
);

const sweepName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._=,+@-]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom<Value>('existing', '.hidden', '-dash', 'a/b', '../up', 'a b', 'x'.repeat(101), 42, null, '') },
  { weight: 1, arbitrary: junk },
);

const smallCount = (min: number): fc.Arbitrary<Value> => fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max: 40 }) }, { weight: 1, arbitrary: junk });

/** The top-level entries of a sweep file, each present or not, with misspelt, W&B-only and run-option keys mixed in. */
const sweepEntries: fc.Arbitrary<Array<[string, Value]>> = fc
  .record({
    name: sweepName,
    description: fc.oneof(fc.string({ maxLength: 20 }), junk),
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom<Value>(...SWEEP_METHODS) },
      { weight: 1, arbitrary: fc.constantFrom<Value>('bayes') },
      { weight: 1, arbitrary: typoOf(fc.constantFrom(...SWEEP_METHODS)) },
    ),
    metric: fc.oneof(
      fc
        .record({
          name: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<Value>(...SWEEP_METRICS) }, { weight: 1, arbitrary: typoOf(fc.constantFrom(...SWEEP_METRICS)) }),
          goal: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<Value>(...METRIC_GOALS) }, { weight: 1, arbitrary: junk }),
          flow: fc.boolean(),
        })
        .chain(({ name, goal, flow }) =>
          fc
            .subarray([
              ['name', name],
              ['goal', goal],
              ['gaol', goal],
            ] as Array<[string, Value]>)
            .map((pairs) => new Pairs(pairs, flow)),
        ),
      junk,
    ),
    seeds: fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 9 }) }, { weight: 1, arbitrary: junk }), { maxLength: 4 }) },
      { weight: 1, arbitrary: junk },
    ),
    concurrency: smallCount(0),
    run_cap: smallCount(0),
    sweep_seed: smallCount(0),
    parameters: parametersMap,
  })
  .chain(({ name, parameters, ...optional }) =>
    fc.tuple(
      // name and parameters are there most of the time, so most cases get past "missing name" to the parameters.
      fc.option(fc.constant(['name', name] as [string, Value]), { freq: 9, nil: undefined }),
      fc.subarray(Object.entries(optional) as Array<[string, Value]>),
      fc.option(fc.constant(['parameters', parameters] as [string, Value]), { freq: 9, nil: undefined }),
      // Now and then a key a sweep does not have: misspelt, W&B-only, or a run option written at the top.
      fc.oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.tuple(fc.oneof(typoOf(fc.constantFrom(...TOP_LEVEL_KEYS)), fc.constantFrom(...Object.keys(WANDB_ONLY_KEYS)), runKey), junk) },
      ),
      fc.nat(),
    ),
  )
  .map(([name, optional, parameters, extra, at]) => {
    const pairs = [...(name ? [name] : []), ...optional, ...(parameters ? [parameters] : [])];
    if (extra) pairs.splice(at % (pairs.length + 1), 0, extra);
    return pairs;
  });

function yamlScalar(value: number | string | boolean | null | Literal): string {
  if (value instanceof Literal) return value.text;
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? '.nan' : value === Infinity ? '.inf' : value === -Infinity ? '-.inf' : Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'boolean') return String(value);
  return /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(value) ? value : JSON.stringify(value);
}

function yamlFlow(value: Value): string {
  if (value instanceof Pairs) return `{ ${value.pairs.map(([k, v]) => `${k}: ${yamlFlow(v)}`).join(', ')} }`;
  if (Array.isArray(value)) return `[${value.map(yamlFlow).join(', ')}]`;
  return yamlScalar(value);
}

/** Block style for maps (unless marked flow), flow style for lists and scalars. */
function yamlBlock(pairs: Pairs, indent: string): string[] {
  return pairs.pairs.flatMap(([key, value]) => {
    if (value instanceof Pairs && !value.flow && value.pairs.length > 0) return [`${indent}${key}:`, ...yamlBlock(value, `${indent}  `)];
    return [`${indent}${key}: ${yamlFlow(value)}`];
  });
}

type TextMutation = (text: string, at: number, pick: number) => string;
const lineEdit =
  (edit: (line: string, pick: number) => string[]): TextMutation =>
  (text, at, pick) => {
    const lines = text.split('\n');
    const i = at % lines.length;
    lines.splice(i, 1, ...edit(lines[i]!, pick));
    return lines.join('\n');
  };

/** Ways to break (or merely restyle) a YAML file's text. */
const YAML_MUTATIONS: Record<string, TextMutation> = {
  tabIndent: lineEdit((line) => [line.replace(/^ +/, '\t')]),
  indentMore: lineEdit((line) => [` ${line}`]),
  indentLess: lineEdit((line) => [line.replace(/^ /, '')]),
  duplicateLine: lineEdit((line) => [line, line]),
  dropLine: lineEdit(() => []),
  emptyValue: lineEdit((line) => [line.replace(/:\s.*$/, ':')]),
  unclose: (text, at) => {
    const closers = [...text.matchAll(/[\]}]/g)];
    const m = closers[at % Math.max(1, closers.length)];
    return m ? text.slice(0, m.index) + text.slice(m.index! + 1) : `${text}[`;
  },
  insertChar: (text, at, pick) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + ASCII_PUNCTUATION[pick % ASCII_PUNCTUATION.length] + text.slice(i);
  },
  truncate: (text, at) => text.slice(0, at % (text.length + 1)),
  bom: (text) => `\uFEFF${text}`,
  crlf: (text) => text.replace(/\n/g, '\r\n'),
  secondDocument: (text, _at, pick) => (pick % 2 === 0 ? `${text}\n---\n${text}` : `---\n${text}\n...\n`),
  anchorAlias: (text, at) => {
    // An anchor on one value and an alias to it on another (valid YAML), or an alias to nothing.
    const values = [...text.matchAll(/(value|values|min|max): /g)];
    if (values.length < 2) return text.replace(/: /, ': *nowhere ');
    const first = values[at % values.length]!;
    const second = values[(at + 1) % values.length]!;
    const [a, b] = first.index! < second.index! ? [first, second] : [second, first];
    const bEnd = text.indexOf('\n', b.index!);
    const bLine = text.slice(b.index!, bEnd < 0 ? undefined : bEnd).replace(/: .*?( }|$)/, ': *x$1');
    const withAlias = text.slice(0, b.index!) + bLine + (bEnd < 0 ? '' : text.slice(bEnd));
    return `${withAlias.slice(0, a.index! + a[0].length)}&x ${withAlias.slice(a.index! + a[0].length)}`;
  },
  mergeKey: lineEdit((line) => [line, line.replace(/^(\s*).*/, '$1<<: { gamma: 0.5 }')]),
};

/** Ways to break a JSON file's text. */
const JSON_MUTATIONS: Record<string, TextMutation> = {
  truncate: YAML_MUTATIONS.truncate!,
  insertChar: YAML_MUTATIONS.insertChar!,
  bom: YAML_MUTATIONS.bom!,
  trailingComma: (text) => text.replace(/\s*}\s*$/, ',}'),
  comment: (text) => `// options\n${text}`,
  notAnObject: (_text, _at, pick) => ['[]', '"gamma"', '42', 'null', '', '{}', '{"env": {}}'][pick % 7]!,
  nanLiteral: (text) => text.replace(/: [^,}]+/, ': NaN'),
};

/** Bytes that are not UTF-8, put somewhere in the file. */
function withBytes(text: string, at: number, pick: number): Buffer {
  const bytes = Buffer.from(text);
  const bad = [[0xff], [0xc3], [0xe9], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0x00]][pick % 6]!;
  const i = at % (bytes.length + 1);
  return Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]);
}

/** A generated file: its bytes, the text mutations applied, and the defects it was built with (before any mutation). */
export interface GeneratedFile {
  bytes: Buffer;
  mutations: string[];
  /** What is wrong with it by construction (a key no schema has, a value the field refuses, a key twice); [] when none is known. */
  defects: string[];
}

function mutated(text: string, defects: string[], mutations: Record<string, TextMutation>): fc.Arbitrary<GeneratedFile> {
  const names = Object.keys(mutations);
  const step = fc.tuple(fc.constantFrom(...names, 'nonUtf8'), fc.nat(), fc.nat());
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ bytes: Buffer.from(text), mutations: [] as string[], defects }) },
    {
      weight: 2,
      arbitrary: fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => {
        let current = text;
        for (const [name, at, pick] of steps) if (name !== 'nonUtf8') current = mutations[name]!(current, at, pick);
        const bytesStep = steps.find(([name]) => name === 'nonUtf8');
        return { bytes: bytesStep ? withBytes(current, bytesStep[1], bytesStep[2]) : Buffer.from(current), mutations: steps.map(([name]) => name), defects };
      }),
    },
  );
}

/** Keys a map has that it must not: not in `allowed`, or given twice. */
function keyDefects(pairs: ReadonlyArray<readonly [string, Value]>, allowed: readonly string[], where: string): string[] {
  const seen = new Set<string>();
  return pairs.flatMap(([key]) => {
    const defects = seen.has(key) ? [`${where}"${key}" given twice`] : [];
    seen.add(key);
    return allowed.includes(key) ? defects : [...defects, `${where}unknown key "${key}"`];
  });
}

/** The key-level defects of a sweep file (values are left to the properties that check messages). */
function sweepDefects(pairs: Array<[string, Value]>): string[] {
  const parameters = pairs.find(([key]) => key === 'parameters')?.[1];
  const parameterKeys = runConfigKeys.filter((key) => RESERVED_PARAMETERS[key] === undefined);
  return [...keyDefects(pairs, TOP_LEVEL_KEYS, ''), ...(parameters instanceof Pairs ? keyDefects(parameters.pairs, parameterKeys, 'parameters: ') : [])];
}

/** A sweep file: generated from the spec's keys and the run options, then maybe broken as text. */
export const sweepFileText: fc.Arbitrary<GeneratedFile> = sweepEntries.chain((pairs) => mutated(`${yamlBlock(new Pairs(pairs), '').join('\n')}\n`, sweepDefects(pairs), YAML_MUTATIONS));

// ---------------------------------------------------------------- config JSON

function jsonText(value: Value): string {
  if (value instanceof Literal) return value.text;
  if (value instanceof Pairs) return `{${value.pairs.map(([k, v]) => `${JSON.stringify(k)}: ${jsonText(v)}`).join(', ')}}`;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(', ')}]`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // NaN, Infinity: not JSON, as a user might write them
  return JSON.stringify(value);
}

/** What is wrong with a config file's options: unknown keys, keys twice, values (as JSON reads them) the field refuses. */
function configDefects(pairs: Array<readonly [string, Value]>): string[] {
  const values = pairs.flatMap(([key, value]): string[] => {
    if (!(runConfigKeys as string[]).includes(key)) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(jsonText(value));
    } catch {
      return [`"${key}": ${jsonText(value)} is not JSON`];
    }
    return fieldOf(key as RunConfigKey).schema.safeParse(parsed).success ? [] : [`"${key}": ${jsonText(value)} is refused by its schema`];
  });
  return [...keyDefects(pairs, [...runConfigKeys, ...RUN_INFO_KEYS], ''), ...values];
}

/** A --config file: run options (and the keys a run adds to its config.json), some misspelt or repeated, then maybe broken. */
export const configFileText: fc.Arbitrary<GeneratedFile> = fc
  .tuple(optionPairs(runKeyOrTypo, 8), fc.array(fc.tuple(fc.constantFrom(...RUN_INFO_KEYS), junk), { maxLength: 1 }), fc.boolean())
  .map(([pairs, info, repeat]) => [...pairs, ...info, ...(repeat && pairs.length > 0 ? [pairs[0]!] : [])])
  .chain((pairs) => mutated(jsonText(new Pairs(pairs)), configDefects(pairs), JSON_MUTATIONS));

// ---------------------------------------------------------------- command lines

/** How a value is typed on a command line: one argument, several, or glued with "=". */
function flagTokens(flag: string, value: Value, kind: string): fc.Arbitrary<string[]> {
  const text = (v: Value): string => (v instanceof Literal ? v.text : Array.isArray(v) ? v.map(text).join(',') : v instanceof Pairs ? '{}' : String(v));
  const styles: Array<fc.Arbitrary<string[]>> = [
    fc.constant([`--${flag}`, text(value)]),
    fc.constant([`--${flag}=${text(value)}`]),
    fc.constant([`--${flag}`]), // the value left out
  ];
  if (kind === 'boolean') styles.push(fc.constant([value === false ? `--no-${flag}` : `--${flag}`]));
  if (Array.isArray(value)) styles.push(fc.constant([`--${flag}`, ...value.map(text)]), fc.constant([`--${flag}`, value.map(text).join(' ')]));
  return fc.oneof(...styles);
}

/** Flags no command has: typos of real ones, odd shapes. */
function unknownFlag(known: readonly string[]): fc.Arbitrary<string[]> {
  return fc.oneof(
    typoOf(fc.constantFrom(...known)).map((f) => [`--${f}`, '1']),
    fc.constantFrom<string[]>(['-x'], ['-'], ['--'], ['--a.b', '1'], ['--__proto__', '1'], ['--constructor'], ['--toString'], ['--valueOf', '1'], ['stray'], ['--=1'], ['---x']),
  );
}

/** Command-option values: paths that exist or not, numbers, names. */
function commandValue(name: string, paths: FuzzPaths): fc.Arbitrary<Value> {
  const anyPath = fc.constantFrom(paths.logdir, paths.run, paths.folder, paths.missing, paths.validSweep, '', ...paths.files);
  if (['config', 'resume', 'model'].includes(name)) return anyPath;
  if (name === 'record') return fc.oneof(fc.constantFrom('episode.gif', 'episode.png', 'x', ''), anyPath);
  return fc.oneof(fc.integer({ min: -2, max: 100 }), junk);
}

/**
 * run.ts command lines: --dry-run and --logdir first (so nothing generated after them
 * can undo them and start training), then run options and command options in any style.
 */
export function runArgv(paths: FuzzPaths): fc.Arbitrary<string[]> {
  const options = Object.keys(commandOptions).filter((name) => name !== 'dry-run');
  const configFlag = fc.oneof(
    {
      weight: 6,
      arbitrary: runKey.filter((k) => k !== 'logdir').chain((key) => fc.tuple(fc.constantFrom(key, kebab(key)), fieldValue(key)).chain(([flag, value]) => flagTokens(flag, value, fieldOf(key).kind))),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...options)
        .chain((name) => commandValue(name, paths).chain((value) => flagTokens(name, value, (commandOptions as unknown as Record<string, { type?: string }>)[name]!.type ?? 'number'))),
    },
    { weight: 1, arbitrary: unknownFlag([...runConfigKeys.filter((k) => k !== 'logdir'), ...options]) },
  );
  return fc.array(configFlag, { maxLength: 6 }).map((flags) => ['--dry-run', '--logdir', paths.logdir, ...flags.flat()]);
}

/**
 * The sweep command's subcommands and flags. Not exported by src/cli/sweep-commands.ts
 * (its yargs builders are inline); scripts/fuzz.ts compares this table with each
 * subcommand's --help and says when they drift apart.
 */
export const SWEEP_COMMANDS: Record<string, { positional: 'file' | 'dir'; flags: Record<string, 'number' | 'string' | 'boolean' | 'array' | readonly string[]> }> = {
  run: {
    positional: 'file',
    flags: {
      logdir: 'string',
      concurrency: 'number',
      retries: 'number',
      force: 'boolean',
      yes: 'boolean',
      'progress-every': 'number',
      executor: ['local', 'slurm'],
      partition: 'string',
      time: 'string',
      'cpus-per-trial': 'number',
      'sbatch-arg': 'array',
      detach: 'boolean',
      'cancel-on-interrupt': 'boolean',
      'poll-seconds': 'number',
    },
  },
  trial: { positional: 'file', flags: { index: 'number', logdir: 'string', retries: 'number', force: 'boolean' } },
  plan: { positional: 'file', flags: { logdir: 'string', concurrency: 'number' } },
  status: { positional: 'dir', flags: {} },
  results: { positional: 'dir', flags: {} },
  report: { positional: 'dir', flags: {} },
};

/**
 * sweep command lines. `run` and `trial` never get a valid sweep file (they would
 * train); `plan` may. Folders and files are the harness's fixtures.
 */
export function sweepArgv(paths: FuzzPaths, commands: readonly string[]): fc.Arbitrary<string[]> {
  return fc.constantFrom(...commands).chain((command) => {
    const { positional, flags } = SWEEP_COMMANDS[command]!;
    const invalidFiles = [paths.missing, paths.folder, paths.run, '', ...paths.files];
    const positionals =
      positional === 'dir' ? [paths.logdir, paths.run, paths.folder, paths.missing, paths.validSweep, '', ...paths.files] : command === 'plan' ? [paths.validSweep, ...invalidFiles] : invalidFiles;
    const flagNames = Object.keys(flags);
    const value = (name: string): fc.Arbitrary<Value> => {
      const kind = flags[name]!;
      if (Array.isArray(kind)) return fc.oneof(fc.constantFrom(...kind), typoOf(fc.constantFrom(...kind)));
      if (name === 'logdir') return fc.constantFrom(paths.logdir, paths.missing, paths.folder, '', ...paths.files);
      if (name === 'time') return fc.constantFrom('02:00:00', '1-00:00', '99:99', 'soon', '');
      return kind === 'number' ? fc.oneof(fc.integer({ min: -2, max: 64 }), junk) : kind === 'boolean' ? fc.boolean() : junk;
    };
    const flag =
      flagNames.length === 0
        ? unknownFlag(['logdir', 'force'])
        : fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...flagNames).chain((name) => value(name).chain((v) => flagTokens(name, v, String(flags[name])))) },
            { weight: 1, arbitrary: unknownFlag(flagNames) },
          );
    return fc
      .tuple(
        fc.oneof({ weight: 8, arbitrary: fc.constant(command) }, { weight: 1, arbitrary: typoOf(fc.constant(command)) }),
        fc.option(fc.constantFrom(...positionals), { freq: 6, nil: undefined }),
        fc.array(flag, { maxLength: 4 }),
      )
      .map(([name, file, flagTokensList]) => [name, ...(file === undefined ? [] : [file]), ...flagTokensList.flat()]);
  });
}
