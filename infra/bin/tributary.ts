/**
 * The CDK app: `npx cdk deploy` (or `synth`) turns a pipeline file into a stack. The file is
 * `pipeline.yaml` unless `-c pipeline=FILE` says otherwise; it is checked before anything is built,
 * and a bad one ends synth with its own message, not a stack trace.
 */
import { buildApp } from '../app.ts';

try {
  buildApp();
} catch (error) {
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exit(1);
}
