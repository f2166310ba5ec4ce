import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** Where a managed data store lives: the VPC's private subnets, reachable from the EKS nodes. */
export interface DataStorePlacement {
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<string>[];
  nodeSecurityGroupId: pulumi.Input<string>;
}

/**
 * A security group that admits `ports` from the cluster's nodes only, and opens nothing else.
 * The rules are separate resources: the group (and the data store using it) need not wait for
 * the EKS cluster that owns the nodes' group; only the rules do.
 */
export function nodesOnlySecurityGroup(
  name: string,
  placement: DataStorePlacement,
  args: { description: string; ports: number[] },
  opts: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  // No inline ingress or egress: managed data stores answer, they open no connections of their own.
  const group = new aws.ec2.SecurityGroup(name, { description: args.description, vpcId: placement.vpcId }, opts);
  for (const port of args.ports) {
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
    );
  }
  return group;
}
