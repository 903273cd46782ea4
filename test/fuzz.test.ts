/**
 * Property-based tests of bad input (see test/fuzz/properties.ts): a modest number of
 * generated sweep files, config files and command lines, with a fixed seed so a
 * failure here is the same failure everywhere. `npm run fuzz` runs many more and
 * lists each class of failure it finds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { configFileProperty, createFixture, type Fixture, type FuzzProperty, runArgvProperty, sweepArgvProperty, sweepFileProperty, sweepFolderProperty } from './fuzz/properties.js';
import { KNOWN_BUGS, knownBugOf } from './fuzz/known-bugs.js';

const SEED = 20;

describe(`fuzz: inputs generated from the option schema (seed ${SEED})`, function () {
  let fixture: Fixture;
  before(async () => {
    fixture = await createFixture();
  });
  after(() => fixture.dispose());

  /** One property, numRuns cases: about 4 s of CPU in all (a case takes 5 to 30 ms). */
  function propertyTest<T>(property: FuzzProperty<T>, numRuns: number): void {
    it(`${property.name}: ${numRuns} cases, each a clear error or a success, and the runs folder unchanged on error`, async () => {
      await fc.assert(
        fc.asyncProperty(property.arbitrary(fixture), async (input) => {
          const unexpected = (await property.check(input, fixture)).filter((violation) => !knownBugOf(violation));
          if (unexpected.length > 0) throw new Error(unexpected.map((v) => `${v.rule}: ${v.detail}`).join('\n'));
        }),
        { seed: SEED, numRuns },
      );
    });
  }
  propertyTest(sweepFileProperty, 40);
  propertyTest(configFileProperty, 80);
  propertyTest(runArgvProperty, 80);
  propertyTest(sweepArgvProperty, 80);
  propertyTest(sweepFolderProperty, 50);

  // Pending until the fix is merged (see test/fuzz/known-bugs.ts): then delete the entry.
  for (const bug of KNOWN_BUGS) {
    it.skip(`known bug, fixed by ${bug.owner}: ${bug.title}`, async () => {
      expect(await bug.reproduce(fixture)).to.deep.equal([]);
    });
  }

  it('every known bug still reproduces (else its entry in test/fuzz/known-bugs.ts is stale: delete it)', async () => {
    for (const bug of KNOWN_BUGS) {
      const violations = await bug.reproduce(fixture);
      expect(
        violations.some((violation) => knownBugOf(violation) === bug),
        bug.title,
      ).to.equal(true);
    }
  });
});
