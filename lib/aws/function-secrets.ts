/**
 * Which `${secret:NAME}` references a function reads. Each function reads only its own: a tap's
 * streamer the secrets in that tap's section, the persister those in `destination:`. Every other
 * reference stays a placeholder the function never resolves, so a role that may read only its own
 * secrets starts without AccessDenied.
 */
import { parse as parseYaml } from 'yaml';
import { referencedNames } from '../pipeline/references.ts';
import { isObject } from '../protocol/parser.ts';

/** The function a runtime serves: one tap's streamer, or the persister of every tap. */
export type FunctionRole =
  | { readonly kind: 'streamer'; readonly tap: string }
  | { readonly kind: 'persister' }
  | { readonly kind: 'ingest'; readonly tap: string };

export interface SecretsSplit {
  /** The names this function reads from Secrets Manager. */
  readonly needed: readonly string[];
  /** Every other name, each standing for itself (`${secret:NAME}`), for the pipeline parser. */
  readonly placeholders: Readonly<Record<string, string>>;
}

export function secretsFor(text: string, role: FunctionRole): SecretsSplit {
  const document = parseYaml(text) as unknown;
  const section = !isObject(document)
    ? undefined
    : role.kind === 'persister'
      ? document.destination
      : role.kind === 'ingest'
        ? document.ingest
        : isObject(document.taps)
          ? document.taps[role.tap]
          : undefined;
  const needed = referencedNames(JSON.stringify(section ?? null), 'secret');
  const placeholders = Object.fromEntries(
    referencedNames(text, 'secret')
      .filter((name) => !needed.includes(name))
      .map((name) => [name, `\${secret:${name}}`]),
  );
  return { needed, placeholders };
}
