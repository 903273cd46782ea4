/** Where the `sweep` commands write; tests pass their own. */
export interface SweepIo {
  out(text: string): void;
  err(text: string): void;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export const consoleIo: SweepIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  stdout: process.stdout,
};
