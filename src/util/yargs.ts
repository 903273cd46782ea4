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
