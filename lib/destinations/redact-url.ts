/**
 * URLs with their secrets hidden, for every place a URL is printed (descriptions, logs, errors) and
 * for the deploy check that keeps secrets out of templates. A URL is read by parsing, not by pattern:
 * `postgres://u:Pa@ss@host` has the password `Pa@ss`, and `?password=…`, `?sslkey=…` or
 * `?api_token=…` are secrets too. Text that does not parse is masked by the same rules, read leniently.
 *
 * @example
 * redactUrl('postgres://app:Pa@ss@db:5432/wh?sslpassword=x&schema=raw');
 * // 'postgres://app:***@db:5432/wh?sslpassword=***&schema=raw'
 */

/** Query keys that hold credentials: password, pwd, token, secret, key, auth, credential, signature. */
const SECRET_KEY = /pass|pwd|token|secret|key|auth|credential|signature/i;
const MASK = '***';

/** One part of a URL that holds a secret: where it is and its (decoded) value. */
export interface UrlSecret {
  /** `password` or `query parameter NAME`. */
  readonly part: string;
  readonly value: string;
}

/** The secret parts of a URL (its password and credential-like query parameters), for checks. */
export function secretsInUrl(url: string): UrlSecret[] {
  const parsed = parseLeniently(url);
  const found: UrlSecret[] = [];
  if (parsed.password !== undefined && parsed.password !== '')
    found.push({ part: 'password', value: parsed.password });
  for (const [key, value] of parsed.query)
    if (SECRET_KEY.test(key) && value !== '') found.push({ part: `query parameter ${key}`, value });
  return found;
}

/** The URL with its password and every credential-like query value replaced by `***`. */
export function redactUrl(url: string): string {
  const parsed = parseLeniently(url);
  let out = parsed.beforeAuthority;
  if (parsed.user !== undefined) {
    out += parsed.user;
    if (parsed.password !== undefined) out += `:${MASK}`;
    out += '@';
  }
  out += parsed.rest;
  if (parsed.rawQuery !== undefined) {
    const pieces = parsed.rawQuery.split(/([&;])/).map((piece) => {
      const equals = piece.indexOf('=');
      if (equals < 0) return piece;
      const key = safeDecode(piece.slice(0, equals));
      return SECRET_KEY.test(key) ? `${piece.slice(0, equals)}=${MASK}` : piece;
    });
    out += `?${pieces.join('')}`;
  }
  return out + parsed.fragment;
}

/** Every URL inside a text (an error message, a log line) redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/{1,2}[^\s"'<>]+/gi, (url) => redactUrl(url));
}

interface LenientUrl {
  /** `scheme://` (or `scheme:/` for a one-slash typo), or '' when there is no scheme. */
  readonly beforeAuthority: string;
  readonly user?: string;
  readonly password?: string;
  /** host, port and path: everything between the user info and the query. */
  readonly rest: string;
  readonly rawQuery?: string;
  readonly query: [string, string][];
  readonly fragment: string;
}

/**
 * Splits a URL the way a driver would read its user info: the authority ends at the first `/`, `?`
 * or `#` after the LAST `@` before the path, so an unencoded `@` in a password stays in the password.
 * Works on text `new URL` refuses (a one-slash typo, spaces), so nothing escapes redaction.
 */
function parseLeniently(url: string): LenientUrl {
  const scheme = /^[a-z][a-z0-9+.-]*:\/{0,2}/i.exec(url)?.[0] ?? '';
  let remainder = url.slice(scheme.length);
  const hash = remainder.indexOf('#');
  const fragment = hash < 0 ? '' : remainder.slice(hash);
  if (hash >= 0) remainder = remainder.slice(0, hash);
  const question = remainder.indexOf('?');
  const rawQuery = question < 0 ? undefined : remainder.slice(question + 1);
  if (question >= 0) remainder = remainder.slice(0, question);
  const at = remainder.lastIndexOf('@');
  const query: [string, string][] =
    rawQuery === undefined
      ? []
      : rawQuery
          .split(/[&;]/)
          .filter((piece) => piece.includes('='))
          .map((piece) => {
            const equals = piece.indexOf('=');
            return [safeDecode(piece.slice(0, equals)), safeDecode(piece.slice(equals + 1))];
          });
  const base = { beforeAuthority: scheme, query, fragment, ...(rawQuery === undefined ? {} : { rawQuery }) };
  if (at < 0) return { ...base, rest: remainder };
  const userInfo = remainder.slice(0, at);
  const colon = userInfo.indexOf(':');
  return {
    ...base,
    rest: remainder.slice(at + 1),
    user: colon < 0 ? userInfo : userInfo.slice(0, colon),
    ...(colon < 0 ? {} : { password: safeDecode(userInfo.slice(colon + 1)) }),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
