import * as pulumi from "@pulumi/pulumi";

/**
 * An HTTP endpoint that answers 2xx while what it names is healthy. Each target lists its own in
 * the stack output `healthChecks`, which `npm run health` probes.
 */
export interface HealthCheck {
  name: string;
  url: pulumi.Input<string>;
}
