/**
 * Singer catalogs: `--discover` prints one (every stream marked selected); `--catalog` selects streams
 * with it, by Singer's rule: a stream syncs only when marked `selected: true`, in its root metadata or,
 * as older catalogs write it, `schema.selected`.
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

export function selectedStreamsFromCatalog(
  catalog: unknown,
  source: string,
  known?: readonly string[],
): string[] {
  if (!isObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new CatalogError(`--catalog ${source}: expected {"streams": [...]} as printed by --discover`);
  }
  const entries = catalog.streams.filter(isObject);
  const selectedFlag = (entry: Record<string, unknown>): boolean | undefined => {
    const root = (Array.isArray(entry.metadata) ? entry.metadata : []).find(
      (item: unknown) => isObject(item) && Array.isArray(item.breadcrumb) && item.breadcrumb.length === 0,
    ) as { metadata?: { selected?: unknown } } | undefined;
    if (typeof root?.metadata?.selected === 'boolean') return root.metadata.selected;
    if (isObject(entry.schema) && typeof entry.schema.selected === 'boolean') return entry.schema.selected;
    return typeof entry.selected === 'boolean' ? entry.selected : undefined;
  };
  const named = entries.map((entry) => String(entry.tap_stream_id ?? entry.stream));
  if (known !== undefined) {
    const unknown = named.filter((name) => !known.includes(name));
    if (unknown.length === named.length && named.length > 0)
      throw new CatalogError(
        `--catalog ${source}: names only streams this tap does not have (${unknown.join(', ')}). Its streams: ${known.join(', ')}. Make the catalog with --discover.`,
      );
  }
  const selected = entries
    .filter((entry) => selectedFlag(entry) === true)
    .map((entry) => String(entry.tap_stream_id ?? entry.stream));
  if (selected.length === 0)
    throw new CatalogError(
      `--catalog ${source}: no stream is selected, so nothing would sync. Mark the streams to sync with "selected": true in their root metadata (breadcrumb []), as --discover does.`,
    );
  return selected;
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

/** Per stream, the `replication-method` a catalog's root metadata asks for. */
export function replicationMethodsFromCatalog(
  catalog: unknown,
): Record<string, 'FULL_TABLE' | 'INCREMENTAL'> {
  const methods: Record<string, 'FULL_TABLE' | 'INCREMENTAL'> = {};
  if (!isObject(catalog) || !Array.isArray(catalog.streams)) return methods;
  for (const entry of catalog.streams.filter(isObject)) {
    const root = (Array.isArray(entry.metadata) ? entry.metadata : []).find(
      (item: unknown) => isObject(item) && Array.isArray(item.breadcrumb) && item.breadcrumb.length === 0,
    ) as { metadata?: Record<string, unknown> } | undefined;
    const method = root?.metadata?.['replication-method'];
    if (method === 'FULL_TABLE' || method === 'INCREMENTAL')
      methods[String(entry.tap_stream_id ?? entry.stream)] = method;
  }
  return methods;
}

/**
 * A tap's discovered catalog with the pipeline's `streams:` selected (every stream when undefined):
 * `selected: true` in the root metadata and on each property, and `schema.selected` for older taps,
 * since taps differ in which they read. A name the tap does not offer is refused, naming its streams.
 */
export function selectInCatalog(catalog: unknown, streams: readonly string[] | undefined, source: string) {
  if (!isObject(catalog) || !Array.isArray(catalog.streams))
    throw new CatalogError(`${source}: --discover printed no catalog: expected {"streams": [...]}`);
  const entries = catalog.streams.filter(isObject);
  const nameOf = (entry: Record<string, unknown>) => String(entry.tap_stream_id ?? entry.stream);
  const offered = entries.map(nameOf);
  const unknown = (streams ?? []).filter((name) => !offered.includes(name));
  if (unknown.length > 0)
    throw new CatalogError(
      `${source}: streams: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the tap's catalog. Its streams: ${offered.join(', ') || '(none)'}.`,
    );
  return {
    ...catalog,
    streams: entries.map((entry) => {
      const selected = streams === undefined || streams.includes(nameOf(entry));
      const metadata = (Array.isArray(entry.metadata) ? entry.metadata : []).filter(isObject);
      const isRoot = (item: Record<string, unknown>) =>
        Array.isArray(item.breadcrumb) && item.breadcrumb.length === 0;
      const withRoot = metadata.some(isRoot) ? metadata : [{ breadcrumb: [], metadata: {} }, ...metadata];
      return {
        ...entry,
        schema: isObject(entry.schema) ? { ...entry.schema, selected } : entry.schema,
        metadata: withRoot.map((item) =>
          isRoot(item) || (Array.isArray(item.breadcrumb) && item.breadcrumb[0] === 'properties')
            ? { ...item, metadata: { ...(isObject(item.metadata) ? item.metadata : {}), selected } }
            : item,
        ),
      };
    }),
  };
}
