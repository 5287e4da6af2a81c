/** Splits `s3://bucket/key` into its parts, without the AWS SDK (the CLI parses it before loading the SDK). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (match?.[1] === undefined || match[2] === undefined)
    throw new Error(
      `${JSON.stringify(uri)} is not an s3:// URI; expected s3://bucket/stage/<tap>/<run>/<seq>.jsonl.gz`,
    );
  return { bucket: match[1], key: match[2] };
}
