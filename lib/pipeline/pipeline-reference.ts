/**
 * The pipeline file reference (docs/pipeline-reference.md), written from the pipeline JSON Schema so
 * the document cannot drift from what the loader accepts: every key with its type, default, example
 * and description.
 */
import { pipelineSchema } from './pipeline-schema.ts';

interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly description?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly allOf?: readonly { readonly if: SchemaNode; readonly then: SchemaNode }[];
  readonly const?: unknown;
}

export interface ReferenceRow {
  readonly key: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly example?: unknown;
  readonly description?: string;
}

/** Every key of the schema, depth first; a map's entries appear as `<name>`. */
export function referenceRows(node: SchemaNode = pipelineSchema as SchemaNode, path = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const visit = (child: SchemaNode, key: string, required: boolean) => {
    rows.push({
      key,
      type: typeOf(child),
      required,
      ...(child.default === undefined ? {} : { default: child.default }),
      ...(child.examples?.[0] === undefined ? {} : { example: child.examples[0] }),
      ...(child.description === undefined ? {} : { description: child.description }),
    });
    rows.push(...referenceRows(child, key));
  };
  for (const [name, child] of Object.entries(node.properties ?? {}))
    if (Object.keys(child).length > 0) visit(child, join(path, name), node.required?.includes(name) ?? false);
  // One set of keys per destination type (if type is X then these keys).
  for (const branch of node.allOf ?? []) {
    const chosen = branch.if.properties?.type?.const;
    for (const [name, child] of Object.entries(branch.then.properties ?? {}))
      if (Object.keys(child).length > 0)
        visit(
          child,
          `${join(path, name)} (type ${String(chosen)})`,
          branch.then.required?.includes(name) ?? false,
        );
  }
  if (typeof node.additionalProperties === 'object')
    visit(node.additionalProperties, join(path, '<name>'), false);
  return rows;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function typeOf(node: SchemaNode): string {
  if (node.enum !== undefined) return node.enum.map((value) => JSON.stringify(value)).join(' or ');
  const types = node.type === undefined ? [] : [node.type].flat();
  const named = types
    .map((type) => (type === 'array' && node.items !== undefined ? `list of ${typeOf(node.items)}` : type))
    .join(' or ');
  const range =
    node.minimum !== undefined || node.maximum !== undefined
      ? ` (${node.minimum ?? '…'}–${node.maximum ?? '…'})`
      : '';
  return `${named || 'any'}${range}`;
}

export function pipelineReference(): string {
  const cell = (value: unknown) =>
    value === undefined
      ? ''
      : `\`${(typeof value === 'string' ? value : JSON.stringify(value)).replaceAll('|', '\\|')}\``;
  const text = (value: string) => value.replaceAll('|', '\\|');
  const lines = [
    '# The pipeline file',
    '',
    '<!-- Written by `npm run docs:pipeline` from lib/pipeline/pipeline-schema.ts; edit the schema, not this file. -->',
    '',
    'Every key a pipeline file may have. `trib schema` prints the same schema as JSON Schema, for editors',
    '(`trib init` writes it beside the file, with a `# yaml-language-server: $schema=` line). Values may',
    'be `${env:NAME}` (the environment) or `${secret:NAME}` (the environment locally, Secrets Manager in',
    "AWS); a substituted value takes the type the schema asks for. A streamer's own config keys are listed",
    'by `trib streamers NAME`.',
    '',
  ];
  const rows = referenceRows();
  for (const section of Object.keys(pipelineSchema.properties)) {
    const own = rows.filter(
      (row) => row.key === section || row.key.startsWith(`${section}.`) || row.key.startsWith(`${section} `),
    );
    const head = own[0];
    lines.push(`## \`${section}\``, '');
    if (head?.description !== undefined)
      lines.push(`${head.description}${head.required ? ' Required.' : ''}`, '');
    lines.push('| key | type | default | example | what it is |', '| --- | --- | --- | --- | --- |');
    for (const row of own.slice(1))
      lines.push(
        `| \`${row.key}\`${row.required ? ' (required)' : ''} | ${text(row.type)} | ${cell(row.default)} | ${cell(row.example)} | ${text(row.description ?? '')} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}
