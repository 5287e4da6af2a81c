/** URL redaction by parsing: every form a password or credential takes in a URL is hidden. */
import { describe, expect, it } from 'vitest';
import { openDestination } from '../../../lib/destinations/open-destination.ts';
import { parsePostgresUrl } from '../../../lib/destinations/postgres/postgres-url.ts';
import { redactUrl, redactUrlsIn, secretsInUrl } from '../../../lib/destinations/redact-url.ts';

const cases: [string, string][] = [
  ['postgres://u:secret@host:5432/db', 'postgres://u:***@host:5432/db'],
  ['postgres://u:Pa@ss@host/db', 'postgres://u:***@host/db'],
  ['postgres://u:p%40ss%2Fw@host/db', 'postgres://u:***@host/db'],
  [
    'postgres://host/db?user=u&password=Hunter2&schema=raw',
    'postgres://host/db?user=u&password=***&schema=raw',
  ],
  [
    'postgres://host/db?sslpassword=x&sslkey=/k&PGPASSWORD=y',
    'postgres://host/db?sslpassword=***&sslkey=***&PGPASSWORD=***',
  ],
  ['https://api.example.com/v1?api_token=abc&page=2', 'https://api.example.com/v1?api_token=***&page=2'],
  // one-slash typo and other text that `new URL` refuses
  ['postgres:/u:Hunter2@host/db', 'postgres:/u:***@host/db'],
  ['postgres//u:Hunter2@host/db', 'postgres//u:***@host/db'],
  ['postgres://u:Hunter 2@host/db', 'postgres://u:***@host/db'],
  ['postgres://u@host/db', 'postgres://u@host/db'],
];

describe('redactUrl', () => {
  it.each(cases)('%s → %s', (url, expected) => {
    const redacted = redactUrl(url);
    expect(redacted).toBe(expected);
    for (const secret of ['secret', 'Pa@ss', 'p%40ss', 'Hunter2', 'Hunter 2', 'abc']) {
      if (url.includes(secret)) expect(redacted).not.toContain(secret);
    }
  });

  it('finds each secret part, decoded, for the deploy check', () => {
    expect(secretsInUrl('postgres://u:Pa@ss@h/db?sslpassword=x&schema=raw')).toEqual([
      { part: 'password', value: 'Pa@ss' },
      { part: 'query parameter sslpassword', value: 'x' },
    ]);
    expect(secretsInUrl('postgres://u@h/db?schema=raw')).toEqual([]);
  });

  it('redacts URLs inside error text', () => {
    expect(redactUrlsIn('connect to "postgres://a:b@c/d?password=e" failed')).toBe(
      'connect to "postgres://a:***@c/d?password=***" failed',
    );
  });

  it('the PostgreSQL destination never shows the password: success description, bad URL and one-slash typo', async () => {
    expect(parsePostgresUrl('postgres://u:Pa@ss@localhost/db?password=Q1').redacted).toBe(
      'postgres://u:***@localhost/db?password=***',
    );
    const error: Error = await openDestination({
      type: 'postgres',
      url: 'postgres:/u:Hunter2@localhost/db',
    }).then(
      () => new Error('opened'),
      (failure: Error) => failure,
    );
    expect(error.message).toMatch(/postgres:\/u:\*\*\*@localhost\/db/);
    expect(error.message).not.toContain('Hunter2');
  });
});
