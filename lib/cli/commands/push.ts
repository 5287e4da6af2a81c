/** `trib push resubmit DIR`: send a push client's spooled batches by hand. */
import { Command } from 'commander';
import { PushSender } from '../../push/push-sender.ts';
import { resubmitSpool } from '../../push/resubmit-spool.ts';

export function pushCommand(): Command {
  return new Command('push').description('Tools for the push client (EventStreamer)').addCommand(
    new Command('resubmit')
      .description(
        'Send the batches a client spooled while the endpoint was unreachable; each is deleted once accepted (ids make a repeat harmless)',
      )
      .argument('<dir>', 'the spool folder the client named when it closed')
      .option('--endpoint <url>', 'the endpoint base URL (or TRIB_PUSH_ENDPOINT)')
      .option(
        '--access-key-env <name>',
        'the environment variable holding the access key',
        'TRIB_PUSH_ACCESS_KEY',
      )
      .action(async (dir: string, options: { endpoint?: string; accessKeyEnv: string }) => {
        const endpoint = options.endpoint ?? process.env.TRIB_PUSH_ENDPOINT;
        if (endpoint === undefined || endpoint === '')
          throw new Error('no endpoint: give --endpoint http://host:port or set TRIB_PUSH_ENDPOINT');
        const accessKey = process.env[options.accessKeyEnv];
        if (accessKey === undefined || accessKey === '')
          throw new Error(
            `no access key: set ${options.accessKeyEnv} (it is read from the environment, never from a flag)`,
          );
        const result = await resubmitSpool(dir, new PushSender({ endpoint, accessKey }));
        process.stdout.write(`resubmitted ${result.events} event(s) in ${result.files} batch file(s)\n`);
        if (result.stoppedBy !== undefined) {
          process.stdout.write(`${result.left} batch file(s) left: ${result.stoppedBy.reason}\n`);
          process.exitCode = 1;
        }
      }),
  );
}
