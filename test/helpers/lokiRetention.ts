/**
 * What Loki 3 needs before `limits_config.retention_period` deletes anything, as its documentation
 * and code say at v3.2.0 (the prod chart's app, which dev runs too; v3.1.1 has the same lines)
 * (grafana/loki docs/sources/operations/storage/retention.md, "Retention Configuration";
 * pkg/compactor/compactor.go, Config.Validate). No Loki binary can be installed here:
 * this checks a rendered config against those documented requirements. `persistentDir` is where the
 * target mounts Loki's volume.
 */
export function lokiRetentionProblems(config: any, persistentDir: string): string[] {
  const problems: string[] = [];
  const period = config.limits_config?.retention_period;
  if (!period || /^0[a-z]*$/.test(period)) problems.push("limits_config.retention_period is not set");
  const compactor = config.compactor ?? {};
  // retention.md:89 "Without this, the Compactor will only compact tables."
  if (compactor.retention_enabled !== true) problems.push("compactor.retention_enabled is not true");
  // retention.md:91 "This is required when retention is enabled"; compactor.go:138-139 (v3.2.0: 139) refuses to start without it.
  const stores = (config.schema_config?.configs ?? []).map((c: any) => c.object_store);
  if (!compactor.delete_request_store) problems.push("compactor.delete_request_store is not set");
  else if (!stores.includes(compactor.delete_request_store))
    problems.push(`compactor.delete_request_store ${compactor.delete_request_store} is none of the schema's stores`);
  // retention.md:51 and :93: marker files of chunks pending deletion belong on a persistent disk.
  if (!String(compactor.working_directory ?? "").startsWith(`${persistentDir}/`))
    problems.push(`compactor.working_directory is not on the volume at ${persistentDir}`);
  // retention.md:86 "Retention is only available if the index period is 24h."
  for (const schema of config.schema_config?.configs ?? [])
    if (schema.index?.period !== "24h") problems.push(`schema from ${schema.from}: index period is not 24h`);
  return problems;
}
