import { SpanKind } from "@opentelemetry/api";
import * as amqp from "amqplib";
import { publishConfirmed } from "./broker";
import { BrokerConfig, maxAttemptsOf } from "./config";
import { Database } from "./db/database";
import { Logger } from "./logger";
import { Metrics } from "./metrics";
import { inSpan } from "./tracing";

/** Unacknowledged deliveries per channel: bounds memory and the work redone after a crash. */
const PREFETCH = 10;
/** A refused copy (full DLQ) leaves the delivery in its queue; this long before it is handed back. */
const REQUEUE_DELAY_MS = 5000;
/** `x-last-error` is cut to this many characters. */
const MAX_ERROR_LENGTH = 1000;

type Headers = Record<string, unknown>;
type DeadLetterReason = "unparseable" | "attempts_exhausted";

/** The delivery number, from `x-attempt`; 1 when absent or not a positive integer. */
export function attemptOf(headers: Headers): number {
  const attempt = Number(headers["x-attempt"]);
  return Number.isInteger(attempt) && attempt >= 1 ? attempt : 1;
}

/** The body as a JSON object, or the reason it is not one. */
export function parseBody(content: Buffer): { body: Record<string, unknown> } | { error: string } {
  try {
    const body: unknown = JSON.parse(content.toString("utf8"));
    if (body !== null && typeof body === "object" && !Array.isArray(body))
      return { body: body as Record<string, unknown> };
    return { error: "the body is not a JSON object" };
  } catch (err) {
    return { error: `the body is not JSON: ${(err as Error).message}` };
  }
}

/**
 * The test hook: `x-reference-fail: N` fails deliveries 1..N, `always` every delivery. Throwing
 * here is what a real handler's failure looks like to the retry protocol.
 */
export function failForTest(headers: Headers, attempt: number): void {
  const fail = headers["x-reference-fail"];
  if (fail === undefined || fail === null) return;
  const text = Buffer.isBuffer(fail) ? fail.toString("utf8") : String(fail);
  if (text === "always") throw new Error(`x-reference-fail: always (delivery ${attempt})`);
  const first = Number(text);
  if (Number.isInteger(first) && attempt <= first) throw new Error(`x-reference-fail: ${first} (delivery ${attempt})`);
}

/** Headers of a retried or dead-lettered copy: the original's, plus where it came from and why it failed. */
export function copyHeaders(message: amqp.Message, error: string, extra: Headers): Headers {
  const original: Headers = message.properties.headers ?? {};
  return {
    ...original,
    // On a retried delivery the message arrives from the default exchange: keep the first values.
    "x-original-exchange": original["x-original-exchange"] ?? message.fields.exchange,
    "x-original-routing-key": original["x-original-routing-key"] ?? message.fields.routingKey,
    "x-last-error": error.slice(0, MAX_ERROR_LENGTH),
    ...extra,
  };
}

/** Body, message id and content type unchanged; persistent like every event. */
function copyOptions(message: amqp.Message, headers: Headers): amqp.Options.Publish {
  const p = message.properties;
  return {
    persistent: true,
    headers,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    messageId: p.messageId,
    correlationId: p.correlationId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
    priority: p.priority,
  };
}

/** Consumes RABBITMQ_QUEUES with the retry protocol of docs/env-contract.md. */
export class Consumer {
  private readonly inFlight = new Set<Promise<void>>();
  private consumers: { channel: amqp.Channel; tag: string }[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly db: Database | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** The broker cancelled a consumer (its queue was deleted): reconnecting sets it up again. */
    private readonly onCancelled: () => void,
  ) {}

  /** Called on every (re)connection with a fresh confirm channel. */
  async attach(channel: amqp.ConfirmChannel): Promise<void> {
    this.consumers = [];
    if (this.config.queues.length === 0) return;
    await channel.prefetch(PREFETCH);
    for (const queue of this.config.queues) {
      const onMessage = (message: amqp.ConsumeMessage | null) => {
        if (message === null) return this.onCancelled();
        this.track(this.deliver(channel, queue, message));
      };
      const { consumerTag } = await channel.consume(queue, onMessage, { noAck: false });
      this.consumers.push({ channel, tag: consumerTag });
    }
    this.log.info({ queues: this.config.queues }, "consuming");
  }

  /** Stops taking deliveries and waits for those being handled. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.consumers.map(({ channel, tag }) => channel.cancel(tag)));
    this.consumers = [];
    await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(channel: amqp.ConfirmChannel, queue: string, message: amqp.ConsumeMessage): Promise<void> {
    const headers: Headers = message.properties.headers ?? {};
    const attempt = attemptOf(headers);
    await inSpan(`${queue} process`, SpanKind.CONSUMER, headers, async (span) => {
      span.setAttributes({
        "messaging.system": "rabbitmq",
        "messaging.destination.name": queue,
        "messaging.message.id": String(message.properties.messageId ?? ""),
        "messaging.rabbitmq.attempt": attempt,
      });
      const parsed = parseBody(message.content);
      if ("error" in parsed) return this.deadLetter(channel, queue, message, attempt, "unparseable", parsed.error);
      try {
        await this.handle(queue, message, parsed.body, attempt);
      } catch (err) {
        return this.failed(channel, queue, message, attempt, (err as Error).message);
      }
      channel.ack(message);
      this.metrics.consumed.inc({ queue });
      this.log.info({ queue, attempt, messageId: message.properties.messageId }, "message handled");
    }).catch((err) => this.log.error({ err: (err as Error).message, queue }, "delivery not settled"));
  }

  /** The service's own work for a message: record it (once per message id). */
  private async handle(queue: string, message: amqp.Message, body: Record<string, unknown>, attempt: number) {
    const headers: Headers = message.properties.headers ?? {};
    failForTest(headers, attempt);
    await this.db?.record({
      source: "amqp",
      name: queue,
      messageId: message.properties.messageId,
      payload: { routingKey: headers["x-original-routing-key"] ?? message.fields.routingKey, attempt, body },
    });
  }

  private async failed(
    channel: amqp.ConfirmChannel,
    queue: string,
    message: amqp.Message,
    attempt: number,
    error: string,
  ) {
    const maxAttempts = maxAttemptsOf(this.config, queue);
    if (attempt >= maxAttempts) return this.deadLetter(channel, queue, message, attempt, "attempts_exhausted", error);
    const messageId = message.properties.messageId;
    this.log.warn({ queue, attempt, maxAttempts, messageId, err: error }, "delivery failed; retrying");
    const headers = copyHeaders(message, error, { "x-attempt": attempt + 1 });
    if (await this.forward(channel, message, `${queue}.retry.${attempt}`, headers)) this.metrics.retried.inc({ queue });
  }

  private async deadLetter(
    channel: amqp.ConfirmChannel,
    queue: string,
    message: amqp.Message,
    attempt: number,
    reason: DeadLetterReason,
    error: string,
  ): Promise<void> {
    const messageId = message.properties.messageId;
    this.log.error({ queue, attempt, reason, messageId, err: error }, "dead-lettering a message");
    const headers = copyHeaders(message, error, { "x-attempt": attempt, "x-dead-letter-reason": reason });
    if (await this.forward(channel, message, `${queue}.dlq`, headers)) this.metrics.deadLettered.inc({ queue, reason });
  }

  /**
   * Publishes the copy to the retry exchange and acknowledges the delivery once the broker has
   * confirmed it. A refused copy (a full DLQ nacks) must not lose the message: the delivery is
   * handed back to its queue after a pause. Without a retry exchange (a platform that gave the
   * service none) the broker dead-letters the rejected delivery through `platform.dlx` instead.
   */
  private async forward(channel: amqp.ConfirmChannel, message: amqp.Message, key: string, headers: Headers) {
    if (!this.config.retryExchange) {
      channel.nack(message, false, false);
      return true;
    }
    try {
      await publishConfirmed(channel, this.config.retryExchange, key, message.content, copyOptions(message, headers));
      channel.ack(message);
      return true;
    } catch (err) {
      const messageId = message.properties.messageId;
      this.log.error(
        { err: (err as Error).message, routingKey: key, messageId },
        "copy refused; requeueing the delivery",
      );
      await new Promise((resolve) => setTimeout(resolve, REQUEUE_DELAY_MS));
      // On a closed channel the broker has already requeued it.
      await Promise.resolve()
        .then(() => channel.nack(message, false, true))
        .catch(() => undefined);
      return false;
    }
  }
}
