/** What the service keeps: one row (document) per handled request or consumed message. */
export interface EventRecord {
  /** `http` or `amqp`. */
  source: string;
  /** Request path, or the queue a message came from. */
  name: string;
  /** The message's `message-id`: recording a redelivered message twice is a no-op. */
  messageId?: string;
  payload: unknown;
}

export interface Database {
  readonly kind: string;
  /** Creates `reference_events` if it is missing. */
  init(): Promise<void>;
  record(event: EventRecord): Promise<void>;
  /** A live round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The table (collection) every store uses. */
export const TABLE = "reference_events";
