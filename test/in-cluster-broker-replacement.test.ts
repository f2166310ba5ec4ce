import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { planTopology } from "../components/messaging/topology";
import { InClusterBroker } from "../components/kubernetes/InClusterBroker";
import { RecordedResource, runUnderMocks } from "../tools/mockRun";

/**
 * The in-cluster broker's topology as the Messaging Topology Operator lets it change. Its
 * validating webhook (v1.20.1 internal/webhook/v1beta1/*_webhook.go, ValidateUpdate) refuses an
 * update of a Queue's type, durable, autoDelete or arguments (queue_webhook.go:74-134), of an
 * Exchange's type, durable or autoDelete (exchange_webhook.go:64-86), of any field of a Binding
 * (binding_webhook.go:68-116), and of the name, vhost and cluster of each (forbidden): an update
 * would fail `pulumi up`, so each such change must be a replacement, delete first (same name).
 */
describe("in-cluster broker: changes the Topology Operator refuses as updates replace the object", () => {
  const rabbitmq = (kind: string) => `kubernetes:rabbitmq.com/v1beta1:${kind}`;
  const ofKind = (resources: RecordedResource[], kind: string) => resources.filter((r) => r.type === rabbitmq(kind));

  for (const catalogName of BUILTIN_CATALOGS) {
    describe(catalogName, () => {
      const plan = planTopology(loadCatalog(builtinCatalogPath(catalogName)));
      const run = () =>
        runUnderMocks("components", {}, () => {
          const provider = new k8s.Provider("k", { kubeconfig: "{}" });
          const monitoringRelease = new k8s.core.v1.Namespace("monitoring-crds", {}, { provider });
          return new InClusterBroker("mq", { plan, storageClass: "gp3", monitoringRelease, protect: true, provider });
        });

      /** Every object of the kind is replaced, delete first, on a change of exactly these spec fields. */
      const assertReplacedOn = (objects: RecordedResource[], count: number, fields: string[]) => {
        assert.equal(objects.length, count);
        for (const object of objects)
          assert.deepEqual(
            [[...object.replaceOnChanges!].sort(), object.deleteBeforeReplace],
            [fields.map((field) => `spec.${field}`).sort(), true],
            object.name,
          );
      };
      const IDENTITY = ["name", "vhost", "rabbitmqClusterReference"];

      it("replaces a Queue, delete first, on a change of its arguments (TTL, max length, delivery limit, retry delay), type, durability or identity", async () => {
        const queues = ofKind((await run()).resources, "Queue");
        assertReplacedOn(queues, plan.queues.length, [...IDENTITY, "type", "durable", "autoDelete", "arguments"]);
        // The catalog's queue settings are all queue arguments, under spec.arguments.
        assert.ok(queues.some((q) => Object.keys(q.inputs.spec.arguments ?? {}).length > 0));
      });

      it("replaces an Exchange, delete first, on a change of its type, durability or identity, and updates its arguments in place", async () => {
        const { resources } = await run();
        assertReplacedOn(ofKind(resources, "Exchange"), plan.exchanges.length, [
          ...IDENTITY,
          "type",
          "durable",
          "autoDelete",
        ]);
        // The vhost (which would take every queue with it), users and permissions still update in place.
        for (const kind of ["Vhost", "User", "Permission", "TopicPermission"])
          for (const object of ofKind(resources, kind))
            assert.deepEqual([object.replaceOnChanges, object.deleteBeforeReplace], [[], false], object.name);
      });

      it("replaces each Binding along with its Queue or Exchange: its spec comes from their outputs and any change of it replaces it", async () => {
        const { resources } = await run();
        const urnByBrokerName = (kind: string) =>
          new Map(ofKind(resources, kind).map((r): [string, string] => [r.inputs.spec.name, r.urn]));
        const queues = urnByBrokerName("Queue");
        const exchanges = urnByBrokerName("Exchange");
        const bindings = ofKind(resources, "Binding");
        assert.equal(bindings.length, plan.bindings.length);
        for (const binding of bindings) {
          const { source, destination } = binding.inputs.spec;
          // Pulumi replaces a dependent of a replaced resource only through an input that came from it
          // (step_generator.go, calculateDependentReplacements), with that whole input unknown: the
          // `spec`, whose change replaces the binding since every field of it is immutable.
          assert.deepEqual(
            [...binding.propertyDependencies!.spec].sort(),
            [exchanges.get(source), queues.get(destination)].sort(),
            binding.name,
          );
          assert.ok(exchanges.has(source) && queues.has(destination), binding.name);
          assert.deepEqual(binding.replaceOnChanges, ["spec"], binding.name);
          assert.equal(binding.deleteBeforeReplace, true, binding.name);
        }
        // The planned bindings, unchanged by naming them through outputs.
        assert.deepEqual(
          bindings.map((b) => [b.inputs.spec.source, b.inputs.spec.destination, b.inputs.spec.routingKey]).sort(),
          plan.bindings.map((b) => [b.source, b.destination, b.routingKey]).sort(),
        );
      });
    });
  }
});
