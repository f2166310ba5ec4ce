import * as pulumi from "@pulumi/pulumi";
import { Catalog } from "../../services/schema";
import { hasServiceRoutes } from "../../services/validate";
import { ADDONS } from "./EksCluster";
import { NAMESPACES } from "../kubernetes/chartValues";
import { MESSAGING_NAMESPACE } from "../kubernetes/InClusterBroker";

/** Namespace of the databases that run on EKS (MongoDB, ClickHouse). */
export const DATA_NAMESPACE = "data";
/** Namespace of the Jobs that make the services' logins on RDS and DocumentDB, with the master passwords. */
export const BOOTSTRAP_NAMESPACE = "database-bootstrap";

/** Every namespace the platform layer puts workloads in: the catalog's, the stores', the logins' and the charts'. */
export function platformNamespaces(catalog: string): string[] {
  return [catalog, DATA_NAMESPACE, BOOTSTRAP_NAMESPACE, MESSAGING_NAMESPACE, ...Object.values(NAMESPACES)];
}

/**
 * What the infrastructure layer hands the platform layer through a StackReference. The
 * infrastructure stack talks to AWS APIs only (deployable from anywhere with AWS credentials); the
 * platform stack needs the private endpoints (EKS API, Amazon MQ, RDS) and runs on the deploy
 * runner inside the VPC. Plain values and secrets are two outputs, so that a secret never makes an
 * address secret (nor an address a secret plain).
 */
export interface InfrastructureOutputs {
  /** The catalog and name prefix the infrastructure was made for; the platform layer checks they match its own. */
  catalog: string;
  prefix: string;
  /** Settings both layers must agree on: which store holds the broker and the MongoDB databases. */
  modes: LayerModes;
  region: string;
  vpcCidr: string;
  /** The subnets tagged for internet-facing load balancers, where the gateway's NLB lands. */
  publicSubnetIds: string[];
  kmsKeyArn: string;
  cluster: {
    name: string;
    endpoint: string;
    certificateAuthority: string;
    oidcProviderArn: string;
    /** Issuer without https://, as IRSA trust conditions name it. */
    oidcIssuer: string;
    /** The IAM principals with an access entry and its policy (the endpoint is exported after them). */
    access: string[];
    /**
     * Per add-on, its version, exported once it is active: the platform layer's provider and
     * StorageClass are made from it, so nothing reaches the cluster before its add-ons run.
     */
    addons: Record<string, string>;
    /** The Cluster Autoscaler's IRSA role (clusterAutoscaler.ts), made here: the platform layer may not make it. */
    autoscalerRoleArn: string;
  };
  /** Per service, its ECR repository URL. */
  repositories: Record<string, string>;
  /** The permissions boundary every workload role carries (workloadBoundary.ts). */
  workloadBoundaryArn: string;
  /** Per PostgreSQL service, the RDS instance it lives on (its own, or the shared one). */
  postgres: Record<string, { host: string; instance: string }>;
  documentDb?: { host: string };
  cache?: { host: string };
  broker?: { host: string; managementUrl: string };
  frontend?: { url: string; bucket: string; distributionId: string };
  runner?: { roleArn: string; tokenSecretArn: string; labels: string[] };
}

/**
 * Whether the infrastructure layer makes ElastiCache: for the services that use a cache, and for
 * Kong, whose replicas share their rate-limit counters there whenever a route has a limit.
 */
export function needsManagedCache(catalog: Catalog): boolean {
  return catalog.services.some((s) => s.cache) || hasServiceRoutes(catalog);
}

export interface LayerModes {
  broker: "amazon-mq" | "in-cluster";
  mongodb: "in-cluster" | "documentdb";
}

export interface InfrastructureSecrets {
  /** Per RDS instance (see `postgres[service].instance`), its master password. */
  postgresAdminPasswords: Record<string, string>;
  documentDbAdminPassword?: string;
  cacheAuthToken?: string;
  brokerAdminPassword?: string;
}

/** The stack outputs that carry the two objects. */
export const INFRASTRUCTURE_OUTPUT = "infrastructure";
export const INFRASTRUCTURE_SECRETS_OUTPUT = "infrastructureSecrets";

/** The infrastructure layer's outputs as the platform layer reads them. */
export interface InfrastructureReference {
  outputs: pulumi.Output<InfrastructureOutputs>;
  /** Secret. */
  secrets: pulumi.Output<InfrastructureSecrets>;
}

/**
 * Reads the infrastructure stack's outputs, and fails the update with a message naming both stacks
 * when they were made for another catalog or name prefix than the platform stack's.
 */
export function readInfrastructure(
  name: string,
  stackName: string,
  expected: { catalog: string; prefix: string; modes: LayerModes },
  parent: pulumi.Resource,
): InfrastructureReference {
  const reference = new pulumi.StackReference(name, { name: stackName }, { parent });
  const outputs = (reference.requireOutput(INFRASTRUCTURE_OUTPUT) as pulumi.Output<InfrastructureOutputs>).apply(
    (infrastructure) => {
      if (infrastructure.catalog !== expected.catalog || infrastructure.prefix !== expected.prefix) {
        throw new Error(
          `stack ${stackName} holds the infrastructure of catalog '${infrastructure.catalog}' (${infrastructure.prefix}), ` +
            `this stack deploys '${expected.catalog}' (${expected.prefix}): set platform:aws.infrastructureStack`,
        );
      }
      const missing = ADDONS.filter((addon) => !infrastructure.cluster.addons?.[addon]);
      if (missing.length > 0) {
        throw new Error(
          `stack ${stackName} does not report the cluster's add-ons ${missing.join(", ")} as active: run pulumi up on it first`,
        );
      }
      for (const [key, mode] of Object.entries(expected.modes) as Array<[keyof LayerModes, string]>) {
        if (infrastructure.modes[key] !== mode) {
          throw new Error(
            `platform:aws.${key}.mode is '${mode}' here but '${infrastructure.modes[key]}' in stack ${stackName}: set the same on both layers`,
          );
        }
      }
      return infrastructure;
    },
  );
  const secrets = pulumi.secret(
    reference.requireOutput(INFRASTRUCTURE_SECRETS_OUTPUT) as pulumi.Output<InfrastructureSecrets>,
  );
  return { outputs, secrets };
}
