import { MongoClient } from "mongodb";
import { Database, EventRecord, TABLE } from "./database";

/**
 * The driver reads the replica set, `authSource` and DocumentDB's `tls=true&tlsCAFile=...` from
 * the URL; the database is the URL's path.
 */
export class MongoDatabase implements Database {
  readonly kind = "mongodb";
  private readonly client: MongoClient;

  constructor(url: string) {
    this.client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
  }

  private get events() {
    return this.client.db().collection(TABLE);
  }

  async init(): Promise<void> {
    await this.client.connect();
    const existing = await this.client.db().listCollections({ name: TABLE }).toArray();
    if (existing.length === 0) await this.client.db().createCollection(TABLE);
    // Unique only where set: HTTP requests carry no message id.
    await this.events.createIndex(
      { messageId: 1 },
      { unique: true, partialFilterExpression: { messageId: { $type: "string" } } },
    );
  }

  async record(event: EventRecord): Promise<void> {
    const document = { source: event.source, name: event.name, payload: event.payload, createdAt: new Date() };
    if (event.messageId === undefined) {
      await this.events.insertOne(document);
      return;
    }
    // A redelivered message is recorded once.
    await this.events.updateOne(
      { messageId: event.messageId },
      { $setOnInsert: { ...document, messageId: event.messageId } },
      { upsert: true },
    );
  }

  async ping(): Promise<void> {
    await this.client.db().command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
