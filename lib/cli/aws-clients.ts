/**
 * The AWS clients the operator commands use with --aws, loaded when a command needs them: the AWS SDK
 * takes about 300 ms to load, which every other `trib` command (and `trib --help`) would pay.
 */
export function loadAwsClients(): Promise<typeof import('../aws/cli-clients.ts')> {
  return import('../aws/cli-clients.ts');
}
