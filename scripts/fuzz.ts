/**
 * The long fuzz run: many cases of each property in test/fuzz/properties.ts, printing
 * the count, the time, and each distinct class of failure with its smallest
 * counterexample (fast-check's shrinking). When a property fails, the class is noted
 * and the search goes on (with the next seed) past that class, to find the next one.
 *
 *   npm run fuzz -- [--seed 1] [--runs 10000] [--property config] [--max-classes 25]
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ALL_PROPERTIES, createFixture, failureClass, type Fixture, type FuzzProperty, type Violation } from '../test/fuzz/properties.js';
import { SWEEP_COMMANDS } from '../test/fuzz/inputs.js';
import { knownBugOf } from '../test/fuzz/known-bugs.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '10000' },
    property: { type: 'string', default: '' },
    'max-classes': { type: 'string', default: '25' },
  },
});
const seed = Number(args.seed);
const runs = Number(args.runs);
const maxClasses = Number(args['max-classes']);
for (const [name, value] of [
  ['--seed', seed],
  ['--runs', runs],
  ['--max-classes', maxClasses],
] as const) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be an integer >= 0, got ${value}`);
}

interface FoundClass {
  violation: Violation;
  counterexample: string;
  /** Cases run (this property) when it was found. */
  at: number;
}

/** The flags each sweep subcommand's --help lists, against the table the generators use. */
function checkSweepTable(): string[] {
  const drift: string[] = [];
  for (const [command, { flags }] of Object.entries(SWEEP_COMMANDS)) {
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', command, '--help'], { encoding: 'utf8' });
    const listed = new Set([...help.matchAll(/^\s+--([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((f) => f !== 'help' && f !== 'version'));
    const table = new Set(Object.keys(flags));
    for (const flag of listed) if (!table.has(flag)) drift.push(`sweep ${command} --${flag} is not in SWEEP_COMMANDS (test/fuzz/inputs.ts): it is not fuzzed`);
    for (const flag of table) if (!listed.has(flag)) drift.push(`sweep ${command} --${flag} is in SWEEP_COMMANDS but not in --help`);
  }
  return drift;
}

async function fuzzProperty<T>(property: FuzzProperty<T>, fixture: Fixture): Promise<{ cases: number; shrinks: number; seconds: number; found: Map<string, FoundClass> }> {
  const found = new Map<string, FoundClass>();
  const newViolations = async (input: T): Promise<Violation[]> => (await property.check(input, fixture)).filter((v) => !found.has(failureClass(v)));
  let cases = 0;
  let shrinks = 0;
  const started = performance.now();
  for (let round = 0; cases < runs && found.size < maxClasses; round++) {
    const details = await fc.check(
      fc.asyncProperty(property.arbitrary(fixture), async (input) => (await newViolations(input)).length === 0),
      {
        seed: seed * 1000 + round,
        numRuns: runs - cases,
      },
    );
    cases += details.numRuns;
    shrinks += details.numShrinks;
    if (!details.failed || !details.counterexample) break;
    const [input] = details.counterexample;
    const fresh = await newViolations(input);
    if (fresh.length === 0) continue; // flaky: passed when run again
    for (const violation of fresh) {
      found.set(failureClass(violation), { violation, counterexample: property.show(input), at: cases });
    }
  }
  return { cases, shrinks, seconds: (performance.now() - started) / 1000, found };
}

const drift = checkSweepTable();
console.log(`rlsweep fuzz: seed ${seed}, ${runs} cases per property, node ${process.version}, ${new Date().toISOString()}`);
for (const line of drift) console.log(`warning: ${line}`);
const fixture = await createFixture();
process.once('SIGINT', () => {
  fixture.dispose();
  process.exit(130);
});
let total = 0;
try {
  for (const property of ALL_PROPERTIES.filter((p) => p.name.includes(args.property))) {
    const { cases, shrinks, seconds, found } = await fuzzProperty(property as FuzzProperty<unknown>, fixture);
    total += found.size;
    console.log(
      `\n## ${property.name}\n${cases} cases (+${shrinks} shrinking runs) in ${seconds.toFixed(1)} s (${((seconds * 1000) / Math.max(1, cases + shrinks)).toFixed(1)} ms each): ` +
        `${found.size === 0 ? 'no failures' : `${found.size} failure class${found.size === 1 ? '' : 'es'}`}`,
    );
    let n = 0;
    for (const [, { violation, counterexample, at }] of found) {
      const known = knownBugOf(violation);
      console.log(
        `\n${++n}. ${violation.rule} (first at case ${at})${known ? ` [known: ${known.owner}]` : ' [NEW]'}\n   output: ${violation.detail.split('\n')[0]}\n   smallest input:\n${counterexample.replace(/^/gm, '     ')}`,
      );
    }
  }
} finally {
  fixture.dispose();
}
console.log(`\n${total} failure class${total === 1 ? '' : 'es'} in all`);
process.exitCode = total > 0 ? 1 : 0;
