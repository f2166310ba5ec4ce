import { NAME_LIMITS, fitName } from "../naming";

/** Names of a service's database and login, derived the same way on every target. */
export interface DatabaseNames {
  database: string;
  username: string;
}

/**
 * `booking-service` -> database `booking_service`, login `booking_service_app` (SQL identifiers
 * without quoting), each shortened to what the engines keep so that no two logins end up the same.
 */
export function databaseNames(service: string): DatabaseNames {
  const base = service.replace(/-/g, "_");
  return { database: databaseIdentifier(base), username: databaseIdentifier(`${base}_app`) };
}

/** A database, login or role name that PostgreSQL and MongoDB keep whole. */
export function databaseIdentifier(name: string): string {
  return fitName(name, NAME_LIMITS.databaseIdentifier, "_");
}

/** Connection URL with credentials; callers pass a secret password, so the URL stays secret. */
export function connectionUrl(
  scheme: string,
  username: string,
  password: string,
  host: string | string[],
  port: number,
  database: string,
  query = "",
): string {
  // Several hosts (a replica set's members) share the port.
  const hosts = (Array.isArray(host) ? host : [host]).map((h) => `${h}:${port}`).join(",");
  const url = `${scheme}://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${hosts}/${encodeURIComponent(database)}`;
  return query ? `${url}?${query}` : url;
}
