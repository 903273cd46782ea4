/**
 * yargs, loaded through its CommonJS build. The ES-module build lays out --help with
 * cliui's fallback wrapper, which cuts lines every N characters, mid-word ("<nam" / "e>");
 * the CommonJS build wraps at word boundaries (wrap-ansi).
 */
import { createRequire } from 'node:module';
import type yargsType from 'yargs';
import { numberFromText } from './numbers.js';

const require = createRequire(import.meta.url);
export const yargs = require('yargs') as typeof yargsType;

/**
 * A numeric option: labelled [number] in --help, but parsed as the text typed (yargs' string
 * wins over number when parsing, number wins for the label), so that a message can show "abc"
 * or 9007199254740993 as given rather than NaN or the nearest double. The value is a number,
 * or the text when it is not one a number holds exactly.
 */
export function numberTextOption(): { string: true; number: true; coerce: (value: unknown) => number | string } {
  // yargs also coerces defaults (numbers) and a repeated flag (an array, shown as "2,3" in the message).
  return { string: true, number: true, coerce: (value: unknown) => (typeof value === 'number' ? value : numberFromText(String(value))) };
}

/**
 * The first flag given more than once (as typed, e.g. "--logdir"), other than those in
 * `repeatable`: yargs would make a list of it, or keep the last value, without a word.
 */
export function repeatedFlag(argv: readonly string[], repeatable: readonly string[] = []): string | undefined {
  const camel = (name: string): string => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const seen = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    const match = /^--(?:no-)?([^=]+)/.exec(arg);
    if (!match) continue;
    const key = camel(match[1]!);
    if (repeatable.map(camel).includes(key)) continue;
    if (seen.has(key)) return `--${match[1]}`;
    seen.add(key);
  }
  return undefined;
}

/**
 * The first flag named like a member of every JavaScript object (--constructor, --toString,
 * --__proto__): yargs looks such names up in plain objects and crashes, so they are refused
 * before it parses (no option of ours has such a name).
 */
export function objectMemberFlag(argv: readonly string[]): string | undefined {
  for (const arg of argv) {
    if (arg === '--') break;
    const match = /^--(?:no-)?([^=]+)/.exec(arg);
    if (!match) continue;
    const key = match[1]!.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (key in Object.prototype || key === '__proto__') return `--${match[1]}`;
  }
  return undefined;
}
