/**
 * A synthesized CloudFormation template with its intrinsics resolved as they would be in one account:
 * `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub` and the pseudo parameters,
 * each resource given the physical name and ARN CloudFormation would give it (or the name an
 * emulator uses, so recorded calls and policies name the same things).
 */

export interface Account {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export const TEST_ACCOUNT: Account = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement[];
}

/** A function of the stack: its name, ARN, role and environment, resolved. */
export interface StackFunction {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly roleId: string;
  readonly environment: Record<string, string>;
  readonly logGroupArn: string | undefined;
}

export class TemplateResolutionError extends Error {
  override readonly name = 'TemplateResolutionError';
}

export class ResolvedTemplate {
  constructor(
    readonly template: Template,
    readonly account: Account = TEST_ACCOUNT,
    /** Physical names by logical id, e.g. the emulator's bucket name for the stage bucket. */
    private readonly names: Readonly<Record<string, string>> = {},
  ) {}

  resourcesOfType(type: string): [string, TemplateResource][] {
    return Object.entries(this.template.Resources).filter(([, resource]) => resource.Type === type);
  }

  /** The one resource of a type whose logical id starts with `prefix`. */
  logicalId(type: string, prefix: string): string {
    const found = this.resourcesOfType(type).filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1 || found[0] === undefined)
      throw new TemplateResolutionError(
        `expected one ${type} whose id starts with ${prefix}, found ${found.length}`,
      );
    return found[0][0];
  }

  functions(): StackFunction[] {
    return this.resourcesOfType('AWS::Lambda::Function').map(([logicalId, resource]) => {
      const properties = resource.Properties ?? {};
      const role = properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const roleId = role?.['Fn::GetAtt']?.[0];
      if (roleId === undefined)
        throw new TemplateResolutionError(`function ${logicalId} has no role of the stack`);
      const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const logging = properties.LoggingConfig as { LogGroup?: unknown } | undefined;
      const logGroupName =
        logging?.LogGroup === undefined ? undefined : String(this.resolve(logging.LogGroup));
      return {
        logicalId,
        name: this.refOf(logicalId),
        arn: this.attributeOf(logicalId, 'Arn'),
        roleId,
        environment: Object.fromEntries(
          Object.entries(variables ?? {}).map(([key, value]) => [key, String(this.resolve(value))]),
        ),
        logGroupArn:
          logGroupName === undefined
            ? undefined
            : `arn:${this.account.partition}:logs:${this.account.region}:${this.account.accountId}:log-group:${logGroupName}`,
      };
    });
  }

  /** Every identity policy attached to a role: its inline policies and the stack's AWS::IAM::Policy resources. */
  policiesOfRole(roleId: string): { name: string; document: PolicyDocument }[] {
    const role = this.template.Resources[roleId];
    if (role === undefined) throw new TemplateResolutionError(`no role ${roleId}`);
    const policies: { name: string; document: PolicyDocument }[] = [];
    for (const [id, resource] of this.resourcesOfType('AWS::IAM::Policy')) {
      const roles = (resource.Properties?.Roles ?? []) as unknown[];
      if (roles.some((ref) => (ref as { Ref?: string }).Ref === roleId))
        policies.push({
          name: id,
          document: this.resolve(resource.Properties?.PolicyDocument) as PolicyDocument,
        });
    }
    for (const managed of (role.Properties?.ManagedPolicyArns ?? []) as unknown[])
      policies.push({
        name: String(this.resolve(managed)),
        document: managedPolicy(String(this.resolve(managed))),
      });
    return policies;
  }

  /**
   * The resource policy that also decides a call on `arn`: a KMS key's key policy (KMS requires it to
   * allow), a bucket policy for the bucket and its objects, a queue policy.
   */
  resourcePolicyFor(arn: string): PolicyDocument | undefined {
    for (const [id, resource] of this.resourcesOfType('AWS::KMS::Key'))
      if (this.attributeOf(id, 'Arn') === arn)
        return this.resolve(resource.Properties?.KeyPolicy) as PolicyDocument;
    for (const [, policy] of this.resourcesOfType('AWS::S3::BucketPolicy')) {
      const bucket = String(this.resolve(policy.Properties?.Bucket));
      const bucketArn = `arn:${this.account.partition}:s3:::${bucket}`;
      if (arn === bucketArn || arn.startsWith(`${bucketArn}/`))
        return this.resolve(policy.Properties?.PolicyDocument) as PolicyDocument;
    }
    for (const [, policy] of this.resourcesOfType('AWS::SQS::QueuePolicy')) {
      const queues = (this.resolve(policy.Properties?.Queues) as string[]).map((url) =>
        url.split('/').at(-1),
      );
      const name = arn.split(':').at(-1);
      if (arn.includes(':sqs:') && queues.includes(name))
        return this.resolve(policy.Properties?.PolicyDocument) as PolicyDocument;
    }
    return undefined;
  }

  trustPolicyOf(roleId: string): PolicyDocument {
    return this.resolve(
      this.template.Resources[roleId]?.Properties?.AssumeRolePolicyDocument,
    ) as PolicyDocument;
  }

  refOf(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new TemplateResolutionError(`Ref to unknown resource ${logicalId}`);
    const name = this.physicalName(logicalId, resource);
    const { partition, region, accountId } = this.account;
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${accountId}:${name}`;
      case 'AWS::KMS::Key':
        return keyIdFor(name);
      default:
        return name;
    }
  }

  attributeOf(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new TemplateResolutionError(`GetAtt of unknown resource ${logicalId}`);
    const name = this.physicalName(logicalId, resource);
    const { partition, region, accountId } = this.account;
    const arn: Record<string, string> = {
      'AWS::S3::Bucket': `arn:${partition}:s3:::${name}`,
      'AWS::SQS::Queue': `arn:${partition}:sqs:${region}:${accountId}:${name}`,
      'AWS::DynamoDB::Table': `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}`,
      'AWS::Lambda::Function': `arn:${partition}:lambda:${region}:${accountId}:function:${name}`,
      'AWS::IAM::Role': `arn:${partition}:iam::${accountId}:role/${name}`,
      'AWS::KMS::Key': `arn:${partition}:kms:${region}:${accountId}:key/${this.refOf(logicalId)}`,
      'AWS::SNS::Topic': this.refOf(logicalId),
      'AWS::Logs::LogGroup': `arn:${partition}:logs:${region}:${accountId}:log-group:${name}:*`,
    };
    if (attribute === 'Arn' || attribute === 'TopicArn') {
      const value = arn[resource.Type];
      if (value !== undefined) return value;
    }
    if (attribute === 'QueueName' || attribute === 'QueueUrl')
      return attribute === 'QueueName' ? name : this.refOf(logicalId);
    throw new TemplateResolutionError(`GetAtt ${logicalId}.${attribute} (${resource.Type}) is not modelled`);
  }

  /** Resolves intrinsics in any template value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [only] = entries;
    if (entries.length === 1 && only !== undefined) {
      const [fn, args] = only;
      switch (fn) {
        case 'Ref':
          return this.pseudo(String(args)) ?? this.refOf(String(args));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(args) ? args : String(args).split('.');
          return this.attributeOf(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = args as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = args as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = args as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = (Array.isArray(args) ? args : [args, {}]) as [
            string,
            Record<string, unknown>,
          ];
          return text.replaceAll(/\$\{([^}]+)\}/g, (_match, name: string) => {
            if (name in variables) return String(this.resolve(variables[name]));
            const [id, attribute] = name.split('.');
            if (attribute !== undefined) return this.attributeOf(String(id), attribute);
            return this.pseudo(name) ?? this.refOf(name);
          });
        }
        default:
          if (fn.startsWith('Fn::')) throw new TemplateResolutionError(`intrinsic ${fn} is not modelled`);
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  private pseudo(name: string): string | undefined {
    const { partition, region, accountId } = this.account;
    const values: Record<string, string> = {
      'AWS::Partition': partition,
      'AWS::Region': region,
      'AWS::AccountId': accountId,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'Tributary',
    };
    return values[name];
  }

  private physicalName(logicalId: string, resource: TemplateResource): string {
    const given = this.names[logicalId];
    if (given !== undefined) return given;
    const properties = resource.Properties ?? {};
    const named =
      properties.FunctionName ?? properties.QueueName ?? properties.TableName ?? properties.BucketName;
    if (named !== undefined) return String(this.resolve(named));
    if (resource.Type === 'AWS::S3::Bucket') return logicalId.toLowerCase();
    if (resource.Type === 'AWS::SQS::Queue' && properties.FifoQueue === true) return `${logicalId}.fifo`;
    return logicalId;
  }
}

/** The AWS-managed policies the stack may attach, as AWS defines them. */
function managedPolicy(arn: string): PolicyDocument {
  if (arn.endsWith(':policy/service-role/AWSLambdaVPCAccessExecutionRole'))
    return {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:PutLogEvents',
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: '*',
        },
      ],
    };
  throw new TemplateResolutionError(
    `managed policy ${arn} is not modelled: write what the role needs as its own statements instead`,
  );
}

/** A key id of the form KMS gives (a UUID), stable for a logical id. */
function keyIdFor(name: string): string {
  const hex = Buffer.from(name).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
