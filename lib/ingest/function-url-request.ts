/**
 * A Lambda function URL (or HTTP API, payload 2.0) event as the ingest endpoint's request, and its
 * answer back. Written against the event's shape, not the SDK, so lib/ stays free of AWS imports.
 */
import type { IngestRequest, IngestResponse } from './ingest-endpoint.ts';

export interface HttpEventV2 {
  readonly rawPath?: string;
  readonly rawQueryString?: string;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
}

export interface HttpResultV2 {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function ingestRequestOf(event: HttpEventV2): IngestRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {}))
    if (value !== undefined) headers[name.toLowerCase()] = value;
  const body =
    event.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(event.body, event.isBase64Encoded === true ? 'base64' : 'utf8');
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? '/',
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
  };
}

export function httpResultOf(response: IngestResponse): HttpResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body };
}
