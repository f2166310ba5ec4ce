import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { after } from "../ordering";

/** Where a managed data store lives: the VPC's private subnets, reachable from the EKS nodes. */
export interface DataStorePlacement {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  nodeSecurityGroupId: pulumi.Input<string>;
  /** Refuse to delete or replace the store (Pulumi's protect, and AWS's deletion protection where it has one). */
  protect: boolean;
}

export interface NodesOnlyGroup {
  id: pulumi.Output<string>;
  /** Its ingress rules, one per port. */
  rules: aws.vpc.SecurityGroupIngressRule[];
}

/**
 * A security group that admits `ports` from the cluster's nodes only, and opens nothing else.
 * The rules are separate resources: the group (and the data store using it) need not wait for
 * the EKS cluster that owns the nodes' group; only the rules do, and so does the store's address
 * (onceReachable).
 */
export function nodesOnlySecurityGroup(
  name: string,
  placement: DataStorePlacement,
  args: { description: string; ports: number[] },
  opts: pulumi.CustomResourceOptions,
): NodesOnlyGroup {
  // No inline ingress or egress: managed data stores answer, they open no connections of their own.
  const group = new aws.ec2.SecurityGroup(name, { description: args.description, vpcId: placement.vpcId }, opts);
  const rules = args.ports.map(
    (port) =>
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${port}`,
        {
          securityGroupId: group.id,
          referencedSecurityGroupId: placement.nodeSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          description: `${port} from EKS nodes`,
        },
        opts,
      ),
  );
  return { id: group.id, rules };
}

/**
 * A store's address, handed out once the nodes may reach it: whatever connects to it (a login Job,
 * a service) starts after the group's rules exist, not on a timeout against a closed port.
 */
export function onceReachable<T>(address: pulumi.Output<T>, group: NodesOnlyGroup): pulumi.Output<T> {
  return after(address, ...group.rules.map((rule) => rule.id));
}
