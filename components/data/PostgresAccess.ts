import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import { DatabaseNames, databaseIdentifier } from "./databasePlan";

export interface PostgresAccessArgs {
  names: DatabaseNames;
  extensions: string[];
  /** Admin connection to the server that holds the database (dev container or RDS). */
  provider: postgresql.Provider;
  /** Also create a login with only pg_monitor, for the metrics exporter. */
  monitoringLogin?: boolean;
  /** The login's password when the caller already made one; generated otherwise. */
  password?: pulumi.Output<string>;
}

/**
 * A service's own database and least-privilege login on a PostgreSQL server: the login owns its
 * database and nothing else, cannot create roles or databases, and PUBLIC may not connect.
 */
export class PostgresAccess extends pulumi.ComponentResource {
  readonly database: pulumi.Output<string>;
  readonly username: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
  readonly monitoringUsername?: pulumi.Output<string>;
  readonly monitoringPassword?: pulumi.Output<string>;

  constructor(name: string, args: PostgresAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:data:PostgresAccess", name, {}, opts);
    const child: ServerOptions = { parent: this, provider: args.provider };

    const owner = ownerLogin(name, args, child);
    const database = ownedDatabase(name, args, owner.role, child);
    if (args.monitoringLogin) {
      const monitor = monitoringLogin(name, args.names, child);
      this.monitoringUsername = monitor.username;
      this.monitoringPassword = monitor.password;
    }

    this.database = database.name;
    this.username = owner.role.name;
    this.password = owner.password;
    this.registerOutputs({ database: this.database, username: this.username });
  }
}

/** Options of every object on the server: the component as parent, the admin connection as provider. */
interface ServerOptions {
  parent: pulumi.Resource;
  provider: postgresql.Provider;
}

/** The service's login: no superuser, role or database creation, replication or RLS bypass. */
function ownerLogin(
  name: string,
  args: PostgresAccessArgs,
  child: ServerOptions,
): { role: postgresql.Role; password: pulumi.Output<string> } {
  const password =
    args.password ??
    new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: child.parent }).result;
  const role = new postgresql.Role(
    `${name}-role`,
    {
      name: args.names.username,
      login: true,
      password,
      superuser: false,
      createDatabase: false,
      createRole: false,
      replication: false,
      bypassRowLevelSecurity: false,
      inherit: false,
      connectionLimit: 100,
    },
    child,
  );
  return { role, password };
}

/** The database the login owns, closed to PUBLIC, with the extensions the service asks for. */
function ownedDatabase(
  name: string,
  args: PostgresAccessArgs,
  owner: postgresql.Role,
  child: ServerOptions,
): postgresql.Database {
  const database = new postgresql.Database(
    `${name}-database`,
    {
      name: args.names.database,
      owner: owner.name,
      encoding: "UTF8",
      allowConnections: true,
    },
    child,
  );

  // CONNECT is granted to PUBLIC by default: revoke it so only the owner gets in.
  new postgresql.Grant(
    `${name}-revoke-public-connect`,
    {
      database: database.name,
      role: "public",
      objectType: "database",
      privileges: [],
    },
    child,
  );

  for (const extension of args.extensions) {
    new postgresql.Extension(`${name}-ext-${extension}`, { name: extension, database: database.name }, child);
  }
  return database;
}

/** A login with only pg_monitor, for the metrics exporter. */
function monitoringLogin(
  name: string,
  names: DatabaseNames,
  child: ServerOptions,
): { username: pulumi.Output<string>; password: pulumi.Output<string> } {
  const password = new random.RandomPassword(
    `${name}-monitor-password`,
    { length: 32, special: false },
    { parent: child.parent },
  );
  const monitor = new postgresql.Role(
    `${name}-monitor-role`,
    {
      name: databaseIdentifier(`${names.database}_monitor`),
      login: true,
      password: password.result,
      roles: ["pg_monitor"],
      connectionLimit: 5,
    },
    child,
  );
  return { username: monitor.name, password: password.result };
}
