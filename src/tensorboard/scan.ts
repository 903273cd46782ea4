/**
 * A lean reader for many runs: `scanRun` keeps only the scalar tags it is asked for, the steps
 * of the image tags it is asked for, the hparams session and how far the run got. It follows
 * `readRun`'s rules (plugins, CRC checks, restarts) but walks the protobuf wire format of each
 * record in place with one protobufjs Reader over the whole file, decoding only the values it
 * keeps: images, histograms and other tags cost no decoding and no memory.
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { SessionStatus, summaryValueCodec, tensorCodec } from './proto.js';
import { type HParamsSessionInfo, type RunData, type ScalarPoint, type TagPluginMap, append, applyHParams, decodeHParams, dropFromStep, emptyRun, listEventFiles } from './reader.js';
import { RECORD_HEADER_BYTES, readRecords } from './tfrecord.js';
import { PluginName } from './summaries.js';
import { tensorNumbers } from './tensor.js';

/** The scalar tags and image tags a scan keeps. */
export interface ScanTags {
  scalars: ReadonlySet<string>;
  images?: ReadonlySet<string>;
}

/**
 * What `scanRun` keeps of a run: a projection of `readRun`'s RunData. One difference: a tag's
 * plugin is the one its first metadata names, as TensorBoard's EventAccumulator has it, where
 * readRun lets a later value's metadata change it (no writer we know of does that).
 */
export interface RunScan {
  /** Points of the requested scalar tags (restarts applied as readRun does). */
  scalars: Record<string, ScalarPoint[]>;
  /** Steps at which each requested image tag logged an image; the images themselves are not kept. */
  imageSteps: Record<string, number[]>;
  hparams_session?: HParamsSessionInfo;
  /** The largest step of any scalar, requested or not: how far the run got. */
  lastScalarStep: number;
  truncated_files: string[];
}

// Field numbers in tensorboard/compat/proto/{event,summary,tensor}.proto.
const EVENT_STEP = 2;
const EVENT_SUMMARY = 5;
const EVENT_SESSION_LOG = 7;
const SESSION_LOG_STATUS = 1;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE_VALUE = 2;
const VALUE_IMAGE = 4;
const VALUE_HISTO = 5;
const VALUE_TENSOR = 8;
const VALUE_METADATA = 9;
const METADATA_PLUGIN_DATA = 1;
const PLUGIN_DATA_PLUGIN_NAME = 1;
const TENSOR_FLOAT_VAL = 5;
const TENSOR_DOUBLE_VAL = 6;
const WIRE_LENGTH_DELIMITED = 2;

/** The end of the length-delimited field at the reader's position; the reader moves past the length. */
function fieldEnd(reader: protobuf.Reader): number {
  const length = reader.uint32();
  return reader.pos + length;
}

function pluginNameOf(reader: protobuf.Reader, end: number): string {
  let name = '';
  while (reader.pos < end) {
    const key = reader.uint32();
    if (key >>> 3 !== METADATA_PLUGIN_DATA || (key & 7) !== WIRE_LENGTH_DELIMITED) {
      reader.skipType(key & 7);
      continue;
    }
    const pluginDataEnd = fieldEnd(reader);
    while (reader.pos < pluginDataEnd) {
      const field = reader.uint32();
      if (field >>> 3 === PLUGIN_DATA_PLUGIN_NAME) name = reader.string();
      else reader.skipType(field & 7);
    }
  }
  return name;
}

/** The first number of a TensorProto in [reader.pos, end): float_val or double_val read in place, any other form decoded. */
function firstTensorNumber(reader: protobuf.Reader, end: number): number | undefined {
  const start = reader.pos;
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    if (field === TENSOR_FLOAT_VAL || field === TENSOR_DOUBLE_VAL) {
      const packedEnd = (key & 7) === WIRE_LENGTH_DELIMITED ? fieldEnd(reader) : reader.pos + 1;
      if (reader.pos >= packedEnd) continue; // an empty packed list
      return field === TENSOR_FLOAT_VAL ? reader.float() : reader.double();
    }
    reader.skipType(key & 7);
  }
  const tensor = tensorCodec.decode(reader.buf.subarray(start, end));
  return tensorNumbers(tensor)[0];
}

/**
 * The tags of a run's values, decoded once each: a run logs thousands of values under a few
 * dozen tags, and comparing bytes with the tags seen costs less than decoding them again.
 */
class Strings {
  private readonly byLength = new Map<number, Array<{ bytes: Uint8Array; tag: string }>>();

  read(buffer: Uint8Array, start: number, end: number): string {
    const length = end - start;
    let known = this.byLength.get(length);
    if (!known) this.byLength.set(length, (known = []));
    for (const entry of known) if (sameBytes(entry.bytes, buffer, start)) return entry.tag;
    const tag = protobuf.util.utf8.read(buffer, start, end);
    known.push({ bytes: new Uint8Array(buffer.subarray(start, end)), tag });
    return tag;
  }
}

/** Whether `buffer` holds `bytes` from `start` on. */
function sameBytes(bytes: Uint8Array, buffer: Uint8Array, start: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== buffer[start + i]) return false;
  return true;
}

interface ValueFields {
  tag: string;
  /** Where the value's metadata lies in the file; -1 when it has none. */
  metadataStart: number;
  metadataEnd: number;
  /** The plugin a legacy field implies (simple_value, image, histo); '' for none. */
  legacyPlugin: string;
  simpleValue: number | undefined;
  /** Where the value's tensor lies in the file; -1 when it has none. */
  tensorStart: number;
  tensorEnd: number;
}

/** The fields of the Summary.Value in [reader.pos, end) that say what it is, its data left where it lies. */
function valueFields(reader: protobuf.Reader, end: number, strings: Strings): ValueFields {
  const value: ValueFields = { tag: '', metadataStart: -1, metadataEnd: -1, legacyPlugin: '', simpleValue: undefined, tensorStart: -1, tensorEnd: -1 };
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    const lengthDelimited = (key & 7) === WIRE_LENGTH_DELIMITED;
    if (field === VALUE_TAG && lengthDelimited) {
      const tagEnd = fieldEnd(reader);
      value.tag = strings.read(reader.buf, reader.pos, tagEnd);
      reader.pos = tagEnd;
    } else if (field === VALUE_METADATA && lengthDelimited) {
      value.metadataEnd = fieldEnd(reader);
      value.metadataStart = reader.pos;
      reader.pos = value.metadataEnd;
    } else if (field === VALUE_TENSOR && lengthDelimited) {
      value.tensorEnd = fieldEnd(reader);
      value.tensorStart = reader.pos;
      reader.pos = value.tensorEnd;
    } else if (field === VALUE_SIMPLE_VALUE && (key & 7) === 5) {
      value.simpleValue = reader.float();
      value.legacyPlugin = PluginName.SCALARS;
    } else {
      if (field === VALUE_IMAGE) value.legacyPlugin = PluginName.IMAGES;
      else if (field === VALUE_HISTO) value.legacyPlugin = PluginName.HISTOGRAMS;
      reader.skipType(key & 7);
    }
  }
  return value;
}

function scalarOfFields(reader: protobuf.Reader, value: ValueFields): number | undefined {
  if (value.simpleValue !== undefined) return value.simpleValue;
  if (value.tensorStart < 0) return undefined;
  reader.pos = value.tensorStart;
  return firstTensorNumber(reader, value.tensorEnd);
}

/** Applies one Summary in [reader.pos, end) to the scan. */
function scanSummary(reader: protobuf.Reader, end: number, step: number, context: ScanContext): void {
  while (reader.pos < end) {
    const key = reader.uint32();
    if (key >>> 3 !== SUMMARY_VALUE || (key & 7) !== WIRE_LENGTH_DELIMITED) {
      reader.skipType(key & 7);
      continue;
    }
    const valueEnd = fieldEnd(reader);
    const valueStart = reader.pos;
    const value = valueFields(reader, valueEnd, context.strings);
    // The first metadata of a tag names its plugin, as in TensorBoard's EventAccumulator (our
    // writer repeats it on every value; reading it once per tag saves most of the scan).
    if (value.metadataStart >= 0 && !context.tagPlugins.has(value.tag)) {
      reader.pos = value.metadataStart;
      const name = pluginNameOf(reader, value.metadataEnd);
      if (name) context.tagPlugins.set(value.tag, name);
    }
    const plugin = context.tagPlugins.get(value.tag) || value.legacyPlugin;
    const { scan, tags } = context;
    if (plugin === PluginName.SCALARS) {
      scan.lastScalarStep = Math.max(scan.lastScalarStep, step);
      if (tags.scalars.has(value.tag)) {
        const scalar = scalarOfFields(reader, value);
        if (scalar !== undefined) append(scan.scalars, value.tag, [step, scalar]);
      }
    } else if (plugin === PluginName.IMAGES && tags.images?.has(value.tag)) {
      append(scan.imageSteps, value.tag, step);
    } else if (plugin === PluginName.HPARAMS) {
      const decoded = summaryValueCodec.decode(reader.buf.subarray(valueStart, valueEnd));
      if (decoded.metadata?.plugin_data) applyHParams(context.hparams, decodeHParams(decoded, context.offset, context.path));
    }
    reader.pos = valueEnd;
  }
}

interface ScanContext {
  scan: RunScan;
  strings: Strings;
  tags: ScanTags;
  tagPlugins: TagPluginMap;
  /** Collects the hparams session, as readRun does. */
  hparams: RunData;
  path: string;
  /** Byte offset of the current record, for errors. */
  offset: number;
}

/** Applies the Event in [reader.pos, end) to the scan. */
function scanEvent(reader: protobuf.Reader, end: number, context: ScanContext): void {
  let step = 0;
  let restart = false;
  let summary: { start: number; end: number } | undefined;
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    if (field === EVENT_STEP) {
      step = protobuf.util.LongBits.from(reader.int64()).toNumber(false);
    } else if (field === EVENT_SUMMARY && (key & 7) === WIRE_LENGTH_DELIMITED) {
      const summaryEnd = fieldEnd(reader);
      summary = { start: reader.pos, end: summaryEnd };
      reader.pos = summaryEnd;
    } else if (field === EVENT_SESSION_LOG && (key & 7) === WIRE_LENGTH_DELIMITED) {
      const logEnd = fieldEnd(reader);
      let status = 0;
      while (reader.pos < logEnd) {
        const logKey = reader.uint32();
        if (logKey >>> 3 === SESSION_LOG_STATUS) status = reader.int32();
        else reader.skipType(logKey & 7);
      }
      restart = status === SessionStatus.START;
    } else {
      reader.skipType(key & 7);
    }
  }
  if (restart) {
    const { scan } = context;
    dropFromStep(scan.scalars, step, (point) => point[0]);
    dropFromStep(scan.imageSteps, step, (imageStep) => imageStep);
    scan.lastScalarStep = Math.min(scan.lastScalarStep, Math.max(0, step - 1));
  }
  // The step may follow the summary in the record, so the summary is read once the step is known.
  if (summary) {
    reader.pos = summary.start;
    scanSummary(reader, summary.end, step, context);
  }
}

/** The named scalars and image steps of the run in `dir` (its event files, in name order). */
export function scanRun(dir: string, tags: ScanTags): RunScan {
  const scan: RunScan = { scalars: {}, imageSteps: {}, lastScalarStep: 0, truncated_files: [] };
  const context: ScanContext = { scan, strings: new Strings(), tags, tagPlugins: new Map(), hparams: emptyRun(), path: '', offset: 0 };
  for (const path of listEventFiles(dir)) {
    const data = readFileSync(path);
    const records = readRecords(data, path);
    if (records.truncatedTail) scan.truncated_files.push(path);
    const reader = protobuf.Reader.create(data);
    context.path = path;
    for (const record of records.records) {
      context.offset = record.offset;
      reader.pos = record.offset + RECORD_HEADER_BYTES;
      try {
        scanEvent(reader, reader.pos + record.payload.length, context);
      } catch (error) {
        throw new Error(`${path}: record at byte offset ${record.offset} is not a valid Event: ${(error as Error).message}`);
      }
    }
  }
  if (context.hparams.hparams_session) scan.hparams_session = context.hparams.hparams_session;
  return scan;
}
