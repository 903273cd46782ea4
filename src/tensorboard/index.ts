/** TensorBoard event files: writing (SummaryWriter) and reading them back. */
export { SummaryWriter, FILE_VERSION } from './writer.js';
export type { SummaryWriterOptions, SessionStartOptions, SessionEndOptions, FlushOptions } from './writer.js';
export {
  decodeEventFile,
  findRunDirs,
  isEventFileName,
  listEventFiles,
  readEventFile,
  readLogdir,
  readRun,
  summarizeLogdir,
  summarizeRun,
} from './reader.js';
export { scanRun } from './scan.js';
export type { RunScan, ScanTags } from './scan.js';
export type {
  DecodedEvent,
  DecodedSessionLog,
  DecodedValue,
  EventFileContents,
  HistogramBucket,
  HistogramPoint,
  HParamsExperimentInfo,
  HParamsSessionInfo,
  ImagePoint,
  LogdirData,
  LogdirSummary,
  ReadRunOptions,
  RunData,
  RunSummary,
  ScalarPoint,
  TagPluginMap,
  TextPoint,
} from './reader.js';
export {
  DEFAULT_HISTOGRAM_BUCKETS,
  HParamsTag,
  histogramBuckets,
  imageFormat,
  PluginName,
} from './summaries.js';
export type {
  ExperimentOptions,
  HParamInfo,
  HParamType,
  HParamValue,
  ImageFormat,
  MetricInfo,
  SessionEndStatus,
} from './summaries.js';
export { crc32c, encodeRecord, maskCrc, maskedCrc32c, readRecords, RecordCorruptionError } from './tfrecord.js';
export type { RecordEntry, RecordScan } from './tfrecord.js';
export * as proto from './proto.js';
