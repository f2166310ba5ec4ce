import { DatabaseNames } from "./databasePlan";

/** SQL identifiers here come from databaseNames(): lowercase, digits, underscores. */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe SQL identifier '${name}'`);
  return name;
}

/** Extension names may hold a hyphen (uuid-ossp), so they are double-quoted. */
function extensionName(name: string): string {
  if (!/^[a-z][a-z0-9_-]{0,62}$/.test(name)) throw new Error(`unsafe extension name '${name}'`);
  return name;
}

/**
 * psql script that gives a service its own login and database on a shared or managed server
 * (where @pulumi/postgresql cannot reach it): idempotent, so a re-run only resets the password.
 * The same rules as PostgresAccess: the login owns its database and nothing else, PUBLIC may not
 * connect. The password arrives as the psql variable `password` (`psql -v password=...`), never
 * inside the script.
 */
export function renderBootstrapSql(names: DatabaseNames, extensions: string[]): string {
  const role = identifier(names.username);
  const database = identifier(names.database);
  const lines = [
    "\\set ON_ERROR_STOP on",
    `SELECT 'CREATE ROLE ${role} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}')\\gexec`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT 100 PASSWORD :'password';`,
    // On RDS the master user is no superuser: it must be a member to hand ownership over.
    `GRANT ${role} TO CURRENT_USER;`,
    `SELECT 'CREATE DATABASE ${database} OWNER ${role} ENCODING ''UTF8''' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}')\\gexec`,
    `ALTER DATABASE ${database} OWNER TO ${role};`,
    `REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`,
    `\\connect ${database}`,
    ...extensions.map((extension) => `CREATE EXTENSION IF NOT EXISTS "${extensionName(extension)}";`),
    `REVOKE CREATE ON SCHEMA public FROM PUBLIC;`,
    `ALTER SCHEMA public OWNER TO ${role};`,
    "",
  ];
  return lines.join("\n");
}
