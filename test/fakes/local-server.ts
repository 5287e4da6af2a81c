import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP server on a random loopback port, for the fake APIs. A handler that throws or rejects
 * answers 500 with the error, so a fake's own bug shows in the test instead of hanging it.
 */
export async function startLocalServer(
  handle: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>,
): Promise<{ readonly url: string; stop(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    Promise.resolve()
      .then(() => handle(request, response))
      .catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500);
        response.end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
