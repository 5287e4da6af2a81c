/**
 * How a request proves who it is. `authorize` adds headers before each request; `refresh`, when
 * present, is called once after a 401 and the request is tried again.
 */
export interface Auth {
  authorize(headers: Headers): Promise<void> | void;
  refresh?(fetchFn: typeof fetch): Promise<void>;
}

/** A header with a token, e.g. PagerDuty's `Authorization: Token token=…`. */
export function tokenHeader(name: string, value: string): Auth {
  return { authorize: (headers) => headers.set(name, value) };
}

export function bearerToken(token: string): Auth {
  return tokenHeader('authorization', `Bearer ${token}`);
}

export function basicAuth(user: string, password = ''): Auth {
  return tokenHeader('authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
}

export interface OAuthRefreshOptions {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** A token to start with; without one the first request fetches one. */
  readonly accessToken?: string;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** OAuth2 refresh-token flow: a Bearer token, refreshed from the token endpoint on a 401 (once). */
export function oauthRefreshToken(
  options: OAuthRefreshOptions,
): Auth & { readonly currentToken: () => string | undefined } {
  let token = options.accessToken;
  const refresh = async (fetchFn: typeof fetch) => {
    const response = await fetchFn(options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: options.refreshToken,
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new AuthError(
        `token refresh at ${options.tokenUrl} failed with HTTP ${response.status}${body.error === undefined ? '' : ` (${String(body.error)})`}; check client_id, client_secret and refresh_token`,
      );
    }
    token = body.access_token;
  };
  return {
    currentToken: () => token,
    async authorize(headers) {
      if (token === undefined) await refresh(fetch);
      headers.set('authorization', `Bearer ${token}`);
    },
    refresh,
  };
}
