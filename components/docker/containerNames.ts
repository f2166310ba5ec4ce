import { NAME_LIMITS, fitName } from "../naming";

/**
 * Hostnames of the containers a service's database brings, which are also their names after the
 * stack's prefix. The components name them and the memory plan lists them, from these functions.
 */

/** The database server, or a MongoDB replica set's first member. */
export const databaseHost = (service: string): string => fitName(`${service}-db`, NAME_LIMITS.dnsLabel);

/** A PostgreSQL server's metrics exporter. */
export const exporterHost = (databaseHost: string): string => fitName(`${databaseHost}-exporter`, NAME_LIMITS.dnsLabel);

/** The one-shot container that initiates a MongoDB replica set. */
export const replicaSetInitHost = (databaseHost: string): string =>
  fitName(`${databaseHost}-init`, NAME_LIMITS.dnsLabel);
