/**
 * TFRecord framing, the container format of TensorBoard event files.
 *
 * Each record is:
 *   uint64 LE  payload length
 *   uint32 LE  masked CRC32C of the 8 length bytes
 *   bytes      payload
 *   uint32 LE  masked CRC32C of the payload
 */
import crc32cModule from 'crc-32/crc32c.js';

/** Length (8 bytes) and its CRC (4): a record's payload starts this many bytes after the record. */
export const RECORD_HEADER_BYTES = 12;
const HEADER_BYTES = RECORD_HEADER_BYTES;
const FOOTER_BYTES = 4;
const CRC_MASK_DELTA = 0xa282ead8;

/** CRC32C (Castagnoli) of `data`, as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array): number {
  return crc32cModule.buf(data) >>> 0;
}

/**
 * TFRecord masks stored CRCs so that a CRC over data that itself embeds CRCs
 * stays well distributed: rotate right by 15 bits, then add a constant.
 */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + CRC_MASK_DELTA) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}

/** Frames one payload as a complete TFRecord. */
export function encodeRecord(payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length + FOOTER_BYTES);
  record.writeUInt32LE(payload.length >>> 0, 0);
  record.writeUInt32LE(Math.floor(payload.length / 2 ** 32), 4);
  record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
  record.set(payload, HEADER_BYTES);
  record.writeUInt32LE(maskedCrc32c(payload), HEADER_BYTES + payload.length);
  return record;
}

/** A payload found in a buffer, with the byte offset of its record header. */
export interface RecordEntry {
  offset: number;
  payload: Uint8Array;
}

export interface RecordScan {
  records: RecordEntry[];
  /** True when the buffer ends inside a record, as after a crash mid-write. */
  truncatedTail: boolean;
  /** Byte offset of the incomplete final record when `truncatedTail` is set. */
  truncatedAt?: number;
}

/** A record whose bytes are all present but whose checksum does not match. */
export class RecordCorruptionError extends Error {
  constructor(
    readonly source: string,
    readonly offset: number,
    readonly part: 'length' | 'payload',
  ) {
    super(`${source}: corrupted TFRecord at byte offset ${offset}: ${part} CRC32C mismatch`);
    this.name = 'RecordCorruptionError';
  }
}

/**
 * Walks every record in `data`, verifying both CRCs. An incomplete final record
 * is reported as a truncated tail rather than thrown, because that is what a
 * crash during an append leaves behind; a complete record with a bad CRC is
 * corruption and throws. `source` names the data (a file path) in errors.
 */
export function readRecords(data: Uint8Array, source = '<buffer>'): RecordScan {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const records: RecordEntry[] = [];
  let offset = 0;
  while (offset < view.length) {
    const payloadLength = readLength(view, offset, source);
    if (payloadLength === undefined || offset + HEADER_BYTES + payloadLength + FOOTER_BYTES > view.length) {
      return { records, truncatedTail: true, truncatedAt: offset };
    }
    records.push({ offset, payload: readPayload(view, offset, payloadLength, source) });
    offset += HEADER_BYTES + payloadLength + FOOTER_BYTES;
  }
  return { records, truncatedTail: false };
}

/** The payload length of the record at `offset`, or undefined if the header is cut short. */
function readLength(view: Buffer, offset: number, source: string): number | undefined {
  if (offset + HEADER_BYTES > view.length) return undefined;
  const lengthBytes = view.subarray(offset, offset + 8);
  if (maskedCrc32c(lengthBytes) !== view.readUInt32LE(offset + 8)) {
    throw new RecordCorruptionError(source, offset, 'length');
  }
  return view.readUInt32LE(offset) + view.readUInt32LE(offset + 4) * 2 ** 32;
}

function readPayload(view: Buffer, offset: number, length: number, source: string): Uint8Array {
  const start = offset + HEADER_BYTES;
  const payload = view.subarray(start, start + length);
  if (maskedCrc32c(payload) !== view.readUInt32LE(start + length)) {
    throw new RecordCorruptionError(source, offset, 'payload');
  }
  return payload;
}
