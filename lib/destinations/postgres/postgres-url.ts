/**
 * `postgres://user:password@host:port/database?schema=NAME`. The password is only ever handed to the
 * driver: descriptions, logs and errors show the URL with it masked.
 */
import { redactUrl } from '../redact-url.ts';

export interface PostgresLocation {
  /** The URL without our own query parameters, for the driver. */
  readonly connectionString: string;
  /** Schema prefix (`?schema=`): tap schemas are `<prefix>_<tap>` and the ledger lives in `<prefix>`. */
  readonly schemaPrefix: string | undefined;
  /** The URL with the password and credential-like query parameters masked. */
  readonly redacted: string;
}

export class PostgresUrlError extends Error {
  override readonly name = 'PostgresUrlError';
}

export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PostgresUrlError(
      `not a PostgreSQL URL: ${redactUrl(url)}; expected postgres://user:password@host:5432/database`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new PostgresUrlError(
      `not a PostgreSQL URL: ${redactUrl(url)}; expected postgres://user:password@host:5432/database`,
    );
  }
  const schemaPrefix = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schemaPrefix, redacted: redactUrl(url) };
}
