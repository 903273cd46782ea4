/**
 * What a user reads first: --help of both commands (whole words, numeric options labelled
 * [number], sweep run's general options before the Slurm ones), and --view's summary.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runConfigFields, runConfigKeys } from '../src/train/config.js';
import { memoryOutput } from '../src/train/run-output.js';
import { runCli } from '../src/cli/run.js';
import { tinyRunFlags } from './helpers/cli-harness.js';
import { loadPolicy, viewPolicy } from '../src/train/playback.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function help(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args, '--help'], { cwd: projectRoot });
  return stdout;
}

/** The help text's words, with the line breaks of its wrapping undone. */
function words(text: string): Set<string> {
  return new Set(text.split(/\s+/).filter((word) => word !== ''));
}

/** An option's lines in --help: from its flag to the next flag or group. */
function optionBlock(text: string, key: string): string {
  const start = text.search(new RegExp(`^\\s+--${key}\\s`, 'm'));
  expect(start, `--${key} in --help`).to.be.at.least(0);
  const rest = text.slice(start).split('\n');
  const end = rest.findIndex((line, i) => i > 0 && !/^\s{4,}\S/.test(line));
  return rest.slice(0, end).join('\n');
}

describe('--help', function () {
  this.timeout(60_000);

  it("run.ts: every option's description in whole words, numeric options labelled [number]", async () => {
    const text = await help('src/run.ts');
    const shown = words(text);
    for (const key of runConfigKeys) {
      // A word cut at the terminal width ("<nam" / "e>") would be missing here.
      for (const word of runConfigFields[key].description.split(/\s+/)) expect(shown, `${key}: "${word}"`).to.include(word);
      const kind = runConfigFields[key].kind;
      const label = kind === 'number' || kind === 'integer' ? 'number' : kind === 'integerList' ? 'array' : kind === 'boolean' ? 'boolean' : 'string';
      expect(optionBlock(text, key), key).to.contain(`[${label}]`);
    }
    expect(optionBlock(text, 'episodes')).to.contain('[number]');
  });

  it('sweep run: the general options come before the Slurm ones', async () => {
    const text = await help('src/cli/sweep.ts', 'run');
    for (const flag of ['--logdir', '--concurrency', '--retries', '--executor']) {
      expect(text.indexOf(flag), flag).to.be.within(0, text.indexOf('Slurm:'));
    }
    expect(optionBlock(text, 'concurrency')).to.contain('[number]');
  });
});

describe('--view', function () {
  this.timeout(60_000);
  const logdir = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-view-'));
  after(() => rmSync(logdir, { recursive: true, force: true }));

  it("keeps each finished episode's return on screen and ends with the average and std", async () => {
    const trained = await runCli(tinyRunFlags(logdir, 'view'), memoryOutput());
    expect(trained).to.equal(0);
    const policy = await loadPolicy(path.join(logdir, 'view', 'snapshots', 'step-300'), undefined);
    const frames: string[] = [];
    const output = memoryOutput();
    const returns = await viewPolicy(policy, { episodes: 3, fps: 0, seed: 0, drawFrame: (frame) => frames.push(frame) }, output);
    policy.learner.dispose();
    expect(returns).to.have.length(3);
    // The terminal is cleared for every frame: the last frame still shows the first two returns.
    expect(frames.at(-1)).to.contain(`returns so far: ${returns[0]}, ${returns[1]} (mean`);
    const mean = returns.reduce((a, b) => a + b, 0) / 3;
    const std = Math.sqrt(returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / 3);
    expect(output.lines).to.deep.equal([
      ...returns.map((r, i) => `episode ${i + 1} return ${r} steps ${r}`), // CartPole: a reward of 1 per step
      `episodes 3 episode_return_avg ${mean.toFixed(3)} std ${std.toFixed(3)}`,
    ]);
  });
});
