/**
 * The ingest endpoint on node:http, for `trib ingest serve` and tests. Reads at most the API's body
 * limit (a larger body is refused with 413 without being buffered), and answers 500 for a store that
 * fails, so the client retries and nothing half-written is confirmed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES } from '../push/event-rules.ts';
import type { IngestEndpoint, IngestRequest } from './ingest-endpoint.ts';

export interface RunningIngestServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startIngestServer(
  endpoint: IngestEndpoint,
  options: { readonly port?: number; readonly host?: string; readonly log?: (line: string) => void } = {},
): Promise<RunningIngestServer> {
  const server: Server = createServer((incoming, outgoing) => {
    void (async () => {
      try {
        const request = await readRequest(incoming);
        const response = await endpoint(request);
        outgoing.writeHead(response.status, response.headers);
        outgoing.end(response.body);
      } catch (error) {
        options.log?.(`ingest: ${incoming.method} ${incoming.url}: ${(error as Error).message}`);
        if (!outgoing.headersSent) outgoing.writeHead(500, { 'content-type': 'application/json' });
        outgoing.end(JSON.stringify({ message: 'the events could not be stored; send them again' }));
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readRequest(incoming: IncomingMessage): Promise<IngestRequest> {
  const url = new URL(incoming.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const declared = Number(headers['content-length'] ?? '0');
  const base = { method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, headers };
  if (declared > MAX_BODY_BYTES) {
    incoming.resume(); // drain without keeping it
    return { ...base, body: Buffer.alloc(0), bodyTooLarge: true };
  }
  // Past the limit the rest is read and thrown away, so the socket stays usable for the 413.
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    incoming.on('data', (part: Buffer) => {
      length += part.length;
      if (length <= MAX_BODY_BYTES) parts.push(part);
    });
    incoming.on('error', reject);
    incoming.on('end', () =>
      resolve(
        length > MAX_BODY_BYTES
          ? { ...base, body: Buffer.alloc(0), bodyTooLarge: true }
          : { ...base, body: Buffer.concat(parts) },
      ),
    );
  });
}
