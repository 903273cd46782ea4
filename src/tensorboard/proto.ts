/**
 * The subset of TensorBoard's protocol buffers that rlsweep writes and reads.
 *
 * Field numbers and enum values follow tensorboard/compat/proto/{event,summary,
 * tensor,tensor_shape,types,histogram}.proto, tensorboard/plugins/hparams/
 * {api,plugin_data}.proto and google/protobuf/struct.proto. Fields we never use
 * are left out: protobuf skips unknown fields, so files from other writers still
 * decode. Messages are plain objects with the proto's snake_case field names.
 */
import protobuf from 'protobufjs';

const TENSORBOARD_SCHEMA = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
    SessionLog session_log = 7;
    bytes meta_graph_def = 9;
  }
  SourceMetadata source_metadata = 10;
}

message SourceMetadata {
  string writer = 1;
}

message SessionLog {
  enum SessionStatus {
    STATUS_UNSPECIFIED = 0;
    START = 1;
    STOP = 2;
    CHECKPOINT = 3;
  }
  SessionStatus status = 1;
  string checkpoint_path = 2;
  string msg = 3;
}

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      HistogramProto histo = 5;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
}
`;

// google/protobuf/struct.proto, written out so the well-known types encode with
// their real field numbers without loading files at run time.
const STRUCT_SCHEMA = `
syntax = "proto3";
package google.protobuf;

message Struct {
  map<string, Value> fields = 1;
}

message Value {
  oneof kind {
    NullValue null_value = 1;
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
    Struct struct_value = 5;
    ListValue list_value = 6;
  }
}

enum NullValue {
  NULL_VALUE = 0;
}

message ListValue {
  repeated Value values = 1;
}
`;

const HPARAMS_SCHEMA = `
syntax = "proto3";
package tensorboard.hparams;

enum DataType {
  DATA_TYPE_UNSET = 0;
  DATA_TYPE_STRING = 1;
  DATA_TYPE_BOOL = 2;
  DATA_TYPE_FLOAT64 = 3;
}

enum DatasetType {
  DATASET_UNKNOWN = 0;
  DATASET_TRAINING = 1;
  DATASET_VALIDATION = 2;
}

enum Status {
  STATUS_UNKNOWN = 0;
  STATUS_SUCCESS = 1;
  STATUS_FAILURE = 2;
  STATUS_RUNNING = 3;
}

message Interval {
  double min_value = 1;
  double max_value = 2;
}

message HParamInfo {
  string name = 1;
  string display_name = 2;
  string description = 3;
  DataType type = 4;
  oneof domain {
    google.protobuf.ListValue domain_discrete = 5;
    Interval domain_interval = 6;
  }
}

message MetricName {
  string group = 1;
  string tag = 2;
}

message MetricInfo {
  MetricName name = 1;
  string display_name = 3;
  string description = 4;
  DatasetType dataset_type = 5;
}

message Experiment {
  string name = 6;
  string description = 1;
  string user = 2;
  double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4;
  repeated MetricInfo metric_infos = 5;
}

message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}

message SessionEndInfo {
  Status status = 1;
  double end_time_secs = 2;
}

message HParamsPluginData {
  int32 version = 1;
  oneof data {
    Experiment experiment = 2;
    SessionStartInfo session_start_info = 3;
    SessionEndInfo session_end_info = 4;
  }
}
`;

/** tensorflow DataType values (tensorboard/compat/proto/types.proto). */
export const TensorDataType = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_STRING: 7,
  DT_INT64: 9,
  DT_BOOL: 10,
} as const;

export const SessionStatus = { STATUS_UNSPECIFIED: 0, START: 1, STOP: 2, CHECKPOINT: 3 } as const;

export const DataClass = {
  DATA_CLASS_UNKNOWN: 0,
  DATA_CLASS_SCALAR: 1,
  DATA_CLASS_TENSOR: 2,
  DATA_CLASS_BLOB_SEQUENCE: 3,
} as const;

export const HParamDataType = { DATA_TYPE_UNSET: 0, DATA_TYPE_STRING: 1, DATA_TYPE_BOOL: 2, DATA_TYPE_FLOAT64: 3 } as const;

export const DatasetType = { DATASET_UNKNOWN: 0, DATASET_TRAINING: 1, DATASET_VALIDATION: 2 } as const;

export const HParamStatus = { STATUS_UNKNOWN: 0, STATUS_SUCCESS: 1, STATUS_FAILURE: 2, STATUS_RUNNING: 3 } as const;

export interface SourceMetadataMessage {
  writer?: string;
}

export interface SessionLogMessage {
  status?: number;
  checkpoint_path?: string;
  msg?: string;
}

export interface PluginDataMessage {
  plugin_name?: string;
  content?: Uint8Array;
}

export interface SummaryMetadataMessage {
  plugin_data?: PluginDataMessage;
  display_name?: string;
  summary_description?: string;
  data_class?: number;
}

export interface TensorShapeDimMessage {
  size?: number;
  name?: string;
}

export interface TensorShapeMessage {
  dim?: TensorShapeDimMessage[];
  unknown_rank?: boolean;
}

export interface TensorMessage {
  dtype?: number;
  tensor_shape?: TensorShapeMessage;
  version_number?: number;
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: number[];
  bool_val?: boolean[];
}

export interface HistogramMessage {
  min?: number;
  max?: number;
  num?: number;
  sum?: number;
  sum_squares?: number;
  bucket_limit?: number[];
  bucket?: number[];
}

export interface ImageMessage {
  height?: number;
  width?: number;
  colorspace?: number;
  encoded_image_string?: Uint8Array;
}

export interface SummaryValueMessage {
  node_name?: string;
  tag?: string;
  metadata?: SummaryMetadataMessage;
  simple_value?: number;
  obsolete_old_style_histogram?: Uint8Array;
  image?: ImageMessage;
  histo?: HistogramMessage;
  tensor?: TensorMessage;
}

export interface SummaryMessage {
  value?: SummaryValueMessage[];
}

export interface EventMessage {
  wall_time?: number;
  step?: number;
  file_version?: string;
  graph_def?: Uint8Array;
  summary?: SummaryMessage;
  session_log?: SessionLogMessage;
  meta_graph_def?: Uint8Array;
  source_metadata?: SourceMetadataMessage;
}

/** google.protobuf.Value: exactly one of the fields is set. */
export interface ValueMessage {
  null_value?: number;
  number_value?: number;
  string_value?: string;
  bool_value?: boolean;
  struct_value?: StructMessage;
  list_value?: ListValueMessage;
}

export interface ListValueMessage {
  values?: ValueMessage[];
}

export interface StructMessage {
  fields?: Record<string, ValueMessage>;
}

export interface IntervalMessage {
  min_value?: number;
  max_value?: number;
}

export interface HParamInfoMessage {
  name?: string;
  display_name?: string;
  description?: string;
  type?: number;
  domain_discrete?: ListValueMessage;
  domain_interval?: IntervalMessage;
}

export interface MetricNameMessage {
  group?: string;
  tag?: string;
}

export interface MetricInfoMessage {
  name?: MetricNameMessage;
  display_name?: string;
  description?: string;
  dataset_type?: number;
}

export interface ExperimentMessage {
  name?: string;
  description?: string;
  user?: string;
  time_created_secs?: number;
  hparam_infos?: HParamInfoMessage[];
  metric_infos?: MetricInfoMessage[];
}

export interface SessionStartInfoMessage {
  hparams?: Record<string, ValueMessage>;
  model_uri?: string;
  monitor_url?: string;
  group_name?: string;
  start_time_secs?: number;
}

export interface SessionEndInfoMessage {
  status?: number;
  end_time_secs?: number;
}

export interface HParamsPluginDataMessage {
  version?: number;
  experiment?: ExperimentMessage;
  session_start_info?: SessionStartInfoMessage;
  session_end_info?: SessionEndInfoMessage;
}

/** Encodes and decodes one message type as plain objects. */
export interface MessageCodec<T> {
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

// keepCase keeps the proto's snake_case names, which our interfaces mirror.
const root = new protobuf.Root();
for (const schema of [STRUCT_SCHEMA, TENSORBOARD_SCHEMA, HPARAMS_SCHEMA]) {
  protobuf.parse(schema, root, { keepCase: true });
}
root.resolveAll();

// Longs as numbers (steps fit in 2^53), enums as numbers, bytes left as bytes;
// unset proto3 fields stay absent so callers can tell set from default.
const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: Number };

function codecFor<T extends object>(typeName: string): MessageCodec<T> {
  const type = root.lookupType(typeName);
  return {
    encode: (message) => type.encode(message).finish(),
    decode: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T,
  };
}

export const eventCodec = codecFor<EventMessage>('tensorboard.Event');
export const summaryCodec = codecFor<SummaryMessage>('tensorboard.Summary');
export const summaryValueCodec = codecFor<SummaryValueMessage>('tensorboard.Summary.Value');
export const summaryMetadataCodec = codecFor<SummaryMetadataMessage>('tensorboard.SummaryMetadata');
export const tensorCodec = codecFor<TensorMessage>('tensorboard.TensorProto');
export const hparamsPluginDataCodec = codecFor<HParamsPluginDataMessage>('tensorboard.hparams.HParamsPluginData');
export const valueCodec = codecFor<ValueMessage>('google.protobuf.Value');
export const listValueCodec = codecFor<ListValueMessage>('google.protobuf.ListValue');
