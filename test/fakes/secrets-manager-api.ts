/**
 * A fake AWS Secrets Manager endpoint for GetSecretValue and PutSecretValue (a rotated OAuth token
 * stored as the secret's new current version), speaking the service's JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`, body `{"SecretId": …}`), so the real SDK
 * client runs unchanged. An unknown secret answers 400 `ResourceNotFoundException`, as AWS does.
 * There is no Secrets Manager emulator among the test servers; this is only the one call we make.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class SecretsManagerApi {
  readonly secrets = new Map<string, string>();
  readonly requests: string[] = [];
  private versions = 1;
  private server: Server | undefined;
  endpoint = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
          SecretId?: string;
          SecretString?: string;
        };
        const reply = (status: number, payload: unknown) => {
          response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(JSON.stringify(payload));
        };
        const id = body.SecretId ?? '';
        if (target === 'secretsmanager.PutSecretValue') {
          this.requests.push(`put ${id}`);
          if (!this.secrets.has(id))
            return reply(400, {
              __type: 'ResourceNotFoundException',
              message: "Secrets Manager can't find the specified secret.",
            });
          this.secrets.set(id, body.SecretString ?? '');
          this.versions += 1;
          return reply(200, {
            ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
            Name: id,
            VersionId: `v${this.versions}`,
            VersionStages: ['AWSCURRENT'],
          });
        }
        if (target !== 'secretsmanager.GetSecretValue')
          return reply(400, { __type: 'InvalidAction', message: `${target} is not served by this fake` });
        this.requests.push(id);
        const value = this.secrets.get(id);
        if (value === undefined)
          return reply(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
        reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
          Name: id,
          SecretString: value,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
