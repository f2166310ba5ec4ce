import { ClickHouseClient, createClient } from "@clickhouse/client";
import { Database, EventRecord, TABLE } from "./database";

/** ClickHouse's HTTP interface: the client takes user, password and database from the URL. */
export class ClickHouseDatabase implements Database {
  readonly kind = "clickhouse";
  private readonly client: ClickHouseClient;

  constructor(url: string) {
    this.client = createClient({ url, request_timeout: 5000 });
  }

  async init(): Promise<void> {
    // An append-only log: ClickHouse has no unique keys, so a redelivered message may appear twice
    // (delivery is at least once); readers group by message_id.
    await this.client.command({
      query: `CREATE TABLE IF NOT EXISTS ${TABLE} (
        source String, name String, message_id String, payload String, created_at DateTime64(3) DEFAULT now64(3)
      ) ENGINE = MergeTree ORDER BY created_at`,
    });
  }

  async record(event: EventRecord): Promise<void> {
    await this.client.insert({
      table: TABLE,
      values: [
        {
          source: event.source,
          name: event.name,
          message_id: event.messageId ?? "",
          payload: JSON.stringify(event.payload),
        },
      ],
      format: "JSONEachRow",
    });
  }

  async ping(): Promise<void> {
    const result = await this.client.ping();
    if (!result.success) throw result.error;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
