import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { runProgram } from "../stacks/program";
import { BUILTIN_CATALOGS } from "../services/load";
import { RecordedResource, runLayersUnderMocks } from "../tools/mockRun";
import { prodLayers } from "./helpers/stackConfigs";
import { kubernetesSchemaProblems } from "./helpers/kubernetesSchemas";

const projectDir = path.join(__dirname, "..");

/** A Helm release is the chart's inputs, not an object: the chart renders its objects at install. */
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** Every seed's prod stacks, and the options that declare objects the defaults do not. */
const STACKS = [
  ...BUILTIN_CATALOGS.map((catalog) => ({ label: catalog, layers: prodLayers(catalog) })),
  { label: "erp with the in-cluster broker", layers: prodLayers("erp", { broker: { mode: "in-cluster" } }) },
  { label: "bookings with DocumentDB", layers: prodLayers("bookings", { mongodb: { mode: "documentdb" } }) },
  {
    label: "bookings with ELK logs",
    layers: prodLayers("bookings", {}, { "platform:observability": JSON.stringify({ logs: "elk" }) }),
  },
];

/** The objects a stack asks the cluster for: every Kubernetes resource but providers, components and Helm releases. */
function kubernetesObjects(resources: RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE);
}

describe("Kubernetes objects against the API schemas (kubernetes-models, prometheus-operator's and RabbitMQ's CRDs)", function () {
  this.timeout(120000);

  for (const { label, layers } of STACKS) {
    it(`${label}: every object the prod program declares fits its kind's schema, with no unknown field`, async () => {
      const run = await runLayersUnderMocks(layers, () => runProgram(projectDir));
      const objects = kubernetesObjects(run.resources);
      const kinds = new Set(objects.map((o) => o.type.split(":")[2]));
      assert.ok(kinds.has("Deployment") && kinds.has("Secret") && kinds.has("PodMonitor"), [...kinds].join(", "));
      // Mocked runs are not previews, so every output is known; a placeholder would pass for any string.
      const unknown = objects.filter((o) => JSON.stringify(o.inputs).includes(pulumi.runtime.unknownValue));
      assert.deepEqual(
        unknown.map((o) => `${o.type} ${o.name}`),
        [],
        "objects with an unknown input",
      );
      const problems = kubernetesSchemaProblems(objects).map((problem) => `${label}: ${problem}`);
      assert.deepEqual(problems, []);
    });
  }
});

describe("the Kubernetes schema check", () => {
  const deployment = (container: Record<string, unknown>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "orders", namespace: "shop" },
    spec: {
      selector: { matchLabels: { app: "orders" } },
      template: { metadata: { labels: { app: "orders" } }, spec: { containers: [container] } },
    },
  });
  const check = (type: string, inputs: Record<string, unknown>) =>
    kubernetesSchemaProblems([{ type, name: "orders", inputs }]);

  it("checks the RabbitMQ operators' objects against their CRDs: fields, required ones, enums, durable quorum queues", () => {
    const queue = (spec: Record<string, unknown>) => ({
      apiVersion: "rabbitmq.com/v1beta1",
      kind: "Queue",
      metadata: { name: "orders.q", namespace: "messaging" },
      spec: { name: "orders.q", rabbitmqClusterReference: { name: "rabbitmq" }, ...spec },
    });
    const QUEUE = "kubernetes:rabbitmq.com/v1beta1:Queue";
    assert.deepEqual(check(QUEUE, queue({ type: "quorum", durable: true, arguments: { "x-delivery-limit": 10 } })), []);
    assert.deepEqual(check(QUEUE, queue({ type: "quorum", durabel: true })), [
      "Queue messaging/orders.q: data/spec/durabel is not a field of the CRD",
      "Queue messaging/orders.q: data/spec/durable must be true for a quorum queue (the operator's webhook refuses it otherwise)",
    ]);
    assert.deepEqual(
      check("kubernetes:rabbitmq.com/v1beta1:Binding", {
        ...queue({}),
        kind: "Binding",
        spec: { destinationType: "topic", rabbitmqClusterReference: { name: "rabbitmq" } },
      }),
      ["Binding messaging/orders.q: data/spec/destinationType must be one of exchange, queue"],
    );
    assert.deepEqual(
      check("kubernetes:rabbitmq.com/v1beta1:Permission", {
        ...queue({}),
        kind: "Permission",
        spec: { userReference: { name: "orders" }, rabbitmqClusterReference: { name: "rabbitmq" } },
      }),
      [
        "Permission messaging/orders.q: data/spec must have permissions",
        "Permission messaging/orders.q: data/spec must have vhost",
      ],
    );
  });

  it("passes a well-formed object", () => {
    assert.deepEqual(check("kubernetes:apps/v1:Deployment", deployment({ name: "orders", image: "orders:1" })), []);
  });

  it("names the object and the path of a wrong type, a missing field and a misspelled optional one", () => {
    const container = { name: "orders", image: "orders:1", imagePullPolcy: "Always", ports: [{ containerPort: "80" }] };
    assert.deepEqual(check("kubernetes:apps/v1:Deployment", deployment(container)), [
      "Deployment shop/orders: data/spec/template/spec/containers/0/ports/0/containerPort must be integer",
      "Deployment shop/orders: data/spec/template/spec/containers/0/imagePullPolcy is not a field of IContainer",
    ]);
    const misspelled = { name: "orders", image: "orders:1", ports: [{ containerPorts: 80 }] };
    assert.deepEqual(check("kubernetes:apps/v1:Deployment", deployment(misspelled)), [
      "Deployment shop/orders: data/spec/template/spec/containers/0/ports/0 must have required property containerPort",
      "Deployment shop/orders: data/spec/template/spec/containers/0/ports/0/containerPorts is not a field of IContainerPort",
    ]);
  });

  it("names the values an enum allows", () => {
    const policy = {
      metadata: { name: "orders", namespace: "shop" },
      spec: { podSelector: {}, policyTypes: ["Egres"] },
    };
    assert.deepEqual(check("kubernetes:networking.k8s.io/v1:NetworkPolicy", policy), [
      "NetworkPolicy shop/orders: data/spec/policyTypes/0 must be equal to one of the allowed values: Egress, Ingress",
    ]);
  });

  it("checks a Secret's stringData and a PodMonitor's nested fields", () => {
    const secret = { metadata: { name: "orders", namespace: "shop" }, stringData: { PORT: 8080 } };
    assert.deepEqual(check("kubernetes:core/v1:Secret", secret), [
      "Secret shop/orders: data/stringData/PORT must be string",
    ]);
    const monitor = {
      metadata: { name: "orders" },
      spec: { selector: { matchLabels: { app: "orders" } }, podMetricsEndpoints: [{ port: "metrics", pathh: "/m" }] },
    };
    assert.deepEqual(check("kubernetes:monitoring.coreos.com/v1:PodMonitor", monitor), [
      "PodMonitor orders: data/spec/podMetricsEndpoints/0/pathh is not a declared field",
    ]);
  });

  it("fails a kind no model package has instead of skipping it", () => {
    assert.deepEqual(check("kubernetes:core/v1:SecretPatch", {}), [
      "kubernetes:core/v1:SecretPatch orders: no model for v1 SecretPatch in kubernetes-models/v1",
    ]);
    assert.deepEqual(check("kubernetes:example.com/v1:Widget", {}), [
      "kubernetes:example.com/v1:Widget orders: no model for example.com/v1 Widget: no module kubernetes-models/example.com/v1",
    ]);
  });
});
