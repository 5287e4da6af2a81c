/**
 * Keeps secrets out of logs, chunks and errors: every config value whose key is marked `"secret": true`
 * (or `writeOnly`, or `format: password`) in the config schema, or whose name says it is one (unless
 * marked `"secret": false`), is replaced by `***` in any text we print.
 */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';

const SECRET_NAME = /(token|secret|password|passwd|api_?key|private_?key|credential)/i;

export type Redactor = (text: string) => string;

export function secretValues(config: JsonObject, schema: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const values: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const property = properties[key] ?? {};
    const marked = property.secret === true || property.writeOnly === true || property.format === 'password';
    // `secret: false` says a key whose name sounds like one is not (a secret's name, a file's path).
    const named = property.secret !== false && SECRET_NAME.test(key);
    if ((marked || named) && typeof value === 'string' && value.length >= 4) values.push(value);
  }
  return values;
}

export function redactor(secrets: readonly string[]): Redactor {
  const sorted = [...new Set(secrets)]
    .filter((secret) => secret.length > 0)
    .sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => sorted.reduce((result, secret) => result.split(secret).join('***'), text);
}
