import { strict as assert } from "assert";
import * as path from "path";
import { runProgram } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { usesBroker } from "../services/validate";
import { prodLayers, ROOMY_NODE_GROUP } from "./helpers/stackConfigs";
import { volumeClaims } from "./helpers/volumeClaims";
import { ofType, runLayersUnderMocks } from "../tools/mockRun";

const projectDir = path.join(__dirname, "..");
const DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class";

/** Between them, both log backends, both broker modes and both MongoDB modes. */
const VARIANTS = [
  { label: "Loki, Amazon MQ, MongoDB on EKS", aws: {}, logs: "loki", brokerOnEks: false },
  {
    label: "ELK, RabbitMQ on EKS, DocumentDB",
    aws: { broker: { mode: "in-cluster" }, mongodb: { mode: "documentdb" } },
    logs: "elk",
    brokerOnEks: true,
  },
] as const;

describe("prod storage: every volume claims the stack's encrypted default StorageClass by name", () => {
  for (const name of BUILTIN_CATALOGS) {
    const catalog = loadCatalog(builtinCatalogPath(name));
    for (const variant of VARIANTS) {
      it(`${name}, ${variant.label}`, async () => {
        const run = await runLayersUnderMocks(
          prodLayers(
            name,
            { ...variant.aws, eks: ROOMY_NODE_GROUP },
            { "platform:observability": JSON.stringify({ logs: variant.logs }) },
          ),
          () => runProgram(projectDir),
        );
        // EKS 1.30 on has no default class: the stack brings one, whatever the catalog holds.
        const classes = ofType(run.resources, "kubernetes:storage.k8s.io/v1:StorageClass");
        assert.equal(classes.length, 1, "one StorageClass");
        const [storageClass] = classes;
        assert.equal(storageClass.inputs.metadata.annotations?.[DEFAULT_CLASS], "true", "marked default");
        assert.equal(storageClass.inputs.provisioner, "ebs.csi.aws.com");
        assert.equal(storageClass.inputs.parameters.type, "gp3");
        assert.equal(storageClass.inputs.parameters.encrypted, "true");

        const claims = volumeClaims(run.resources);
        for (const claim of claims) {
          assert.equal(claim.storageClass, storageClass.inputs.metadata.name, `${claim.where} names the class`);
          assert.ok(claim.resource.dependencies.includes(storageClass.urn), `${claim.where} waits for the class`);
        }
        const expected = [
          "kps: prometheus.prometheusSpec.storageSpec",
          variant.logs === "loki"
            ? "loki: singleBinary.persistence.storageClass"
            : "elasticsearch: volumeClaimTemplate",
          ...(variant.brokerOnEks && catalog.services.some(usesBroker)
            ? ["RabbitmqCluster rabbitmq: persistence.storageClassName"]
            : []),
        ];
        for (const where of expected)
          assert.ok(
            claims.some((c) => c.where.startsWith(where)),
            `${where} is among ${claims.map((c) => c.where)}`,
          );
        const databases = ofType(run.resources, "kubernetes:apps/v1:StatefulSet");
        assert.equal(
          claims.filter((c) => c.where.startsWith("StatefulSet ")).length,
          databases.length,
          "each in-cluster database's StatefulSet claims a volume",
        );
      });
    }
  }
});
