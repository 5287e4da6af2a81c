/**
 * Which table a stream lands in and which column each property does, decided once and then kept.
 *
 * Sanitizing can map two names to one (`Orders` and `orders`, `Id` and `id`). The first name to claim
 * a table or column gets the plain name; a later one that would land on a name already given gets the
 * plain name plus a hash of its own original (`orders_1a2b3c4d`). Names are recorded in the
 * destination (`_tributary_names`) in the load's own transaction, so a suffix once given never changes,
 * whatever the order or the schemas of later loads — and both destinations decide alike.
 */
import { collisionName, sanitizeIdentifier } from './identifiers.ts';

/** The names a destination has recorded for one tap. */
export interface RecordedNames {
  /** stream → table */
  readonly tables: ReadonlyMap<string, string>;
  /** stream → property → column */
  readonly columns: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const NO_RECORDED_NAMES: RecordedNames = { tables: new Map(), columns: new Map() };

/** A name to record: `kind` table (property '') or column. */
export interface NewName {
  readonly kind: 'table' | 'column';
  readonly stream: string;
  readonly property: string;
  readonly name: string;
}

export interface StreamNames {
  readonly table: string;
  readonly columns: ReadonlyMap<string, string>;
  /** Names given now, for the destination to record. */
  readonly added: readonly NewName[];
}

/** The stream's table: as recorded, else its sanitized name, unless another stream of the tap has it. */
export function tableNameFor(stream: string, recorded: RecordedNames): { table: string; added?: NewName } {
  const known = recorded.tables.get(stream);
  if (known !== undefined) return { table: known };
  const plain = sanitizeIdentifier(stream);
  const taken = [...recorded.tables].some(([other, table]) => other !== stream && table === plain);
  const table = taken ? collisionName(plain, stream) : plain;
  return { table, added: { kind: 'table', stream, property: '', name: table } };
}

/**
 * The stream's table and a column for each property. A table loaded before names were recorded keeps
 * its columns: with nothing recorded, each property gets the plain name it had then.
 */
export function streamNamesFor(
  stream: string,
  properties: readonly string[],
  recorded: RecordedNames,
): StreamNames {
  const { table, added: tableAdded } = tableNameFor(stream, recorded);
  const columns = new Map(recorded.columns.get(stream) ?? []);
  const taken = new Set(columns.values());
  const added: NewName[] = tableAdded === undefined ? [] : [tableAdded];
  const fresh = properties.filter((property) => !columns.has(property));
  // Group new properties by plain name; a group of more than one is a collision within this schema.
  const byPlain = new Map<string, string[]>();
  for (const property of fresh) {
    const plain = sanitizeIdentifier(property);
    byPlain.set(plain, [...(byPlain.get(plain) ?? []), property]);
  }
  for (const [plain, owners] of byPlain) {
    // The plain name goes to the property spelled exactly so, or to a lone claimant; never to two.
    const exact = owners.find((owner) => owner === plain);
    const claimant = owners.length === 1 ? owners[0] : exact;
    for (const owner of owners) {
      const column = owner === claimant && !taken.has(plain) ? plain : collisionName(plain, owner);
      columns.set(owner, column);
      taken.add(column);
      added.push({ kind: 'column', stream, property: owner, name: column });
    }
  }
  return { table, columns, added };
}

/** Recorded names read back from rows of `_tributary_names`. */
export function recordedNamesOf(
  rows: readonly { kind: string; stream: string; property: string; name: string }[],
): RecordedNames {
  const tables = new Map<string, string>();
  const columns = new Map<string, Map<string, string>>();
  for (const row of rows) {
    if (row.kind === 'table') tables.set(row.stream, row.name);
    else {
      const stream = columns.get(row.stream) ?? new Map<string, string>();
      stream.set(row.property, row.name);
      columns.set(row.stream, stream);
    }
  }
  return { tables, columns };
}
