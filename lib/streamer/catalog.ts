/**
 * Singer catalogs: `--discover` prints one; `--catalog` selects streams with it. Streams with no
 * `selected` metadata are selected when the catalog marks none at all (as most taps behave).
 */
import { isObject } from '../protocol/parser.ts';
import type { Streamer } from './streamer.ts';

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

export function discoverCatalog(streamer: Streamer) {
  return {
    streams: streamer.streams.map((stream) => ({
      tap_stream_id: stream.name,
      stream: stream.name,
      schema: stream.schema,
      key_properties: stream.keyProperties,
      metadata: [
        {
          breadcrumb: [],
          metadata: {
            inclusion: 'available',
            selected: true,
            'table-key-properties': stream.keyProperties,
            'forced-replication-method': stream.replicationMethod,
            'valid-replication-keys': stream.replicationKey === undefined ? [] : [stream.replicationKey],
            'replication-method': stream.replicationMethod,
            ...(stream.replicationKey === undefined ? {} : { 'replication-key': stream.replicationKey }),
          },
        },
        ...Object.keys((stream.schema.properties ?? {}) as object).map((property) => ({
          breadcrumb: ['properties', property],
          metadata: {
            inclusion:
              stream.keyProperties.includes(property) || property === stream.replicationKey
                ? 'automatic'
                : 'available',
          },
        })),
      ],
    })),
  };
}

export function selectedStreamsFromCatalog(catalog: unknown, source: string): string[] {
  if (!isObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new CatalogError(`--catalog ${source}: expected {"streams": [...]} as printed by --discover`);
  }
  const entries = catalog.streams.filter(isObject);
  const selectedFlag = (entry: Record<string, unknown>): boolean | undefined => {
    const root = (Array.isArray(entry.metadata) ? entry.metadata : []).find(
      (item: unknown) => isObject(item) && Array.isArray(item.breadcrumb) && item.breadcrumb.length === 0,
    ) as { metadata?: { selected?: unknown } } | undefined;
    return typeof root?.metadata?.selected === 'boolean'
      ? root.metadata.selected
      : (entry.selected as boolean | undefined);
  };
  const anyMarked = entries.some((entry) => selectedFlag(entry) !== undefined);
  return entries
    .filter((entry) => (anyMarked ? selectedFlag(entry) === true : true))
    .map((entry) => String(entry.tap_stream_id ?? entry.stream));
}

/** Per stream, the properties a catalog leaves selected (`selected: false` on a property removes it). */
export function selectedFieldsFromCatalog(catalog: unknown): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  if (!isObject(catalog) || !Array.isArray(catalog.streams)) return fields;
  for (const entry of catalog.streams.filter(isObject)) {
    const stream = String(entry.tap_stream_id ?? entry.stream);
    const metadata = (Array.isArray(entry.metadata) ? entry.metadata : []).filter(isObject);
    const deselected = new Set(
      metadata
        .filter(
          (item) =>
            Array.isArray(item.breadcrumb) &&
            item.breadcrumb.length === 2 &&
            isObject(item.metadata) &&
            item.metadata.selected === false,
        )
        .map((item) => String((item.breadcrumb as unknown[])[1])),
    );
    if (deselected.size === 0) continue;
    const schema =
      isObject(entry.schema) && isObject(entry.schema.properties) ? Object.keys(entry.schema.properties) : [];
    fields[stream] = schema.filter((property) => !deselected.has(property));
  }
  return fields;
}
