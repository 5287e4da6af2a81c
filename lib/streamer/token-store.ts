/**
 * Where a connector keeps OAuth tokens that change while it runs. Providers that rotate refresh tokens
 * (Drift) hand out a new one on every refresh and refuse the old one, so the new one is written here
 * before it is used: locally to a token file (`trib auth drift` writes the first one), in AWS to the
 * Secrets Manager secret the function may write (and only that one).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../state/write-file-atomic.ts';
import { type Auth, type OAuthTokens, oauthRefreshToken } from './auth.ts';

export interface TokenStore {
  /** Names it in errors and logs (a path, a secret name); never a token. */
  readonly description: string;
  read(): Promise<OAuthTokens | undefined>;
  write(tokens: OAuthTokens): Promise<void>;
}

export class TokenStoreError extends Error {
  override readonly name = 'TokenStoreError';
}

/** The tokens as JSON text: what a token file and a secret hold. */
export function tokensToJson(tokens: OAuthTokens): string {
  return `${JSON.stringify(
    {
      refresh_token: tokens.refreshToken,
      access_token: tokens.accessToken,
      ...(tokens.expiresAt === undefined ? {} : { expires_at: new Date(tokens.expiresAt).toISOString() }),
    },
    null,
    2,
  )}\n`;
}

/** Reads what `tokensToJson` wrote, or a bare refresh token (a secret set by hand). */
export function tokensFromJson(text: string, where: string): OAuthTokens {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { accessToken: '', refreshToken: trimmed };
  let value: { refresh_token?: unknown; access_token?: unknown; expires_at?: unknown };
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new TokenStoreError(
      `${where}: not JSON (${(error as Error).message}); run the authorization again (trib auth)`,
    );
  }
  if (typeof value.refresh_token !== 'string' || value.refresh_token === '')
    throw new TokenStoreError(`${where}: holds no refresh_token; run the authorization again (trib auth)`);
  const expiresAt = typeof value.expires_at === 'string' ? Date.parse(value.expires_at) : Number.NaN;
  return {
    refreshToken: value.refresh_token,
    accessToken: typeof value.access_token === 'string' ? value.access_token : '',
    ...(Number.isNaN(expiresAt) ? {} : { expiresAt }),
  };
}

/** A JSON file only its owner can read, replaced atomically on every change. */
export function tokenFile(path: string): TokenStore {
  return {
    description: `token file ${path}`,
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      return tokensFromJson(text, `token file ${path}`);
    },
    async write(tokens) {
      await writeFileAtomic(path, tokensToJson(tokens), { mode: 0o600 });
    },
  };
}

/**
 * OAuth with tokens kept in a store: read on the first request, each new pair written before it is
 * used. Without a stored pair it starts from `refreshToken`.
 */
export function storedOAuth(options: {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly store: TokenStore;
  readonly refreshToken?: string;
  readonly now?: () => number;
}): Auth {
  let inner: Promise<Auth> | undefined;
  const load = async (): Promise<Auth> => {
    const stored = await options.store.read();
    const refreshToken = stored?.refreshToken ?? options.refreshToken;
    if (refreshToken === undefined || refreshToken === '')
      throw new TokenStoreError(
        `${options.store.description} holds no refresh token yet; authorize first (trib auth drift), or set refresh_token`,
      );
    return oauthRefreshToken({
      tokenUrl: options.tokenUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      refreshToken,
      ...(stored?.accessToken ? { accessToken: stored.accessToken } : {}),
      ...(stored?.expiresAt === undefined ? {} : { expiresAt: stored.expiresAt }),
      onTokens: (tokens) => options.store.write(tokens),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  };
  const auth = () => {
    inner ??= load();
    return inner;
  };
  return {
    async authorize(headers) {
      await (await auth()).authorize(headers);
    },
    async refresh(fetchFn) {
      await (await auth()).refresh?.(fetchFn);
    },
  };
}
