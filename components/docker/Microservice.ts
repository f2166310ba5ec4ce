import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { Service } from "../../services/schema";
import { cpuCores, memoryMiB } from "../../services/quantities";
import {
  CONTAINER_DEFAULTS,
  HttpClient,
  PlatformLabels,
  httpGet,
  loopbackPort,
  platformLabels,
} from "./containerDefaults";
import { ContainerMemory, serviceMemoryMiB } from "./memoryProfile";
import { ServiceImage, containerImage } from "./localImage";

export interface MicroserviceArgs {
  service: Service;
  /** What to run: the catalog's image (or the stack's override), a build of its source, or the reference service. */
  image: ServiceImage;
  namePrefix: string;
  /**
   * Networks to join. No networkMode is set: the provider connects networksAdvanced after
   * creating the container, and a network named in both would be joined twice and fail.
   */
  networks: docker.Network[];
  hostPort: number;
  env: Record<string, pulumi.Input<string>>;
  /** Values kept secret in the container's env and in state. */
  secretEnv: Record<string, pulumi.Input<string>>;
  labels: PlatformLabels;
  memory: ContainerMemory;
}

/** `KEY=value` list for a container; secret as a whole when any value is secret. */
export function containerEnv(
  env: Record<string, pulumi.Input<string>>,
  secretEnv: Record<string, pulumi.Input<string>>,
): pulumi.Output<string[]> {
  const entries = (values: Record<string, pulumi.Input<string>>) =>
    Object.entries(values).map(([key, value]) => pulumi.interpolate`${key}=${value}`);
  const plain = pulumi.all(entries(env));
  const secretNames = Object.keys(secretEnv);
  if (secretNames.length === 0) return plain;
  return pulumi.secret(pulumi.all([plain, pulumi.all(entries(secretEnv))]).apply(([a, b]) => [...a, ...b]));
}

/** Healthcheck that works with whichever of wget or curl the image ships (a catalog's image is not known here). */
export function httpHealthcheck(port: number, path: string): string[] {
  const get = (client: HttpClient) => httpGet(client, port, path).join(" ");
  return ["CMD-SHELL", `${get("wget")} || ${get("curl")}`];
}

/** One catalog service as a hardened container: limits, healthcheck, restart policy, loopback-only port. */
export class Microservice extends pulumi.ComponentResource {
  readonly url: string;
  /** URL other containers use. */
  readonly internalUrl: string;
  readonly container: docker.Container;

  constructor(name: string, args: MicroserviceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:Microservice", name, {}, opts);
    const { service } = args;

    const health = service.health;
    this.container = new docker.Container(
      `${name}-container`,
      {
        ...CONTAINER_DEFAULTS,
        name: `${args.namePrefix}-${service.name}`,
        hostname: service.name,
        image: containerImage(`${name}-image`, args.image, this),
        envs: containerEnv(args.env, args.secretEnv),
        networksAdvanced: args.networks.map((network) => ({ name: network.name, aliases: [service.name] })),
        ports: [loopbackPort(service.port, args.hostPort)],
        memory: serviceMemoryMiB(memoryMiB(service.resources.memory), args.memory),
        cpus: String(cpuCores(service.resources.cpu)),
        healthcheck: {
          tests: httpHealthcheck(service.port, health.path),
          interval: "15s",
          timeout: "5s",
          retries: 3,
          startPeriod: `${health.startPeriodSeconds}s`,
        },
        capabilities: { drops: ["ALL"], adds: service.capabilities },
        init: true,
        // The seeds' services shut down gracefully within 30 s.
        stopTimeout: 30,
        destroyGraceSeconds: 30,
        labels: platformLabels(args.labels, {
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(health.metricsPort ?? service.port),
          "prometheus.io/path": health.metricsPath,
          // The policy pack lets only a marked issuer hold the gateway's signing secret.
          ...(service.auth.issuesTokens ? { "platform.issues-tokens": "true" } : {}),
        }),
        // Children do not inherit a component's dependsOn: the container itself must wait for
        // the database, the broker topology and the services it calls.
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );

    this.url = `http://127.0.0.1:${args.hostPort}`;
    this.internalUrl = `http://${service.name}:${service.port}`;
    this.registerOutputs({ url: this.url, internalUrl: this.internalUrl });
  }
}
