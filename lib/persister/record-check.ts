/**
 * The one check a record passes before it is staged and again before it is loaded: its stream's JSON
 * Schema (ajv), then the values a warehouse column would refuse (warehouse-values.ts). Both sides use
 * this, so a record that could never load is refused while the run is still reading, not dead-lettered
 * later.
 */

import { type LogicalType, logicalTypeOf } from '../columns/column-types.ts';
import type { JsonObject, SchemaMessage } from '../protocol/messages.ts';
import { describe as describeValue } from '../protocol/parser.ts';
import { describeValidationError, RecordValidators } from './record-validator.ts';
import { warehouseRecord } from './warehouse-values.ts';

export type RecordCheckResult =
  | { readonly ok: true; readonly values: JsonObject; readonly changed: boolean }
  | { readonly ok: false; readonly problem: string };

const CHECKED_KINDS = new Set<LogicalType['kind']>(['integer', 'decimal', 'timestamp', 'date']);

export class StreamRecordCheck {
  private readonly validate: ReturnType<RecordValidators['forSchema']>;
  private readonly columns: { property: string; type: LogicalType; isKey: boolean }[];

  constructor(
    private readonly schema: SchemaMessage,
    validators: RecordValidators,
  ) {
    this.validate = validators.forSchema(schema.schema);
    const properties = (schema.schema.properties ?? {}) as Record<string, unknown>;
    this.columns = Object.entries(properties)
      .map(([property, propertySchema]) => ({
        property,
        type: logicalTypeOf(propertySchema, schema.schema),
        isKey: schema.keyProperties.includes(property),
      }))
      .filter((column) => CHECKED_KINDS.has(column.type.kind));
  }

  /** `exact`: the record with numbers a double cannot hold kept exact (the parser's `exact`). */
  check(record: JsonObject, exact?: JsonObject): RecordCheckResult {
    if (!this.validate(record))
      return {
        ok: false,
        problem: `RECORD for stream "${this.schema.stream}"${this.describeKey(record)} does not match its schema: ${describeValidationError(this.validate)}`,
      };
    // A record without its key would be merged with every other such record into one row.
    const missing = this.schema.keyProperties.filter((key) => record[key] === undefined);
    if (missing.length > 0)
      return {
        ok: false,
        problem: `RECORD for stream "${this.schema.stream}" lacks its key ${missing.length === 1 ? 'property' : 'properties'} ${missing.map((key) => `"${key}"`).join(', ')} (key_properties: ${this.schema.keyProperties.join(', ')}); every record of a keyed stream must carry its key`,
      };
    const checked = warehouseRecord(exact ?? record, this.columns);
    if (checked.ok) return checked;
    return {
      ok: false,
      problem: `RECORD for stream "${this.schema.stream}"${this.describeKey(record)}: property "${checked.property}" ${checked.problem}`,
    };
  }

  private describeKey(record: JsonObject): string {
    const keys = this.schema.keyProperties;
    if (keys.length === 0) return '';
    return ` (key ${keys.map((key) => `${key}=${describeValue(record[key])}`).join(', ')})`;
  }
}

/** Checks per stream, compiled once per distinct schema. */
export class RecordChecks {
  private readonly checks = new Map<string, StreamRecordCheck>();

  constructor(private readonly validators = new RecordValidators()) {}

  forSchema(schema: SchemaMessage): StreamRecordCheck {
    const text = JSON.stringify([schema.schema, schema.keyProperties, schema.stream]);
    let check = this.checks.get(text);
    if (check === undefined) {
      check = new StreamRecordCheck(schema, this.validators);
      this.checks.set(text, check);
    }
    return check;
  }
}
