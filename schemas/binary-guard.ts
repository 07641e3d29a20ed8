/**
 * Structural check of an Avro binary body against its writer schema, run before avsc decodes it (and
 * after the codec encodes, so we never write what we would refuse to read).
 *
 * avsc trusts block counts: a 20-byte message claiming an array of 400 million items makes it allocate
 * until the process dies. This walker reads the same structure without allocating values and fails as
 * soon as a length, count, index or varint cannot be right for the bytes that are left, so decoding
 * time and memory stay proportional to the message size whatever the bytes say.
 */
import type avro from 'avsc';

/** Why a body is not a valid encoding of its writer schema; the codec wraps it in MalformedEventError. */
export class BodyStructureError extends Error {}

const MAX_DEPTH = 64;
/** Cap on items of a block whose items encode to zero bytes (e.g. an array of null): unbounded otherwise. */
const MAX_ZERO_SIZE_ITEMS = 10_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Cursor {
  buf: Buffer;
  pos: number;
}

function fail(message: string, cursor: Cursor): never {
  throw new BodyStructureError(`${message} at byte ${cursor.pos}`);
}

/** A zig-zag varint (Avro int/long). Values beyond 2^53 lose precision, which only matters for limits. */
function readVarint(cursor: Cursor, maxBytes: number): number {
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    const byte = cursor.buf[cursor.pos];
    if (byte === undefined) fail('truncated varint', cursor);
    cursor.pos++;
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    scale *= 128;
  }
  return fail(`varint longer than ${maxBytes} bytes`, cursor);
}

/**
 * avsc reads and writes longs as JS doubles: beyond 2^52 in magnitude it silently changes values (a
 * Java-written -2^53 + 5 decodes as a large positive number). Such longs are refused, on both sides.
 */
export const LONG_LIMIT = 2 ** 52;

function readLong(cursor: Cursor): number {
  const start = cursor.pos;
  const value = readVarint(cursor, 10);
  if (value >= LONG_LIMIT || value < -LONG_LIMIT) {
    cursor.pos = start;
    fail('long outside the range JavaScript holds exactly (-2^52 .. 2^52 - 1)', cursor);
  }
  return value;
}

function readInt(cursor: Cursor): number {
  const value = readVarint(cursor, 5);
  if (value > 0x7fffffff || value < -0x80000000) fail('int out of range', cursor);
  return value;
}

function skipBytes(cursor: Cursor, length: number): Buffer {
  if (length < 0 || length > cursor.buf.length - cursor.pos)
    fail(`length ${length} exceeds the message`, cursor);
  const slice = cursor.buf.subarray(cursor.pos, cursor.pos + length);
  cursor.pos += length;
  return slice;
}

const minSizeCache = new WeakMap<avro.Type, number>();

/** The fewest bytes any value of `type` encodes to (used to reject impossible block counts early). */
function minEncodedSize(type: avro.Type, seen: Set<avro.Type> = new Set()): number {
  const cached = minSizeCache.get(type);
  if (cached !== undefined) return cached;
  if (seen.has(type)) return 0; // recursive type: be conservative
  seen.add(type);
  const name = type.typeName;
  let size: number;
  if (name.startsWith('logical:')) {
    size = minEncodedSize((type as avro.types.LogicalType).underlyingType, seen);
  } else if (name === 'null') {
    size = 0;
  } else if (name === 'float') {
    size = 4;
  } else if (name === 'double') {
    size = 8;
  } else if (name === 'fixed') {
    size = (type as avro.types.FixedType).size;
  } else if (name === 'record' || name === 'error') {
    size = (type as avro.types.RecordType).fields.reduce(
      (sum, field) => sum + minEncodedSize(field.type, seen),
      0,
    );
  } else {
    size = 1; // boolean, int, long, bytes, string, enum, union, array, map
  }
  minSizeCache.set(type, size);
  return size;
}

function walkBlocks(cursor: Cursor, items: avro.Type, depth: number, withKeys: boolean): void {
  const itemSize = minEncodedSize(items) + (withKeys ? 1 : 0);
  for (;;) {
    let count = readLong(cursor);
    if (count === 0) return;
    let blockEnd: number | undefined;
    if (count < 0) {
      count = -count;
      const byteSize = readLong(cursor);
      if (byteSize < 0 || byteSize > cursor.buf.length - cursor.pos)
        fail(`block size ${byteSize} exceeds the message`, cursor);
      blockEnd = cursor.pos + byteSize;
    }
    const remaining = cursor.buf.length - cursor.pos;
    if (itemSize === 0 ? count > MAX_ZERO_SIZE_ITEMS : count > remaining / itemSize) {
      fail(`block of ${count} items cannot fit in ${remaining} bytes`, cursor);
    }
    for (let i = 0; i < count; i++) {
      if (withKeys) readString(cursor);
      walk(cursor, items, depth + 1);
    }
    if (blockEnd !== undefined && cursor.pos !== blockEnd)
      fail('block size does not match its items', cursor);
  }
}

function readString(cursor: Cursor): void {
  const bytes = skipBytes(cursor, readLong(cursor));
  try {
    utf8.decode(bytes);
  } catch {
    fail('string is not valid UTF-8', cursor);
  }
}

function walk(cursor: Cursor, type: avro.Type, depth: number): void {
  if (depth > MAX_DEPTH) fail('value nested too deeply', cursor);
  const name = type.typeName;
  if (name.startsWith('logical:'))
    return walk(cursor, (type as avro.types.LogicalType).underlyingType, depth);
  switch (name) {
    case 'null':
      return;
    case 'boolean': {
      const byte = skipBytes(cursor, 1)[0];
      if (byte !== 0 && byte !== 1) fail(`boolean byte ${byte}`, cursor);
      return;
    }
    case 'int':
      readInt(cursor);
      return;
    case 'long':
      readLong(cursor);
      return;
    case 'float':
      skipBytes(cursor, 4);
      return;
    case 'double':
      skipBytes(cursor, 8);
      return;
    case 'bytes':
      skipBytes(cursor, readLong(cursor));
      return;
    case 'string':
      readString(cursor);
      return;
    case 'fixed':
      skipBytes(cursor, (type as avro.types.FixedType).size);
      return;
    case 'enum': {
      const index = readInt(cursor);
      if (index < 0 || index >= (type as avro.types.EnumType).symbols.length)
        fail(`enum index ${index}`, cursor);
      return;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branches = (type as avro.types.UnwrappedUnionType).types;
      const index = readLong(cursor);
      const branch = branches[index];
      if (!Number.isInteger(index) || index < 0 || !branch) fail(`union branch ${index}`, cursor);
      return walk(cursor, branch, depth + 1);
    }
    case 'array':
      return walkBlocks(cursor, (type as avro.types.ArrayType).itemsType, depth, false);
    case 'map':
      return walkBlocks(cursor, (type as avro.types.MapType).valuesType as avro.Type, depth, true);
    case 'record':
    case 'error':
      for (const field of (type as avro.types.RecordType).fields) walk(cursor, field.type, depth + 1);
      return;
    default:
      fail(`unsupported Avro type ${name}`, cursor);
  }
}

/** Throws BodyStructureError unless `body` is exactly one well-formed value of `writerType`. */
export function assertWellFormedBody(writerType: avro.Type, body: Buffer): void {
  const cursor: Cursor = { buf: body, pos: 0 };
  walk(cursor, writerType, 0);
  if (cursor.pos !== body.length) fail(`${body.length - cursor.pos} trailing bytes`, cursor);
}
