/** A stream as the warehouse needs it: its name, schema and key, and what to do with what it does not declare. */
import type { JsonSchema } from '../protocol/messages.ts';

export interface StreamDefinition {
  readonly stream: string;
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
  /** drop: no `_tributary_extra` column for properties the schema does not declare. @default keep */
  readonly undeclared?: UndeclaredProperties;
}

/** What happens to record properties a stream's schema does not declare (`undeclared_properties:`). */
export type UndeclaredProperties = 'keep' | 'drop';

/** Whether two definitions make the same table: a chunk's SCHEMA repeating the one before changes nothing. */
export function sameDefinition(a: StreamDefinition, b: StreamDefinition): boolean {
  return (
    a.stream === b.stream &&
    (a.undeclared ?? 'keep') === (b.undeclared ?? 'keep') &&
    a.keyProperties.length === b.keyProperties.length &&
    a.keyProperties.every((key, index) => key === b.keyProperties[index]) &&
    JSON.stringify(a.schema) === JSON.stringify(b.schema)
  );
}
