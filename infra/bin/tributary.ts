/**
 * The CDK app (`npx cdk deploy`) arrives with the infrastructure issue; until then this stub says so
 * instead of synthesising an empty stack.
 */
process.stderr.write(
  'The Tributary CDK app is not built yet: the stack that turns pipeline.yaml into buckets, queue, table, functions and schedules comes with the infrastructure issue. Use `npx trib run pipeline.yaml` locally meanwhile.\n',
);
process.exitCode = 1;
