/** Building and reading the TensorProto values that TensorBoard plugins store. */
import { TensorDataType, type TensorMessage, type TensorShapeDimMessage } from './proto.js';

const utf8 = new TextEncoder();

/** A dim of size 0 is written as an empty Dim, as proto3 omits default values. */
function dim(size: number): TensorShapeDimMessage {
  return size === 0 ? {} : { size };
}

/** Rank-0 DT_FLOAT tensor: what the scalars plugin expects. */
export function floatScalarTensor(value: number): TensorMessage {
  return { dtype: TensorDataType.DT_FLOAT, tensor_shape: {}, float_val: [value] };
}

/** DT_STRING tensor of the given shape holding `items` in row-major order. */
export function stringTensor(items: Array<string | Uint8Array>, shape: number[]): TensorMessage {
  return {
    dtype: TensorDataType.DT_STRING,
    tensor_shape: { dim: shape.map(dim) },
    string_val: items.map((item) => (typeof item === 'string' ? utf8.encode(item) : item)),
  };
}

/** DT_DOUBLE tensor stored as raw little-endian bytes in tensor_content. */
export function doubleTensor(values: Float64Array, shape: number[]): TensorMessage {
  const content = new Uint8Array(values.length * 8);
  const view = new DataView(content.buffer);
  values.forEach((value, i) => view.setFloat64(i * 8, value, true));
  return { dtype: TensorDataType.DT_DOUBLE, tensor_shape: { dim: shape.map(dim) }, tensor_content: content };
}

/** An empty DT_FLOAT tensor of shape [0], the placeholder hparams summaries carry. */
export function emptyFloatTensor(): TensorMessage {
  return { dtype: TensorDataType.DT_FLOAT, tensor_shape: { dim: [dim(0)] } };
}

export function tensorShape(tensor: TensorMessage): number[] {
  return (tensor.tensor_shape?.dim ?? []).map((d) => d.size ?? 0);
}

/** Element width and reader for the numeric dtypes whose tensor_content we decode. */
const CONTENT_READERS: Record<number, [number, (view: DataView, at: number) => number]> = {
  [TensorDataType.DT_FLOAT]: [4, (view, at) => view.getFloat32(at, true)],
  [TensorDataType.DT_DOUBLE]: [8, (view, at) => view.getFloat64(at, true)],
  [TensorDataType.DT_INT32]: [4, (view, at) => view.getInt32(at, true)],
  [TensorDataType.DT_INT64]: [8, (view, at) => Number(view.getBigInt64(at, true))],
};

/**
 * The numeric elements of a tensor, in row-major order, whichever of
 * tensor_content or the typed *_val fields the writer used.
 */
export function tensorNumbers(tensor: TensorMessage): number[] {
  const content = tensor.tensor_content;
  const reader = CONTENT_READERS[tensor.dtype ?? 0];
  if (content && content.length > 0 && reader) {
    const [width, read] = reader;
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    return Array.from({ length: Math.floor(content.length / width) }, (_, i) => read(view, i * width));
  }
  const typed = tensor.float_val ?? tensor.double_val ?? tensor.int_val ?? tensor.int64_val;
  if (typed) return [...typed];
  return (tensor.bool_val ?? []).map(Number);
}

export function tensorStrings(tensor: TensorMessage): Uint8Array[] {
  return tensor.string_val ?? [];
}
