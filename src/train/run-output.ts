import cliProgress from 'cli-progress';

/** Where a run reports to: plain lines, and progress that is a bar on a TTY. */
export interface RunOutput {
  line(text: string): void;
  /** Errors and warnings (stderr on the console). */
  error(text: string): void;
  /** Start a progress display; update() takes the fraction done (0..1). */
  progress(label: string): { update(fraction: number): void; stop(): void };
}

/** Console output: lines to stdout; bars on stderr when it is a TTY, else nothing until the result line. */
export function consoleOutput(stream: NodeJS.WriteStream = process.stderr): RunOutput {
  return {
    line: (text) => console.log(text),
    error: (text) => console.error(text),
    progress(label) {
      if (!stream.isTTY) {
        console.log(`${label}...`);
        return { update: () => {}, stop: () => {} };
      }
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {duration_formatted}`,
          stream,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(100, 0);
      return {
        update: (fraction) => bar.update(Math.round(fraction * 100)),
        stop: () => bar.stop(),
      };
    },
  };
}

/** Output that keeps lines in memory (tests, quiet runs). */
export function memoryOutput(lines: string[] = []): RunOutput & { lines: string[] } {
  return {
    lines,
    line: (text) => {
      lines.push(text);
    },
    error: (text) => {
      lines.push(text);
    },
    progress: () => ({ update: () => {}, stop: () => {} }),
  };
}
