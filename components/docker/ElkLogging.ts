import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import {
  FILEBEAT_HTTP_PORT,
  GRAFANA_READER,
  elasticsearchSetupScript,
  filebeatConfig,
  logstashPipeline,
  logstashSettings,
} from "../observability/logsConfig";
import { ScrapeJob } from "../observability/prometheusConfig";
import { LogsBackendArgs } from "./LokiLogging";
import { healthcheck, httpGet, loopbackPort, shellHealthcheck } from "./containerDefaults";
import { OneShot, SharedContainerArgs, oneShotContainer, platformContainer } from "./hostContainer";

const LOGSTASH_API_PORT = 9600;
const KIBANA_PORT = 5601;

/**
 * The seeds' ELK option with security on: Elasticsearch (random elastic password), a one-shot
 * setup of least-privilege logins, Logstash writing data streams, Filebeat shipping container
 * logs, and Kibana on 127.0.0.1.
 */
export class ElkLogging extends pulumi.ComponentResource {
  readonly logs = "elk" as const;
  readonly scrapeJobs: ScrapeJob[] = [];
  readonly url: string;
  readonly elasticsearchReader: pulumi.Output<{ username: string; password: string }>;

  constructor(name: string, args: LogsBackendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:docker:ElkLogging", name, {}, opts);
    const passwords = elkPasswords(name, this);
    const context: ElkContext = {
      name,
      args,
      common: { namePrefix: args.namePrefix, networks: [args.network], labels: args.labels },
      parent: this,
    };
    const node = elasticsearch(context, passwords);
    const setup = loginSetup(context, passwords, node);
    const pipeline = logstash(context, passwords, setup);
    filebeat(context, pipeline);
    kibana(context, passwords, setup);

    this.url = `http://127.0.0.1:${args.kibanaHostPort}`;
    this.elasticsearchReader = pulumi.secret(
      passwords.reader.apply((pw) => ({ username: GRAFANA_READER, password: pw })),
    );
    this.registerOutputs({ url: this.url });
  }
}

/** What every phase builds on; `parent` is the ElkLogging component. */
interface ElkContext {
  name: string;
  args: LogsBackendArgs;
  /** Prefix, network and labels that every ELK container shares. */
  common: SharedContainerArgs;
  parent: pulumi.Resource;
}

/** The elastic superuser's password and those of the least-privilege logins the setup creates. */
interface ElkPasswords {
  elastic: pulumi.Output<string>;
  kibana: pulumi.Output<string>;
  writer: pulumi.Output<string>;
  reader: pulumi.Output<string>;
}

function elkPasswords(name: string, parent: pulumi.Resource): ElkPasswords {
  const password = (purpose: string) =>
    new random.RandomPassword(`${name}-${purpose}-password`, { length: 32, special: false }, { parent }).result;
  return {
    elastic: password("elastic"),
    kibana: password("kibana"),
    writer: password("logstash-writer"),
    reader: password("grafana-reader"),
  };
}

/** Container env as KEY=value lines, secret since most carry a password. */
function secretEnv(values: Record<string, pulumi.Input<string>>): pulumi.Output<string[]> {
  return pulumi.secret(pulumi.all(Object.entries(values).map(([k, v]) => pulumi.interpolate`${k}=${v}`)));
}

function elasticsearch({ name, args, common, parent }: ElkContext, passwords: ElkPasswords): docker.Container {
  return platformContainer(
    `${name}-elasticsearch`,
    {
      ...common,
      host: "elasticsearch",
      image: args.images.elasticsearch,
      settings: {
        envs: secretEnv({
          "discovery.type": "single-node",
          "xpack.security.enabled": "true",
          "xpack.security.http.ssl.enabled": "false",
          "xpack.security.transport.ssl.enabled": "false",
          ES_JAVA_OPTS: "-Xms512m -Xmx512m",
          ELASTIC_PASSWORD: passwords.elastic,
        }),
        memory: args.memory.elasticsearch,
        healthcheck: shellHealthcheck(
          'curl -fsS -u "elastic:$ELASTIC_PASSWORD" http://127.0.0.1:9200/_cluster/health >/dev/null',
          { retries: 30, startPeriod: "30s" },
        ),
        wait: true,
        waitTimeout: 300,
      },
    },
    { parent },
  );
}

/** The one-shot setup of the Kibana, Logstash-writer and Grafana-reader logins. */
function loginSetup(
  { name, args, common, parent }: ElkContext,
  passwords: ElkPasswords,
  node: docker.Container,
): OneShot {
  return oneShotContainer(
    `${name}-setup`,
    {
      ...common,
      host: "elasticsearch-setup",
      image: args.images.curl,
      files: { "/setup/setup.sh": elasticsearchSetupScript() },
      settings: {
        command: ["sh", "/setup/setup.sh"],
        envs: secretEnv({
          ELASTIC_PASSWORD: passwords.elastic,
          KIBANA_PASSWORD: passwords.kibana,
          LOGSTASH_WRITER_PASSWORD: passwords.writer,
          GRAFANA_READER_PASSWORD: passwords.reader,
        }),
        memory: args.memory.oneShot,
      },
    },
    { parent, dependsOn: [node] },
  );
}

function logstash(
  { name, args, common, parent }: ElkContext,
  passwords: ElkPasswords,
  setup: OneShot,
): docker.Container {
  return platformContainer(
    `${name}-logstash`,
    {
      ...common,
      host: "logstash",
      image: args.images.logstash,
      files: {
        "/usr/share/logstash/pipeline/logstash.conf": logstashPipeline(args.selection.catalog),
        "/usr/share/logstash/config/logstash.yml": stringify(logstashSettings()),
      },
      settings: {
        envs: secretEnv({ LOGSTASH_WRITER_PASSWORD: passwords.writer, LS_JAVA_OPTS: "-Xms256m -Xmx256m" }),
        memory: args.memory.logstash,
        // The default (Ubuntu) image installs curl (docker/templates/Dockerfile.erb); the API answers once Logstash runs.
        healthcheck: healthcheck(httpGet("curl", LOGSTASH_API_PORT, "/"), { startPeriod: "60s" }),
      },
    },
    // Its writer login exists once the setup exited 0.
    { parent, dependsOn: [setup.succeeded] },
  );
}

function filebeat({ name, args, common, parent }: ElkContext, pipeline: docker.Container): void {
  platformContainer(
    `${name}-filebeat`,
    {
      ...common,
      host: "filebeat",
      image: args.images.filebeat,
      files: { "/usr/share/filebeat/filebeat.yml": stringify(filebeatConfig(args.selection)) },
      settings: {
        // Root only to read other containers' log files; mounts are read-only.
        user: "root",
        command: ["filebeat", "-e", "--strict.perms=false"],
        volumes: [
          { hostPath: "/var/lib/docker/containers", containerPath: "/var/lib/docker/containers", readOnly: true },
          { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true },
        ],
        memory: args.memory.filebeat,
        // Beats images ship curl (Elastic's own apm-integration-testing probes them this way); the
        // endpoint is on loopback (filebeatConfig).
        healthcheck: healthcheck(httpGet("curl", FILEBEAT_HTTP_PORT, "/")),
      },
    },
    { parent, dependsOn: [pipeline] },
  );
}

function kibana({ name, args, common, parent }: ElkContext, passwords: ElkPasswords, setup: OneShot): void {
  platformContainer(
    `${name}-kibana`,
    {
      ...common,
      host: "kibana",
      image: args.images.kibana,
      settings: {
        envs: secretEnv({
          ELASTICSEARCH_HOSTS: '["http://elasticsearch:9200"]',
          ELASTICSEARCH_USERNAME: "kibana_system",
          ELASTICSEARCH_PASSWORD: passwords.kibana,
        }),
        ports: [loopbackPort(KIBANA_PORT, args.kibanaHostPort)],
        memory: args.memory.kibana,
        // Kibana's image installs curl; `/` answers 503 until Kibana is ready, then redirects to the
        // login (a 3xx, which curl -f accepts).
        healthcheck: healthcheck(httpGet("curl", KIBANA_PORT, "/"), { retries: 12, startPeriod: "60s" }),
      },
    },
    // kibana_system's password is set once the setup exited 0.
    { parent, dependsOn: [setup.succeeded] },
  );
}
