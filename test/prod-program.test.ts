import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { Catalog, Service } from "../services/schema";
import { POD_MONITOR, checkAlertRules, selects, targetLabels, validatePodMonitor } from "./helpers/podMonitors";
import { planTopology } from "../components/messaging/topology";
import {
  CERTIFICATE,
  CONFIG_SECRETS,
  SENTRY_DSN,
  TEST_CA_BUNDLE,
  gatewayDomain,
  prodLayers,
} from "./helpers/stackConfigs";
import { checkKong } from "./helpers/kongSchema";
import { seedProdRun } from "./helpers/prodRuns";
import { namesCarrying } from "./helpers/envContract";
import { catalogDocument, withCatalogFileLayers, writeCatalog } from "./helpers/catalogFiles";
import { checkStack } from "../tools/policyCheck";
import { deployPlan, renderDeployPlan } from "../tools/deployPlan";
import { DATABASE_ENGINES, RABBITMQ } from "../components/engines";
import {
  LayeredRun,
  MockRun,
  RecordedResource,
  ofType,
  plaintextOccurrences,
  runLayersUnderMocks,
  valueOf,
} from "../tools/mockRun";

const projectDir = path.join(__dirname, "..");

/** What each seed's services call outside, as the seeds name them (`platform/egress-hosts`); no other service may. */
const OUTSIDE_HOSTS: Record<string, Record<string, string>> = {
  bookings: { "payment-service": "api.stripe.com:443", "notification-service": "api.sendgrid.com:443" },
  erp: { "notification-service": "api.sendgrid.com:443" },
  finance: { "ai-service": "api.openai.com:443", "notification-service": "api.sendgrid.com:443" },
  reservei: {
    "booking-service": "api.stripe.com:443",
    "notification-service": "smtp.sendgrid.net:587,api.twilio.com:443,fcm.googleapis.com:443,oauth2.googleapis.com:443",
    "ai-service": "api.openai.com:443",
  },
  "user-enrichment": {},
};
/** The infrastructure layer's default VPC, and what an internet rule leaves out besides it. */
const INTERNET = {
  cidr: "0.0.0.0/0",
  except: ["10.0.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
};
const inputsOf = (run: MockRun<unknown>, type: string) => ofType(run.resources, type).map((r) => r.inputs);
const named = (resources: RecordedResource[], type: string, name: string) =>
  ofType(resources, type).find((r) => r.inputs.metadata?.name === name);
const podMonitorsOf = (run: MockRun<unknown>) => ofType(run.resources, POD_MONITOR);

/**
 * Each service scraped pod by pod: one PodMonitor in the catalog's namespace selecting exactly its
 * Deployment's pods, on a named container port that is its metrics port (which its NetworkPolicy
 * opens to the monitoring namespace), at its metrics path, after the chart that brings the CRD.
 * Returns the labels each service's targets end with.
 */
function assertPodMonitor(run: LayeredRun<StackOutputs>, catalog: Catalog, service: Service): Record<string, string> {
  const deployments = ofType(run.resources, "kubernetes:apps/v1:Deployment").map((d) => d.inputs);
  const deployment = deployments.find((d) => d.metadata.name === service.name)!;
  const mine = podMonitorsOf(run).filter((m) =>
    selects(m.inputs.spec.selector, deployment.spec.template.metadata.labels),
  );
  assert.equal(mine.length, 1, `${service.name}: one PodMonitor selects its pods`);
  const monitor = mine[0].inputs;
  validatePodMonitor(monitor);
  assert.equal(monitor.metadata.namespace, catalog.name);
  assert.deepEqual(monitor.spec.selector, deployment.spec.selector, `${service.name}: its Deployment's selector`);
  assert.deepEqual(
    deployments
      .filter((d) => selects(monitor.spec.selector, d.spec.template.metadata.labels))
      .map((d) => d.metadata.name),
    [service.name],
    "no other pods",
  );
  assert.equal(monitor.spec.podMetricsEndpoints.length, 1);
  const [endpoint] = monitor.spec.podMetricsEndpoints;
  const ports = deployment.spec.template.spec.containers.flatMap((c: any) => c.ports ?? []);
  const port = ports.filter((p: any) => p.name === endpoint.port).map((p: any) => p.containerPort);
  assert.deepEqual(
    port,
    [service.health.metricsPort ?? service.port],
    `${service.name}: ${endpoint.port} names its metrics port`,
  );
  assert.equal(endpoint.path, service.health.metricsPath);
  const kps = ofType(run.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kps")!;
  assert.ok(mine[0].dependencies.includes(kps.urn), "declared after the chart that installs its CRD");
  const policy = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", service.name)!.inputs.spec;
  assert.ok(
    policy.ingress.some(
      (rule: any) =>
        rule.from.some(
          (peer: any) => peer.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "monitoring",
        ) && rule.ports.some((p: any) => p.port === port[0]),
    ),
    `${service.name}: Prometheus may reach port ${port[0]}`,
  );
  return targetLabels(monitor);
}

/** Every service's PodMonitor, the labels every service alert reads, and kube-prometheus-stack reading them. */
function assertPodMonitors(run: LayeredRun<StackOutputs>, catalog: Catalog): void {
  assert.equal(podMonitorsOf(run).length, catalog.services.length);
  const labelsOf = new Map(catalog.services.map((s) => [s.name, assertPodMonitor(run, catalog, s)]));
  const kps = ofType(run.resources, "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kps")!.inputs;
  const rules = kps.values.additionalPrometheusRulesMap.platform.groups.flatMap((g: any) => g.rules);
  const { checked, problems } = checkAlertRules(rules, labelsOf);
  assert.deepEqual(problems, []);
  for (const alert of [...catalog.services.map((s) => `ServiceDown/${s.name}`), "HighErrorRate", "HighLatency"])
    assert.ok(checked.includes(alert), `${alert} was checked`);
  const prometheus = kps.values.prometheus.prometheusSpec;
  assert.equal(prometheus.additionalScrapeConfigs, undefined, "nothing scraped through a Service");
  assert.equal(prometheus.podMonitorSelectorNilUsesHelmValues, false);
  assert.deepEqual(prometheus.podMonitorNamespaceSelector, {
    matchLabels: { "kubernetes.io/metadata.name": catalog.name },
  });
}

describe("prod program (aws target, under mocks)", () => {
  for (const name of BUILTIN_CATALOGS) {
    describe(`catalog ${name}`, () => {
      const catalog = loadCatalog(builtinCatalogPath(name));
      let run: LayeredRun<StackOutputs>;
      before(async () => {
        run = await seedProdRun(name);
      });

      it("builds a VPC over 3 AZs with public and private subnets, NAT per AZ and flow logs", () => {
        const subnets = inputsOf(run, "aws:ec2/subnet:Subnet");
        assert.equal(subnets.length, 6);
        assert.deepEqual([...new Set(subnets.map((s) => s.availabilityZone))].sort(), [
          "eu-west-1a",
          "eu-west-1b",
          "eu-west-1c",
        ]);
        assert.equal(inputsOf(run, "aws:ec2/natGateway:NatGateway").length, 3);
        assert.ok(subnets.every((s) => s.mapPublicIpOnLaunch !== true));
        const flowLog = inputsOf(run, "aws:ec2/flowLog:FlowLog")[0];
        assert.equal(flowLog.trafficType, "ALL");
        assert.ok(inputsOf(run, "aws:cloudwatch/logGroup:LogGroup")[0].kmsKeyId);
      });

      it("runs EKS with encrypted secrets, control-plane logs, a private endpoint, IRSA and add-ons", () => {
        const cluster = inputsOf(run, "aws:eks/cluster:Cluster")[0];
        assert.deepEqual(cluster.encryptionConfig.resources, ["secrets"]);
        assert.ok(cluster.encryptionConfig.provider.keyArn.startsWith("arn:aws:kms:"));
        assert.deepEqual(cluster.enabledClusterLogTypes, [
          "api",
          "audit",
          "authenticator",
          "controllerManager",
          "scheduler",
        ]);
        assert.equal(cluster.vpcConfig.endpointPrivateAccess, true);
        assert.equal(cluster.vpcConfig.endpointPublicAccess, false);
        const nodes = inputsOf(run, "aws:eks/nodeGroup:NodeGroup")[0];
        assert.equal(nodes.subnetIds.length, 3);
        assert.equal(inputsOf(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 1);
        assert.deepEqual(
          inputsOf(run, "aws:eks/addon:Addon")
            .map((a) => a.addonName)
            .sort(),
          ["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"],
        );
        const cni = inputsOf(run, "aws:eks/addon:Addon").find((a) => a.addonName === "vpc-cni")!;
        assert.deepEqual(JSON.parse(cni.configurationValues), { enableNetworkPolicy: "true" }, "policies enforced");
        assert.ok(inputsOf(run, "aws:kms/key:Key").every((k) => k.enableKeyRotation === true));
      });

      it("gives every PostgreSQL service a hardened RDS instance and a bootstrap job", () => {
        const postgres = catalog.services.filter((s) => s.database.kind === "postgres");
        const instances = inputsOf(run, "aws:rds/instance:Instance");
        assert.equal(instances.length, postgres.length);
        for (const instance of instances) {
          assert.equal(instance.storageEncrypted, true);
          assert.ok(instance.kmsKeyId);
          assert.equal(instance.multiAz, true);
          assert.ok(instance.backupRetentionPeriod >= 7);
          assert.equal(instance.deletionProtection, true);
          assert.equal(instance.publiclyAccessible, false);
          assert.equal(instance.iamDatabaseAuthenticationEnabled, true);
          assert.equal(instance.performanceInsightsEnabled, true);
        }
        for (const group of inputsOf(run, "aws:rds/parameterGroup:ParameterGroup")) {
          assert.ok(group.parameters.some((p: any) => p.name === "rds.force_ssl" && p.value === "1"));
        }
        const sg = ofType(run.resources, "aws:ec2/securityGroup:SecurityGroup").find((r) =>
          r.name.endsWith("-rds-sg"),
        )!;
        assert.equal(sg.inputs.ingress, undefined, "no inline rules");
        const rules = ofType(run.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) =>
          r.name.startsWith(sg.name),
        );
        assert.deepEqual(
          rules.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId, r.inputs.cidrIpv4]),
          [[5432, "sg-cluster", undefined]],
        );
        const jobs = inputsOf(run, "kubernetes:batch/v1:Job").filter(
          (job) => job.spec.template.metadata.labels["platform/job"] !== "replica-set-init",
        );
        assert.equal(jobs.length, postgres.length);
        // the namespace denies everything by default: the jobs get DNS and PostgreSQL in the VPC only
        const egress = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "database-bootstrap")!
          .inputs.spec;
        assert.deepEqual(egress.podSelector.matchLabels, { "platform/job": "database-bootstrap" });
        assert.ok(jobs.every((job) => job.spec.template.metadata.labels["platform/job"] === "database-bootstrap"));
        assert.deepEqual(egress.egress[1], { to: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ port: 5432 }] });
        const sql = inputsOf(run, "kubernetes:core/v1:ConfigMap").filter((c) => c.data?.["bootstrap.sql"]);
        for (const service of postgres) {
          const login = `${service.name.replace(/-/g, "_")}_app`;
          assert.ok(
            sql.some((c) => c.data["bootstrap.sql"].includes(`CREATE ROLE ${login} LOGIN`)),
            service.name,
          );
        }
      });

      it("backs up the RDS instances and the databases' volumes with AWS Backup into an encrypted vault", () => {
        const vault = inputsOf(run, "aws:backup/vault:Vault");
        assert.equal(vault.length, 1);
        assert.match(vault[0].kmsKeyArn, /^arn:aws:kms:/);
        const rule = inputsOf(run, "aws:backup/plan:Plan")[0].rules[0];
        assert.equal(rule.schedule, "cron(0 3 * * ? *)");
        assert.equal(rule.lifecycle.deleteAfter, 35);
        const selection = inputsOf(run, "aws:backup/selection:Selection")[0];
        const [tag] = selection.selectionTags;
        assert.equal(tag.key, "platform-backup");
        for (const instance of inputsOf(run, "aws:rds/instance:Instance"))
          assert.equal(instance.tags["platform-backup"], tag.value);
        for (const storage of inputsOf(run, "kubernetes:storage.k8s.io/v1:StorageClass"))
          assert.equal(storage.parameters.tagSpecification_1, `platform-backup=${tag.value}`);
        const attached = ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .map((r) => r.inputs.policyArn)
          .filter((arn: string) => arn.includes("AWSBackup"));
        assert.equal(attached.length, 2);
      });

      it("runs Redis on ElastiCache with failover and encryption, and Amazon MQ privately with the dev topology", () => {
        const groups = inputsOf(run, "aws:elasticache/replicationGroup:ReplicationGroup");
        assert.equal(groups.length, catalog.services.some((s) => s.cache) ? 1 : 0);
        for (const group of groups) {
          assert.equal(group.automaticFailoverEnabled, true);
          assert.equal(group.multiAzEnabled, true);
          assert.equal(group.transitEncryptionEnabled, true);
          assert.equal(group.atRestEncryptionEnabled, true);
          assert.ok(group.authToken);
        }
        const broker = inputsOf(run, "aws:mq/broker:Broker")[0];
        assert.equal(broker.publiclyAccessible, false);
        assert.equal(broker.deploymentMode, "CLUSTER_MULTI_AZ");
        const plan = planTopology(catalog);
        assert.equal(inputsOf(run, "rabbitmq:index/queue:Queue").length, plan.queues.length);
        // One login per service, and the queue-depth exporter's.
        assert.equal(inputsOf(run, "rabbitmq:index/user:User").length, plan.users.length + 1);
      });

      it("deploys each service hardened, with its own IRSA role, secret, HPA, PDB and network policy", () => {
        for (const service of catalog.services) {
          const deployment = named(run.resources, "kubernetes:apps/v1:Deployment", service.name)!.inputs;
          const pod = deployment.spec.template.spec;
          const container = pod.containers[0];
          assert.equal(pod.securityContext.runAsNonRoot, true);
          assert.equal(container.securityContext.readOnlyRootFilesystem, true);
          assert.equal(container.securityContext.allowPrivilegeEscalation, false);
          assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
          assert.equal(container.resources.limits.memory, service.resources.memory);
          assert.equal(container.livenessProbe.httpGet.path, service.health.path);
          assert.equal(container.readinessProbe.httpGet.path, service.health.readinessPath ?? service.health.path);
          assert.match(
            container.image,
            new RegExp(
              `^123456789012\\.dkr\\.ecr\\.eu-west-1\\.amazonaws\\.com/.+:${service.image!.split(":").pop()}$`,
            ),
          );
          assert.ok(
            !container.env.some(
              (e: any) =>
                /PASSWORD|URL$/.test(e.name) &&
                e.name !== "OTEL_EXPORTER_OTLP_ENDPOINT" &&
                !e.name.endsWith("_SERVICE_URL"),
            ),
            `${service.name}: credentials only in the Secret`,
          );
          const secret = named(run.resources, "kubernetes:core/v1:Secret", service.name)!.inputs;
          assert.equal(
            namesCarrying(service, "GATEWAY_JWT_SECRET").some((n) => n in secret.stringData),
            service.auth.issuesTokens,
            `${service.name}: the signing secret only where the catalog marks an issuer`,
          );
          const account = named(run.resources, "kubernetes:core/v1:ServiceAccount", service.name)!.inputs;
          assert.match(account.metadata.annotations["eks.amazonaws.com/role-arn"], /^arn:aws:iam::/);
          assert.ok(named(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", service.name));
          assert.ok(named(run.resources, "kubernetes:policy/v1:PodDisruptionBudget", service.name));
          const policy = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", service.name)!.inputs;
          assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
        }
        assert.deepEqual(
          named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny")!.inputs.spec,
          { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        );
        const repositories = inputsOf(run, "aws:ecr/repository:Repository");
        assert.equal(repositories.length, catalog.services.length);
        assert.ok(
          repositories.every(
            (r) => r.imageTagMutability === "IMMUTABLE" && r.imageScanningConfiguration.scanOnPush === true,
          ),
        );
      });

      it("runs each service as two pods at least, one of which a drain may take, and says so in the plan", () => {
        const budgets = inputsOf(run, "kubernetes:policy/v1:PodDisruptionBudget");
        for (const service of catalog.services) {
          const deployment = named(run.resources, "kubernetes:apps/v1:Deployment", service.name)!.inputs;
          const hpa = named(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", service.name)!.inputs;
          assert.equal(deployment.spec.replicas, undefined, `${service.name}: the autoscaler owns the count`);
          assert.equal(hpa.spec.scaleTargetRef.name, service.name);
          assert.equal(
            hpa.spec.minReplicas,
            Math.max(2, service.replicas),
            `${service.name}: catalog ${service.replicas}`,
          );
          const own = budgets.filter(
            (b) =>
              b.metadata.namespace === deployment.metadata.namespace &&
              selects(b.spec.selector, deployment.spec.template.metadata.labels),
          );
          assert.deepEqual(
            own.map((b) => b.spec.maxUnavailable),
            [1],
            `${service.name}: one budget selects its pods`,
          );
        }
        const plan = deployPlan(run.platform.resources);
        assert.deepEqual(plan.deployments, {
          singletons: [],
          replicated: catalog.services.map((s) => s.name).sort(),
        });
        assert.ok(
          renderDeployPlan("prod", plan).includes(
            `services: ${catalog.services.length} run at least 2 pods with a disruption budget; no singletons`,
          ),
        );
      });

      it("gives every StatefulSet's containers a startup probe on their engine's ready command", () => {
        for (const statefulSet of inputsOf(run, "kubernetes:apps/v1:StatefulSet")) {
          for (const container of statefulSet.spec.template.spec.containers) {
            const engine = DATABASE_ENGINES[container.name as keyof typeof DATABASE_ENGINES];
            assert.deepEqual(container.startupProbe?.exec?.command, engine.ready, statefulSet.metadata.name);
            assert.ok(container.startupProbe.failureThreshold * container.startupProbe.periodSeconds >= 300);
          }
        }
      });

      it("lets out to public addresses only the services that call outside, on their hosts' ports, naming the hosts", () => {
        for (const service of catalog.services) {
          const policy = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", service.name)!.inputs;
          const internet = policy.spec.egress.filter((rule: any) =>
            rule.to.some((peer: any) => peer.ipBlock?.cidr === INTERNET.cidr),
          );
          const hosts = OUTSIDE_HOSTS[name][service.name];
          if (!hosts) {
            assert.deepEqual(internet, [], `${service.name} calls nothing outside`);
            assert.equal(policy.metadata.annotations, undefined, service.name);
            continue;
          }
          const ports = [...new Set(hosts.split(",").map((host) => Number(host.split(":")[1])))];
          assert.deepEqual(
            internet,
            [{ to: [{ ipBlock: INTERNET }], ports: ports.map((port) => ({ port })) }],
            service.name,
          );
          assert.deepEqual(
            policy.metadata.annotations,
            { "platform/egress-hosts": hosts, "platform/vpc-cidr": "10.0.0.0/16" },
            service.name,
          );
        }
      });

      it("installs Kong, kube-prometheus-stack, Loki, Promtail, Jaeger and the Cluster Autoscaler as pinned Helm releases", () => {
        const releases = inputsOf(run, "kubernetes:helm.sh/v3:Release");
        assert.deepEqual(releases.map((r) => r.chart).sort(), [
          "cluster-autoscaler",
          "jaeger",
          "kong",
          "kube-prometheus-stack",
          "loki",
          "promtail",
        ]);
        assert.ok(releases.every((r) => /^\d+\.\d+\.\d+$/.test(r.version)));
        const kong = releases.find((r) => r.chart === "kong")!;
        assert.equal(
          kong.values.proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"],
          CERTIFICATE,
        );
        const kps = releases.find((r) => r.chart === "kube-prometheus-stack")!;
        const rules = kps.values.additionalPrometheusRulesMap.platform.groups[0].rules;
        assert.deepEqual(
          rules.filter((r: any) => r.alert === "ServiceDown").map((r: any) => r.labels.service),
          catalog.services.map((s) => s.name),
        );
        const dashboards = inputsOf(run, "kubernetes:core/v1:ConfigMap").filter(
          (c) => c.metadata.labels?.grafana_dashboard === "1",
        );
        assert.equal(dashboards.length, catalog.services.length + 1);
        const declarative = named(run.resources, "kubernetes:core/v1:Secret", "kong-declarative")!.inputs;
        const kongConfig = parse(declarative.stringData["kong.yml"]);
        for (const service of kongConfig.services)
          assert.match(
            service.url,
            new RegExp(`^http://${service.name}\\.${catalog.name}\\.svc\\.cluster\\.local:\\d+$`),
          );
        assert.deepEqual(checkKong(kongConfig), []);
        // Kong reads its declarative file only when it starts, and the chart checksums only an inline
        // dblessConfig.config (2.47.0, templates/deployment.yaml:51-53): the file's hash as a pod
        // annotation rolls the pods when a route, client or limit changes.
        assert.equal(
          kong.values.podAnnotations?.["checksum/declarative-config"],
          createHash("sha256").update(declarative.stringData["kong.yml"]).digest("hex"),
        );
        // Up to six Kong pods share one counter per consumer or address, in ElastiCache.
        const cacheHost = `master.${catalog.name}-cache-redis.cache.amazonaws.com`;
        for (const route of kongConfig.services.flatMap((s: any) => s.routes)) {
          const limit = route.plugins.find((p: any) => p.name === "rate-limiting").config;
          assert.deepEqual(
            [limit.policy, limit.limit_by, limit.redis.host, limit.redis.server_name, limit.redis.ssl_verify],
            ["redis", route.tags.includes("public") ? "ip" : "consumer", cacheHost, cacheHost, true],
          );
        }
        assert.deepEqual(
          ofType(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter(
            (p) => p.inputs.metadata?.namespace === "kong",
          ),
          [],
          "Kong's egress is not restricted; a policy there must admit the cache's port",
        );
      });

      it("scrapes every pod of each service through a PodMonitor on its named metrics port, labelled as the alert rules read", () => {
        assertPodMonitors(run, catalog);
      });

      it("makes the services' IRSA roles in the platform layer, under the runner's path and the infrastructure's boundary", async () => {
        const infrastructure = (await valueOf(run.infrastructure.result.infrastructure!)).value;
        const roles = ofType(run.platform.resources, "aws:iam/role:Role");
        assert.equal(roles.length, catalog.services.length);
        for (const role of roles) {
          assert.equal(role.inputs.path, `/platform/${catalog.name}-prod/`);
          assert.equal(role.inputs.permissionsBoundary, infrastructure.workloadBoundaryArn);
        }
        const boundary = ofType(run.infrastructure.resources, "aws:iam/policy:Policy").find(
          (p) => p.name === `${catalog.name}-workload-boundary`,
        )!;
        const deny = JSON.parse(boundary.inputs.policy).Statement.find((s: any) => s.Effect === "Deny");
        assert.ok(deny.Action.includes("iam:*"), "no workload role can touch IAM");
      });

      it("tags every taggable AWS resource through the provider's default tags", () => {
        const provider = ofType(run.resources, "pulumi:providers:aws")[0];
        assert.deepEqual(JSON.parse(provider.inputs.defaultTags).tags, {
          environment: "prod",
          owner: "platform-team",
          "cost-center": "cc-042",
          catalog: catalog.name,
          "managed-by": "pulumi",
        });
        const awsResources = run.resources.filter((r) => r.type.startsWith("aws:"));
        assert.ok(awsResources.length > 30);
        assert.ok(
          awsResources.every((r) => r.provider.includes("pulumi:providers:aws::")),
          "every AWS resource uses the tagging provider",
        );
      });

      it("keeps every secret secret and outputs the gateway, service URLs and a secret kubeconfig", async () => {
        const configSecrets = Object.values(CONFIG_SECRETS[name] ?? {}).flatMap((values) => Object.values(values));
        assert.deepEqual(plaintextOccurrences(run.resources, [...run.generatedSecrets, ...configSecrets]), []);
        const gatewayUrl = `https://${gatewayDomain(name)}`;
        assert.equal(
          (await valueOf(run.result.gatewayUrl as any)).value,
          gatewayUrl,
          "the domain the certificate covers",
        );
        assert.deepEqual(
          run.result.healthChecks.map((c) => c.name),
          ["gateway", ...(catalog.frontend ? [catalog.frontend.name] : [])],
        );
        assert.equal((await valueOf(run.result.healthChecks[0].url as any)).value, `${gatewayUrl}/platform/health`);
        // Every service, routed or not: its public base URLs, its in-cluster URL and a check an operator can run.
        const services = (await valueOf(pulumi.output(run.result.services))).value as Record<string, any>;
        assert.deepEqual(Object.keys(services).sort(), catalog.services.map((s) => s.name).sort());
        for (const service of catalog.services) {
          const internalUrl = `http://${service.name}.${name}.svc.cluster.local:${service.port}`;
          const publicUrls = service.routes.flatMap((r) => r.paths.map((p) => `${gatewayUrl}${p}`));
          assert.deepEqual(services[service.name].publicUrls, publicUrls);
          assert.equal(services[service.name].internalUrl, internalUrl);
          assert.match(
            services[service.name].healthCheck,
            new RegExp(
              `^kubectl -n ${name} port-forward deploy/${service.name} \\d+:${service.port} & .*curl -fsS http://127\\.0\\.0\\.1:\\d+${service.health.path};`,
            ),
          );
          assert.equal(
            (await valueOf(pulumi.output(run.result.serviceUrls[service.name]))).value,
            publicUrls[0] ?? internalUrl,
          );
        }
        assert.ok((await valueOf(run.result.kubeconfig!)).secret);
        assert.match((await valueOf(run.result.clusterName!)).value, /-eks$/);
        const clients = await valueOf(run.result.gatewayClients!);
        assert.ok(clients.secret);
        assert.deepEqual(clients.value, { default: (await valueOf(run.result.gatewayCredential!)).value });
        const secret = ofType(run.platform.resources, "random:index/randomPassword:RandomPassword").find(
          (r) => r.name === `${name}-gateway-credential-default`,
        );
        assert.deepEqual(secret?.aliases, [`${name}-gateway-credential`], "the credential older stacks have, kept");
      });

      it(
        catalog.frontend
          ? "serves the front end from a private bucket through CloudFront and WAF, the gateway's paths to the gateway"
          : "declares no CDN without a front end",
        async () => {
          const distributions = inputsOf(run, "aws:cloudfront/distribution:Distribution");
          if (!catalog.frontend) {
            assert.equal(distributions.length, 0);
            assert.equal(ofType(run.resources, "aws:s3/bucket:Bucket").length, 0);
            assert.equal(run.result.frontendUrl, undefined);
            return;
          }
          const [bucket] = ofType(run.resources, "aws:s3/bucket:Bucket");
          const ofBucket = (type: string) => inputsOf(run, type).filter((r) => r.bucket === `${bucket.name}-id`);
          assert.deepEqual(
            ofBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").map((b) => [
              b.blockPublicAcls,
              b.blockPublicPolicy,
              b.ignorePublicAcls,
              b.restrictPublicBuckets,
            ]),
            [[true, true, true, true]],
          );
          assert.equal(
            ofBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]
              .rules[0].applyServerSideEncryptionByDefault.sseAlgorithm,
            "AES256",
          );
          assert.equal(
            ofBucket("aws:s3/bucketVersioning:BucketVersioning")[0].versioningConfiguration.status,
            "Enabled",
          );
          assert.equal(
            ofBucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0].rule.objectOwnership,
            "BucketOwnerEnforced",
          );

          assert.equal(distributions.length, 1);
          const cdn = distributions[0];
          const [s3Origin, gatewayOrigin] = cdn.origins;
          assert.equal(s3Origin.domainName, `${bucket.name}-0123.s3.eu-west-1.amazonaws.com`);
          assert.ok(s3Origin.originAccessControlId, "the bucket is read through origin access control");
          assert.equal(gatewayOrigin.domainName, gatewayDomain(name));
          assert.deepEqual(
            [
              gatewayOrigin.customOriginConfig.originProtocolPolicy,
              gatewayOrigin.customOriginConfig.originSslProtocols,
            ],
            ["https-only", ["TLSv1.2"]],
          );
          assert.equal(cdn.defaultCacheBehavior.targetOriginId, s3Origin.originId);
          assert.equal(cdn.defaultCacheBehavior.viewerProtocolPolicy, "redirect-to-https");
          assert.equal(cdn.defaultCacheBehavior.functionAssociations[0].eventType, "viewer-request");
          const routePaths = [...new Set(catalog.services.flatMap((s) => s.routes.flatMap((r) => r.paths)))];
          assert.deepEqual(
            cdn.orderedCacheBehaviors.map((b: any) => b.pathPattern).sort(),
            [...routePaths, "/platform/health"].map((p) => `${p}*`).sort(),
          );
          assert.ok(
            cdn.orderedCacheBehaviors.every(
              (b: any) =>
                b.targetOriginId === gatewayOrigin.originId &&
                b.viewerProtocolPolicy === "https-only" &&
                b.allowedMethods.includes("POST"),
            ),
          );
          assert.deepEqual(cdn.viewerCertificate, { cloudfrontDefaultCertificate: true });

          const [acl] = inputsOf(run, "aws:wafv2/webAcl:WebAcl");
          assert.deepEqual([acl.scope, acl.region], ["CLOUDFRONT", "us-east-1"]);
          assert.equal(
            cdn.webAclId,
            `arn:aws:wafv2:us-east-1:123456789012:global/webacl/${ofType(run.resources, "aws:wafv2/webAcl:WebAcl")[0].name}`,
          );
          assert.deepEqual(
            acl.rules.map(
              (r: any) => r.statement.managedRuleGroupStatement?.name ?? `rate ${r.statement.rateBasedStatement.limit}`,
            ),
            [
              "rate 2000",
              "AWSManagedRulesCommonRuleSet",
              "AWSManagedRulesKnownBadInputsRuleSet",
              "AWSManagedRulesSQLiRuleSet",
            ],
          );

          const policy = JSON.parse(ofBucket("aws:s3/bucketPolicy:BucketPolicy")[0].policy);
          const read = policy.Statement.find((st: any) => st.Effect === "Allow");
          assert.deepEqual(read.Principal, { Service: "cloudfront.amazonaws.com" });
          assert.equal(
            read.Condition.StringEquals["AWS:SourceArn"],
            `arn:aws:cloudfront::123456789012:distribution/${ofType(run.resources, "aws:cloudfront/distribution:Distribution")[0].name}`,
          );
          assert.ok(
            policy.Statement.some(
              (st: any) => st.Effect === "Deny" && st.Condition.Bool["aws:SecureTransport"] === "false",
            ),
          );

          const cdnName = ofType(run.resources, "aws:cloudfront/distribution:Distribution")[0].name;
          assert.equal((await valueOf(run.result.frontendUrl as any)).value, `https://${cdnName}.cloudfront.net/`);
          assert.equal((await valueOf(run.result.frontendBucket!)).value, `${bucket.name}-0123`);
          assert.equal(
            (await valueOf(run.result.healthChecks[1].url as any)).value,
            `https://${cdnName}.cloudfront.net/`,
          );
        },
      );
    });
  }

  for (const name of BUILTIN_CATALOGS) {
    it(`runs a service the ${name} catalog marks singleton as one pod with no budget, and the plan names it`, async () => {
      const document = catalogDocument(name);
      const [singleton, ...others] = document.services;
      Object.assign(singleton, { singleton: true, replicas: 1 });
      const run = await runLayersUnderMocks(withCatalogFileLayers(prodLayers(name), writeCatalog(document)), () =>
        runProgram(projectDir),
      );
      const deployment = named(run.resources, "kubernetes:apps/v1:Deployment", singleton.name)!.inputs;
      assert.equal(deployment.spec.replicas, 1);
      assert.deepEqual(deployment.spec.strategy, { type: "Recreate" }, "never two at once, not even in a rollout");
      assert.equal(
        named(run.resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", singleton.name),
        undefined,
      );
      const budgets = inputsOf(run, "kubernetes:policy/v1:PodDisruptionBudget");
      assert.ok(!budgets.some((b) => selects(b.spec.selector, deployment.spec.template.metadata.labels)));
      for (const other of others) {
        assert.ok(named(run.resources, "kubernetes:policy/v1:PodDisruptionBudget", other.name), other.name);
      }
      assert.ok(
        renderDeployPlan("prod", deployPlan(run.platform.resources)).includes(
          `services: ${others.length} run at least 2 pods with a disruption budget; ` +
            `singletons (catalog singleton: true; one pod, stopped by a node drain): ${singleton.name}`,
        ),
      );
    });
  }

  it("runs MongoDB (a three-member replica set) and ClickHouse on EKS, one StatefulSet per service, reachable by that service only", async () => {
    const bookings = await runLayersUnderMocks(prodLayers("bookings"), () => runProgram(projectDir));
    const mongo = named(bookings.resources, "kubernetes:apps/v1:StatefulSet", "notification-service-db")!.inputs;
    assert.equal(mongo.metadata.namespace, "data");
    assert.equal(mongo.spec.replicas, 3);
    assert.equal(mongo.spec.volumeClaimTemplates[0].spec.storageClassName, "gp3-encrypted");
    assert.equal(mongo.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.match(
      mongo.spec.template.spec.containers[0].command[2],
      /--replSet rs0 --keyFile \/etc\/mongo-keyfile\/keyfile/,
    );
    const storage = ofType(bookings.resources, "kubernetes:storage.k8s.io/v1:StorageClass")[0].inputs;
    assert.deepEqual(storage.parameters, {
      type: "gp3",
      encrypted: "true",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/bookings-key",
      tagSpecification_1: "platform-backup=bookings-prod",
    });
    assert.equal(storage.reclaimPolicy, "Retain");
    const init = inputsOf(bookings, "kubernetes:batch/v1:Job").find(
      (j) => j.spec.template.metadata.labels["platform/job"] === "replica-set-init",
    )!;
    assert.match(
      init.spec.template.spec.containers[0].command[2],
      /--host notification-service-db-0\.notification-service-db\.data\.svc\.cluster\.local/,
    );
    const secret = named(bookings.resources, "kubernetes:core/v1:Secret", "notification-service")!.inputs.stringData;
    const members = [0, 1, 2]
      .map((i) => `notification-service-db-${i}.notification-service-db.data.svc.cluster.local:27017`)
      .join(",");
    assert.match(
      secret.DATABASE_URL,
      new RegExp(
        `^mongodb://notification_service_app:pw[0-9a-f]+@${members.replace(/\./g, "\\.")}/notification_service\\?authSource=notification_service&replicaSet=rs0$`,
      ),
    );
    const dbPolicy = named(
      bookings.resources,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "notification-service-db",
    )!.inputs.spec;
    assert.deepEqual(dbPolicy.ingress[1].from[0].podSelector, {
      matchLabels: { "app.kubernetes.io/name": "notification-service" },
    });
    const dataPolicies = inputsOf(bookings, "kubernetes:networking.k8s.io/v1:NetworkPolicy").filter(
      (p) => p.metadata.namespace === "data",
    );
    assert.deepEqual(dataPolicies.find((p) => p.metadata.name === "default-deny")!.spec, {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    assert.deepEqual(
      dbPolicy.egress[1],
      {
        to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "notification-service-db" } } }],
        ports: [{ port: 27017 }],
      },
      "members reach each other only",
    );
    const initPolicy = dataPolicies.find((p) => p.metadata.name === "notification-service-replica-set-init")!.spec;
    assert.deepEqual(initPolicy.podSelector.matchLabels, {
      "platform/job": "replica-set-init",
      "platform/service": "notification-service",
    });
    assert.deepEqual(initPolicy.egress[1].to[0].podSelector.matchLabels, {
      "app.kubernetes.io/name": "notification-service-db",
    });
    assert.equal(
      init.spec.template.metadata.labels["platform/service"],
      "notification-service",
      "the init policy selects the Job's pod",
    );
    const servicePolicy = named(
      bookings.resources,
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "notification-service",
    )!.inputs.spec;
    assert.ok(
      servicePolicy.egress.some(
        (rule: any) =>
          rule.to[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "data" &&
          rule.ports[0].port === 27017,
      ),
    );
    const otherPolicy = named(bookings.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "auth-service")!
      .inputs.spec;
    assert.ok(
      !otherPolicy.egress.some(
        (rule: any) => rule.to[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "data",
      ),
      "only the owner reaches it",
    );
    assert.deepEqual(plaintextOccurrences(bookings.resources, bookings.generatedSecrets), []);

    const reservei = await runLayersUnderMocks(prodLayers("reservei", { inClusterDatabases: { storageGb: 50 } }), () =>
      runProgram(projectDir),
    );
    const clickhouse = named(reservei.resources, "kubernetes:apps/v1:StatefulSet", "analytics-service-db")!.inputs;
    assert.equal(clickhouse.spec.replicas, 1);
    assert.equal(clickhouse.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "50Gi");
    const analytics = named(reservei.resources, "kubernetes:core/v1:Secret", "analytics-service")!.inputs.stringData;
    assert.match(
      analytics.CLICKHOUSE_URL,
      /^http:\/\/analytics_service_app:pw[0-9a-f]+@analytics-service-db-0\.analytics-service-db\.data\.svc\.cluster\.local:8123\/analytics_service$/,
    );
    assert.deepEqual(plaintextOccurrences(reservei.resources, reservei.generatedSecrets), []);
  });

  it("uploads the front end's build, serves it on the configured domains with their certificate, and rate-limits as configured", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "frontend-"));
    const catalogText = parse(fs.readFileSync(builtinCatalogPath("user-enrichment"), "utf8"));
    catalogText.frontend.assetsDir = "dist";
    fs.writeFileSync(path.join(dir, "catalog.yaml"), stringify(catalogText));
    fs.mkdirSync(path.join(dir, "dist", "assets"), { recursive: true });
    fs.writeFileSync(path.join(dir, "dist", "index.html"), "<!doctype html><div id=root></div>");
    fs.writeFileSync(path.join(dir, "dist", "assets", "app.1a2b.js"), "console.log(1)");
    const webCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/11112222-3333-4444-5555-666677778888";
    const webLayers = prodLayers("user-enrichment", {
      frontend: { certificateArn: webCertificate, aliases: ["app.example.com"], rateLimitPer5Minutes: 500 },
    });
    const layers = withCatalogFileLayers(webLayers, path.join(dir, "catalog.yaml"));
    const run = await runLayersUnderMocks(layers, () => runProgram(projectDir));
    const objects = inputsOf(run, "aws:s3/bucketObjectv2:BucketObjectv2");
    assert.deepEqual(
      objects.map((o) => [o.key, o.contentType, o.cacheControl]),
      [
        ["assets/app.1a2b.js", "text/javascript; charset=utf-8", "public, max-age=86400"],
        ["index.html", "text/html; charset=utf-8", "no-cache"],
      ],
    );
    const cdn = inputsOf(run, "aws:cloudfront/distribution:Distribution")[0];
    assert.deepEqual(cdn.aliases, ["app.example.com"]);
    assert.deepEqual(cdn.viewerCertificate, {
      acmCertificateArn: webCertificate,
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
    assert.equal(inputsOf(run, "aws:wafv2/webAcl:WebAcl")[0].rules[0].statement.rateBasedStatement.limit, 500);
    assert.equal((await valueOf(run.result.frontendUrl as any)).value, "https://app.example.com/");
  });

  it("scrapes a service whose metrics port is not its HTTP port on that port, by its name", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metrics-port-"));
    try {
      const file = path.join(dir, "catalog.yaml");
      const service = (name: string, port: number, health: Record<string, unknown> = {}) => ({
        name,
        image: `shop/${name}:1.0.0`,
        port,
        replicas: 3,
        resources: { cpu: "250m", memory: "256Mi" },
        health,
        routes: [{ paths: [`/${name}`] }],
      });
      const services = [service("orders", 8080, { metricsPort: 9100, metricsPath: "/prom" }), service("mailer", 8081)];
      fs.writeFileSync(file, stringify({ name: "shop", services }));
      const layers = withCatalogFileLayers(prodLayers("shop"), file);
      const run = await runLayersUnderMocks(layers, () => runProgram(projectDir));
      assertPodMonitors(run, loadCatalog(file));
      const endpoint = (name: string) =>
        podMonitorsOf(run).find((m) => m.inputs.metadata.name === name)!.inputs.spec.podMetricsEndpoints[0];
      assert.deepEqual([endpoint("orders").port, endpoint("orders").path], ["metrics", "/prom"]);
      assert.deepEqual([endpoint("mailer").port, endpoint("mailer").path], ["http", "/metrics"]);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it("gives each gateway client its own consumer and secret credential, and makes ElastiCache for Kong's counters when no service caches", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clients-"));
    const catalogText = parse(fs.readFileSync(builtinCatalogPath("bookings"), "utf8"));
    for (const service of catalogText.services) delete service.cache;
    fs.writeFileSync(path.join(dir, "catalog.yaml"), stringify(catalogText));
    const clients = [{ name: "mobile-app" }, { name: "partner", credential: "key-auth", rateLimitPerMinute: 600 }];
    const layers = withCatalogFileLayers(
      prodLayers("bookings", {}, { "platform:gateway": JSON.stringify({ clients }) }),
      path.join(dir, "catalog.yaml"),
    );
    const run = await runLayersUnderMocks(layers, () => runProgram(projectDir));
    assert.equal(inputsOf(run, "aws:elasticache/replicationGroup:ReplicationGroup").length, 1, "for Kong alone");
    const config = parse(
      named(run.resources, "kubernetes:core/v1:Secret", "kong-declarative")!.inputs.stringData["kong.yml"],
    );
    assert.deepEqual(checkKong(config), []);
    const limit = config.services[0].routes[0].plugins[0].config;
    assert.equal(limit.policy, "redis");
    assert.equal(limit.redis.host, "master.bookings-cache-redis.cache.amazonaws.com");
    const token = (await valueOf(run.infrastructure.result.infrastructureSecrets!)).value.cacheAuthToken;
    assert.equal(limit.redis.password, token, "the cache's AUTH token");

    const outputs = await valueOf(run.result.gatewayClients!);
    assert.ok(outputs.secret, "gatewayClients is a secret output");
    const mobile = outputs.value["mobile-app"] as { kind: "jwt"; issuer: string; secret: string };
    const partner = outputs.value.partner as { kind: "key-auth"; key: string };
    assert.deepEqual([mobile.kind, mobile.issuer, partner.kind], ["jwt", "bookings-mobile-app-issuer", "key-auth"]);
    assert.notEqual(mobile.secret, partner.key);
    assert.ok([mobile.secret, partner.key].every((value) => run.generatedSecrets.includes(value)));
    assert.deepEqual(
      config.consumers.map((c: any) => [c.username, c.jwt_secrets?.[0].secret ?? c.keyauth_credentials?.[0].key]),
      [
        ["mobile-app", mobile.secret],
        ["partner", partner.key],
        ["anonymous", undefined],
      ],
    );
    assert.deepEqual((await valueOf(run.result.gatewayCredential!)).value, mobile, "the first client's");
    const auth = named(run.resources, "kubernetes:core/v1:Secret", "auth-service")!.inputs.stringData;
    assert.equal(auth.GATEWAY_JWT_SECRET, mobile.secret, "token issuers sign for the first jwt client");
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
    assert.deepEqual(await checkStack("prod", layers), [], "the policy pack passes it");
  });

  it("puts MongoDB services on one hardened DocumentDB cluster when asked, each with its own login, verifying TLS with the CA bundle", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("bookings", { mongodb: { mode: "documentdb", instances: 2 }, rdsCaBundleFile: TEST_CA_BUNDLE }),
      () => runProgram(projectDir),
    );
    assert.equal(
      named(run.resources, "kubernetes:apps/v1:StatefulSet", "notification-service-db"),
      undefined,
      "no replica set on EKS",
    );
    const [cluster] = inputsOf(run, "aws:docdb/cluster:Cluster");
    assert.deepEqual(
      [cluster.storageEncrypted, cluster.deletionProtection, cluster.skipFinalSnapshot, cluster.backupRetentionPeriod],
      [true, true, false, 7],
    );
    assert.equal(cluster.kmsKeyId, "arn:aws:kms:eu-west-1:123456789012:key/bookings-key");
    assert.equal(cluster.tags["platform-backup"], "bookings-prod", "in the AWS Backup plan");
    assert.match(cluster.masterUsername, /^[A-Za-z][A-Za-z0-9]{0,62}$/, "DocumentDB's rule for the master user name");
    assert.deepEqual(
      inputsOf(run, "aws:docdb/clusterParameterGroup:ClusterParameterGroup")[0].parameters.find(
        (p: any) => p.name === "tls",
      ).value,
      "enabled",
    );
    assert.equal(inputsOf(run, "aws:docdb/clusterInstance:ClusterInstance").length, 2);
    const ingress = inputsOf(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.fromPort === 27017,
    );
    assert.equal(ingress.length, 1);
    assert.equal(
      ingress[0].referencedSecurityGroupId,
      inputsOf(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").find((r) => r.fromPort === 5432)!
        .referencedSecurityGroupId,
      "from the nodes, as RDS",
    );

    // One bundle, the stack's file, verifies DocumentDB and RDS alike.
    const [ca] = inputsOf(run, "kubernetes:core/v1:ConfigMap").filter((c) => c.metadata?.name === "rds-ca");
    assert.equal(ca.data["rds-ca-bundle.pem"], fs.readFileSync(TEST_CA_BUNDLE, "utf8"));
    const job = inputsOf(run, "kubernetes:batch/v1:Job").find(
      (j) => j.spec.template.metadata.labels["platform/job"] === "documentdb-bootstrap",
    )!;
    assert.match(
      job.spec.template.spec.containers[0].command[2],
      /tls=true&tlsCAFile=\/etc\/rds-ca\/rds-ca-bundle\.pem/,
    );
    const script = inputsOf(run, "kubernetes:core/v1:ConfigMap").find((c) => c.data?.["login.js"])!.data["login.js"];
    assert.match(script, /getSiblingDB\("admin"\)/);
    assert.match(script, /process\.env\["SERVICE_PASSWORD"\]/);

    const secret = named(run.resources, "kubernetes:core/v1:Secret", "notification-service")!.inputs.stringData;
    assert.match(
      secret.DATABASE_URL,
      /^mongodb:\/\/notification_service_app:pw[0-9a-f]+@bookings-docdb-cluster\.cluster-[^/]+:27017\/notification_service\?tls=true&tlsCAFile=\/etc\/rds-ca\/rds-ca-bundle\.pem&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false&authSource=admin$/,
    );
    const deployment = named(run.resources, "kubernetes:apps/v1:Deployment", "notification-service")!.inputs.spec
      .template.spec;
    assert.deepEqual(
      deployment.containers[0].volumeMounts.find((m: any) => m.name === "trust-bundle"),
      { name: "trust-bundle", mountPath: "/etc/rds-ca", readOnly: true },
    );
    // A PostgreSQL service on RDS verifies its instance with the same bundle.
    const auth = named(run.resources, "kubernetes:apps/v1:Deployment", "auth-service")!.inputs.spec.template.spec;
    assert.deepEqual(auth.volumes[1], { name: "trust-bundle", configMap: { name: "rds-ca" } });
    assert.match(
      named(run.resources, "kubernetes:core/v1:Secret", "auth-service")!.inputs.stringData.DATABASE_URL,
      /\?sslmode=verify-full&sslrootcert=\/etc\/rds-ca\/rds-ca-bundle\.pem$/,
    );
    const egress = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "notification-service")!.inputs
      .spec.egress;
    assert.ok(egress.some((rule: any) => rule.to[0].ipBlock && rule.ports.some((p: any) => p.port === 27017)));
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("runs RabbitMQ on EKS through the operators, the plan as their objects, when the broker is in-cluster", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("erp", { broker: { mode: "in-cluster" } }, { "platform:sentryDsn": SENTRY_DSN }),
      () => runProgram(projectDir),
    );
    assert.equal(ofType(run.resources, "aws:mq/broker:Broker").length, 0);
    assert.equal(ofType(run.resources, "rabbitmq:index/queue:Queue").length, 0);
    const cluster = named(run.resources, "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster", "rabbitmq")!.inputs.spec;
    assert.deepEqual([cluster.replicas, cluster.image], [3, RABBITMQ.image], "the dev broker's image");
    const objects = (kind: string) => ofType(run.resources, `kubernetes:rabbitmq.com/v1beta1:${kind}`);
    const plan = planTopology(loadCatalog(builtinCatalogPath("erp")));
    const namesOf = (kind: string, name: (inputs: any) => string) =>
      objects(kind)
        .map((o) => name(o.inputs))
        .sort();
    assert.deepEqual(
      namesOf("Queue", (q) => q.spec.name),
      plan.queues.map((q) => q.name).sort(),
    );
    assert.deepEqual(
      namesOf("User", (u) => u.metadata.name),
      plan.users.map((u) => u.username).sort(),
    );
    // Seed 001's Laravel names: the broker's address in the Deployment, the login's password in the Secret.
    const sales = named(run.resources, "kubernetes:core/v1:Secret", "sales-service")!.inputs.stringData;
    const salesEnv = Object.fromEntries(
      named(
        run.resources,
        "kubernetes:apps/v1:Deployment",
        "sales-service",
      )!.inputs.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(salesEnv.RABBITMQ_HOST, "rabbitmq.messaging.svc.cluster.local");
    assert.equal(salesEnv.RABBITMQ_PORT, "5672");
    assert.equal(salesEnv.RABBITMQ_USER, "sales-service");
    assert.match(sales.RABBITMQ_PASSWORD, /^pw[0-9a-f]+$/);
    assert.equal(sales.SENTRY_DSN, undefined, "envContract none: only the names the service declares");
    assert.deepEqual(plaintextOccurrences(run.resources, [SENTRY_DSN]), []);
    const policy = named(run.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "sales-service")!.inputs;
    assert.ok(
      policy.spec.egress.some(
        (rule: any) =>
          rule.to[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "messaging" &&
          rule.ports[0].port === 5672,
      ),
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("makes the logins with @pulumi/postgresql instead of Jobs when pulumi runs inside the VPC", async () => {
    const run = await runLayersUnderMocks(prodLayers("finance", { rds: { bootstrap: "provider" } }), () =>
      runProgram(projectDir),
    );
    assert.equal(ofType(run.resources, "kubernetes:batch/v1:Job").length, 0);
    const providers = ofType(run.resources, "pulumi:providers:postgresql").map((p) => p.inputs);
    assert.equal(providers.length, 2);
    assert.ok(
      providers.every((p) => p.sslmode === "require" && p.superuser === "false" && /rds\.amazonaws\.com$/.test(p.host)),
    );
    const roles = ofType(run.resources, "postgresql:index/role:Role")
      .map((r) => r.inputs.name)
      .sort();
    assert.deepEqual(roles, ["auth_service_app", "transaction_service_app"]);
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("installs the ELK charts instead of Loki when asked, with Grafana reading through the setup's login", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("bookings", {}, { "platform:observability": JSON.stringify({ logs: "elk" }) }),
      () => runProgram(projectDir),
    );
    const charts = ofType(run.resources, "kubernetes:helm.sh/v3:Release")
      .map((r) => r.inputs.chart)
      .sort();
    assert.deepEqual(charts, [
      "cluster-autoscaler",
      "elasticsearch",
      "filebeat",
      "jaeger",
      "kibana",
      "kong",
      "kube-prometheus-stack",
      "logstash",
    ]);
    const logins = named(run.resources, "kubernetes:core/v1:Secret", "logs-logins")!.inputs.stringData;
    const kps = ofType(run.resources, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.chart === "kube-prometheus-stack",
    )!.inputs;
    // The chart renders the datasource into a ConfigMap: Grafana's container holds the password, from a Secret.
    const datasource = kps.values.grafana.additionalDataSources.find((d: any) => d.type === "elasticsearch");
    assert.equal(datasource.secureJsonData.basicAuthPassword, "${GRAFANA_LOGS_READER_PASSWORD}");
    const reader = named(run.resources, "kubernetes:core/v1:Secret", "grafana-logs-reader")!.inputs;
    assert.equal(reader.metadata.namespace, "monitoring");
    assert.equal(reader.stringData.password, logins.GRAFANA_READER_PASSWORD);
    assert.deepEqual(kps.values.grafana.envValueFrom, {
      GRAFANA_LOGS_READER_PASSWORD: { secretKeyRef: { name: "grafana-logs-reader", key: "password" } },
    });
    const logstash = ofType(run.resources, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.chart === "logstash",
    )!.inputs;
    assert.match(
      logstash.values.logstashPipeline["logstash.conf"],
      /hosts => \["https:\/\/elasticsearch-master:9200"\]/,
    );
    const dashboards = ofType(run.resources, "kubernetes:core/v1:ConfigMap").filter(
      (c) => c.inputs.metadata.labels?.grafana_dashboard === "1",
    );
    assert.ok(
      dashboards.some((d) =>
        Object.values(d.inputs.data as Record<string, string>)[0].includes('"type": "elasticsearch"'),
      ),
    );
    assert.deepEqual(plaintextOccurrences(run.resources, run.generatedSecrets), []);
  });

  it("uses one NAT gateway, one shared RDS instance, a public API for the deploying address and the load balancer's name when configured", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("erp", {
        natGateways: "single",
        rds: { mode: "shared" },
        deployFrom: "public-endpoint",
        eks: { publicAccessCidrs: ["203.0.113.7/32"] },
        broker: { mode: "in-cluster" },
        gatewayDomain: undefined,
      }),
      () => runProgram(projectDir),
    );
    assert.equal(
      (await valueOf(run.result.gatewayUrl as any)).value,
      "https://kong-proxy-0123.elb.eu-west-1.amazonaws.com",
      "the load balancer's name without a gateway domain",
    );
    assert.equal(ofType(run.resources, "aws:ec2/natGateway:NatGateway").length, 1);
    assert.equal(ofType(run.resources, "aws:rds/instance:Instance").length, 1);
    assert.equal(ofType(run.resources, "kubernetes:batch/v1:Job").length, 5);
    const cluster = ofType(run.resources, "aws:eks/cluster:Cluster")[0].inputs;
    assert.equal(cluster.vpcConfig.endpointPublicAccess, true);
    assert.deepEqual(cluster.vpcConfig.publicAccessCidrs, ["203.0.113.7/32"]);
    assert.equal(ofType(run.resources, "platform:aws:DeployRunner").length, 0, "no runner without deployFrom runner");
  });
});
