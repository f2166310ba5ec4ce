/**
 * What the RabbitMQ operators' CRDs accept of the objects the platform declares (no model package
 * covers the rabbitmq.com group): each kind's `spec` fields with their types, the required ones,
 * and the enums, read from the CRDs' openAPIV3Schema at the pinned releases:
 *
 * - messaging-topology-operator v1.20.1, config/crd/bases/rabbitmq.com_{vhosts,exchanges,queues,
 *   bindings,users,permissions,topicpermissions}.yaml;
 * - cluster-operator v2.22.3, config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml (the fields the
 *   platform sets; `resources` and `affinity` are Kubernetes' own types, checked for being objects).
 *
 * Plus one rule of the topology operator's admission webhook (internal/webhook/v1beta1/
 * queue_webhook.go ValidateCreate): a quorum Queue must be durable.
 */

type FieldType = "string" | "boolean" | "integer" | "object" | "array" | "quantity";

interface Field {
  type: FieldType;
  enum?: readonly string[];
  /** An object's own fields, when the CRD lists them (otherwise any object passes). */
  fields?: Record<string, Field>;
  required?: readonly string[];
  /** An array's items. */
  items?: Field;
}

const str: Field = { type: "string" };
const bool: Field = { type: "boolean" };
const freeObject: Field = { type: "object" };
/** `rabbitmqClusterReference`: a name, or a connection Secret, in some namespace. */
const clusterReference: Field = {
  type: "object",
  fields: { name: str, namespace: str, connectionSecret: { type: "object", fields: { name: str } } },
};
const localReference: Field = { type: "object", fields: { name: str } };

/** What an Exchange and a Queue share: a named, typed broker object with arguments. */
const DECLARED: Record<string, Field> = {
  name: str,
  vhost: str,
  type: str,
  durable: bool,
  autoDelete: bool,
  arguments: freeObject,
  rabbitmqClusterReference: clusterReference,
};

/** A Permission's and a TopicPermission's: whose, where, and on what cluster. */
const grant = (permissions: Field): Field => ({
  type: "object",
  required: ["permissions", "rabbitmqClusterReference", "vhost"],
  fields: {
    user: str,
    userReference: localReference,
    vhost: str,
    permissions,
    rabbitmqClusterReference: clusterReference,
  },
});

const SPECS: Record<string, Field> = {
  Vhost: {
    type: "object",
    required: ["name", "rabbitmqClusterReference"],
    fields: {
      name: str,
      tracing: bool,
      tags: { type: "array", items: str },
      defaultQueueType: { type: "string", enum: ["quorum", "classic", "stream"] },
      rabbitmqClusterReference: clusterReference,
      deletionPolicy: { type: "string", enum: ["delete", "retain"] },
      limits: { type: "object", fields: { connections: { type: "integer" }, queues: { type: "integer" } } },
    },
  },
  Exchange: { type: "object", required: ["name", "rabbitmqClusterReference"], fields: DECLARED },
  Queue: {
    type: "object",
    required: ["name", "rabbitmqClusterReference"],
    fields: {
      ...DECLARED,
      deleteIfEmpty: bool,
      deleteIfUnused: bool,
      deletionPolicy: { type: "string", enum: ["delete", "retain"] },
    },
  },
  Binding: {
    type: "object",
    required: ["rabbitmqClusterReference"],
    fields: {
      vhost: str,
      source: str,
      destination: str,
      destinationType: { type: "string", enum: ["exchange", "queue"] },
      routingKey: str,
      arguments: freeObject,
      rabbitmqClusterReference: clusterReference,
    },
  },
  User: {
    type: "object",
    required: ["rabbitmqClusterReference"],
    fields: {
      tags: {
        type: "array",
        items: { type: "string", enum: ["management", "policymaker", "monitoring", "administrator"] },
      },
      rabbitmqClusterReference: clusterReference,
      importCredentialsSecret: localReference,
      limits: { type: "object", fields: { channels: { type: "integer" }, connections: { type: "integer" } } },
    },
  },
  Permission: grant({ type: "object", fields: { configure: str, write: str, read: str } }),
  TopicPermission: grant({ type: "object", required: ["exchange"], fields: { exchange: str, write: str, read: str } }),
  RabbitmqCluster: {
    type: "object",
    fields: {
      replicas: { type: "integer" },
      image: str,
      persistence: {
        type: "object",
        fields: { storageClassName: str, storage: { type: "quantity" }, emptyDir: freeObject },
      },
      resources: freeObject,
      affinity: freeObject,
      tolerations: { type: "array", items: freeObject },
      rabbitmq: {
        type: "object",
        fields: {
          additionalConfig: str,
          advancedConfig: str,
          envConfig: str,
          additionalPlugins: { type: "array", items: str },
        },
      },
      skipPostDeploySteps: bool,
      terminationGracePeriodSeconds: { type: "integer" },
    },
  },
};

export const RABBITMQ_KINDS = Object.keys(SPECS);

function typeProblems(value: unknown, field: Field, at: string): string[] {
  const actual = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const fits = {
    string: actual === "string",
    boolean: actual === "boolean",
    integer: Number.isInteger(value),
    object: actual === "object",
    array: actual === "array",
    // x-kubernetes-int-or-string, in Kubernetes' quantity notation.
    quantity:
      Number.isInteger(value) || (actual === "string" && /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/.test(value as string)),
  }[field.type];
  if (!fits) return [`${at} must be ${field.type}`];
  if (field.enum && !field.enum.includes(value as string)) return [`${at} must be one of ${field.enum.join(", ")}`];
  if (field.type === "array" && field.items) {
    return (value as unknown[]).flatMap((item, i) => typeProblems(item, field.items!, `${at}/${i}`));
  }
  if (field.type !== "object" || !field.fields) return [];
  const object = value as Record<string, unknown>;
  const missing = (field.required ?? [])
    .filter((key) => object[key] === undefined)
    .map((key) => `${at} must have ${key}`);
  const fields = Object.entries(object).flatMap(([key, item]) =>
    field.fields![key]
      ? typeProblems(item, field.fields![key], `${at}/${key}`)
      : [`${at}/${key} is not a field of the CRD`],
  );
  return [...missing, ...fields];
}

/** Every problem of a rabbitmq.com object, as `data/spec/...` paths like the model checks'. */
export function rabbitmqObjectProblems(kind: string, inputs: Record<string, any>): string[] {
  const spec = SPECS[kind];
  if (!spec) return [`no CRD schema for rabbitmq.com ${kind}`];
  const problems = typeProblems(inputs.spec, spec, "data/spec");
  if (inputs.apiVersion !== "rabbitmq.com/v1beta1") problems.push(`data/apiVersion must be rabbitmq.com/v1beta1`);
  if (kind === "Queue" && inputs.spec?.type === "quorum" && inputs.spec?.durable !== true)
    problems.push("data/spec/durable must be true for a quorum queue (the operator's webhook refuses it otherwise)");
  return problems;
}
