/**
 * A fake GitHub REST API, written from shared/reference/sources/github.md: Bearer/token auth with the
 * `Bad credentials` 401, a required User-Agent, 404 for unknown repositories, 409 for an empty one,
 * per_page/page paging with `link` headers (none on a single page, no `next` on the last), `since`
 * filters, issues that include pull requests, pulls without `since`, star+json stargazers, rate-limit
 * headers with a budget (primary limit: 403 with remaining 0) and a secondary-limit mode, and an
 * optional `/api/v3` prefix as on Enterprise Server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface FakeRepository {
  id: number;
  commits: Json[];
  issues: Json[];
  pulls: Json[];
  comments: Json[];
  releases: Json[];
  stargazers: Json[];
}

const iso = (minutes: number) =>
  new Date(Date.parse('2025-01-01T00:00:00Z') + minutes * 60_000).toISOString().replace('.000Z', 'Z');

export class GithubApi {
  readonly repositories = new Map<string, FakeRepository>();
  readonly requests: string[] = [];
  token = 'ghp_fakeToken123';
  prefix = '';
  /** Counted requests allowed per window; when spent the API answers 403 with remaining 0. */
  budget = 5_000;
  windowMs = 60 * 60_000;
  private used = 0;
  private resetAt = 0; // the first request opens a window
  /** Resources answered with an error for every repository, e.g. comments → 404 (a token that cannot see them). */
  readonly refused = new Map<string, number>();
  /** Next responses answered with a secondary rate limit (403), with retry-after seconds or none. */
  readonly secondaryLimits: Array<{ retryAfter?: number }> = [];
  private server: Server | undefined;
  baseUrl = '';
  private clock = 10_000;

  constructor() {
    this.addRepository('acme/api', {
      commits: 7,
      issues: 5,
      pulls: 3,
      comments: 4,
      releases: 2,
      stargazers: 3,
    });
    this.addRepository('acme/empty', {
      commits: 0,
      issues: 0,
      pulls: 0,
      comments: 0,
      releases: 0,
      stargazers: 0,
    });
  }

  addRepository(
    name: string,
    counts: Record<'commits' | 'issues' | 'pulls' | 'comments' | 'releases' | 'stargazers', number>,
  ): void {
    const id = 771_000 + this.repositories.size;
    const repository: FakeRepository = {
      id,
      commits: [],
      issues: [],
      pulls: [],
      comments: [],
      releases: [],
      stargazers: [],
    };
    this.repositories.set(name, repository);
    for (let i = 0; i < counts.commits; i += 1)
      this.addCommit(name, i % 3 === 0 ? null : { login: 'praman', id: 48213377 });
    for (let i = 0; i < counts.issues; i += 1) this.addIssue(name, i % 2 === 1);
    for (let i = 0; i < counts.pulls; i += 1) this.addPull(name);
    for (let i = 0; i < counts.comments; i += 1) this.addComment(name);
    for (let i = 0; i < counts.releases; i += 1)
      repository.releases.push({
        id: id * 10 + i,
        tag_name: `v1.${i}.0`,
        name: `Release ${i}`,
        draft: false,
        prerelease: false,
        created_at: iso(i),
        published_at: iso(i),
        author: { login: 'praman' },
        assets: [],
      });
    for (let i = 0; i < counts.stargazers; i += 1) this.addStar(name);
  }

  addCommit(name: string, author: Json | null = { login: 'praman', id: 48213377 }): Json {
    const repository = this.must(name);
    const time = iso(this.tick());
    const sha = `${repository.id}${String(repository.commits.length).padStart(4, '0')}`.padEnd(40, 'a');
    const commit = {
      sha,
      node_id: `C_${sha}`,
      commit: {
        author: { name: 'Priya', email: 'p@lumen.dev', date: time },
        committer: { name: 'GitHub', email: 'noreply@github.com', date: time },
        message: 'change',
      },
      author,
      committer: { login: 'web-flow' },
      parents: repository.commits.length % 4 === 3 ? [{ sha: 'p1' }, { sha: 'p2' }] : [{ sha: 'p1' }],
    };
    repository.commits.unshift(commit); // newest first
    return commit;
  }

  addIssue(name: string, isPull = false): Json {
    const repository = this.must(name);
    const number = repository.issues.length + 1;
    const issue: Json = {
      id: repository.id * 100 + number,
      number,
      title: `Issue ${number}`,
      state: 'open',
      user: { login: 'tkoval' },
      labels: [],
      assignees: [],
      milestone: null,
      comments: 0,
      created_at: iso(this.tick()),
      updated_at: iso(this.clock),
      closed_at: null,
      body: 'text',
    };
    if (isPull) Object.assign(issue, { pull_request: { url: 'u', merged_at: null }, draft: false });
    repository.issues.push(issue);
    return issue;
  }

  addPull(name: string): Json {
    const repository = this.must(name);
    const number = 1000 + repository.pulls.length;
    const pull = {
      id: repository.id * 1000 + number,
      number,
      state: 'open',
      title: `PR ${number}`,
      user: { login: 'praman' },
      head: { ref: 'feature' },
      base: { ref: 'main' },
      draft: false,
      created_at: iso(this.tick()),
      updated_at: iso(this.clock),
      merged_at: null,
    };
    repository.pulls.push(pull);
    return pull;
  }

  addComment(name: string): Json {
    const repository = this.must(name);
    const comment = {
      id: repository.id * 10_000 + repository.comments.length,
      body: 'a comment',
      user: { login: 'tkoval' },
      created_at: iso(this.tick()),
      updated_at: iso(this.clock),
    };
    repository.comments.push(comment);
    return comment;
  }

  addStar(name: string): Json {
    const repository = this.must(name);
    const id = 5_000 + repository.stargazers.length;
    const star = { starred_at: iso(this.tick()), user: { login: `fan${id}`, id } };
    repository.stargazers.push(star);
    return star;
  }

  /**
   * Edits a record within the same second as its last update: its content changes, its `updated_at`
   * (whole seconds, as GitHub's) does not.
   */
  editInSameSecond(record: Json, changes: Json): void {
    Object.assign(record, changes);
  }

  /** Touches an existing record so it counts as updated now. */
  touch(record: Json): void {
    record.updated_at = iso(this.tick());
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.prefix}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private tick(): number {
    this.clock += 1;
    return this.clock;
  }

  private must(name: string): FakeRepository {
    const repository = this.repositories.get(name);
    if (repository === undefined) throw new Error(`no fake repository ${name}`);
    return repository;
  }

  private handle(request: IncomingMessage, response: ServerResponse) {
    const origin = `http://${request.headers.host}`;
    const url = new URL(request.url ?? '/', origin);
    this.requests.push(`${url.pathname}${url.search}`);
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      this.send(
        response,
        status,
        { message, documentation_url: 'https://docs.github.com/rest', status: String(status) },
        headers,
      );
    if (!request.headers['user-agent'])
      return error(
        403,
        'Request forbidden by administrative rules. Please make sure your request has a User-Agent header',
      );
    const auth = request.headers.authorization ?? '';
    if (auth !== `Bearer ${this.token}` && auth !== `token ${this.token}`)
      return error(401, 'Bad credentials');
    const secondary = this.secondaryLimits.shift();
    if (secondary !== undefined) {
      return error(
        403,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        {
          ...(secondary.retryAfter === undefined ? {} : { 'retry-after': String(secondary.retryAfter) }),
          ...this.rateHeaders(),
        },
      );
    }
    if (Date.now() >= this.resetAt) {
      this.used = 0;
      this.resetAt = Date.now() + this.windowMs;
    }
    if (this.used >= this.budget)
      return error(403, 'API rate limit exceeded for user ID 48213377.', this.rateHeaders());
    this.used += 1;
    if (!url.pathname.startsWith(`${this.prefix}/repos/`)) return error(404, 'Not Found');
    const [owner, repo, resource, extra] = url.pathname.slice(`${this.prefix}/repos/`.length).split('/');
    const repository = this.repositories.get(`${owner}/${repo}`);
    if (repository === undefined) return error(404, 'Not Found');
    const resourceName = resource === 'issues' && extra === 'comments' ? 'comments' : (resource ?? '');
    const refusal = this.refused.get(resourceName);
    if (refusal !== undefined) return error(refusal, refusal === 404 ? 'Not Found' : 'Forbidden');
    const since = url.searchParams.get('since');
    if (since !== null && Number.isNaN(Date.parse(since))) {
      return this.send(response, 422, {
        message: 'Validation Failed',
        errors: [{ resource: 'Issue', field: 'since', code: 'invalid' }],
      });
    }
    const after = (value: unknown) => since === null || String(value) >= since;
    switch (resource === 'issues' && extra === 'comments' ? 'comments' : (resource ?? '')) {
      case '':
        return this.send(response, 200, {
          id: repository.id,
          name: repo,
          full_name: `${owner}/${repo}`,
          owner: { login: owner },
          private: false,
          default_branch: 'main',
          archived: false,
          created_at: iso(0),
          updated_at: iso(1),
          pushed_at: iso(2),
          stargazers_count: repository.stargazers.length,
        });
      case 'commits':
        if (repository.commits.length === 0) return error(409, 'Git Repository is empty.');
        return this.page(
          response,
          url,
          repository.commits.filter((commit) =>
            after((commit.commit as { committer: { date: string } }).committer.date),
          ),
        );
      case 'issues': {
        const state = url.searchParams.get('state') ?? 'open';
        const direction = url.searchParams.get('direction') ?? 'desc';
        const rows = repository.issues.filter(
          (issue) => (state === 'all' || issue.state === state) && after(issue.updated_at),
        );
        return this.page(response, url, sortBy(rows, 'updated_at', direction));
      }
      case 'pulls': {
        const direction = url.searchParams.get('direction') ?? 'asc';
        return this.page(response, url, sortBy(repository.pulls, 'updated_at', direction)); // no `since` here
      }
      case 'comments':
        return this.page(
          response,
          url,
          sortBy(
            repository.comments.filter((comment) => after(comment.updated_at)),
            'updated_at',
            url.searchParams.get('direction') ?? 'asc',
          ),
        );
      case 'releases':
        return this.page(response, url, [...repository.releases].reverse());
      case 'stargazers': {
        const starJson = (request.headers.accept ?? '').includes('star+json');
        return this.page(
          response,
          url,
          repository.stargazers.map((star) => (starJson ? star : (star.user as Json))),
        );
      }
      default:
        return error(404, 'Not Found');
    }
  }

  private page(response: ServerResponse, url: URL, rows: Json[]) {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Number(url.searchParams.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(rows.length / perPage));
    const link = (n: number, rel: string) => {
      const target = new URL(url);
      target.searchParams.set('page', String(n));
      return `<${target}>; rel="${rel}"`;
    };
    const links = [
      page < last ? link(page + 1, 'next') : '',
      page < last ? link(last, 'last') : '',
      page > 1 ? link(1, 'first') : '',
      page > 1 ? link(page - 1, 'prev') : '',
    ].filter(Boolean);
    return this.send(
      response,
      200,
      rows.slice((page - 1) * perPage, page * perPage),
      links.length > 0 ? { link: links.join(', ') } : {},
    );
  }

  private send(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      ...this.rateHeaders(),
      ...headers,
    });
    response.end(JSON.stringify(body));
  }

  private rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.budget),
      'x-ratelimit-remaining': String(Math.max(0, this.budget - this.used)),
      'x-ratelimit-used': String(this.used),
      'x-ratelimit-reset': String(Math.ceil(this.resetAt / 1000)),
      'x-ratelimit-resource': 'core',
    };
  }
}

function sortBy(rows: Json[], key: string, direction: string): Json[] {
  const sorted = [...rows].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
  return direction === 'desc' ? sorted.reverse() : sorted;
}
