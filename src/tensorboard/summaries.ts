/**
 * Summary.Value builders in the form TensorBoard 2.x's own writers produce
 * (tensor summaries tagged with plugin metadata), plus the hparams plugin's
 * messages. Plugin names, content versions and tensor layouts follow the
 * plugins' metadata.py / summary_v2.py in tensorflow/tensorboard.
 */
import {
  DatasetType,
  HParamDataType,
  HParamStatus,
  hparamsPluginDataCodec,
  type ExperimentMessage,
  type HParamInfoMessage,
  type HParamsPluginDataMessage,
  type MetricInfoMessage,
  type SummaryMetadataMessage,
  type SummaryValueMessage,
  type ValueMessage,
} from './proto.js';
import { doubleTensor, emptyFloatTensor, floatScalarTensor, stringTensor } from './tensor.js';

export const PluginName = {
  SCALARS: 'scalars',
  TEXT: 'text',
  IMAGES: 'images',
  HISTOGRAMS: 'histograms',
  HPARAMS: 'hparams',
} as const;

/** Tags under which the hparams plugin looks for its summaries. */
export const HParamsTag = {
  EXPERIMENT: '_hparams_/experiment',
  SESSION_START_INFO: '_hparams_/session_start_info',
  SESSION_END_INFO: '_hparams_/session_end_info',
} as const;

/** HParamsPluginData.version that TensorBoard accepts. */
export const HPARAMS_PLUGIN_DATA_VERSION = 0;

export const DEFAULT_HISTOGRAM_BUCKETS = 30;

/**
 * Metadata for plugins whose content is a `<Plugin>PluginData{version: 0}`
 * message: it serializes to zero bytes, so `content` is simply absent.
 */
function pluginMetadata(pluginName: string, content?: Uint8Array): SummaryMetadataMessage {
  return { plugin_data: content && content.length > 0 ? { plugin_name: pluginName, content } : { plugin_name: pluginName } };
}

// Shared, never mutated: building metadata once keeps scalar() cheap.
const SCALAR_METADATA = pluginMetadata(PluginName.SCALARS);
const TEXT_METADATA = pluginMetadata(PluginName.TEXT);
const IMAGE_METADATA = pluginMetadata(PluginName.IMAGES);
const HISTOGRAM_METADATA = pluginMetadata(PluginName.HISTOGRAMS);

export function scalarValue(tag: string, value: number): SummaryValueMessage {
  return { tag, tensor: floatScalarTensor(value), metadata: SCALAR_METADATA };
}

export function textValue(tag: string, markdown: string): SummaryValueMessage {
  return { tag, tensor: stringTensor([markdown], []), metadata: TEXT_METADATA };
}

export type ImageFormat = 'png' | 'gif' | 'jpeg' | 'webp' | 'bmp';

function startsWith(bytes: Uint8Array, prefix: number[], at = 0): boolean {
  return prefix.every((byte, i) => bytes[at + i] === byte);
}

/** Identifies an encoded image by its magic bytes; undefined if unrecognised. */
export function imageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (startsWith(bytes, [0x42, 0x4d])) return 'bmp';
  return undefined;
}

/** Image plugin layout: rank-1 DT_STRING tensor [width, height, encoded image...]. */
export function imageValue(tag: string, encoded: Uint8Array, width: number, height: number): SummaryValueMessage {
  if (!imageFormat(encoded)) {
    throw new TypeError(`image "${tag}": bytes are not an encoded PNG/GIF/JPEG/WebP/BMP image`);
  }
  for (const [name, size] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`image "${tag}": ${name} must be a positive integer, got ${size}`);
  }
  return { tag, tensor: stringTensor([String(width), String(height), encoded], [3]), metadata: IMAGE_METADATA };
}

/**
 * Buckets `values` the way TensorBoard's histogram summary_v2 does: `bucketCount`
 * equal-width buckets from min to max (the last bucket closed), one bucket
 * [v - 0.5, v + 0.5] when every value equals v, none when there is no data.
 * Non-finite values are skipped so that a diverging network cannot break logging.
 * Returns a row-major [k, 3] matrix of (left edge, right edge, count).
 */
export function histogramBuckets(values: ArrayLike<number>, bucketCount = DEFAULT_HISTOGRAM_BUCKETS): Float64Array {
  if (!Number.isInteger(bucketCount) || bucketCount <= 0) {
    throw new RangeError(`histogram bucket count must be a positive integer, got ${bucketCount}`);
  }
  const data = Array.from(values).filter(Number.isFinite);
  if (data.length === 0) return new Float64Array(0);
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) return Float64Array.of(min - 0.5, min + 0.5, data.length);
  return equalWidthBuckets(data, min, max, bucketCount);
}

function equalWidthBuckets(data: number[], min: number, max: number, bucketCount: number): Float64Array {
  const width = (max - min) / bucketCount;
  const rows = new Float64Array(bucketCount * 3);
  for (let i = 0; i < bucketCount; i++) {
    // Edges as numpy.linspace computes them, with the final edge pinned to max.
    rows[i * 3] = min + i * width;
    rows[i * 3 + 1] = i === bucketCount - 1 ? max : min + (i + 1) * width;
  }
  for (const v of data) {
    const index = Math.min(Math.floor((v - min) / width), bucketCount - 1);
    rows[index * 3 + 2] += 1;
  }
  return rows;
}

/** Histogram plugin layout: [k, 3] DT_DOUBLE tensor of (left, right, count). */
export function histogramValue(tag: string, values: ArrayLike<number>, bucketCount = DEFAULT_HISTOGRAM_BUCKETS): SummaryValueMessage {
  const rows = histogramBuckets(values, bucketCount);
  return { tag, tensor: doubleTensor(rows, [rows.length / 3, 3]), metadata: HISTOGRAM_METADATA };
}

/** Values an hparam can take; TensorBoard supports only these scalar kinds. */
export type HParamValue = number | string | boolean;

/** google.protobuf.Value for one hparam value. */
export function toProtoValue(value: HParamValue): ValueMessage {
  switch (typeof value) {
    case 'number':
      return { number_value: value };
    case 'string':
      return { string_value: value };
    case 'boolean':
      return { bool_value: value };
    default:
      throw new TypeError(`hparam values must be number, string or boolean, got ${typeof value}`);
  }
}

/** The scalar a google.protobuf.Value holds, or undefined for null/list/struct. */
export function fromProtoValue(value: ValueMessage): HParamValue | undefined {
  return value.number_value ?? value.string_value ?? value.bool_value;
}

export type HParamType = 'string' | 'bool' | 'float64';

export interface HParamInfo {
  name: string;
  displayName?: string;
  description?: string;
  /** Inferred from `values` (or float64 for `interval`) when omitted. */
  type?: HParamType;
  /** Discrete domain, written as a google.protobuf.ListValue. */
  values?: HParamValue[];
  /** Real interval domain [min, max]. */
  interval?: { min: number; max: number };
}

export interface MetricInfo {
  /** Scalar tag of the metric. */
  tag: string;
  /** Run subdirectory holding the metric, relative to the session's run. */
  group?: string;
  displayName?: string;
  description?: string;
  datasetType?: 'training' | 'validation';
}

export type SessionEndStatus = 'unknown' | 'success' | 'failure' | 'running';

const HPARAM_TYPE_CODES: Record<HParamType, number> = {
  string: HParamDataType.DATA_TYPE_STRING,
  bool: HParamDataType.DATA_TYPE_BOOL,
  float64: HParamDataType.DATA_TYPE_FLOAT64,
};

const TYPEOF_TO_HPARAM_TYPE: Record<string, HParamType> = { string: 'string', boolean: 'bool', number: 'float64' };

function inferHParamType(info: HParamInfo): HParamType | undefined {
  if (info.type) return info.type;
  if (info.interval) return 'float64';
  const kinds = new Set((info.values ?? []).map((v) => typeof v));
  if (kinds.size > 1) throw new TypeError(`hparam "${info.name}": discrete values mix types (${[...kinds].join(', ')})`);
  const [kind] = kinds;
  return kind === undefined ? undefined : TYPEOF_TO_HPARAM_TYPE[kind];
}

function hparamInfoMessage(info: HParamInfo): HParamInfoMessage {
  if (info.values && info.interval) throw new TypeError(`hparam "${info.name}": give either values or interval, not both`);
  const type = inferHParamType(info);
  const message: HParamInfoMessage = { name: info.name, display_name: info.displayName, description: info.description };
  if (type) message.type = HPARAM_TYPE_CODES[type];
  if (info.values) message.domain_discrete = { values: info.values.map(toProtoValue) };
  if (info.interval) message.domain_interval = { min_value: info.interval.min, max_value: info.interval.max };
  return message;
}

const DATASET_TYPE_CODES = { training: DatasetType.DATASET_TRAINING, validation: DatasetType.DATASET_VALIDATION };

function metricInfoMessage(info: MetricInfo): MetricInfoMessage {
  return {
    name: { group: info.group, tag: info.tag },
    display_name: info.displayName,
    description: info.description,
    dataset_type: info.datasetType ? DATASET_TYPE_CODES[info.datasetType] : undefined,
  };
}

export interface ExperimentOptions {
  name?: string;
  description?: string;
  user?: string;
  timeCreatedSecs?: number;
}

export function experimentMessage(hparams: HParamInfo[], metrics: MetricInfo[], options: ExperimentOptions = {}): ExperimentMessage {
  return {
    name: options.name,
    description: options.description,
    user: options.user,
    time_created_secs: options.timeCreatedSecs ?? Date.now() / 1000,
    hparam_infos: hparams.map(hparamInfoMessage),
    metric_infos: metrics.map(metricInfoMessage),
  };
}

export const SESSION_END_STATUS_CODES: Record<SessionEndStatus, number> = {
  unknown: HParamStatus.STATUS_UNKNOWN,
  success: HParamStatus.STATUS_SUCCESS,
  failure: HParamStatus.STATUS_FAILURE,
  running: HParamStatus.STATUS_RUNNING,
};

/** An hparams plugin summary: empty float tensor, the data in the plugin content. */
export function hparamsValue(tag: string, data: HParamsPluginDataMessage): SummaryValueMessage {
  const content = hparamsPluginDataCodec.encode({ version: HPARAMS_PLUGIN_DATA_VERSION, ...data });
  return { tag, tensor: emptyFloatTensor(), metadata: pluginMetadata(PluginName.HPARAMS, content) };
}
