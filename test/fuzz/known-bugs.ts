/**
 * Failures the fuzzer found that belong to other parts of issue 20 (fixed on other
 * branches). The properties in npm test tolerate exactly these classes, so that any
 * other failure still fails the build; each one also has a pending test that runs its
 * reproducer. After merging a fix: delete its entry here (its test goes with it).
 */
import * as path from 'node:path';
import {
  configFileProperty, type Fixture, type FuzzProperty, failureClass, runArgvProperty, sweepArgvProperty, sweepFileProperty, sweepFolderProperty, type Violation,
} from './properties.js';

export interface KnownBug {
  title: string;
  /** Who fixes it: the section of issue 20. */
  owner: string;
  /** Failure classes (failureClass) it accounts for. */
  matches: RegExp;
  /** Runs the smallest input found; the violations it gives (none once fixed). */
  reproduce(fixture: Fixture): Promise<Violation[]>;
}

function reproducer<T>(property: FuzzProperty<T>, input: (fixture: Fixture) => T): (fixture: Fixture) => Promise<Violation[]> {
  return (fixture) => property.check(input(fixture), fixture);
}

export const KNOWN_BUGS: KnownBug[] = [
  {
    title: 'run.ts: a flag named like an Object.prototype member (--constructor, --toString, --valueOf) crashes inside yargs (TypeError: conflicting[key].forEach is not a function, with a stack trace)',
    owner: '§4 input validation (src/train/cli.ts)',
    matches: /^run\.ts: exception escapes .*\.forEach is not a function/, // conflicting[key] in yargs, l[t] in its bundled build
    reproduce: reproducer(runArgvProperty, (f) => ['--dry-run', '--logdir', f.paths.logdir, '--constructor']),
  },
  {
    title: 'sweep: a string flag given twice (--logdir a --logdir b) reaches path.join as a list: "The \\"path\\" argument must be of type string. Received an instance of Array", exit 1',
    owner: '§4 input validation (src/cli/sweep-commands.ts)',
    matches: /^sweep: (JS internals in the output|exit 1 for a bad input) .*argument must be of type/,
    reproduce: reproducer(sweepArgvProperty, (f) => ['plan', f.paths.validSweep, `--logdir=${f.paths.logdir}`, '--logdir']),
  },
  {
    title: 'sweep status/results/report of a file, or of "", print Node\'s raw error (ENOTDIR: not a directory, open \'<file>/sweep.json\'; ENOENT: no such file or directory, scandir \'\')',
    owner: '§2 fs-error wrapping',
    matches: /^sweep: raw Node error in the output/,
    reproduce: reproducer(sweepFolderProperty, (f) => ['results', path.join(f.tmp, 'empty.yaml')]),
  },
  {
    title: 'sweep results "" says "error:  is not a sweep folder" (an empty name where the folder should be)',
    owner: '§2 fs-error wrapping',
    matches: /^sweep: fails without an "error:" line \| error: {2}is not a sweep folder/,
    reproduce: reproducer(sweepFolderProperty, () => ['results', '']),
  },
  {
    title: 'sweep plan/run: an alias to an anchor the file does not set (name: *n) exits 1 with "Unresolved alias ..." and no file:line, instead of a sweep-file error (exit 2)',
    owner: '§4 input validation (src/sweep/spec.ts: YAML anchors/aliases)',
    matches: /^sweep (plan|run): exit 1 for a bad input .*Unresolved alias/,
    reproduce: reproducer(sweepFileProperty, () => ({ bytes: Buffer.from('name: *n\n'), mutations: [], defects: [] })),
  },
  {
    title: 'run.ts --config: a JSON file with a key given twice ({"gamma": 0.9, "gamma": 0.5}) is accepted silently (the last one wins)',
    owner: '§4 input validation (src/train/cli.ts readConfigFile)',
    matches: /^run\.ts --config: accepts a defect without an error or a warning \| <q> given twice/,
    reproduce: reproducer(configFileProperty, () => ({ bytes: Buffer.from('{"gamma": 0.9, "gamma": 0.5}'), mutations: [], defects: ['"gamma" given twice'] })),
  },
];

/** The known bug a violation belongs to, if any. */
export function knownBugOf(violation: Violation): KnownBug | undefined {
  const key = failureClass(violation);
  return KNOWN_BUGS.find((bug) => bug.matches.test(key));
}
