import { DEPLOYMENT, firstContainer, goodPod, pod, resource, RuleCase } from "./fixtures";

const CONTAINER = "docker:index/container:Container";
const SECRET = "kubernetes:core/v1:Secret";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const withEnv = (...env: Array<Record<string, unknown>>) => pod((p) => firstContainer(p).env.push(...env));
const configMap = (data: Record<string, string>, secretPaths?: Array<Array<string | number>>) =>
  resource(CONFIG_MAP, { metadata: { name: "settings" }, data }, "settings", { secretPaths });

const RELEASE = "kubernetes:helm.sh/v3:Release";
const grafanaDatasourcePath = ["values", "grafana", "additionalDataSources", 0, "secureJsonData", "basicAuthPassword"];
const elasticsearchDatasource = (password: string) => ({
  name: "Elasticsearch",
  type: "elasticsearch",
  basicAuth: true,
  basicAuthUser: "grafana_reader",
  secureJsonData: { basicAuthPassword: password },
});
const kpsRelease = (datasources: unknown[], secretPaths?: Array<Array<string | number>>, name = "kps") =>
  resource(
    RELEASE,
    { chart: "kube-prometheus-stack", values: { grafana: { additionalDataSources: datasources } } },
    name,
    { secretPaths },
  );

export const SECRET_CASES: Record<string, RuleCase> = {
  "no-default-credentials": {
    bad: [
      {
        why: "a seed's default in a container",
        resources: [resource(CONTAINER, { envs: ["RABBITMQ_DEFAULT_PASS=admin123"] })],
        says: ["RABBITMQ_DEFAULT_PASS holds a default credential"],
      },
      {
        why: "a lower-case key (admin-password) in a Secret",
        resources: [resource(SECRET, { stringData: { "admin-password": "Admin" } })],
        says: ["admin-password holds a default credential"],
      },
      {
        why: "a short password in a Secret's base64 data",
        resources: [resource(SECRET, { data: { DB_PASSWORD: Buffer.from("short").toString("base64") } })],
        says: ["DB_PASSWORD is shorter than 12 characters"],
      },
      {
        why: "guest as a login",
        resources: [resource(CONTAINER, { envs: ["RABBITMQ_DEFAULT_USER=guest"] })],
        says: ["RABBITMQ_DEFAULT_USER holds a default credential"],
      },
      {
        why: "a chart's admin password",
        resources: [
          resource("kubernetes:helm.sh/v3:Release", { chart: "grafana", values: { adminPassword: "changeme" } }),
        ],
        says: ["adminPassword holds a default credential"],
      },
      {
        why: "a workload's env",
        resources: [resource(DEPLOYMENT, withEnv({ name: "ADMIN_PASSWORD", value: "password" }))],
        says: ["ADMIN_PASSWORD holds a default credential"],
      },
      {
        why: "a master password and a broker user",
        resources: [
          resource("aws:rds/instance:Instance", { password: "postgres" }, "db"),
          resource("aws:mq/broker:Broker", { users: [{ username: "guest", password: "guest-password-long" }] }, "mq"),
        ],
        says: ["password holds a default credential", "username holds a default credential"],
      },
      {
        why: "a generator of short passwords",
        resources: [resource("random:index/randomPassword:RandomPassword", { length: 10 })],
        says: ["generates 10-character passwords"],
      },
    ],
    good: [
      {
        why: "generated values, a known user name, settings about credentials",
        resources: [
          resource(CONTAINER, {
            envs: [
              "RABBITMQ_DEFAULT_PASS=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
              "GF_SECURITY_ADMIN_USER=admin",
              "PASSWORD_MIN_LENGTH=8",
            ],
          }),
          resource("random:index/randomPassword:RandomPassword", { length: 32 }),
        ],
      },
      {
        why: "a third party's 12-character password, a chart pointing at an existing Secret",
        resources: [
          resource(SECRET, { stringData: { SMTP_PASSWORD: "k7#Lm2pQ9xZw" } }),
          resource("kubernetes:helm.sh/v3:Release", {
            chart: "grafana",
            values: { admin: { existingSecret: "grafana-admin", passwordKey: "admin-password" } },
          }),
        ],
      },
    ],
  },
  "no-plaintext-secret-env": {
    bad: [
      {
        why: "a credential's name on a value",
        resources: [resource(DEPLOYMENT, withEnv({ name: "API_TOKEN", value: "t0k3n-abc" }))],
        says: ["container orders: API_TOKEN is a plain env value holding a credential"],
      },
      {
        why: "a URL with a password, whatever its name",
        resources: [resource(DEPLOYMENT, withEnv({ name: "UPSTREAM", value: "amqps://orders:pw123456@mq:5671/shop" }))],
        says: ["container orders: UPSTREAM is a plain env value holding a URL with a password"],
      },
      {
        why: "a Pulumi secret under a harmless name, in a CronJob",
        resources: [
          resource(
            "kubernetes:batch/v1:CronJob",
            {
              spec: {
                jobTemplate: {
                  spec: {
                    template: { spec: { containers: [{ name: "report", env: [{ name: "LOGIN", value: "x1" }] }] } },
                  },
                },
              },
            },
            "report",
            { secretPaths: [["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "env", 0, "value"]] },
          ),
        ],
        says: ["container report: LOGIN is a plain env value holding a Pulumi secret"],
      },
    ],
    good: [
      {
        why: "values from Secrets; settings whose names mention credentials",
        resources: [
          resource(DEPLOYMENT, goodPod),
          resource(
            DEPLOYMENT,
            withEnv(
              { name: "TOKEN_TTL_SECONDS", value: "900" },
              { name: "PASSWORD_MIN_LENGTH", value: "12" },
              { name: "AWS_SECRET_NAME", value: "shop/orders/stripe" },
              { name: "DATABASE_URL", value: "postgresql://orders_app@db:5432/orders" },
            ),
          ),
        ],
      },
    ],
  },
  "no-credentials-in-configmaps": {
    bad: [
      {
        why: "a credential's name in any case",
        resources: [configMap({ "Admin-Password": "Tr0ub4dor&3xyz" })],
        says: ["ConfigMap settings: Admin-Password holds a credential"],
      },
      {
        why: "a Pulumi secret under a harmless name",
        resources: [configMap({ LOGIN: "x1" }, [["data", "LOGIN"]])],
        says: ["ConfigMap settings: LOGIN holds a Pulumi secret"],
      },
      {
        why: "a private key, and a config file with a password",
        resources: [
          configMap({
            "tls.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            "app.yaml": "smtp:\n  host: smtp.example.com\n  password: hunter2hunter2\n",
          }),
        ],
        says: [
          "ConfigMap settings: tls.key holds a private key",
          "ConfigMap settings: app.yaml holds a credential at smtp.password",
        ],
      },
      {
        why: "Grafana's datasource password in kube-prometheus-stack's values, which the chart renders into a ConfigMap",
        resources: [
          kpsRelease([elasticsearchDatasource("pw0123456789abcdef")], [grafanaDatasourcePath]),
          kpsRelease([elasticsearchDatasource("Tr0ub4dor&3xyz")], undefined, "kps-literal"),
        ],
        says: [
          "kube-prometheus-stack values grafana.additionalDataSources.0.secureJsonData.basicAuthPassword (rendered into a ConfigMap) holds a Pulumi secret",
          "kube-prometheus-stack values grafana.additionalDataSources.0.secureJsonData.basicAuthPassword (rendered into a ConfigMap) holds a credential",
        ],
      },
      {
        why: "a Logstash pipeline's password in its values, rendered into a ConfigMap",
        resources: [
          resource(RELEASE, {
            chart: "logstash",
            values: { logstashPipeline: { "logstash.yml": "output:\n  password: hunter2hunter2\n" } },
          }),
        ],
        says: [
          "logstash values logstashPipeline.logstash.yml (rendered into a ConfigMap) holds a credential at output.password",
        ],
      },
    ],
    good: [
      {
        why: "the datasource names a variable Grafana's container reads from a Secret; Promtail's config (a Secret) holds one",
        resources: [
          kpsRelease([elasticsearchDatasource("${GRAFANA_LOGS_READER_PASSWORD}")], []),
          resource(RELEASE, {
            chart: "promtail",
            values: { config: { clients: [{ url: "http://loki:3100", basic_auth: { password: "hunter2hunter2" } }] } },
          }),
        ],
      },
      {
        why: "settings, a certificate, a config file naming a Secret",
        resources: [
          configMap({
            TOKEN_TTL_SECONDS: "900",
            "ca.pem": "-----BEGIN CERTIFICATE-----\nMIIE\n-----END CERTIFICATE-----",
            "values.yaml":
              "admin:\n  existingSecret: grafana-admin\n  passwordKey: admin-password\ncors:\n  credentials: true\n",
          }),
        ],
      },
    ],
  },
  "master-passwords-secret": {
    bad: [
      {
        why: "plain master credentials the offline check can see",
        resources: [
          resource("aws:rds/instance:Instance", { password: "pw0123456789abcdef" }, "db", { secretPaths: [] }),
          resource("aws:docdb/cluster:Cluster", { masterPassword: "pw0123456789abcdef" }, "docs", { secretPaths: [] }),
          resource(
            "aws:mq/broker:Broker",
            { users: [{ username: "admin-user", password: "pw0123456789abcdef" }] },
            "mq",
            {
              secretPaths: [],
            },
          ),
          resource("aws:elasticache/replicationGroup:ReplicationGroup", { authToken: "pw0123456789abcdef" }, "cache", {
            secretPaths: [],
          }),
        ],
        says: [
          "password is not a Pulumi secret",
          "masterPassword is not a Pulumi secret",
          "users.0.password is not a Pulumi secret",
          "authToken is not a Pulumi secret",
        ],
      },
    ],
    good: [
      {
        why: "secrets, a password AWS manages, and the engine's view (no provenance: nothing to judge)",
        resources: [
          resource("aws:rds/instance:Instance", { password: "pw0123456789abcdef" }, "db", {
            secretPaths: [["password"]],
          }),
          resource("aws:rds/instance:Instance", { manageMasterUserPassword: true }, "managed", { secretPaths: [] }),
          resource("aws:mq/broker:Broker", { users: [{ username: "admin-user", password: "p" }] }, "mq", {
            secretPaths: [["users"]],
          }),
          resource("aws:elasticache/replicationGroup:ReplicationGroup", { authToken: "pw0123456789abcdef" }, "engine"),
        ],
      },
    ],
  },
};
