/**
 * `github`: repositories, commits, issues, pull requests, issue comments, releases and stargazers of
 * the configured repositories, from the GitHub REST API (github.com or Enterprise via `base_url`).
 * Records keep the API's own fields and nesting, plus `repository` and a top-level replication key.
 * See README.md in this folder.
 */
import type { JsonObject } from '../../protocol/messages.ts';
import { tokenHeader } from '../../streamer/auth.ts';
import { defineStream } from '../../streamer/define-stream.ts';
import { defineStreamer } from '../../streamer/define-streamer.ts';
import { HttpError } from '../../streamer/http-client.ts';
import { linkHeader, singlePage } from '../../streamer/pagination.ts';
import { StreamerConfigError } from '../../streamer/streamer.ts';
import commitsSchema from './schemas/commits.json' with { type: 'json' };
import issuecommentsSchema from './schemas/issue_comments.json' with { type: 'json' };
import issuesSchema from './schemas/issues.json' with { type: 'json' };
import pullrequestsSchema from './schemas/pull_requests.json' with { type: 'json' };
import releasesSchema from './schemas/releases.json' with { type: 'json' };
import repositoriesSchema from './schemas/repositories.json' with { type: 'json' };
import stargazersSchema from './schemas/stargazers.json' with { type: 'json' };

export interface GithubConfig {
  access_token: string;
  repositories?: string[];
  /** The Singer tap-github form: "owner/a owner/b". */
  repository?: string;
  start_date: string;
  base_url: string;
  lookback?: string;
}

type RepositoryPartition = { repository: string };

const API_VERSION = '2022-11-28';
const PER_PAGE = 100;

/**
 * `owner/name` as GitHub allows them: an owner of letters, digits and hyphens; a name of letters,
 * digits, `.`, `_` and `-` that is not `.` or `..`. Anything else (`../orgs`, `a/b/c`) would send the
 * token to another API path, so it is refused when the config is read.
 */
export const REPOSITORY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9-]*/(?!\\.\\.?$)[A-Za-z0-9._-]+$';
const repositoryPattern = new RegExp(REPOSITORY_PATTERN);

/** The configured repositories, from `repositories` or tap-github's space-separated `repository`. */
export function repositoriesOf(config: GithubConfig): string[] {
  const listed = [...(config.repositories ?? []), ...(config.repository ?? '').split(/\s+/)]
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of listed) {
    if (!repositoryPattern.test(name))
      throw new StreamerConfigError(
        `streamer github: repositories: received ${JSON.stringify(name)}. Allowed: owner/name, e.g. acme/api.`,
      );
  }
  return [...new Set(listed)];
}

/** `/repos/owner/name`, each segment encoded, for a repository that passed REPOSITORY_PATTERN. */
const repoPath = (repository: string): string =>
  `/repos/${repository.split('/').map(encodeURIComponent).join('/')}`;

const partitions = (config: GithubConfig): RepositoryPartition[] =>
  repositoriesOf(config).map((repository) => ({ repository }));
const withRepository = (raw: JsonObject, { partition }: { partition: RepositoryPartition }): JsonObject => ({
  ...raw,
  repository: partition.repository,
});

const repositories = defineStream<GithubConfig, RepositoryPartition>({
  name: 'repositories',
  schema: repositoriesSchema,
  keyProperties: ['id'],
  replication: { method: 'FULL_TABLE' },
  partitions,
  request: ({ partition }) => ({ path: repoPath(partition.repository) }),
  paginate: singlePage(),
  extract: (body) => (body === undefined ? [] : [body]),
  parse: withRepository,
});

const commits = defineStream<GithubConfig, RepositoryPartition>({
  name: 'commits',
  schema: commitsSchema,
  keyProperties: ['repository', 'sha'],
  // `since` is inclusive and commits come newest first: the bookmark moves when a repository is done.
  replication: {
    method: 'INCREMENTAL',
    key: 'committed_at',
    filter: 'gte',
    order: 'none',
    lookback: (config: GithubConfig) => config.lookback,
  },
  partitions,
  request: ({ partition, since }) => ({
    path: `${repoPath(partition.repository)}/commits`,
    query: { since, per_page: PER_PAGE },
  }),
  paginate: linkHeader(),
  // An empty repository answers 409 "Git Repository is empty.": no commits, not a failure.
  treatAsEmpty: (status) => status === 409,
  parse: (commit: JsonObject & { commit?: { committer?: { date?: string } } }, context) => ({
    ...withRepository(commit, context),
    committed_at: commit.commit?.committer?.date ?? null,
  }),
});

/** `since` on updated_at (inclusive), oldest first: the bookmark advances page by page. */
const updatedSinceAscending = {
  method: 'INCREMENTAL',
  key: 'updated_at',
  filter: 'gte',
  order: 'asc',
  lookback: (config: GithubConfig) => config.lookback,
} as const;

const issues = defineStream<GithubConfig, RepositoryPartition>({
  name: 'issues',
  schema: issuesSchema,
  keyProperties: ['id'],
  replication: updatedSinceAscending,
  partitions,
  request: ({ partition, since }) => ({
    path: `${repoPath(partition.repository)}/issues`,
    query: { state: 'all', sort: 'updated', direction: 'asc', since, per_page: PER_PAGE },
  }),
  paginate: linkHeader(),
  // The issues endpoint returns pull requests too; they are kept and marked, as the API means them.
  parse: (issue: JsonObject, context) => ({
    ...withRepository(issue, context),
    is_pull_request: issue.pull_request !== undefined && issue.pull_request !== null,
  }),
});

const pullRequests = defineStream<GithubConfig, RepositoryPartition>({
  name: 'pull_requests',
  schema: pullrequestsSchema,
  keyProperties: ['id'],
  // No `since` on this endpoint: newest updates first, paging stops at the first older than the bookmark.
  replication: {
    method: 'INCREMENTAL',
    key: 'updated_at',
    filter: 'none',
    order: 'desc',
    lookback: (config: GithubConfig) => config.lookback,
  },
  partitions,
  request: ({ partition }) => ({
    path: `${repoPath(partition.repository)}/pulls`,
    query: { state: 'all', sort: 'updated', direction: 'desc', per_page: PER_PAGE },
  }),
  paginate: linkHeader(),
  parse: withRepository,
});

const issueComments = defineStream<GithubConfig, RepositoryPartition>({
  name: 'issue_comments',
  schema: issuecommentsSchema,
  keyProperties: ['id'],
  replication: updatedSinceAscending,
  partitions,
  request: ({ partition, since }) => ({
    path: `${repoPath(partition.repository)}/issues/comments`,
    query: { sort: 'updated', direction: 'asc', since, per_page: PER_PAGE },
  }),
  paginate: linkHeader(),
  parse: withRepository,
});

const releases = defineStream<GithubConfig, RepositoryPartition>({
  name: 'releases',
  schema: releasesSchema,
  keyProperties: ['id'],
  replication: { method: 'FULL_TABLE' },
  partitions,
  request: ({ partition }) => ({
    path: `${repoPath(partition.repository)}/releases`,
    query: { per_page: PER_PAGE },
  }),
  paginate: linkHeader(),
  parse: withRepository,
});

const stargazers = defineStream<GithubConfig, RepositoryPartition>({
  name: 'stargazers',
  schema: stargazersSchema,
  keyProperties: ['repository', 'user_id'],
  // No `since`: stars come oldest first, so the ones at or before the bookmark are skipped here.
  replication: { method: 'INCREMENTAL', key: 'starred_at', filter: 'none', order: 'asc' },
  partitions,
  request: ({ partition }) => ({
    path: `${repoPath(partition.repository)}/stargazers`,
    query: { per_page: PER_PAGE },
    headers: { accept: 'application/vnd.github.star+json' },
  }),
  paginate: linkHeader(),
  parse: (star: { starred_at?: string; user?: { id?: number } }, context) => ({
    ...withRepository(star as JsonObject, context),
    user_id: star.user?.id ?? null,
  }),
});

export const githubStreamer = defineStreamer<GithubConfig>({
  name: 'github',
  description: 'GitHub repositories, commits, issues, pull requests, comments, releases and stargazers',
  configSchema: {
    type: 'object',
    required: ['access_token'],
    anyOf: [{ required: ['repositories'] }, { required: ['repository'] }],
    properties: {
      access_token: {
        type: 'string',
        minLength: 1,
        secret: true,
        env: 'GITHUB_ACCESS_TOKEN',
        description: 'a personal access token or app installation token',
      },
      repositories: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', pattern: REPOSITORY_PATTERN },
        description: 'owner/name of each repository',
      },
      repository: {
        type: 'string',
        pattern: '^\\s*[^/\\s]+/[^/\\s]+(\\s+[^/\\s]+/[^/\\s]+)*\\s*$',
        env: 'GITHUB_REPO_PATH',
        description: 'tap-github form: "owner/a owner/b"',
      },
      start_date: {
        type: 'string',
        format: 'date-time',
        // Before GitHub began: everything, as the Stitch Streams streamer synced when given no date.
        default: '2008-01-01T00:00:00Z',
        env: 'GITHUB_START_DATE',
        description: 'where the first sync of incremental streams starts',
      },
      base_url: {
        type: 'string',
        default: 'https://api.github.com',
        env: 'GITHUB_API_URL',
        description: 'GitHub Enterprise: https://HOST/api/v3',
      },
      lookback: {
        type: 'string',
        pattern: '^\\d+\\s*[smhd]$',
        description: "re-read this far behind the bookmark, e.g. '1h'",
      },
    },
  },
  http: (config) => ({
    baseUrl: config.base_url,
    auth: tokenHeader('authorization', `Bearer ${config.access_token}`),
    headers: {
      accept: 'application/vnd.github+json',
      'x-github-api-version': API_VERSION,
      'user-agent': 'tributary',
    },
    // Primary limit: 403/429 with no budget left. Secondary limit: 403/429 saying so, maybe with retry-after.
    isRateLimited: async (response) =>
      (response.status === 403 || response.status === 429) &&
      (response.headers.get('x-ratelimit-remaining') === '0' ||
        response.headers.has('retry-after') ||
        /rate limit/i.test(await response.text())),
    // Without retry-after or a spent budget, GitHub asks for at least a minute.
    rateLimitMinWaitMs: 60_000,
  }),
  fatal: (error) =>
    error instanceof HttpError && error.status === 401
      ? `GitHub answered 401 Bad credentials: check access_token (is it expired or revoked?). ${error.url}`
      : undefined,
  streams: [repositories, commits, issues, pullRequests, issueComments, releases, stargazers],
});
