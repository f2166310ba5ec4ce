import { StackRule } from "../rule";
import { T } from "../types";

export const ownDatabaseRole: StackRule = {
  kind: "stack",
  name: "own-database-role",
  description: "Every service database is owned by a login of its own.",
  severity: "high",
  remediation: "Give each service its own database in the catalog",
  check: (resources) => {
    const owners = new Map<string, string[]>();
    for (const db of resources.filter((r) => r.type === T.pgDatabase)) {
      const owner = String(db.props.owner ?? "");
      owners.set(owner, [...(owners.get(owner) ?? []), db.urn]);
    }
    return [...owners.entries()].flatMap(([owner, urns]) =>
      owner === "" || urns.length > 1
        ? urns.map((urn) => ({
            message: owner ? `login ${owner} owns ${urns.length} databases` : "database has no owner of its own",
            urn,
          }))
        : [],
    );
  },
};
