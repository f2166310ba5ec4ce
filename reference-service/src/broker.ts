import { randomUUID } from "crypto";
import * as amqp from "amqplib";
import { BrokerConfig } from "./config";
import { Logger } from "./logger";
import { Metrics } from "./metrics";
import { traceHeaders } from "./tracing";

/** Publishes wait at most this long for the broker's confirm. */
const CONFIRM_TIMEOUT_MS = 10000;
const RECONNECT_INITIAL_MS = 500;
/** A restarted broker is found within this long; longer waits would only lengthen the outage. */
const RECONNECT_MAX_MS = 5000;

export class BrokerUnavailableError extends Error {}

/** A domain's events go to its topic exchange: `booking.reservation.created` → `booking.events`. */
export const exchangeOf = (routingKey: string) => `${routingKey.split(".")[0]}.events`;

/** Publishes on a confirm channel and resolves once the broker has confirmed (rejects on a nack). */
export function publishConfirmed(
  channel: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqp.Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no publisher confirm in time")), CONFIRM_TIMEOUT_MS);
    const done = (err: unknown) => {
      clearTimeout(timer);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve();
    };
    try {
      channel.publish(exchange, routingKey, content, options, done);
    } catch (err) {
      // A channel that closed under us throws at once instead of calling back.
      done(err);
    }
  });
}

/** Heartbeats find a broker that vanished without closing the socket (a partition, a killed VM). */
function withHeartbeat(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("heartbeat")) parsed.searchParams.set("heartbeat", "10");
  return parsed.toString();
}

interface Session {
  connection: amqp.ChannelModel;
  /** HTTP publishes. */
  publisher: amqp.ConfirmChannel;
  /** Consumption, and the confirmed retry and dead-letter copies it publishes. */
  consumer: amqp.ConfirmChannel;
}

/**
 * One connection with two confirm channels, reopened with exponential backoff whenever either
 * closes (broker restart, a refused operation): `onConnected` then sets consumption up again.
 */
export class Broker {
  private session?: Session;
  private closing = false;
  private reconnecting?: Promise<void>;

  constructor(
    private readonly config: BrokerConfig,
    private readonly service: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onConnected: (channel: amqp.ConfirmChannel) => Promise<void>,
  ) {}

  start(): void {
    this.reconnect();
  }

  /** Starts the connect loop unless it already runs. */
  reconnect(): void {
    if (this.closing || this.reconnecting) return;
    this.reconnecting = this.connectLoop().finally(() => {
      this.reconnecting = undefined;
      // Lost again before the loop had returned: go round once more.
      if (!this.session) this.reconnect();
    });
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        await this.connectOnce();
        this.log.info("connected to the broker");
        return;
      } catch (err) {
        // Jittered so that all replicas do not hit a restarted broker at the same instant.
        const delay =
          Math.min(RECONNECT_INITIAL_MS * 2 ** (attempt - 1), RECONNECT_MAX_MS) * (0.8 + Math.random() * 0.4);
        this.log.warn({ err: (err as Error).message, attempt, delayMs: Math.round(delay) }, "broker connect failed");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const connection = await amqp.connect(withHeartbeat(this.config.url));
    connection.on("error", (err: Error) => this.log.warn({ err: err.message }, "broker connection error"));
    connection.on("close", () => this.lost(connection));
    try {
      const [publisher, consumer] = [await connection.createConfirmChannel(), await connection.createConfirmChannel()];
      for (const channel of [publisher, consumer]) {
        channel.on("error", (err: Error) => this.log.warn({ err: err.message }, "broker channel error"));
        // A channel the broker closed ends the whole session: one recovery path for everything.
        channel.on("close", () => connection.close().catch(() => undefined));
      }
      this.session = { connection, publisher, consumer };
      await this.onConnected(consumer);
    } catch (err) {
      this.session = undefined;
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  private lost(connection: amqp.ChannelModel): void {
    if (this.session?.connection !== connection) return;
    this.session = undefined;
    if (this.closing) return;
    this.log.warn("lost the broker connection; reconnecting");
    this.reconnect();
  }

  /** The connection and both channels are open. */
  ping(): void {
    if (!this.session) throw new Error(this.reconnecting ? "reconnecting to the broker" : "not connected");
  }

  /** Publishes one event, persistent and confirmed, carrying the active trace; returns its message id. */
  async publish(routingKey: string, body: unknown): Promise<string> {
    const messageId = randomUUID();
    try {
      if (!this.session) throw new BrokerUnavailableError("not connected to the broker");
      await publishConfirmed(
        this.session.publisher,
        exchangeOf(routingKey),
        routingKey,
        Buffer.from(JSON.stringify(body)),
        {
          persistent: true,
          contentType: "application/json",
          messageId,
          timestamp: Math.floor(Date.now() / 1000),
          appId: this.service,
          headers: traceHeaders(),
        },
      );
    } catch (err) {
      this.metrics.publishErrors.inc({ routing_key: routingKey });
      throw err;
    }
    this.metrics.published.inc({ routing_key: routingKey });
    return messageId;
  }

  async close(): Promise<void> {
    this.closing = true;
    const session = this.session;
    this.session = undefined;
    await session?.connection.close().catch(() => undefined);
  }
}
