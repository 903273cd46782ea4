/**
 * Reads TensorBoard event files back into plain structures: the raw events of a
 * file, and per run the data TensorBoard's dashboards would show (scalars, text,
 * images, histograms, hparams).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { eventCodec, hparamsPluginDataCodec, SessionStatus, type EventMessage, type HParamsPluginDataMessage, type SummaryValueMessage } from './proto.js';
import { readRecords } from './tfrecord.js';
import { fromProtoValue, imageFormat, PluginName, SESSION_END_STATUS_CODES, type HParamValue, type ImageFormat, type SessionEndStatus } from './summaries.js';
import { tensorNumbers, tensorShape, tensorStrings } from './tensor.js';

export interface DecodedValue {
  tag: string;
  /**
   * Plugin owning the value: from its metadata, else from an earlier value with
   * the same tag, else implied by a legacy field (simple_value -> scalars,
   * image -> images, histo -> histograms); '' when unknown.
   */
  plugin_name: string;
  /** The raw Summary.Value. */
  value: SummaryValueMessage;
}

export interface DecodedSessionLog {
  status: number;
  /** 'START', 'STOP', 'CHECKPOINT' or 'STATUS_UNSPECIFIED'. */
  status_name: string;
  checkpoint_path: string;
  msg: string;
}

export interface DecodedEvent {
  /** Byte offset of the event's record in its file. */
  offset: number;
  wall_time: number;
  step: number;
  file_version?: string;
  session_log?: DecodedSessionLog;
  /** Summary values, empty for non-summary events. */
  values: DecodedValue[];
  /** The whole Event message as decoded. */
  raw: EventMessage;
}

export interface EventFileContents {
  events: DecodedEvent[];
  /** The file ends inside a record (crash mid-write); the complete records were read. */
  truncatedTail: boolean;
}

/** Remembers each tag's plugin, since writers may attach metadata to the first value only. */
export type TagPluginMap = Map<string, string>;

const SESSION_STATUS_NAMES = new Map<number, string>(Object.entries(SessionStatus).map(([name, code]) => [code, name]));

function legacyPluginName(value: SummaryValueMessage): string {
  if (value.simple_value !== undefined) return PluginName.SCALARS;
  if (value.image) return PluginName.IMAGES;
  if (value.histo) return PluginName.HISTOGRAMS;
  return '';
}

function decodeValue(value: SummaryValueMessage, tagPlugins: TagPluginMap): DecodedValue {
  const tag = value.tag ?? '';
  const fromMetadata = value.metadata?.plugin_data?.plugin_name;
  if (fromMetadata) tagPlugins.set(tag, fromMetadata);
  const plugin_name = fromMetadata || tagPlugins.get(tag) || legacyPluginName(value);
  return { tag, plugin_name, value };
}

function decodeSessionLog(raw: EventMessage): DecodedSessionLog | undefined {
  const log = raw.session_log;
  if (!log) return undefined;
  const status = log.status ?? 0;
  return {
    status,
    status_name: SESSION_STATUS_NAMES.get(status) ?? String(status),
    checkpoint_path: log.checkpoint_path ?? '',
    msg: log.msg ?? '',
  };
}

function decodeEvent(payload: Uint8Array, offset: number, source: string, tagPlugins: TagPluginMap): DecodedEvent {
  let raw: EventMessage;
  try {
    raw = eventCodec.decode(payload);
  } catch (error) {
    throw new Error(`${source}: record at byte offset ${offset} is not a valid Event: ${(error as Error).message}`);
  }
  const event: DecodedEvent = {
    offset,
    wall_time: raw.wall_time ?? 0,
    step: raw.step ?? 0,
    values: (raw.summary?.value ?? []).map((value) => decodeValue(value, tagPlugins)),
    raw,
  };
  if (raw.file_version !== undefined) event.file_version = raw.file_version;
  const sessionLog = decodeSessionLog(raw);
  if (sessionLog) event.session_log = sessionLog;
  return event;
}

/** Decodes the events in an in-memory event file; `source` names it in errors. */
export function decodeEventFile(data: Uint8Array, source = '<buffer>', tagPlugins: TagPluginMap = new Map()): EventFileContents {
  const scan = readRecords(data, source);
  const events = scan.records.map((record) => decodeEvent(record.payload, record.offset, source, tagPlugins));
  return { events, truncatedTail: scan.truncatedTail };
}

/** Reads one event file, verifying every record's CRCs. */
export function readEventFile(path: string, tagPlugins: TagPluginMap = new Map()): EventFileContents {
  return decodeEventFile(readFileSync(path), path, tagPlugins);
}

/** TensorBoard treats any file whose name contains "tfevents" as an event file. */
export function isEventFileName(name: string): boolean {
  return name.includes('tfevents');
}

/** Event files directly inside `dir`, in the order TensorBoard reads them (by name). */
export function listEventFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isEventFileName(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(dir, name));
}

export type ScalarPoint = [step: number, value: number];

export interface TextPoint {
  step: number;
  wall_time: number;
  text: string;
}

export interface ImagePoint {
  step: number;
  wall_time: number;
  width: number;
  height: number;
  /** Detected from the magic bytes; 'unknown' if not recognised. */
  format: ImageFormat | 'unknown';
  bytes: Uint8Array;
}

export type HistogramBucket = [left: number, right: number, count: number];

export interface HistogramPoint {
  step: number;
  wall_time: number;
  buckets: HistogramBucket[];
}

export interface HParamsExperimentInfo {
  /** Hparam names, in the experiment's order. */
  hparams: string[];
  /** Metric tags, in the experiment's order. */
  metrics: string[];
}

export interface HParamsSessionInfo {
  group_name: string;
  start_time_secs: number;
  end_status?: SessionEndStatus;
  end_time_secs?: number;
}

/** Everything read from one run (one directory of event files). */
export interface RunData {
  hparams_experiment?: HParamsExperimentInfo;
  /** Session start values. */
  hparams?: Record<string, HParamValue>;
  hparams_session?: HParamsSessionInfo;
  scalars: Record<string, ScalarPoint[]>;
  texts: Record<string, TextPoint[]>;
  images: Record<string, ImagePoint[]>;
  histograms: Record<string, HistogramPoint[]>;
  /** Event files of the run whose last record was cut short. */
  truncated_files: string[];
  /** All events of the run in file order; only with `includeEvents`. */
  events?: DecodedEvent[];
}

export interface ReadRunOptions {
  /**
   * On a SessionLog START at step s, drop the points logged before it (in file
   * order) whose step is >= s, as TensorBoard does when a job restarts from a
   * checkpoint. Default true.
   */
  purgeOnRestart?: boolean;
  /** Keep the raw decoded events in `RunData.events`. Default false. */
  includeEvents?: boolean;
}

export interface LogdirData {
  /** Keyed by directory relative to the logdir, with '/' separators; '.' is the logdir itself. */
  runs: Record<string, RunData>;
}

const utf8 = new TextDecoder();

export function emptyRun(): RunData {
  return { scalars: {}, texts: {}, images: {}, histograms: {}, truncated_files: [] };
}

export function append<T>(series: Record<string, T[]>, tag: string, point: T): void {
  (series[tag] ??= []).push(point);
}

function scalarOf(value: SummaryValueMessage): number | undefined {
  if (value.simple_value !== undefined) return value.simple_value;
  return value.tensor ? tensorNumbers(value.tensor)[0] : undefined;
}

function textOf(value: SummaryValueMessage): string | undefined {
  if (!value.tensor) return undefined;
  // Rank > 0 text tensors render as tables in TensorBoard; here, one line per cell.
  return tensorStrings(value.tensor)
    .map((cell) => utf8.decode(cell))
    .join('\n');
}

function imagesOf(value: SummaryValueMessage, step: number, wallTime: number): ImagePoint[] {
  if (value.image) {
    const bytes = value.image.encoded_image_string ?? new Uint8Array();
    return [{ step, wall_time: wallTime, width: value.image.width ?? 0, height: value.image.height ?? 0, format: imageFormat(bytes) ?? 'unknown', bytes: Uint8Array.from(bytes) }];
  }
  // Tensor form: [width, height, image_1, ..., image_n], all as byte strings.
  const [width, height, ...encoded] = value.tensor ? tensorStrings(value.tensor) : [];
  if (!width || !height) return [];
  return encoded.map((bytes) => ({
    step,
    wall_time: wallTime,
    width: Number(utf8.decode(width)),
    height: Number(utf8.decode(height)),
    format: imageFormat(bytes) ?? 'unknown',
    bytes: Uint8Array.from(bytes),
  }));
}

function histogramOf(value: SummaryValueMessage): HistogramBucket[] | undefined {
  if (value.histo) return legacyHistogramBuckets(value);
  if (!value.tensor) return undefined;
  const numbers = tensorNumbers(value.tensor);
  const rows = tensorShape(value.tensor)[0] ?? numbers.length / 3;
  return Array.from({ length: rows }, (_, i): HistogramBucket => [numbers[i * 3]!, numbers[i * 3 + 1]!, numbers[i * 3 + 2]!]);
}

/** HistogramProto (bucket upper limits) to (left, right, count), as TensorBoard migrates it. */
function legacyHistogramBuckets(value: SummaryValueMessage): HistogramBucket[] {
  const histo = value.histo ?? {};
  const limits = histo.bucket_limit ?? [];
  const counts = histo.bucket ?? [];
  return counts.map((count, i): HistogramBucket => [i === 0 ? (histo.min ?? 0) : limits[i - 1]!, i === counts.length - 1 ? (histo.max ?? 0) : limits[i]!, count]);
}

export function applyHParams(run: RunData, data: HParamsPluginDataMessage): void {
  if (data.experiment) {
    run.hparams_experiment = {
      hparams: (data.experiment.hparam_infos ?? []).map((info) => info.name ?? ''),
      metrics: (data.experiment.metric_infos ?? []).map((info) => info.name?.tag ?? ''),
    };
  }
  if (data.session_start_info) {
    const start = data.session_start_info;
    const entries = Object.entries(start.hparams ?? {}).map(([name, value]) => [name, fromProtoValue(value)] as const);
    run.hparams = Object.fromEntries(entries.filter((entry): entry is readonly [string, HParamValue] => entry[1] !== undefined));
    run.hparams_session = { ...run.hparams_session, group_name: start.group_name ?? '', start_time_secs: start.start_time_secs ?? 0 };
  }
  if (data.session_end_info) {
    const end = data.session_end_info;
    const status = (Object.keys(SESSION_END_STATUS_CODES) as SessionEndStatus[]).find((name) => SESSION_END_STATUS_CODES[name] === (end.status ?? 0));
    run.hparams_session = { group_name: '', start_time_secs: 0, ...run.hparams_session, end_status: status ?? 'unknown', end_time_secs: end.end_time_secs ?? 0 };
  }
}

export function decodeHParams(value: SummaryValueMessage, offset: number, source: string): HParamsPluginDataMessage {
  try {
    return hparamsPluginDataCodec.decode(value.metadata?.plugin_data?.content ?? new Uint8Array());
  } catch (error) {
    throw new Error(`${source}: bad hparams plugin data in event at byte offset ${offset}: ${(error as Error).message}`);
  }
}

/** Adds one summary value to the run, according to its plugin. */
function applyValue(run: RunData, decoded: DecodedValue, event: DecodedEvent, source: string): void {
  const { tag, value } = decoded;
  const { step, wall_time } = event;
  switch (decoded.plugin_name) {
    case PluginName.SCALARS: {
      const scalar = scalarOf(value);
      if (scalar !== undefined) append(run.scalars, tag, [step, scalar]);
      return;
    }
    case PluginName.TEXT: {
      const text = textOf(value);
      if (text !== undefined) append(run.texts, tag, { step, wall_time, text });
      return;
    }
    case PluginName.IMAGES:
      for (const image of imagesOf(value, step, wall_time)) append(run.images, tag, image);
      return;
    case PluginName.HISTOGRAMS: {
      const buckets = histogramOf(value);
      if (buckets) append(run.histograms, tag, { step, wall_time, buckets });
      return;
    }
    case PluginName.HPARAMS:
      if (value.metadata?.plugin_data) applyHParams(run, decodeHParams(value, event.offset, source));
      return;
  }
}

export function dropFromStep<T>(series: Record<string, T[]>, step: number, stepOf: (point: T) => number): void {
  for (const [tag, points] of Object.entries(series)) {
    const kept = points.filter((point) => stepOf(point) < step);
    if (kept.length > 0) series[tag] = kept;
    else delete series[tag];
  }
}

/** What TensorBoard does on SessionLog START at `step`: forget points at or after it. */
function purgeFromStep(run: RunData, step: number): void {
  dropFromStep(run.scalars, step, (point) => point[0]);
  dropFromStep(run.texts, step, (point) => point.step);
  dropFromStep(run.images, step, (point) => point.step);
  dropFromStep(run.histograms, step, (point) => point.step);
}

/** Reads the event files directly inside `dir` (one run), in name order. */
export function readRun(dir: string, options: ReadRunOptions = {}): RunData {
  const purge = options.purgeOnRestart ?? true;
  const run = emptyRun();
  const tagPlugins: TagPluginMap = new Map();
  const events: DecodedEvent[] = [];
  for (const path of listEventFiles(dir)) {
    const contents = readEventFile(path, tagPlugins);
    if (contents.truncatedTail) run.truncated_files.push(path);
    for (const event of contents.events) {
      if (purge && event.session_log?.status === SessionStatus.START) purgeFromStep(run, event.step);
      for (const value of event.values) applyValue(run, value, event, path);
      if (options.includeEvents) events.push(event);
    }
  }
  if (options.includeEvents) run.events = events;
  return run;
}

/** Directories under `root` (itself included) that contain event files, parents before their children. */
export function findRunDirs(root: string): string[] {
  const found: string[] = [];
  // A queue rather than recursion: a deep tree cannot overflow the stack.
  const queue = [root];
  for (let next = 0; next < queue.length; next++) {
    const dir = queue[next]!;
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((entry) => entry.isFile() && isEventFileName(entry.name))) found.push(dir);
    for (const entry of entries) if (entry.isDirectory()) queue.push(join(dir, entry.name));
  }
  return found;
}

function runName(root: string, dir: string): string {
  const name = relative(root, dir);
  return name === '' ? '.' : name.split(sep).join('/');
}

/** Reads every run under a logdir, as `tensorboard --logdir root` would see them. */
export function readLogdir(root: string, options: ReadRunOptions = {}): LogdirData {
  const runs: Record<string, RunData> = {};
  for (const dir of findRunDirs(root).sort()) runs[runName(root, dir)] = readRun(dir, options);
  return { runs };
}

/** The compact per-run digest used by the golden EXPECTED.json (latest point per tag). */
export interface RunSummary {
  hparams_experiment?: HParamsExperimentInfo;
  hparams?: Record<string, HParamValue>;
  scalars?: Record<string, ScalarPoint[]>;
  /** Tag -> step of the latest text. */
  text?: Record<string, number>;
  /** Tag -> latest image's step and size. */
  images?: Record<string, { step: number; width: number; height: number }>;
  /** Tag -> latest histogram's step and bucket count. */
  histograms?: Record<string, { step: number; buckets: number }>;
}

export interface LogdirSummary {
  runs: Record<string, RunSummary>;
}

function mapLatest<T, R>(series: Record<string, T[]>, project: (point: T) => R): Record<string, R> | undefined {
  const entries = Object.entries(series).filter(([, points]) => points.length > 0);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([tag, points]) => [tag, project(points[points.length - 1]!)]));
}

export function summarizeRun(run: RunData): RunSummary {
  const summary: RunSummary = {
    hparams_experiment: run.hparams_experiment,
    hparams: run.hparams,
    scalars: Object.keys(run.scalars).length > 0 ? run.scalars : undefined,
    text: mapLatest(run.texts, (point) => point.step),
    images: mapLatest(run.images, ({ step, width, height }) => ({ step, width, height })),
    histograms: mapLatest(run.histograms, ({ step, buckets }) => ({ step, buckets: buckets.length })),
  };
  // Leave absent sections out entirely, as the golden file does.
  for (const key of Object.keys(summary) as Array<keyof RunSummary>) if (summary[key] === undefined) delete summary[key];
  return summary;
}

/** `readLogdir` output reduced to the shape of the golden EXPECTED.json. */
export function summarizeLogdir(data: LogdirData): LogdirSummary {
  return { runs: Object.fromEntries(Object.entries(data.runs).map(([name, run]) => [name, summarizeRun(run)])) };
}
