/**
 * `${env:NAME}` and `${secret:NAME}` in a pipeline file. Secret names may hold `/ + = . @ -` (as
 * Secrets Manager names do); one pattern serves the loader, the deploy check and the AWS runtime.
 */
export const REFERENCE = /\$\{(env|secret):([A-Za-z0-9/_+=.@-]+)\}/g;

/** The distinct names of one kind of reference in a text, in order of first appearance. */
export function referencedNames(text: string, kind: 'env' | 'secret'): string[] {
  const names = [...text.matchAll(REFERENCE)]
    .filter((match) => match[1] === kind)
    .map((match) => match[2] ?? '');
  return [...new Set(names)];
}
