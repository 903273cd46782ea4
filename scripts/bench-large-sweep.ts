/**
 * `npm run bench:large-sweep`: how `sweep results`, `report`, `status` and `plan` cope with a
 * large sweep. Writes a synthetic sweep folder (scripts/synthetic-sweep.ts: by default 1000
 * trials of 200k steps, 200 configurations x 5 seeds, event files as the trainer writes them),
 * then runs each command as a user would (node bin/sweep.js, one child process each) and
 * prints its wall time, CPU time and peak memory (the child's own maxRSS) against the
 * targets: under 30 s and 500 MB each.
 *
 *   npm run bench:large-sweep                                  # 1000 trials of 200k steps
 *   npm run bench:large-sweep -- --learning-rates 2 --steps 20000   # a quick one: 100 trials
 *   npm run bench:large-sweep -- --reuse                       # time the commands on the folder already written
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import yargs from 'yargs';
import { defaultGrid, writeSyntheticSweep } from './synthetic-sweep.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TARGET_SECONDS = 30;
const TARGET_MB = 500;
/** Loaded into each timed child: at exit it writes its peak RSS and CPU time to $BENCH_USAGE_FILE. */
const USAGE_HOOK = `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const usage = process.resourceUsage();
  writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ maxRssKb: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 }));
});`)}`;

interface Measurement {
  command: string;
  exitCode: number | null;
  wallSeconds: number;
  cpuSeconds: number;
  peakMb: number;
  outputBytes: number;
}

const args = yargs(process.argv.slice(2))
  .option('dir', { type: 'string', default: path.join(ROOT, '.tmp', 'bench-large-sweep'), description: 'Where the synthetic sweep is written' })
  .option('learning-rates', { type: 'number', default: 20, description: 'Learning rates in the grid: 10 configurations each' })
  .option('seeds', { type: 'number', default: 5 })
  .option('steps', { type: 'number', default: 200_000, description: 'Steps per trial (the run default)' })
  .option('reuse', { type: 'boolean', default: false, description: 'Keep the folder of an earlier run of this script' })
  .strict()
  .parseSync();

function loadLine(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' / ');
}

async function folderBytes(dir: string): Promise<number> {
  let bytes = 0;
  const queue = [dir];
  for (let next = 0; next < queue.length; next++) {
    for (const entry of await fs.readdir(queue[next]!, { withFileTypes: true })) {
      const file = path.join(queue[next]!, entry.name);
      if (entry.isDirectory()) queue.push(file);
      else bytes += (await fs.stat(file)).size;
    }
  }
  return bytes;
}

/** Runs `sweep <argv>` in a child process as a user would, and measures it. */
async function measure(argv: string[]): Promise<Measurement> {
  const usageFile = path.join(args.dir, `usage-${argv[0]}.json`);
  const outputFile = path.join(args.dir, `output-${argv[0]}.txt`);
  await fs.rm(usageFile, { force: true });
  const output = await fs.open(outputFile, 'w');
  const start = performance.now();
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', USAGE_HOOK, path.join(ROOT, 'bin', 'sweep.js'), ...argv], {
      cwd: ROOT,
      stdio: ['ignore', output.fd, output.fd],
      env: { ...process.env, BENCH_USAGE_FILE: usageFile },
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallSeconds = (performance.now() - start) / 1000;
  await output.close();
  const usage = JSON.parse(await fs.readFile(usageFile, 'utf8')) as { maxRssKb: number; cpuSeconds: number };
  return {
    command: `sweep ${argv.map((arg) => (path.isAbsolute(arg) ? path.relative(ROOT, arg) : arg)).join(' ')}`,
    exitCode,
    wallSeconds,
    cpuSeconds: usage.cpuSeconds,
    peakMb: usage.maxRssKb / 1024,
    outputBytes: (await fs.stat(outputFile)).size,
  };
}

async function main(): Promise<void> {
  const name = 'large';
  const sweepDir = path.join(args.dir, 'runs', name);
  const sweepFile = path.join(args.dir, `${name}.yaml`);
  const cpus = os.cpus();
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}; load average (1/5/15 min) ${loadLine()}`);
  if (args.reuse && existsSync(path.join(sweepDir, 'sweep.json'))) {
    console.log(`reusing ${path.relative(ROOT, sweepDir)}`);
  } else {
    const start = performance.now();
    const written = await writeSyntheticSweep({ root: args.dir, name, grid: defaultGrid(args['learning-rates']), seeds: args.seeds, fixed: { steps: args.steps } });
    console.log(
      `wrote ${written.trials} trials of ${args.steps} steps (${written.diverging.length} diverging configurations, ${written.failed.length} failed trials): ` +
        `${(written.eventBytes / 2 ** 20).toFixed(0)} MB of event files in ${((performance.now() - start) / 1000).toFixed(0)} s`,
    );
  }
  console.log(`folder: ${((await folderBytes(sweepDir)) / 2 ** 20).toFixed(0)} MB in ${path.relative(ROOT, sweepDir)}`);

  const runs = [
    ['results', sweepDir],
    ['report', sweepDir],
    ['status', sweepDir],
    ['plan', sweepFile, '--logdir', path.dirname(sweepDir)],
  ];
  const measurements: Measurement[] = [];
  for (const argv of runs) {
    const measurement = await measure(argv);
    measurements.push(measurement);
    console.log(`  ${measurement.command}: ${measurement.wallSeconds.toFixed(1)} s (load ${loadLine()})`);
  }
  const report = (await fs.stat(path.join(sweepDir, 'report.html'))).size;
  const csv = (await fs.stat(path.join(sweepDir, 'results.csv'))).size;
  console.log('');
  console.log('| command | wall (s) | CPU (s) | peak RSS (MB) | output | target (< 30 s, < 500 MB) |');
  console.log('|---|---:|---:|---:|---|---|');
  for (const m of measurements) {
    const output = m.command.startsWith('sweep report')
      ? `report.html ${(report / 2 ** 20).toFixed(1)} MB`
      : m.command.startsWith('sweep results')
        ? `results.csv ${(csv / 2 ** 10).toFixed(0)} kB`
        : `${(m.outputBytes / 2 ** 10).toFixed(0)} kB printed`;
    const verdict =
      m.exitCode !== 0
        ? `FAILED (exit ${m.exitCode})`
        : m.wallSeconds < TARGET_SECONDS && m.peakMb < TARGET_MB
          ? 'ok'
          : `MISSED${m.wallSeconds >= TARGET_SECONDS ? ' (time)' : ''}${m.peakMb >= TARGET_MB ? ' (memory)' : ''}`;
    console.log(`| \`${m.command}\` | ${m.wallSeconds.toFixed(1)} | ${m.cpuSeconds.toFixed(1)} | ${m.peakMb.toFixed(0)} | ${output} | ${verdict} |`);
  }
  console.log(`\nload average at the end: ${loadLine()}; outputs in ${path.relative(ROOT, args.dir)}/output-*.txt`);
  if (measurements.some((m) => m.exitCode !== 0)) process.exitCode = 1;
}

await main();
