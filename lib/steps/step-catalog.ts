/**
 * The built-in steps as a Markdown table, made from their own option schemas, so the README's
 * catalogue cannot drift from the code (a test compares them; `npm run docs:steps` rewrites it).
 */
import type { JsonSchema } from '../protocol/messages.ts';
import { BUILTIN_STEPS } from './builtin-steps.ts';

export const CATALOG_START = '<!-- steps:start (npm run docs:steps) -->';
export const CATALOG_END = '<!-- steps:end -->';

export function stepCatalogMarkdown(): string {
  const rows = [...BUILTIN_STEPS.values()].map((step) => {
    const properties = (step.options.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((step.options.required ?? []) as string[]);
    const options = Object.entries(properties)
      .map(
        ([name, schema]) =>
          `\`${name}\`${required.has(name) ? '' : '?'}${schema.default === undefined ? '' : ` (default ${JSON.stringify(schema.default)})`}`,
      )
      .join(', ');
    return `| \`${step.name}\` | ${step.kind} | ${options || '—'} | ${step.description} |`;
  });
  return [
    CATALOG_START,
    '| step | kind | options | what it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    CATALOG_END,
  ].join('\n');
}

/** `text` (a README) with its catalogue block replaced by the current one. */
export function withStepCatalog(text: string): string {
  const start = text.indexOf(CATALOG_START);
  const end = text.indexOf(CATALOG_END);
  if (start === -1 || end === -1) throw new Error(`no ${CATALOG_START} … ${CATALOG_END} block to replace`);
  return `${text.slice(0, start)}${stepCatalogMarkdown()}${text.slice(end + CATALOG_END.length)}`;
}
