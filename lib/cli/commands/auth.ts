/**
 * `trib auth drift`: the OAuth authorization-code flow for a person at a terminal. It prints the
 * authorize URL, serves the redirect on loopback, checks `state`, exchanges the single-use code, and
 * writes the tokens where the pipeline reads them (a token file only its owner can read).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Command } from 'commander';
import { tokenFile } from '../../streamer/token-store.ts';

export function authCommand(): Command {
  return new Command('auth')
    .description('Authorize a connector that uses OAuth, and keep its tokens where the pipeline reads them.')
    .addCommand(
      new Command('drift')
        .description(
          'Authorize Drift: open the printed URL, approve, and the refresh token is written to --token-file.',
        )
        .requiredOption('--client-id <id>', "your Drift app's client id")
        .requiredOption(
          '--client-secret <secret>',
          "your Drift app's client secret (or set DRIFT_CLIENT_SECRET)",
          process.env.DRIFT_CLIENT_SECRET,
        )
        .requiredOption(
          '--redirect-uri <uri>',
          "the app's redirect URI, on loopback, e.g. http://127.0.0.1:8765/callback (as configured on the app)",
        )
        .option(
          '--token-file <path>',
          "where to write the tokens (the pipeline's token_file)",
          'drift-tokens.json',
        )
        .option('--authorize-url <url>', 'the browser step', 'https://dev.drift.com/authorize')
        .option('--token-url <url>', 'the token endpoint', 'https://driftapi.com/oauth2/token')
        .option('--timeout <seconds>', 'give up after this long', '600')
        .action(async (options: AuthOptions) => {
          await authorizeDrift(options);
        }),
    );
}

interface AuthOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  tokenFile: string;
  authorizeUrl: string;
  tokenUrl: string;
  timeout: string;
}

export class AuthFlowError extends Error {
  override readonly name = 'AuthFlowError';
}

async function authorizeDrift(options: AuthOptions): Promise<void> {
  const redirect = new URL(options.redirectUri);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(redirect.hostname) || redirect.port === '')
    throw new AuthFlowError(
      `--redirect-uri ${options.redirectUri}: it must be a loopback address with a port (http://127.0.0.1:PORT/callback), where this command can receive the code`,
    );
  const state = randomBytes(16).toString('hex');
  const authorize = new URL(options.authorizeUrl);
  authorize.searchParams.set('response_type', 'code');
  authorize.searchParams.set('client_id', options.clientId);
  authorize.searchParams.set('redirect_uri', options.redirectUri);
  authorize.searchParams.set('state', state);
  const code = await receiveCode(redirect, state, Number(options.timeout) * 1000, () =>
    process.stdout.write(
      `Open this URL in a browser and approve the app:\n\n  ${authorize}\n\nWaiting for Drift to redirect to ${options.redirectUri} …\n`,
    ),
  );
  const response = await fetch(options.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      client_id: options.clientId,
      client_secret: options.clientSecret,
      code,
      grant_type: 'authorization_code',
    }),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string')
    throw new AuthFlowError(
      `exchanging the code at ${options.tokenUrl} failed with HTTP ${response.status} (${String(body.error ?? '')}${body.error_description === undefined ? '' : `: ${String(body.error_description)}`}); check --client-id and --client-secret, and run this again (a code works once)`,
    );
  await tokenFile(options.tokenFile).write({
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    ...(typeof body.expires_in === 'number' ? { expiresAt: Date.now() + body.expires_in * 1000 } : {}),
  });
  process.stdout.write(
    `Authorized${body.orgId === undefined ? '' : ` for Drift org ${String(body.orgId)}`}. The tokens are in ${options.tokenFile}; in the pipeline:\n  config: { client_id: ${options.clientId}, client_secret: "\${env:DRIFT_CLIENT_SECRET}", token_file: ${options.tokenFile} }\n`,
  );
}

/** Serves the redirect once and resolves with its code, after checking it answers our own request. */
function receiveCode(redirect: URL, state: string, timeoutMs: number, ready: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', redirect);
      if (url.pathname !== redirect.pathname) {
        response.writeHead(404).end();
        return;
      }
      const finish = (status: number, text: string, outcome: () => void) => {
        response
          .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' })
          .end(text);
        clearTimeout(timer);
        server.close();
        outcome();
      };
      const error = url.searchParams.get('error');
      if (error !== null)
        return finish(400, `Not authorized: ${error}. You can close this window.`, () =>
          reject(
            new AuthFlowError(
              `Drift answered ${error}${url.searchParams.get('error_description') === null ? '' : `: ${url.searchParams.get('error_description')}`}`,
            ),
          ),
        );
      if (url.searchParams.get('state') !== state)
        return finish(
          400,
          'This answer is not for the request this command made. You can close this window.',
          () =>
            reject(
              new AuthFlowError(
                'the redirect carried another state than the one sent: not our request (or a forged one); run this again',
              ),
            ),
        );
      const code = url.searchParams.get('code');
      if (code === null || code === '')
        return finish(400, 'No code in the redirect.', () =>
          reject(new AuthFlowError('the redirect carried no code')),
        );
      finish(200, 'Authorized. You can close this window and go back to the terminal.', () => resolve(code));
    });
    const timer = setTimeout(() => {
      server.close();
      reject(
        new AuthFlowError(`no redirect within ${Math.round(timeoutMs / 1000)} s; run this again when ready`),
      );
    }, timeoutMs);
    server.on('error', (error) => {
      clearTimeout(timer);
      reject(new AuthFlowError(`cannot listen on ${redirect.host} for the redirect: ${error.message}`));
    });
    server.listen(Number(redirect.port), redirect.hostname.replace(/^\[|\]$/g, ''), ready);
  });
}
