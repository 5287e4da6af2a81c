/** `trib run` on a pipeline with both connectors against their fakes, into DuckDB and PostgreSQL. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbDestination } from '../../lib/destinations/duckdb/duckdb-destination.ts';
import { PostgresDestination } from '../../lib/destinations/postgres/postgres-destination.ts';
import { GithubApi } from '../fakes/github-api.ts';
import { PagerdutyApi } from '../fakes/pagerduty-api.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell } from '../helpers/cli.ts';
import { isolatedPostgres } from '../helpers/postgres.ts';

const github = new GithubApi();
const pagerduty = new PagerdutyApi();
const postgres = isolatedPostgres('connectors');
beforeAll(async () => {
  await github.start();
  await pagerduty.start();
});
afterAll(async () => {
  await github.stop();
  await pagerduty.stop();
  await postgres.dropSchemas();
});

const pipeline = (destination: string) => `
destination: ${destination}
taps:
  github-acme:
    streamer: github
    schedule: rate(1 hour)
    config:
      access_token: "\${env:GITHUB_TOKEN}"
      repositories: [acme/api, acme/empty]
      start_date: "2024-01-01T00:00:00Z"
      base_url: ${github.baseUrl}
  pagerduty:
    streamer: pagerduty
    schedule: rate(15 minutes)
    config:
      api_token: "\${env:PAGERDUTY_TOKEN}"
      start_date: "2024-12-01T00:00:00Z"
      base_url: ${pagerduty.baseUrl}
`;
const env = () => ({ GITHUB_TOKEN: github.token, PAGERDUTY_TOKEN: pagerduty.token, PG_TARGET: postgres.url });

describe('trib run with the GitHub and PagerDuty taps', () => {
  it('a stream the token cannot see fails alone: the others load and commit, the report says which, the next run retries it (#13.1)', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipeline('{ type: duckdb, path: warehouse.duckdb }'));
    github.refused.set('comments', 404);
    const first = await shell('"$TRIB" run pipeline.yaml --tap github-acme', folder, env());
    github.refused.clear();
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/tap github-acme {2}\[FAILED\]/);
    expect(first.stdout).toMatch(/commits +\d+ +\d+ +0 +0 +ok/);
    expect(first.stdout).toMatch(/issue_comments failed: .*HTTP 404: Not Found/);
    expect(first.stdout).toMatch(
      /error: stream issue_comments failed\. What the other streams read is loaded and their bookmarks committed; the next run retries it from its own bookmark\./,
    );
    expect(first.stdout).toMatch(/bookmarks:\n +repositories +last full pass complete/);
    const lookAt = /Look at it: (npx trib query .*)/.exec(first.stdout)?.[1];
    expect(lookAt).toBeDefined();
    expect((await shell(lookAt?.replace('npx trib', '"$TRIB"') ?? '', folder, env())).code).toBe(0);
    const warehouse = await DuckDbDestination.open(join(folder, 'warehouse.duckdb'));
    const count = async (table: string) =>
      Number((await warehouse.query(`SELECT count(*) AS n FROM github_acme.${table}`))[0]?.n);
    const commits = await count('commits');
    expect(commits).toBe(github.repositories.get('acme/api')?.commits.length);
    expect(await count('issues')).toBe(github.repositories.get('acme/api')?.issues.length);
    await warehouse.close();
    const status = await shell('"$TRIB" status pipeline.yaml', folder, env());
    expect(status.stdout).toMatch(
      /last run: +failed at .*, \d+ records, 1 chunk\n {2}error: +stream issue_comments failed/,
    );
    const second = await shell('"$TRIB" run pipeline.yaml --tap github-acme', folder, env());
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/issue_comments +4 +4 +0 +0 +ok/);
    expect(second.stdout).toMatch(/commits +0 +0 +0 +0 +ok/);
  });

  it('trib tap writes every message it produced before a stream failed, then exits non-zero (#13.2)', async () => {
    const folder = temporaryFolder();
    writeFileSync(
      join(folder, 'config.json'),
      JSON.stringify({
        access_token: github.token,
        repositories: ['acme/api'],
        start_date: '2024-01-01T00:00:00Z',
        base_url: github.baseUrl,
      }),
    );
    github.refused.set('comments', 404);
    const tapped = await shell('"$TRIB" tap github --config config.json', folder, env());
    github.refused.clear();
    expect(tapped.code).toBe(1);
    const messages = tapped.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stream?: string; value?: unknown });
    expect(messages.filter((m) => m.type === 'RECORD' && m.stream === 'commits')).toHaveLength(
      github.repositories.get('acme/api')?.commits.length ?? -1,
    );
    expect(messages.at(-1)?.type).toBe('STATE');
    expect(tapped.stderr).toMatch(/issue_comments/);
  });

  it('loads both into DuckDB, then a second run loads only changes', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipeline('{ type: duckdb, path: warehouse.duckdb }'));
    const first = await shell('"$TRIB" run pipeline.yaml', folder, env());
    expect(first.stderr).not.toContain(github.token);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/tap github-acme {2}\[ok\]/);
    expect(first.stdout).toMatch(/tap pagerduty {2}\[ok\]/);
    expect(first.stdout).toMatch(/requests/);
    github.addCommit('acme/api');
    const second = await shell('"$TRIB" run pipeline.yaml', folder, env());
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/commits +1 +1 +0 +0/);
    const warehouse = await DuckDbDestination.open(join(folder, 'warehouse.duckdb'));
    try {
      const [commits] = await warehouse.query(
        'SELECT count(*)::INT AS n, count(DISTINCT sha)::INT AS d FROM github_acme.commits',
      );
      expect(commits).toEqual({ n: 8, d: 8 });
      const [incidents] = await warehouse.query('SELECT count(*)::INT AS n FROM pagerduty.incidents');
      expect(incidents?.n).toBe(pagerduty.incidents.length);
      const [prs] = await warehouse.query(
        'SELECT count(*)::INT AS n FROM github_acme.issues WHERE is_pull_request',
      );
      expect(prs?.n).toBe(2);
    } finally {
      await warehouse.close();
    }
  });

  it('loads both into PostgreSQL', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'pipeline.yaml'), pipeline('{ type: postgres, url: "${env:PG_TARGET}" }'));
    const run = await shell('"$TRIB" run pipeline.yaml', folder, env());
    expect(run.code).toBe(0);
    const warehouse = await PostgresDestination.open(postgres.url);
    try {
      const [commits] = await warehouse.query(
        `SELECT count(*)::int AS n FROM "${warehouse.schemaOf('github-acme')}".commits`,
      );
      expect(commits?.n).toBe(github.repositories.get('acme/api')?.commits.length);
      const [services] = await warehouse.query(
        `SELECT count(*)::int AS n FROM "${warehouse.schemaOf('pagerduty')}".services`,
      );
      expect(services?.n).toBe(2);
    } finally {
      await warehouse.close();
    }
  });
});
