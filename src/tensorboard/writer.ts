/**
 * SummaryWriter: appends TensorBoard events to
 * `<logdir>/events.out.tfevents.<seconds>.<hostname>.<pid>.<counter><suffix>`.
 *
 * Events are encoded and framed when logged, kept in memory, and appended to the
 * file as whole records on flush (every `flushSeconds`, when the buffer grows
 * large, on close, and at process exit). A crash therefore loses at most the
 * unflushed events and leaves at most one truncated record at the end of the file,
 * which the reader reports instead of rejecting the file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventCodec, SessionStatus, type EventMessage, type SummaryValueMessage } from './proto.js';
import { encodeRecord } from './tfrecord.js';
import {
  DEFAULT_HISTOGRAM_BUCKETS,
  experimentMessage,
  HParamsTag,
  hparamsValue,
  histogramValue,
  imageValue,
  scalarValue,
  SESSION_END_STATUS_CODES,
  textValue,
  toProtoValue,
  type ExperimentOptions,
  type HParamInfo,
  type HParamValue,
  type MetricInfo,
  type SessionEndStatus,
} from './summaries.js';

export const FILE_VERSION = 'brain.Event:2';
const WRITER_NAME = 'rlsweep.tensorboard.SummaryWriter';

/**
 * The <seconds> part of a new event file's name. TensorBoard reads a run's files in
 * name order, and a resumed run's SessionLog START must come after the points it
 * replaces, so a new file never sorts before one already there (same second, or a
 * clock that went back).
 */
function fileSeconds(logdir: string): number {
  let latest = -1;
  for (const name of readdirSync(logdir)) {
    const match = /^events\.out\.tfevents\.(\d+)\./.exec(name);
    if (match) latest = Math.max(latest, Number(match[1]));
  }
  return Math.max(Math.floor(nowSecs()), latest + 1);
}

export interface SummaryWriterOptions {
  /** Seconds between automatic flushes; 0 writes every event through at once. Default 5. */
  flushSeconds?: number;
  /** Appended to the event file name. */
  filenameSuffix?: string;
  /** Flush early once this many bytes are buffered. Default 4 MiB. */
  maxBufferBytes?: number;
}

export interface SessionStartOptions {
  /** Sessions with the same group name are aggregated; empty means "this session alone". */
  groupName?: string;
  startTimeSecs?: number;
  modelUri?: string;
}

export interface SessionEndOptions {
  endTimeSecs?: number;
}

export interface FlushOptions {
  /** Also fsync the file, for durability across OS crashes (slower). */
  fsync?: boolean;
}

// TensorFlow numbers the event files of one process with a global counter, so that
// two writers created in the same second never share a file name.
let nextFileCounter = 0;

// Writers still open at exit get their buffers written: 'exit' handlers may do
// synchronous I/O, and this costs one listener for the whole process.
const openWriters = new Set<SummaryWriter>();
let exitHookInstalled = false;

function flushOpenWritersAtExit(): void {
  for (const writer of openWriters) {
    try {
      writer.flush();
    } catch {
      // Nothing useful can be done about a failed write while the process exits.
    }
  }
}

function registerOpenWriter(writer: SummaryWriter): void {
  openWriters.add(writer);
  if (!exitHookInstalled) {
    process.on('exit', flushOpenWritersAtExit);
    exitHookInstalled = true;
  }
}

function nowSecs(): number {
  return Date.now() / 1000;
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step)) throw new RangeError(`step must be an integer, got ${step}`);
}

export class SummaryWriter {
  readonly logdir: string;
  /** Path of the event file this writer appends to. */
  readonly path: string;
  private fd: number | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly maxBufferBytes: number;
  private readonly writeThrough: boolean;
  private timer: NodeJS.Timeout | undefined;
  /** An error from a timer-driven flush, rethrown by the next flush() or close(). */
  private deferredError: Error | undefined;

  constructor(logdir: string, options: SummaryWriterOptions = {}) {
    const flushSeconds = options.flushSeconds ?? 5;
    if (!(flushSeconds >= 0)) throw new RangeError(`flushSeconds must be >= 0, got ${flushSeconds}`);
    this.logdir = logdir;
    this.maxBufferBytes = options.maxBufferBytes ?? 4 * 1024 * 1024;
    this.writeThrough = flushSeconds === 0;
    mkdirSync(logdir, { recursive: true });
    const seconds = fileSeconds(logdir);
    const fileName = `events.out.tfevents.${seconds}.${hostname()}.${process.pid}.${nextFileCounter++}${options.filenameSuffix ?? ''}`;
    this.path = join(logdir, fileName);
    this.fd = openSync(this.path, 'a');
    // The version record goes out at once, so the file is recognisable even if
    // nothing else is ever flushed.
    this.addEvent({ wall_time: nowSecs(), file_version: FILE_VERSION, source_metadata: { writer: WRITER_NAME } });
    this.flush();
    registerOpenWriter(this);
    if (flushSeconds > 0 && Number.isFinite(flushSeconds)) {
      this.timer = setInterval(() => this.flushFromTimer(), flushSeconds * 1000);
      this.timer.unref(); // logging must never keep the process alive
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  /** A scalar in TF2's tensor form: rank-0 DT_FLOAT with the `scalars` plugin. */
  scalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addSummary(scalarValue(tag, value), step, wallTime);
  }

  /** Markdown text for the `text` plugin. */
  text(tag: string, markdown: string, step: number, wallTime?: number): void {
    this.addSummary(textValue(tag, markdown), step, wallTime);
  }

  /** An encoded image (PNG, GIF, JPEG, ...) for the `images` plugin. */
  image(tag: string, encoded: Uint8Array, width: number, height: number, step: number, wallTime?: number): void {
    this.addSummary(imageValue(tag, encoded, width, height), step, wallTime);
  }

  /** A histogram of `values` with `bins` equal-width buckets, for the `histograms` plugin. */
  histogram(tag: string, values: ArrayLike<number>, step: number, bins = DEFAULT_HISTOGRAM_BUCKETS, wallTime?: number): void {
    this.addSummary(histogramValue(tag, values, bins), step, wallTime);
  }

  /** Declares the hparams and metrics of an experiment; write it in the logdir root. */
  hparamsExperiment(hparamInfos: HParamInfo[], metricInfos: MetricInfo[], options: ExperimentOptions = {}): void {
    const experiment = experimentMessage(hparamInfos, metricInfos, options);
    this.addSummary(hparamsValue(HParamsTag.EXPERIMENT, { experiment }), 0, experiment.time_created_secs);
  }

  /** Records this run's hparam values; write it in the run's own directory. */
  hparamsSessionStart(hparams: Record<string, HParamValue>, options: SessionStartOptions = {}): void {
    const values = Object.fromEntries(Object.entries(hparams).map(([name, value]) => [name, toProtoValue(value)]));
    const startTime = options.startTimeSecs ?? nowSecs();
    const sessionStartInfo = {
      hparams: values,
      model_uri: options.modelUri,
      group_name: options.groupName,
      start_time_secs: startTime,
    };
    this.addSummary(hparamsValue(HParamsTag.SESSION_START_INFO, { session_start_info: sessionStartInfo }), 0, startTime);
  }

  hparamsSessionEnd(status: SessionEndStatus, options: SessionEndOptions = {}): void {
    const endTime = options.endTimeSecs ?? nowSecs();
    const sessionEndInfo = { status: SESSION_END_STATUS_CODES[status], end_time_secs: endTime };
    this.addSummary(hparamsValue(HParamsTag.SESSION_END_INFO, { session_end_info: sessionEndInfo }), 0, endTime);
  }

  /**
   * SessionLog START at `step`: tells TensorBoard the run restarted there, so it
   * discards points logged earlier with step >= `step`.
   */
  sessionLogStart(step: number, wallTime?: number): void {
    checkStep(step);
    this.addEvent({ wall_time: wallTime ?? nowSecs(), step, session_log: { status: SessionStatus.START } });
  }

  /** Queues any event; the typed methods above cover normal use. */
  addEvent(event: EventMessage): void {
    this.assertOpen();
    const record = encodeRecord(eventCodec.encode(event));
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (this.writeThrough || this.pendingBytes >= this.maxBufferBytes) this.flush();
  }

  /** Synchronously appends everything buffered to the event file. */
  flush(options: FlushOptions = {}): void {
    this.throwDeferredError();
    if (this.fd === undefined) return;
    try {
      if (this.pending.length > 0) {
        const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
        this.pending = [];
        this.pendingBytes = 0;
        writeFully(this.fd, data);
      }
      if (options.fsync) fsyncSync(this.fd);
    } catch (error) {
      // Say which file: a bare "ENOSPC: no space left on device, write" names none.
      throw new Error(`cannot write ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Rethrow an error a background flush met (e.g. a full disk), so the owner can stop cleanly. */
  throwIfFailed(): void {
    this.throwDeferredError();
  }

  /** Flushes, fsyncs and closes the file; later logging calls throw. */
  close(): void {
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    openWriters.delete(this);
    try {
      this.flush({ fsync: true });
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private addSummary(value: SummaryValueMessage, step: number, wallTime: number | undefined): void {
    checkStep(step);
    this.addEvent({ wall_time: wallTime ?? nowSecs(), step, summary: { value: [value] } });
  }

  private flushFromTimer(): void {
    try {
      this.flush();
    } catch (error) {
      // Thrown from a timer it would crash the process; report it to the owner instead.
      this.deferredError ??= error as Error;
    }
  }

  private throwDeferredError(): void {
    const error = this.deferredError;
    if (error) {
      this.deferredError = undefined;
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.fd === undefined) throw new Error(`SummaryWriter for ${this.path} is closed`);
  }
}

function writeFully(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}
