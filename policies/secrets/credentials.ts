/** Env and key names that hold credentials. */
export const SENSITIVE_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|_PASS$|^DATABASE_URL$|^REDIS_URL$|^RABBITMQ_URL$)/;

/** The seeds' examples of what must never ship. */
export const DEFAULT_CREDENTIALS = new Set([
  "admin",
  "admin123",
  "password",
  "guest",
  "changeme",
  "secret",
  "root",
  "postgres",
  "kong",
  "redis123",
  "123456",
]);

/** A Docker container's `NAME=value` env entries as pairs. */
export function envPairs(envs: unknown): Array<[string, string]> {
  return (Array.isArray(envs) ? envs : [])
    .filter((e): e is string => typeof e === "string")
    .map((e) => {
      const i = e.indexOf("=");
      return [e.slice(0, i), e.slice(i + 1)];
    });
}
