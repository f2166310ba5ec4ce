import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { stringify } from "yaml";
import { LOKI_PORT, LogSelection, PROMTAIL_PORT, lokiConfig, promtailConfig } from "../observability/logsConfig";
import { ScrapeJob } from "../observability/prometheusConfig";
import { PlatformLabels, healthcheck, httpGet } from "./containerDefaults";
import { platformContainer } from "./hostContainer";
import { ContainerMemory } from "./memoryProfile";

export interface LogsBackendArgs {
  namePrefix: string;
  selection: LogSelection;
  images: {
    loki: string;
    promtail: string;
    elasticsearch: string;
    logstash: string;
    kibana: string;
    filebeat: string;
    curl: string;
  };
  network: docker.Network;
  kibanaHostPort: number;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

/** Loki stores the logs; Promtail reads every container of the stack through the Docker API. */
export class LokiLogging extends pulumi.ComponentResource {
  readonly logs = "loki" as const;
  readonly scrapeJobs: ScrapeJob[] = [{ job: "loki", groups: [{ targets: [`loki:${LOKI_PORT}`] }] }];
  /** Logs are browsed in Grafana (Explore); Loki has no UI of its own. */
  readonly url?: string = undefined;
  readonly elasticsearchReader = undefined;

  constructor(name: string, args: LogsBackendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:LokiLogging", name, {}, opts);
    const volume = new docker.Volume(`${name}-loki-data`, { name: `${args.namePrefix}-loki-data` }, { parent: this });
    const loki = platformContainer(
      `${name}-loki`,
      {
        host: "loki",
        image: args.images.loki,
        namePrefix: args.namePrefix,
        networks: [args.network],
        labels: args.labels,
        files: { "/etc/loki/local-config.yaml": stringify(lokiConfig()) },
        settings: {
          volumes: [{ volumeName: volume.name, containerPath: "/loki" }],
          memory: args.memory.loki,
          // grafana/loki 3.1 is FROM alpine (cmd/loki/Dockerfile): busybox wget.
          healthcheck: healthcheck(httpGet("wget", LOKI_PORT, "/ready"), { retries: 12, startPeriod: "20s" }),
        },
      },
      { parent: this },
    );
    platformContainer(
      `${name}-promtail`,
      {
        host: "promtail",
        image: args.images.promtail,
        namePrefix: args.namePrefix,
        networks: [args.network],
        labels: args.labels,
        files: { "/etc/promtail/config.yml": stringify(promtailConfig(args.selection)) },
        settings: {
          // Read-only Docker API access: enough to list containers and follow their logs.
          volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }],
          memory: args.memory.promtail,
          // Promtail 3.1's image is debian-slim with wget installed (clients/cmd/promtail/Dockerfile).
          healthcheck: healthcheck(httpGet("wget", PROMTAIL_PORT, "/ready")),
        },
      },
      { parent: this, dependsOn: [loki] },
    );
    this.registerOutputs({});
  }
}
