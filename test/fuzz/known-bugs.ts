/**
 * Failures the fuzzer found that belong to other parts of issue 20 (fixed on other
 * branches). The properties in npm test tolerate exactly these classes, so that any
 * other failure still fails the build; each one also has a pending test that runs its
 * reproducer. After merging a fix: delete its entry here (its test goes with it).
 */
import { type Fixture, type FuzzProperty, failureClass, type Violation } from './properties.js';

export interface KnownBug {
  title: string;
  /** Who fixes it: the section of issue 20. */
  owner: string;
  /** Failure classes (failureClass) it accounts for. */
  matches: RegExp;
  /** Runs the smallest input found; the violations it gives (none once fixed). */
  reproduce(fixture: Fixture): Promise<Violation[]>;
}

export function reproducer<T>(property: FuzzProperty<T>, input: (fixture: Fixture) => T): (fixture: Fixture) => Promise<Violation[]> {
  return (fixture) => property.check(input(fixture), fixture);
}

export const KNOWN_BUGS: KnownBug[] = [];

/** The known bug a violation belongs to, if any. */
export function knownBugOf(violation: Violation): KnownBug | undefined {
  const key = failureClass(violation);
  return KNOWN_BUGS.find((bug) => bug.matches.test(key));
}
