import { applyReadMask } from '../../domain/listing.js';
import type { ListPage } from '../../store/index.js';

/** A list response: the array (always present), nextPageToken and totalSize. */
export function toWireList<T, W extends object>(
  plural: string,
  page: ListPage<T>,
  toWire: (item: T) => W,
  readMask: string | undefined,
): Record<string, unknown> {
  return {
    [plural]: page.items.map((item) => applyReadMask(toWire(item), readMask)),
    nextPageToken: page.nextPageToken,
    totalSize: page.totalSize,
  };
}

/** Drops undefined members so optional fields are absent from the JSON, as proto3 does. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
