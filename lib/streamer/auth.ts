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

/** Tokens as an OAuth token endpoint hands them out; `expiresAt` in epoch milliseconds. */
export interface OAuthTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt?: number;
}

export interface OAuthRefreshOptions {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** A token to start with; without one the first request fetches one. */
  readonly accessToken?: string;
  /** When `accessToken` stops working (epoch ms); it is refreshed a minute before. */
  readonly expiresAt?: number;
  /**
   * Called with every new pair of tokens before either is used. A provider that rotates refresh tokens
   * (Drift) makes the old one useless, so the new one must be stored first, or the connector locks
   * itself out; a failure here fails the request.
   */
  readonly onTokens?: (tokens: OAuthTokens) => Promise<void>;
  readonly now?: () => number;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
}

const REFRESH_MARGIN_MS = 60_000;

/**
 * OAuth2 refresh-token flow: a Bearer token, refreshed from the token endpoint before it expires and
 * on a 401 (once), keeping the newest refresh token the endpoint returns.
 */
export function oauthRefreshToken(
  options: OAuthRefreshOptions,
): Auth & { readonly currentToken: () => string | undefined } {
  const now = options.now ?? Date.now;
  let token = options.accessToken;
  let expiresAt = options.expiresAt;
  let refreshToken = options.refreshToken;
  let inFlight: Promise<void> | undefined;
  const exchange = async (fetchFn: typeof fetch) => {
    const response = await fetchFn(options.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      refresh_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const detail = [body.error, body.error_description]
        .filter((part) => typeof part === 'string')
        .join(': ');
      throw new AuthError(
        `token refresh at ${options.tokenUrl} failed with HTTP ${response.status}${detail === '' ? '' : ` (${detail})`}; check client_id and client_secret, and if the refresh token was revoked or used up, authorize again`,
      );
    }
    const tokens: OAuthTokens = {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : refreshToken,
      ...(typeof body.expires_in === 'number' ? { expiresAt: now() + body.expires_in * 1000 } : {}),
    };
    await options.onTokens?.(tokens); // stored before use: the old refresh token may be dead now
    token = tokens.accessToken;
    refreshToken = tokens.refreshToken;
    expiresAt = tokens.expiresAt;
  };
  // One refresh at a time: two requests that both see an expired token must not spend the refresh token twice.
  const refresh = (fetchFn: typeof fetch) => {
    inFlight ??= exchange(fetchFn).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  return {
    currentToken: () => token,
    async authorize(headers) {
      if (token === undefined || (expiresAt !== undefined && now() >= expiresAt - REFRESH_MARGIN_MS))
        await refresh(fetch);
      headers.set('authorization', `Bearer ${token}`);
    },
    refresh,
  };
}
