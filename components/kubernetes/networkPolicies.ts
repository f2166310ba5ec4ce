import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CidrEgress, Egress, HostEgress } from "../../services/schema";

/** Egress to the cluster's DNS, which every pod that connects by name needs. */
export const DNS_EGRESS: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};

/** Denies all ingress and egress in a namespace; other policies then open what each pod needs. */
export function defaultDenyPolicy(
  name: string,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: "default-deny", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    opts,
  );
}

export interface JobEgressArgs {
  namespace: pulumi.Input<string>;
  /** The Job pods' `platform/job` label. */
  job: string;
  /** Narrows the policy to one service's Jobs (their `platform/service` label) where several share a namespace. */
  service?: string;
  /** What the Job talks to: a managed store's CIDR, or the pods of a database. */
  to: k8s.types.input.networking.v1.NetworkPolicyPeer;
  port: number;
}

/**
 * Lets the pods of one kind of Job resolve names and reach `port` on `to`, and nothing else, in a
 * namespace that denies by default.
 */
export function jobEgressPolicy(
  name: string,
  args: JobEgressArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: args.service ? `${args.service}-${args.job}` : args.job, namespace: args.namespace },
      spec: {
        podSelector: {
          matchLabels: { "platform/job": args.job, ...(args.service ? { "platform/service": args.service } : {}) },
        },
        policyTypes: ["Ingress", "Egress"],
        egress: [DNS_EGRESS, { to: [args.to], ports: [{ port: args.port }] }],
      },
    },
    opts,
  );
}

/**
 * What a host entry's rule leaves out of `0.0.0.0/0` besides the VPC: the private ranges (peered
 * networks, on-premises over VPN) and link-local, where the instance metadata service answers.
 */
const NON_PUBLIC_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/** Annotations of a policy that opens public addresses: the hosts it is for, and the VPC it leaves out. */
const EGRESS_HOSTS_ANNOTATION = "platform/egress-hosts";
const VPC_CIDR_ANNOTATION = "platform/vpc-cidr";

const isHost = (entry: Egress): entry is HostEgress => "host" in entry;
const isCidr = (entry: Egress): entry is CidrEgress => "cidr" in entry;

/**
 * Egress to what a service calls outside the platform. A policy cannot name a host, so the hosts'
 * ports are open to every public address (one rule); a range's ports to that range only.
 */
export function externalEgress(
  egress: Egress[],
  vpcCidr: pulumi.Input<string>,
): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
  const hostPorts = [...new Set(egress.filter(isHost).map((entry) => entry.port))];
  const toPorts = (ports: number[]) => ports.map((port) => ({ port }));
  return [
    ...(hostPorts.length
      ? [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [vpcCidr, ...NON_PUBLIC_RANGES] } }],
            ports: toPorts(hostPorts),
          },
        ]
      : []),
    ...egress.filter(isCidr).map((entry) => ({ to: [{ ipBlock: { cidr: entry.cidr } }], ports: toPorts(entry.ports) })),
  ];
}

/** Names, on the policy, the hosts its public-address rule is for (`host:port,...`) and the VPC it leaves out. */
export function externalEgressAnnotations(
  egress: Egress[],
  vpcCidr: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> | undefined {
  const hosts = egress.filter(isHost);
  if (hosts.length === 0) return undefined;
  return {
    [EGRESS_HOSTS_ANNOTATION]: hosts.map((entry) => `${entry.host}:${entry.port}`).join(","),
    [VPC_CIDR_ANNOTATION]: vpcCidr,
  };
}
