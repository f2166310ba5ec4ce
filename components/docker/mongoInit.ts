/**
 * mongosh script the mongo image runs once on first start (docker-entrypoint-initdb.d):
 * the service's login with readWrite on its own database only. JSON.stringify quotes every value.
 */
export function renderMongoUserScript(database: string, username: string, password: string): string {
  return [
    `const target = db.getSiblingDB(${JSON.stringify(database)});`,
    `target.createUser({ user: ${JSON.stringify(username)}, pwd: ${JSON.stringify(password)}, roles: [{ role: "readWrite", db: ${JSON.stringify(database)} }] });`,
    "",
  ].join("\n");
}
