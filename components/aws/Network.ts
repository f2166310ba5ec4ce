import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface NetworkArgs {
  cidr: string;
  /** How many availability zones to spread over (3 in prod). */
  zones: number;
  natGateways: "per-az" | "single";
  /** Key that encrypts the flow logs. */
  kmsKeyArn: pulumi.Input<string>;
  /** How long the flow logs are kept. */
  logRetentionDays: number;
  namePrefix: string;
}

/** /20 subnets of a /16: public ones first, private ones from the 8th block on. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split("/")[0].split(".").map(Number);
  if (index < 0 || index > 15) throw new Error(`subnet index ${index} does not fit in ${vpcCidr}`);
  return `${a}.${b}.${index * 16}.0/20`;
}

/**
 * VPC over `zones` AZs: a public and a private subnet in each, an internet gateway, NAT per AZ
 * (or one, for cost), private routes through NAT, and VPC flow logs to CloudWatch (KMS).
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  /** Each private subnet's route to the internet through NAT: what nodes need to join the cluster (ECR, EKS API). */
  readonly privateEgress: pulumi.Resource[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:Network", name, {}, opts);
    this.cidr = args.cidr;
    const zones = availabilityZones(args.zones, this);
    const core = createVpc(name, args, this);
    this.vpcId = core.vpc.id;
    const subnets = createZones(name, args, zones, core, this);
    this.publicSubnetIds = subnets.publicSubnetIds;
    this.privateSubnetIds = subnets.privateSubnetIds;
    this.privateEgress = subnets.privateEgress;
    createFlowLogs(name, args, core.vpc, this);
    this.registerOutputs({ vpcId: this.vpcId });
  }
}

/** The first `count` available zones of the region; fails when it has fewer. */
function availabilityZones(count: number, parent: pulumi.Resource): pulumi.Output<string[]> {
  return aws.getAvailabilityZonesOutput({ state: "available" }, { parent }).names.apply((names) => {
    if (names.length < count) throw new Error(`the region has ${names.length} availability zones, ${count} are needed`);
    return names.slice(0, count);
  });
}

interface VpcCore {
  vpc: aws.ec2.Vpc;
  gateway: aws.ec2.InternetGateway;
  /** Everything through the internet gateway. */
  publicRoutes: aws.ec2.RouteTable;
}

/** The VPC, its internet gateway and the public subnets' route table. */
function createVpc(name: string, args: NetworkArgs, parent: pulumi.Resource): VpcCore {
  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: args.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${args.namePrefix}-vpc` },
    },
    { parent },
  );
  const gateway = new aws.ec2.InternetGateway(
    `${name}-igw`,
    { vpcId: vpc.id, tags: { Name: `${args.namePrefix}-igw` } },
    { parent },
  );
  const publicRoutes = new aws.ec2.RouteTable(
    `${name}-public-rt`,
    {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
      tags: { Name: `${args.namePrefix}-public` },
    },
    { parent },
  );
  return { vpc, gateway, publicRoutes };
}

interface ZoneSubnets {
  publicSubnetIds: pulumi.Output<string>[];
  privateSubnetIds: pulumi.Output<string>[];
  privateEgress: pulumi.Resource[];
}

/** Per zone its subnets, then its NAT (per AZ, or the first zone's only), then its private routes. */
function createZones(
  name: string,
  args: NetworkArgs,
  zones: pulumi.Output<string[]>,
  core: VpcCore,
  parent: pulumi.Resource,
): ZoneSubnets {
  const result: ZoneSubnets = { publicSubnetIds: [], privateSubnetIds: [], privateEgress: [] };
  // With a single NAT, every zone's private routes go through the first zone's.
  let natGatewayId: pulumi.Output<string> | undefined;
  for (let i = 0; i < args.zones; i++) {
    const zone = zones.apply((names) => names[i]);
    const subnets = createSubnets(name, args, i, zone, core, parent);
    result.publicSubnetIds.push(subnets.publicSubnet.id);
    result.privateSubnetIds.push(subnets.privateSubnet.id);
    if (args.natGateways === "per-az" || i === 0) {
      natGatewayId = createNatGateway(name, args.namePrefix, i, subnets.publicSubnet, core.gateway, parent);
    }
    result.privateEgress.push(
      createPrivateRoutes(name, args.namePrefix, i, core.vpc, subnets.privateSubnet, natGatewayId, parent),
    );
  }
  return result;
}

interface Subnets {
  publicSubnet: aws.ec2.Subnet;
  privateSubnet: aws.ec2.Subnet;
}

function createSubnets(
  name: string,
  args: NetworkArgs,
  i: number,
  zone: pulumi.Output<string>,
  core: VpcCore,
  parent: pulumi.Resource,
): Subnets {
  const publicSubnet = new aws.ec2.Subnet(
    `${name}-public-${i}`,
    {
      vpcId: core.vpc.id,
      cidrBlock: subnetCidr(args.cidr, i),
      availabilityZone: zone,
      mapPublicIpOnLaunch: false,
      tags: { Name: `${args.namePrefix}-public-${i}`, "kubernetes.io/role/elb": "1" },
    },
    { parent },
  );
  new aws.ec2.RouteTableAssociation(
    `${name}-public-${i}`,
    { subnetId: publicSubnet.id, routeTableId: core.publicRoutes.id },
    { parent },
  );
  const privateSubnet = new aws.ec2.Subnet(
    `${name}-private-${i}`,
    {
      vpcId: core.vpc.id,
      cidrBlock: subnetCidr(args.cidr, 8 + i),
      availabilityZone: zone,
      tags: { Name: `${args.namePrefix}-private-${i}`, "kubernetes.io/role/internal-elb": "1" },
    },
    { parent },
  );
  return { publicSubnet, privateSubnet };
}

/** A NAT gateway with its Elastic IP in the zone's public subnet; returns its id. */
function createNatGateway(
  name: string,
  namePrefix: string,
  i: number,
  publicSubnet: aws.ec2.Subnet,
  internetGateway: aws.ec2.InternetGateway,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const eip = new aws.ec2.Eip(
    `${name}-nat-${i}`,
    { domain: "vpc", tags: { Name: `${namePrefix}-nat-${i}` } },
    { parent },
  );
  return new aws.ec2.NatGateway(
    `${name}-nat-${i}`,
    { allocationId: eip.id, subnetId: publicSubnet.id, tags: { Name: `${namePrefix}-nat-${i}` } },
    { parent, dependsOn: [internetGateway] },
  ).id;
}

/** The subnet's route table through NAT; returns its association, which exists once the route does. */
function createPrivateRoutes(
  name: string,
  namePrefix: string,
  i: number,
  vpc: aws.ec2.Vpc,
  privateSubnet: aws.ec2.Subnet,
  natGatewayId: pulumi.Output<string> | undefined,
  parent: pulumi.Resource,
): aws.ec2.RouteTableAssociation {
  const privateRoutes = new aws.ec2.RouteTable(
    `${name}-private-rt-${i}`,
    {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId }],
      tags: { Name: `${namePrefix}-private-${i}` },
    },
    { parent },
  );
  return new aws.ec2.RouteTableAssociation(
    `${name}-private-${i}`,
    { subnetId: privateSubnet.id, routeTableId: privateRoutes.id },
    { parent },
  );
}

/** Lets VPC Flow Logs assume the role that writes to the log group. */
const FLOW_LOGS_ASSUME_ROLE = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** Writes to the log group and nothing else. */
function flowLogsWritePolicy(logGroupArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: `${logGroupArn}:*`,
      },
    ],
  });
}

/** The VPC's flow logs, all traffic, to a KMS-encrypted log group kept `logRetentionDays`. */
function createFlowLogs(name: string, args: NetworkArgs, vpc: aws.ec2.Vpc, parent: pulumi.Resource): void {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-flow-logs`,
    {
      name: `/platform/${args.namePrefix}/vpc-flow-logs`,
      retentionInDays: args.logRetentionDays,
      kmsKeyId: args.kmsKeyArn,
    },
    { parent },
  );
  const flowLogRole = new aws.iam.Role(`${name}-flow-logs`, { assumeRolePolicy: FLOW_LOGS_ASSUME_ROLE }, { parent });
  new aws.iam.RolePolicy(
    `${name}-flow-logs`,
    { role: flowLogRole.id, policy: logGroup.arn.apply(flowLogsWritePolicy) },
    { parent },
  );
  new aws.ec2.FlowLog(
    `${name}-flow-logs`,
    {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: flowLogRole.arn,
    },
    { parent },
  );
}
