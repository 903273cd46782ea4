/**
 * Skipping a test (or, from a hook, its suite) with the reason in the output: mocha itself
 * prints only a bare pending line per test, which does not say what was missing.
 */
export function skipBecause(context: Mocha.Context, why: string): never {
  console.log(`      skipped: ${why}`);
  context.skip();
}
