import { Pool } from "pg";
import { Database, EventRecord, TABLE } from "./database";

/**
 * node-postgres parses the whole URL, `sslmode` and `sslrootcert` included, so RDS's
 * `sslmode=verify-full&sslrootcert=...` verifies the server with no code here.
 */
export class PostgresDatabase implements Database {
  readonly kind = "postgres";
  private readonly pool: Pool;

  constructor(url: string) {
    // Short timeouts: a readiness check must answer before the orchestrator's probe gives up.
    this.pool = new Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 2000 });
    // An idle client's error (the server restarted) must not crash the process; the pool replaces it.
    this.pool.on("error", () => undefined);
  }

  async init(): Promise<void> {
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      id bigserial PRIMARY KEY,
      source text NOT NULL,
      name text NOT NULL,
      message_id text UNIQUE,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async record(event: EventRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${TABLE} (source, name, message_id, payload) VALUES ($1, $2, $3, $4)
       ON CONFLICT (message_id) DO NOTHING`,
      [event.source, event.name, event.messageId ?? null, JSON.stringify(event.payload)],
    );
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
