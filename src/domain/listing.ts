/**
 * List queries (AIP-132/158/160/157), the pure half: the filter and orderBy parsers, page tokens,
 * page size and read masks. The store compiles what is parsed here to SQL (store/listing.ts).
 * Each concern has a file of its own under listing/; this module is their one face.
 */
export {
  MAX_FILTER_LENGTH,
  type CompareOp,
  type FieldType,
  type FilterExpr,
  type ListField,
  type ListFields,
  type OrderTerm,
} from './listing/fields.js';
export { MAX_FILTER_COMPARISONS, MAX_FILTER_DEPTH, parseFilter } from './listing/filter.js';
export { parseOrderBy } from './listing/order.js';
export {
  decodePageToken,
  DEFAULT_PAGE_SIZE,
  encodePageToken,
  listFingerprint,
  MAX_PAGE_SIZE,
  normalisePageSize,
  type PageToken,
} from './listing/page.js';
export { applyReadMask } from './listing/read-mask.js';
