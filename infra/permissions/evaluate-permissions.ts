/**
 * Evaluates AWS calls against the synthesized roles with a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate), and measures least privilege: every (statement, action) a role is
 * granted must allow at least one call, or it is reported unused.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AwsCall } from './expected-calls.ts';
import type { PolicyDocument, PolicyStatement, ResolvedTemplate } from './resolved-template.ts';

export interface CallVerdict {
  readonly call: AwsCall;
  readonly allowed: boolean;
  /** The simulator's own word when it could not evaluate (a malformed policy or request). */
  readonly error?: string;
}

export interface UnusedGrant {
  readonly roleId: string;
  readonly policy: string;
  readonly sid: string;
  readonly action: string;
}

export interface PermissionReport {
  /** Calls that must be allowed but are denied. */
  readonly denied: CallVerdict[];
  /** Calls that must be refused but are allowed. */
  readonly leaked: CallVerdict[];
  readonly unused: UnusedGrant[];
  readonly evaluated: number;
}

export async function evaluateCall(
  template: ResolvedTemplate,
  call: AwsCall,
  policies: readonly { name: string; document: PolicyDocument }[] = template.policiesOfRole(call.roleId),
): Promise<CallVerdict> {
  const { accountId } = template.account;
  const resourcePolicy = template.resourcePolicyFor(call.resource);
  const result = await runSimulation(
    {
      identityPolicies: policies.map((policy) => ({ name: policy.name, policy: policy.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
      request: {
        action: call.action,
        principal: `arn:${template.account.partition}:iam::${accountId}:role/${call.roleId}`,
        resource: { resource: call.resource, accountId },
        // The SDK always uses TLS; the stack's bucket and queue policies deny anything else.
        contextVariables: { 'aws:SecureTransport': 'true', ...call.context },
      },
    },
    {},
  );
  if (result.resultType === 'error') return { call, allowed: false, error: result.errors.message };
  return { call, allowed: result.overallResult === 'Allowed' };
}

export async function evaluatePermissions(
  template: ResolvedTemplate,
  calls: { readonly allowed: readonly AwsCall[]; readonly refused: readonly AwsCall[] },
): Promise<PermissionReport> {
  const verdicts = await Promise.all(calls.allowed.map((call) => evaluateCall(template, call)));
  const refusals = await Promise.all(calls.refused.map((call) => evaluateCall(template, call)));
  const unused: UnusedGrant[] = [];
  const roles = new Set(calls.allowed.map((call) => call.roleId));
  for (const roleId of roles) {
    const mine = verdicts.filter((verdict) => verdict.allowed && verdict.call.roleId === roleId);
    for (const policy of template.policiesOfRole(roleId)) {
      for (const [index, statement] of policy.document.Statement.entries()) {
        if (statement.Effect !== 'Allow') continue;
        for (const action of [statement.Action ?? []].flat()) {
          const alone: PolicyStatement = { ...statement, Action: action };
          const single = [{ name: policy.name, document: { Version: '2012-10-17', Statement: [alone] } }];
          let used = false;
          for (const verdict of mine) {
            if (!actionMatches(action, verdict.call.action)) continue;
            if ((await evaluateCall(template, verdict.call, single)).allowed) {
              used = true;
              break;
            }
          }
          if (!used) unused.push({ roleId, policy: policy.name, sid: statement.Sid ?? `#${index}`, action });
        }
      }
    }
  }
  return {
    denied: verdicts.filter((verdict) => !verdict.allowed),
    leaked: refusals.filter((verdict) => verdict.allowed),
    unused,
    evaluated: verdicts.length + refusals.length,
  };
}

/** `s3:Get*` matches `s3:GetObject`; case-insensitive, as IAM compares actions. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replaceAll(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
    'i',
  );
  return regex.test(action);
}

/** A report as lines a person can act on; empty when everything holds. */
export function describeProblems(report: PermissionReport): string[] {
  const describe = (verdict: CallVerdict) =>
    `${verdict.call.caller} (${verdict.call.roleId}): ${verdict.call.action} on ${verdict.call.resource}${verdict.call.context === undefined ? '' : ` ${JSON.stringify(verdict.call.context)}`} — ${verdict.call.why}${verdict.error === undefined ? '' : ` [${verdict.error}]`}`;
  return [
    ...report.denied.map((verdict) => `DENIED  ${describe(verdict)}`),
    ...report.leaked.map((verdict) => `ALLOWED but must be refused: ${describe(verdict)}`),
    ...report.unused.map(
      (grant) =>
        `UNUSED  ${grant.roleId} ${grant.policy} ${grant.sid}: ${grant.action} is granted but no call uses it`,
    ),
  ];
}

/** Whether a service, acting for `sourceAccount`, may assume a role of the stack (its trust policy). */
export async function mayAssume(
  template: ResolvedTemplate,
  roleId: string,
  service: string,
  sourceAccount: string,
): Promise<boolean> {
  const { partition, accountId } = template.account;
  const result = await runSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: template.trustPolicyOf(roleId),
      request: {
        action: 'sts:AssumeRole',
        principal: service,
        resource: { resource: `arn:${partition}:iam::${accountId}:role/${roleId}`, accountId },
        contextVariables: { 'aws:SourceAccount': sourceAccount },
      },
    },
    {},
  );
  return result.resultType !== 'error' && result.overallResult === 'Allowed';
}
