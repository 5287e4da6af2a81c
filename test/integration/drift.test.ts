/** The Drift connector against the fake Drift API, with the SDK's connector test kit. */
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamerFatalError } from '../../lib/streamer/define-streamer.ts';
import type { StreamerRunOptions } from '../../lib/streamer/streamer.ts';
import { driftStreamer } from '../../lib/streamers/drift/drift-streamer.ts';
import {
  checkResumeWithoutGaps,
  checkSchemaConformance,
  runStreamer,
} from '../../lib/testing/connector-test-kit.ts';
import { DriftApi } from '../fakes/drift-api.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { collect, tribBin } from '../helpers/cli.ts';

let api: DriftApi;
let waits: number[];
beforeEach(async () => {
  api = await new DriftApi(60).start();
  waits = [];
});
afterEach(() => api.stop());

const options = (
  config: Record<string, unknown>,
  extra: Partial<StreamerRunOptions> = {},
): StreamerRunOptions => ({
  config: { base_url: api.baseUrl, ...config },
  http: {
    sleep: async (ms) => {
      waits.push(ms);
    },
  },
  ...extra,
});
const ids = (run: Awaited<ReturnType<typeof runStreamer>>, stream: string) =>
  (run.records.get(stream) ?? []).map((record) => record.id ?? record.accountId);

function tokenFileWith(tokens: Record<string, unknown>): string {
  const path = join(temporaryFolder(), 'drift-tokens.json');
  writeFileSync(path, JSON.stringify(tokens), { mode: 0o600 });
  return path;
}

describe('drift connector', () => {
  it('a full sync equals the fake: every conversation, its messages and contact, accounts (one deleted), users; millisecond times as date-times', async () => {
    const run = await runStreamer(driftStreamer, options({ access_token: api.issueAccessToken(0) }));
    expect(run.error).toBeUndefined();
    checkSchemaConformance(run);
    expect(ids(run, 'conversations').sort()).toEqual(
      api.conversations.map((conversation) => conversation.id).sort(),
    );
    expect(ids(run, 'messages')).toHaveLength(60);
    expect(ids(run, 'contacts').sort()).toEqual([...api.contacts.keys()].sort());
    expect(ids(run, 'accounts')).toEqual(api.accounts.map((account) => account.accountId));
    expect(run.records.get('accounts')?.find((account) => account.deleted === true)).toBeDefined();
    expect(ids(run, 'users')).toEqual([1204417, 1204418]);
    expect(run.records.get('conversations')?.[0]?.updatedAt).toMatch(/^2026-11-01T\d\d:\d\d:\d\d\.000Z$/);
    // Pages of at most 50 conversations, and never a call that lists all contacts.
    expect(api.requests.filter((request) => request.includes('/conversations/list')).length).toBe(2);
    expect(api.requests.some((request) => /GET \/contacts(\?|$)/.test(request))).toBe(false);
  });

  it('the next run reads the conversations that changed, with their messages and contact, and stops scanning past the bookmark', async () => {
    const config = { access_token: api.issueAccessToken(0), conversation_lookback: '0s' };
    const first = await runStreamer(driftStreamer, options(config));
    expect(first.error).toBeUndefined();
    const old = api.conversations[3];
    if (old === undefined) throw new Error('fixture too small');
    api.addMessage(Number(old.id), 'user', 'private_note');
    const before = api.requests.length;
    const second = await runStreamer(driftStreamer, options(config, { state: first.state }));
    expect(second.error).toBeUndefined();
    expect(ids(second, 'conversations')).toEqual([old.id]);
    expect(ids(second, 'messages')).toHaveLength(2);
    expect(second.records.get('messages')?.map((message) => message.type)).toContain('private_note');
    expect(ids(second, 'contacts')).toEqual([old.contactId]);
    // One page of conversations was enough: the scan stopped at the first one older than the bookmark.
    expect(
      api.requests.slice(before).filter((request) => request.includes('/conversations/list')),
    ).toHaveLength(1);
  });

  it('OAuth: the rotated refresh token is written to the token file before it is used, and the next run goes on with it', async () => {
    const tokenFile = tokenFileWith({ refresh_token: api.refreshToken });
    const config = { client_id: api.clientId, client_secret: api.clientSecret, token_file: tokenFile };
    const first = await runStreamer(driftStreamer, options(config, { selectedStreams: ['users'] }));
    expect(first.error).toBeUndefined();
    expect(api.requests[0]).toBe('POST /oauth2/token');
    const stored = JSON.parse(readFileSync(tokenFile, 'utf8'));
    expect(stored.refresh_token).toBe(api.refreshToken); // the new one, the old one is now refused
    expect(statSync(tokenFile).mode & 0o077).toBe(0); // only its owner can read it
    // The access token expires (on Drift's clock): a 401 refreshes once and the run goes on.
    api.now += 3 * 3_600_000;
    const second = await runStreamer(driftStreamer, options(config, { selectedStreams: ['users'] }));
    expect(second.error).toBeUndefined();
    expect(api.refreshes).toBe(2);
    expect(JSON.parse(readFileSync(tokenFile, 'utf8')).refresh_token).toBe(api.refreshToken);
    // A token file whose access token is about to expire is refreshed before the first call.
    writeFileSync(
      tokenFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(tokenFile, 'utf8')),
        expires_at: new Date(Date.now() + 10_000).toISOString(),
      }),
    );
    const before = api.requests.length;
    expect(
      (await runStreamer(driftStreamer, options(config, { selectedStreams: ['users'] }))).error,
    ).toBeUndefined();
    expect(api.requests[before]).toBe('POST /oauth2/token');
  });

  it('a used refresh token, a missing token store and a revoked token end the run with what to do', async () => {
    const used = tokenFileWith({ refresh_token: 'refresh-long-gone' });
    const config = { client_id: api.clientId, client_secret: api.clientSecret };
    const refused = await runStreamer(driftStreamer, options({ ...config, token_file: used }));
    expect(refused.error).toBeInstanceOf(StreamerFatalError);
    expect(refused.error?.message).toMatch(
      /token refresh at .*\/oauth2\/token failed with HTTP 400 \(invalid_grant: refresh token is invalid or was used\)/,
    );
    const nowhere = await runStreamer(driftStreamer, options({ ...config, refresh_token: 'refresh-0' }));
    expect(nowhere.error?.message).toMatch(
      /Drift rotates refresh tokens, so the new one must be kept: set token_file/,
    );
    const revoked = await runStreamer(driftStreamer, options({ access_token: 'revoked-token' }));
    expect(revoked.error?.message).toMatch(/Drift answered 401/);
    expect(revoked.error?.message).not.toMatch(/revoked-token/);
  });

  it('429 waits for Retry-After when given, else backs off from five seconds', async () => {
    api.faults.push({ status: 429, retryAfter: '3' }, { status: 429 });
    const run = await runStreamer(
      driftStreamer,
      options({ access_token: api.issueAccessToken(0) }, { selectedStreams: ['users'] }),
    );
    expect(run.error).toBeUndefined();
    expect(waits[0]).toBeGreaterThanOrEqual(3_000);
    expect(waits[0]).toBeLessThan(4_000);
    expect(waits[1]).toBeGreaterThanOrEqual(5_000);
  });

  it('a run stopped at any STATE resumes without gaps', async () => {
    for (const stop of [1, 2])
      await checkResumeWithoutGaps(
        driftStreamer,
        options(
          { access_token: api.issueAccessToken(0) },
          { selectedStreams: ['conversations', 'accounts', 'users'] },
        ),
        stop,
        (record) => String(record.id ?? record.accountId),
      );
  });
});

describe('trib auth drift', () => {
  async function freePort(): Promise<number> {
    const { createServer } = await import('node:net');
    return new Promise((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        server.close(() => resolve(port));
      });
    });
  }

  async function startAuth(folder: string) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        tribBin,
        'auth',
        'drift',
        '--client-id',
        api.clientId,
        '--redirect-uri',
        `http://127.0.0.1:${port}/callback`,
        '--token-file',
        'drift-tokens.json',
        '--authorize-url',
        `${api.baseUrl}/authorize`,
        '--token-url',
        `${api.baseUrl}/oauth2/token`,
      ],
      { cwd: folder, env: { ...process.env, DRIFT_CLIENT_SECRET: api.clientSecret } },
    );
    const finished = collect(child);
    let printed = '';
    child.stdout?.on('data', (piece: Buffer) => {
      printed += piece.toString();
    });
    for (let waited = 0; !/Waiting for Drift/.test(printed) && waited < 20_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const url = /(http:\/\/\S+\/authorize\S+)/.exec(printed)?.[1];
    if (url === undefined) throw new Error(`no authorize URL printed: ${printed}`);
    return { url, finished, port };
  }

  it('prints the authorize URL, receives the redirect on loopback, exchanges the code and writes the token file the streamer then uses', async () => {
    const folder = temporaryFolder();
    const { url, finished } = await startAuth(folder);
    expect(new URL(url).searchParams.get('client_id')).toBe(api.clientId);
    const browser = await fetch(url); // the fake approves at once and redirects to the loopback callback
    expect(await browser.text()).toMatch(/Authorized\. You can close this window/);
    const result = await finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/The tokens are in drift-tokens\.json/);
    expect(result.stdout).not.toContain(api.clientSecret);
    const tokenFile = join(folder, 'drift-tokens.json');
    expect(JSON.parse(readFileSync(tokenFile, 'utf8')).refresh_token).toBe(api.refreshToken);
    expect(statSync(tokenFile).mode & 0o077).toBe(0);
    const run = await runStreamer(
      driftStreamer,
      options(
        { client_id: api.clientId, client_secret: api.clientSecret, token_file: tokenFile },
        { selectedStreams: ['users'] },
      ),
    );
    expect(run.error).toBeUndefined();
    expect(ids(run, 'users')).toHaveLength(2);
  });

  it('refuses a redirect that carries another state, and writes nothing', async () => {
    const folder = temporaryFolder();
    const { finished, port } = await startAuth(folder);
    const forged = await fetch(`http://127.0.0.1:${port}/callback?code=stolen&state=not-ours`);
    expect(forged.status).toBe(400);
    const result = await finished;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the redirect carried another state than the one sent/);
    expect(() => statSync(join(folder, 'drift-tokens.json'))).toThrow();
  });
});
