/** The GitHub connector against the fake GitHub API, with the SDK's connector test kit. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamerFatalError, StreamsFailedError } from '../../lib/streamer/define-streamer.ts';
import type { StreamerRunOptions } from '../../lib/streamer/streamer.ts';
import { githubStreamer, repositoriesOf } from '../../lib/streamers/github/github-streamer.ts';
import {
  checkResumeWithoutGaps,
  checkSchemaConformance,
  checkSecondRunReadsOnlyChanges,
  runStreamer,
} from '../../lib/testing/connector-test-kit.ts';
import { GithubApi } from '../fakes/github-api.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { shell } from '../helpers/cli.ts';
import { queryWarehouse } from '../helpers/warehouse.ts';

let api: GithubApi;
let waits: number[];
let logs: string[];
beforeEach(async () => {
  api = new GithubApi();
  api.addRepository('acme/big', {
    commits: 230,
    issues: 150,
    pulls: 120,
    comments: 30,
    releases: 3,
    stargazers: 140,
  });
  await api.start();
  waits = [];
  logs = [];
});
afterEach(() => api.stop());

const repos = ['acme/api', 'acme/big', 'acme/empty'];
const options = (
  extra: Partial<StreamerRunOptions> & { repositories?: string[] } = {},
): StreamerRunOptions => ({
  config: {
    access_token: api.token,
    repositories: extra.repositories ?? repos,
    start_date: '2024-01-01T00:00:00Z',
    base_url: api.baseUrl,
  },
  log: (line) => logs.push(line),
  http: {
    sleep: async (ms) => {
      waits.push(ms);
    },
  },
  ...extra,
});
const count = (stream: 'commits' | 'issues' | 'pulls' | 'comments' | 'releases' | 'stargazers') =>
  repos.reduce((sum, name) => sum + (api.repositories.get(name)?.[stream].length ?? 0), 0);

describe('github connector', () => {
  it('a full sync equals the fake dataset, every record valid and carrying its repository', async () => {
    const run = await runStreamer(githubStreamer, options());
    expect(run.error).toBeUndefined();
    checkSchemaConformance(run);
    const sizes = Object.fromEntries([...run.records].map(([stream, records]) => [stream, records.length]));
    expect(sizes).toEqual({
      repositories: 3,
      commits: count('commits'),
      issues: count('issues'),
      pull_requests: count('pulls'),
      issue_comments: count('comments'),
      releases: count('releases'),
      stargazers: count('stargazers'),
    });
    const issues = run.records.get('issues') ?? [];
    expect(issues.filter((issue) => issue.is_pull_request).length).toBe(2 + 75); // odd-numbered issues are PRs
    expect(issues.find((issue) => issue.is_pull_request)?.pull_request).toMatchObject({ merged_at: null });
    const commit = run.records.get('commits')?.find((c) => c.author === null);
    expect(commit).toMatchObject({
      repository: expect.stringMatching(/^acme\//),
      committed_at: expect.any(String),
      commit: { author: { name: 'Priya' } },
    });
    expect(run.records.get('stargazers')?.[0]).toMatchObject({
      user_id: expect.any(Number),
      starred_at: expect.any(String),
      user: { login: expect.any(String) },
    });
    // paging: 230 commits in pages of 100
    expect(api.requests.filter((path) => path.startsWith('/repos/acme/big/commits')).length).toBe(3);
  });

  it('an empty repository (409) has no commits and is not a failure', async () => {
    const run = await runStreamer(githubStreamer, options({ repositories: ['acme/empty'] }));
    expect(run.error).toBeUndefined();
    expect(run.records.get('commits')).toBeUndefined();
  });

  it('the next run reads only what changed (full-table streams excepted), then exactly the changes', async () => {
    const first = await runStreamer(githubStreamer, options());
    await checkSecondRunReadsOnlyChanges(githubStreamer, options(), first, {
      repositories: 3,
      releases: count('releases'),
    });
    const big = 'acme/big';
    const repository = api.repositories.get(big);
    const newCommit = api.addCommit(big);
    const issue = repository?.issues[3];
    if (issue !== undefined) api.touch(issue);
    const pull = repository?.pulls[5];
    if (pull !== undefined) api.touch(pull);
    const newComment = api.addComment(big);
    const star = api.addStar(big);
    const third = await runStreamer(githubStreamer, options({ state: first.state }));
    expect(third.error).toBeUndefined();
    expect(third.records.get('commits')?.map((c) => c.sha)).toEqual([newCommit.sha]);
    expect(third.records.get('issues')?.map((i) => i.id)).toEqual([issue?.id]);
    expect(third.records.get('pull_requests')?.map((p) => p.id)).toEqual([pull?.id]);
    expect(third.records.get('issue_comments')?.map((c) => c.id)).toEqual([newComment.id]);
    expect(third.records.get('stargazers')?.map((s) => s.user_id)).toEqual([
      (star.user as { id: number }).id,
    ]);
  });

  it('a run interrupted at any STATE resumes without gaps or repeats', async () => {
    for (const stop of [2, 5]) {
      await checkResumeWithoutGaps(
        githubStreamer,
        options({ repositories: ['acme/big'], selectedStreams: ['issues', 'commits', 'issue_comments'] }),
        stop,
        (record) => JSON.stringify([record.id ?? record.sha, record.updated_at ?? record.committed_at]),
      );
    }
  });

  it('issues resume by value, not page: an issue updated between invocations shifts the pages and none is missed (#12.3)', async () => {
    const big = api.repositories.get('acme/big');
    if (big === undefined) throw new Error('no acme/big');
    const only = { repositories: ['acme/big'], selectedStreams: ['issues'] };
    // The first invocation stops at its deadline after page 1 (100 of 150 issues, oldest first).
    const first = await runStreamer(githubStreamer, options({ ...only, deadline: Date.now() - 1 }));
    expect(first.records.get('issues')).toHaveLength(100);
    // Meanwhile the oldest issue is updated: it moves to the end, and every later issue moves up a place.
    const touched = big.issues[0] as Record<string, unknown>;
    api.touch(touched);
    const second = await runStreamer(githubStreamer, options({ ...only, state: first.state }));
    expect(second.error).toBeUndefined();
    const third = await runStreamer(githubStreamer, options({ ...only, state: second.state }));
    const read = [first, second, third].flatMap((run) => run.records.get('issues') ?? []);
    const latest = new Map(read.map((issue) => [issue.id, issue.updated_at]));
    expect(latest).toEqual(new Map(big.issues.map((issue) => [issue.id, issue.updated_at])));
    // Each issue read once, except the touched one, read again at its new version.
    expect(read).toHaveLength(big.issues.length + 1);
    expect(third.records.get('issues') ?? []).toHaveLength(0);
  });

  it('an issue edited again in the same second as the bookmark is read again, not skipped as seen (#12.4)', async () => {
    const only = { repositories: ['acme/api'], selectedStreams: ['issues'] };
    const first = await runStreamer(githubStreamer, options(only));
    const issues = api.repositories.get('acme/api')?.issues ?? [];
    const newest = issues.at(-1) as Record<string, unknown>;
    api.editInSameSecond(newest, { title: 'Edited in the same second', state: 'closed' });
    const second = await runStreamer(githubStreamer, options({ ...only, state: first.state }));
    expect(second.records.get('issues')?.map((issue) => [issue.id, issue.title])).toEqual([
      [newest.id, 'Edited in the same second'],
    ]);
    // Unchanged, it is not read a third time.
    const third = await runStreamer(githubStreamer, options({ ...only, state: second.state }));
    expect(third.records.get('issues') ?? []).toHaveLength(0);
  });

  it("a catalog's replication-method FULL_TABLE reads an incremental stream whole, as one version (#14.10)", async () => {
    const only = { repositories: ['acme/api'], selectedStreams: ['issues'] };
    const first = await runStreamer(githubStreamer, options(only));
    const again = await runStreamer(githubStreamer, options({ ...only, state: first.state }));
    expect(again.records.get('issues') ?? []).toHaveLength(0); // incremental: nothing new
    const whole = await runStreamer(
      githubStreamer,
      options({ ...only, state: first.state, replicationMethods: { issues: 'FULL_TABLE' } }),
    );
    expect(whole.records.get('issues')).toHaveLength(api.repositories.get('acme/api')?.issues.length ?? -1);
    expect(whole.messages.filter((message) => message.type === 'ACTIVATE_VERSION')).not.toHaveLength(0);
  });

  it('an unknown repository fails its own streams with a clear message; the others finish', async () => {
    const run = await runStreamer(githubStreamer, options({ repositories: ['acme/api', 'acme/gone'] }));
    expect(run.error).toBeInstanceOf(StreamsFailedError);
    const failures = (run.error as StreamsFailedError).failures;
    expect(failures.get('commits')).toMatch(/"repository":"acme\/gone".*HTTP 404: Not Found/);
    expect(run.records.get('commits')?.length).toBe(api.repositories.get('acme/api')?.commits.length);
    expect(run.records.get('issues')?.length).toBe(api.repositories.get('acme/api')?.issues.length);
  });

  it('a repository that is not owner/name is refused before any request, so the token never reaches another path', async () => {
    for (const bad of [
      '../orgs',
      'acme/..',
      'acme/api/../../orgs',
      'acme/a b',
      'acme/api?x=1',
      'acme/%2e%2e',
    ]) {
      const run = await runStreamer(githubStreamer, options({ repositories: [bad] }));
      expect(run.error?.message, bad).toMatch(/repositories|must match pattern/);
      expect(() =>
        repositoriesOf({ access_token: 't', start_date: '', base_url: '', repository: bad }),
      ).toThrow(/Allowed: owner\/name/);
    }
    expect(api.requests).toHaveLength(0);
    expect(
      repositoriesOf({
        access_token: 't',
        start_date: '',
        base_url: '',
        repository: 'acme/my.repo_1 acme-co/x',
      }),
    ).toEqual(['acme/my.repo_1', 'acme-co/x']);
  });

  it('a bad token fails the whole run at once, saying to check access_token', async () => {
    const run = await runStreamer(githubStreamer, {
      ...options(),
      config: { ...options().config, access_token: 'ghp_revoked' },
    });
    expect(run.error).toBeInstanceOf(StreamerFatalError);
    expect(run.error?.message).toMatch(/GitHub answered 401 Bad credentials: check access_token/);
    expect(run.error?.message).not.toContain('ghp_revoked');
    expect(api.requests).toHaveLength(1);
  });

  it('primary rate limit: waits for the reset instead of spending requests on refusals', async () => {
    api.budget = 6;
    api.windowMs = 1_000;
    const run = await runStreamer(githubStreamer, { ...options({ repositories: ['acme/api'] }), http: {} });
    expect(run.error).toBeUndefined();
    expect(run.records.get('commits')?.length).toBe(api.repositories.get('acme/api')?.commits.length);
    expect(logs.some((line) => /rate-limit budget spent; waiting/.test(line))).toBe(true);
  });

  it('a rate limit whose wait would pass the deadline stops at the last STATE; the next run resumes without gaps', async () => {
    api.budget = 4; // then an hour's wait
    const select = { repositories: ['acme/big'], selectedStreams: ['issues', 'commits'] };
    const stopped = await runStreamer(githubStreamer, {
      ...options(select),
      http: {},
      deadline: Date.now() + 30_000,
    });
    expect(stopped.error).toBeUndefined();
    expect(stopped.messages.at(-1)?.type).toBe('STATE');
    expect(logs.some((line) => /would pass the run's deadline/.test(line))).toBe(true);
    api.budget = 5_000;
    const rest = await runStreamer(githubStreamer, options({ ...select, state: stopped.state }));
    expect(rest.error).toBeUndefined();
    const committedIssues = stopped.messages
      .slice(0, stopped.messages.map((m) => m.type).lastIndexOf('STATE') + 1)
      .flatMap((m) => (m.type === 'RECORD' && m.stream === 'issues' ? [m.record.id] : []));
    const all = [...committedIssues, ...(rest.records.get('issues') ?? []).map((issue) => issue.id)];
    expect(all.sort()).toEqual(
      (api.repositories.get('acme/big')?.issues ?? []).map((issue) => issue.id).sort(),
    );
  });

  it('secondary rate limit: honours retry-after, and waits at least a minute without it', async () => {
    api.secondaryLimits.push({ retryAfter: 3 }, {});
    const run = await runStreamer(
      githubStreamer,
      options({ repositories: ['acme/api'], selectedStreams: ['issues'] }),
    );
    expect(run.error).toBeUndefined();
    expect(waits[0]).toBe(3_000);
    expect(waits[1]).toBeGreaterThanOrEqual(60_000);
    expect(run.records.get('issues')?.length).toBe(api.repositories.get('acme/api')?.issues.length);
  });

  it('works against GitHub Enterprise (/api/v3) and reads tap-github\'s `repository: "a/b c/d"`', async () => {
    await api.stop();
    api = new GithubApi();
    api.prefix = '/api/v3';
    await api.start();
    const run = await runStreamer(githubStreamer, {
      ...options(),
      config: {
        access_token: api.token,
        repository: 'acme/api acme/empty',
        start_date: '2024-01-01T00:00:00Z',
        base_url: api.baseUrl,
      },
      selectedStreams: ['commits'],
    });
    expect(run.error).toBeUndefined();
    expect(run.records.get('commits')?.length).toBe(api.repositories.get('acme/api')?.commits.length);
    expect(api.requests.every((path) => path.startsWith('/api/v3/'))).toBe(true);
    expect(repositoriesOf({ repository: ' a/b  c/d ', repositories: ['a/b'] } as never)).toEqual([
      'a/b',
      'c/d',
    ]);
  });
});

describe('the Stitch Streams invocation', () => {
  it('GITHUB_ACCESS_TOKEN=… GITHUB_REPO_PATH=owner/repo trib tap github [BOOKMARK_FILE]: the first run reads all, the next (with the file tail -1 wrote) only changes', async () => {
    const github = await new GithubApi().start();
    try {
      const folder = temporaryFolder();
      const env = {
        GITHUB_ACCESS_TOKEN: github.token,
        GITHUB_REPO_PATH: 'acme/api',
        GITHUB_API_URL: github.baseUrl,
      };
      const pipe = (bookmark: string) =>
        `"$TRIB" tap github ${bookmark} | "$TRIB" persist --to duckdb:w.duckdb --tap gh | tail -1 > bookmark.new && mv bookmark.new bookmark.txt`;
      const first = await shell(pipe(''), folder, env);
      expect(first.code, first.stderr).toBe(0);
      const [issues] = await queryWarehouse(folder, 'SELECT count(*) AS n FROM gh.issues', 'w.duckdb');
      expect(issues?.n).toBe(BigInt(github.repositories.get('acme/api')?.issues.length ?? -1));
      github.addIssue('acme/api');
      const second = await shell(pipe('bookmark.txt'), folder, env);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/trib persist: [1-9]\d* records?/);
      const [after] = await queryWarehouse(
        folder,
        'SELECT count(*) AS n, count(DISTINCT id) AS d FROM gh.issues',
        'w.duckdb',
      );
      const before = issues?.n as bigint;
      expect(after).toEqual({ n: before + 1n, d: before + 1n });
      // The whole persister output works too: its last line is the bookmark.
      const both = await shell('"$TRIB" tap github bookmark.txt --state bookmark.txt', folder, env);
      expect(both.code).toBe(1);
      expect(both.stderr).toMatch(
        /give the bookmark once: as --state bookmark\.txt or as the file bookmark\.txt, not both/,
      );
    } finally {
      await github.stop();
    }
  });
});
