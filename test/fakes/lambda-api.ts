/**
 * A fake AWS Lambda endpoint for asynchronous Invoke (`POST /2015-03-31/functions/NAME/invocations`
 * with `X-Amz-Invocation-Type: Event` → 202), so the real SDK client runs unchanged. It queues each
 * event for the test to deliver to the handler, as Lambda's async queue would (once, or again, or late).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QueuedInvocation {
  readonly functionName: string;
  readonly payload: unknown;
}

export class LambdaApi {
  readonly invocations: QueuedInvocation[] = [];
  private server: Server | undefined;
  endpoint = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(request.url ?? '');
        if (match?.[1] === undefined || request.headers['x-amz-invocation-type'] !== 'Event') {
          response.writeHead(400, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ Type: 'User', message: 'only asynchronous Invoke is served by this fake' }),
          );
          return;
        }
        this.invocations.push({
          functionName: decodeURIComponent(match[1]),
          payload: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        response.writeHead(202);
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Takes the queued invocations (Lambda delivering its async queue). */
  take(): QueuedInvocation[] {
    return this.invocations.splice(0);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
