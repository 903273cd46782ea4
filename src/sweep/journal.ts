/**
 * The journal of an adaptive sweep: every suggestion of the searcher and every decision
 * of the trial scheduler, one JSON object a line, appended and fsync'd before it acts,
 * in <sweep>/journal.jsonl. Replaying it rebuilds the search exactly, so a sweep killed
 * (even with kill -9) and run again continues where it was: no configuration suggested
 * twice, no decision taken differently. A last line torn by a kill is dropped with a
 * warning; damage anywhere else is an error that names the line.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../train/config.js';
import type { Warn } from '../util/files.js';
import type { Assignment } from './search/searcher.js';

export const JOURNAL_FILE = 'journal.jsonl';

export type JournalEntry =
  /** The first line: what search this journal is of (a rerun with another search is refused). */
  | { type: 'search'; search: string }
  | { type: 'suggested'; configIndex: number; assignment: Assignment }
  /** The searcher had no configuration for this index: no more will be asked for. */
  | { type: 'exhausted'; configIndex: number }
  /** Every seed of the configuration reached `step`; its score (mean over seeds, larger is better), null when a seed failed. */
  | { type: 'result'; configIndex: number; step: number; score: number | null }
  | { type: 'promoted'; configIndex: number; step: number }
  | { type: 'stopped'; configIndex: number; step: number };

export class JournalError extends ConfigError {
  override name = 'JournalError';
}

const ENTRY_TYPES = new Set(['search', 'suggested', 'exhausted', 'result', 'promoted', 'stopped']);

function isEntry(value: unknown): value is JournalEntry {
  const entry = value as { type?: unknown; configIndex?: unknown } | null;
  if (typeof entry !== 'object' || entry === null || typeof entry.type !== 'string' || !ENTRY_TYPES.has(entry.type)) return false;
  return entry.type === 'search' || Number.isSafeInteger(entry.configIndex);
}

/**
 * The entries of a journal's text. A last line without its newline that does not parse is a
 * write a kill cut short: dropped, with `warn`; `validLength` is where the intact text ends.
 */
export function parseJournal(text: string, file: string, warn: Warn): { entries: JournalEntry[]; validLength: number } {
  const entries: JournalEntry[] = [];
  let offset = 0;
  let lineNumber = 0;
  while (offset < text.length) {
    lineNumber++;
    const end = text.indexOf('\n', offset);
    const line = end === -1 ? text.slice(offset) : text.slice(offset, end);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (!isEntry(parsed)) {
      if (end === -1) {
        warn(`${file}:${lineNumber}: the last line is incomplete (the sweep was killed while writing it); ignoring it`);
        return { entries, validLength: offset };
      }
      throw new JournalError(
        `${file}:${lineNumber}: not a journal entry: ${JSON.stringify(line.slice(0, 80))}; the journal is damaged, so the search cannot be replayed. ` +
          'Restore the file, or give the sweep another name to start its search afresh.',
      );
    }
    entries.push(parsed);
    offset = end === -1 ? text.length : end + 1;
  }
  return { entries, validLength: offset };
}

/** An open journal: its entries so far, and appends that are on disk before they return. */
export class Journal {
  private constructor(
    readonly file: string,
    readonly entries: JournalEntry[],
  ) {}

  /**
   * Reads <sweepDir>/journal.jsonl (none: empty), cutting off a torn last line so that new entries
   * follow intact ones; `readOnly` (a reader beside the running sweep, e.g. `sweep trial`) leaves the file as it is.
   */
  static async open(sweepDir: string, warn: Warn, options: { readOnly?: boolean } = {}): Promise<Journal> {
    const file = path.join(sweepDir, JOURNAL_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Journal(file, []);
      throw error;
    }
    const { entries, validLength } = parseJournal(text, file, warn);
    if (!options.readOnly && validLength < Buffer.byteLength(text)) await fs.truncate(file, Buffer.byteLength(text.slice(0, validLength)));
    return new Journal(file, entries);
  }

  /** Appends the entries and fsyncs them: once this returns, a kill cannot lose them. */
  async append(...entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const handle = await fs.open(this.file, 'a');
    try {
      await handle.writeFile(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.entries.push(...entries);
  }
}
