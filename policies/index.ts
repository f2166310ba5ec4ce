import { PolicyPack } from "@pulumi/policy";
import { toPolicies } from "./rules";

// Mandatory unless the config file says otherwise: `--policy-pack-config policies/config/dev.json`
// turns every policy advisory for dev.
new PolicyPack("platform-security", { enforcementLevel: "mandatory", policies: toPolicies() });
