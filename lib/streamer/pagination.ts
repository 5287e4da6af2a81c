/**
 * How an API pages. A paginator turns a response into the next request (or undefined at the end).
 * Every style stops on an empty page and refuses to request the same page twice, so a buggy API
 * cannot loop a sync forever. The page state is JSON, so a run can stop mid-stream and resume there.
 */
import type { HttpRequest, HttpResponse } from './http-client.ts';

export type PageState = { readonly [key: string]: string | number };

export interface Paginator {
  /** Query parameters (or a full `next` URL) for the page after `response`, or undefined when done. */
  next(
    response: HttpResponse,
    records: readonly unknown[],
    current: PageState | undefined,
  ): PageState | undefined;
  /** Applies a page state to the stream's first request. */
  apply(request: HttpRequest, state: PageState | undefined): HttpRequest;
}

export class RepeatedPageError extends Error {
  override readonly name = 'RepeatedPageError';
}

/**
 * The page after `response`, or undefined at the end; refuses a next page equal to the current one,
 * so an API that hands out the same cursor again cannot loop a sync forever.
 */
export function nextPage(
  paginator: Paginator | undefined,
  response: HttpResponse,
  records: readonly unknown[],
  current: PageState | undefined,
  stream: string,
): PageState | undefined {
  const next = paginator?.next(response, records, current);
  if (next !== undefined && current !== undefined && JSON.stringify(next) === JSON.stringify(current)) {
    throw new RepeatedPageError(
      `stream ${stream}: the API returned the same page again (${JSON.stringify(next)}); stopping instead of looping`,
    );
  }
  return next;
}

/** `Link: <…>; rel="next"` (GitHub). The state is the next URL itself. */
export function linkHeader(): Paginator {
  return {
    next(response, records) {
      if (records.length === 0) return undefined;
      const next = parseLinks(response.headers.get('link')).next;
      return next === undefined ? undefined : { url: next };
    },
    apply(request, state) {
      return state === undefined ? request : { ...request, path: String(state.url), query: {} };
    },
  };
}

export function parseLinks(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) links[match[2]] = match[1];
  }
  return links;
}

/** A cursor in the body (`next_offset`, `next`, `pagination.next_cursor`) sent back as a parameter. */
export function bodyCursor(options: { readonly path: readonly string[]; readonly param: string }): Paginator {
  return {
    next(response, records) {
      if (records.length === 0) return undefined;
      const cursor = valueAt(response.body, options.path);
      if (cursor === undefined || cursor === null || cursor === '') return undefined;
      return { [options.param]: typeof cursor === 'number' ? cursor : String(cursor) };
    },
    apply: applyQuery,
  };
}

/** `offset` and `limit` parameters; stops at `more: false` when the API says so, or a short page. */
export function offsetLimit(options: {
  readonly limit: number;
  readonly moreField?: string;
  readonly offsetParam?: string;
  readonly limitParam?: string;
}): Paginator {
  const offsetParam = options.offsetParam ?? 'offset';
  const limitParam = options.limitParam ?? 'limit';
  return {
    next(response, records, current) {
      if (records.length === 0) return undefined;
      if (options.moreField !== undefined) {
        if (valueAt(response.body, [options.moreField]) !== true) return undefined;
      } else if (records.length < options.limit) {
        return undefined;
      }
      return {
        [offsetParam]: Number(current?.[offsetParam] ?? 0) + records.length,
        [limitParam]: options.limit,
      };
    },
    apply(request, state) {
      return applyQuery(request, state ?? { [offsetParam]: 0, [limitParam]: options.limit });
    },
  };
}

/** `page=1, 2, …` until an empty or short page. */
export function pageNumber(
  options: { readonly param?: string; readonly start?: number; readonly pageSize?: number } = {},
): Paginator {
  const param = options.param ?? 'page';
  return {
    next(_response, records, current) {
      if (records.length === 0) return undefined;
      if (options.pageSize !== undefined && records.length < options.pageSize) return undefined;
      return { [param]: Number(current?.[param] ?? options.start ?? 1) + 1 };
    },
    apply(request, state) {
      return applyQuery(request, state ?? { [param]: options.start ?? 1 });
    },
  };
}

/** A single request, no paging. */
export function singlePage(): Paginator {
  return { next: () => undefined, apply: applyQuery };
}

function applyQuery(request: HttpRequest, state: PageState | undefined): HttpRequest {
  return state === undefined ? request : { ...request, query: { ...request.query, ...state } };
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path)
    current =
      typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}
