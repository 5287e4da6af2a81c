/**
 * Where accepted events wait for the ingest tap's next run: one file (S3 object) per accepted request,
 * written before the 204 is sent. Names sort by arrival, so the ingest streamer's bookmark is the last
 * name it read. A name is taken when its write starts; a write that starts earlier may finish later,
 * so the streamer reads only entries older than the inbox's settle time (longer than any write can
 * take), and a late finisher is never passed by the bookmark.
 */
export interface InboxEntry {
  readonly name: string;
  /** Epoch ms the name was taken. */
  readonly receivedAt: number;
}

export interface EventInbox {
  /** Longest a write may take between taking its name and becoming visible, in ms. */
  readonly settleMs: number;
  /** Names the inbox for people, e.g. `/home/me/.tributary/inbox/events` or `s3://bucket/inbox/events/`. */
  readonly description: string;
  /** Stores the records (JSON lines) durably; resolves only once they are. */
  append(lines: readonly string[], receivedAt: number): Promise<InboxEntry>;
  /** Every entry, oldest first. */
  list(): Promise<InboxEntry[]>;
  read(name: string): Promise<string>;
  remove(names: readonly string[]): Promise<void>;
}

/** Buckets (`POST /api/buckets`): created once per tap, then confirmed. */
export interface BucketRegistry {
  create(bucketKey: string, bucketName: string): Promise<'created' | 'exists'>;
  nameOf(bucketKey: string): Promise<string | undefined>;
}

/** An ingest tap's inbox and buckets, as the endpoint and the ingest streamer see them. */
export interface IngestTapStore {
  readonly inbox: EventInbox;
  readonly buckets: BucketRegistry;
}

const NAME = /^(\d{15})-[0-9a-f-]+\.jsonl$/;

export function inboxEntryName(receivedAt: number, unique: string): string {
  return `${String(receivedAt).padStart(15, '0')}-${unique}.jsonl`;
}

/** The entry a file or object name stands for, or undefined for anything else (a temp file). */
export function inboxEntryOf(name: string): InboxEntry | undefined {
  const match = NAME.exec(name);
  return match === null ? undefined : { name, receivedAt: Number(match[1]) };
}
