/**
 * The Avro logical types our schemas use, registered in one place: avsc 5 ships none, and every avsc
 * type is built through `parseSchema` (schemas/registry.ts) with this map.
 */
import avro from 'avsc';

/** `timestamp-millis` as a JS Date (UTC milliseconds on the wire, a `long`). */
export class TimestampMillisType extends avro.types.LogicalType {
  override _fromValue(value: number): Date {
    const date = new Date(value);
    if (Number.isNaN(date.getTime()))
      throw new RangeError(`timestamp-millis ${value} is outside the Date range`);
    return date;
  }
  override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime();
    return typeof value === 'number' ? value : undefined;
  }
  override _resolve(type: avro.Type): ((value: number) => Date) | undefined {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return (value) => this._fromValue(value);
    return undefined;
  }
}

export const LOGICAL_TYPES = { 'timestamp-millis': TimestampMillisType };
