import { ClickHouseDatabase } from "./clickhouse";
import { Database } from "./database";
import { MongoDatabase } from "./mongo";
import { PostgresDatabase } from "./postgres";

/** The DATABASE_URL's scheme picks the client: PostgreSQL, MongoDB, or ClickHouse over HTTP. */
export function openDatabase(url: string): Database {
  const scheme = new URL(url).protocol;
  if (scheme === "postgresql:" || scheme === "postgres:") return new PostgresDatabase(url);
  if (scheme === "mongodb:" || scheme === "mongodb+srv:") return new MongoDatabase(url);
  if (scheme === "http:" || scheme === "https:") return new ClickHouseDatabase(url);
  throw new Error(`DATABASE_URL: unsupported scheme ${scheme}`);
}
