import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { rabbitmqObjectProblems } from "./rabbitmqCrds";

/** The model packages of API groups that are not Kubernetes' own (the CRDs the charts install). */
const CRD_MODELS: Record<string, string> = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/** Where a Pulumi type token's object is modelled: its apiVersion, kind and model module. */
interface ObjectSchema {
  apiVersion: string;
  kind: string;
  module: string;
}

/** An object to validate (a recorded resource is one): its type token, Pulumi name and inputs as sent to the engine. */
export interface KubernetesObject {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

type Model = { new (data: object): { validate(): void }; apiVersion: string; kind: string };

/** `kubernetes:apps/v1:Deployment` is apps/v1 Deployment (kubernetes-models/apps/v1); `core` is the legacy group `v1`. */
function schemaOf(type: string): ObjectSchema {
  const match = /^kubernetes:([^/:]+)\/([^/:]+):(\w+)$/.exec(type);
  if (!match) throw new Error(`${type} is not a Kubernetes object's type`);
  const [, group, version, kind] = match;
  const apiVersion = group === "core" ? version : `${group}/${version}`;
  return { apiVersion, kind, module: `${CRD_MODELS[group] ?? "kubernetes-models"}/${apiVersion}` };
}

const kindOf = (schema: ObjectSchema) => `${schema.apiVersion} ${schema.kind}`;

/**
 * The model class of a schema; throws for a kind no model package has, so an object of a new
 * kind fails the check instead of going unvalidated.
 */
function modelOf(schema: ObjectSchema): Model {
  let exported: Record<string, unknown>;
  try {
    exported = require(schema.module);
  } catch {
    throw new Error(`no model for ${schema.apiVersion} ${schema.kind}: no module ${schema.module}`);
  }
  const model = exported[schema.kind] as Model | undefined;
  // Field types (Container, ServicePort...) are exported beside the kinds; only a kind has both.
  if (model?.kind !== schema.kind || model.apiVersion !== schema.apiVersion)
    throw new Error(`no model for ${schema.apiVersion} ${schema.kind} in ${schema.module}`);
  return model;
}

/** One problem the JSON schema found (what ajv, which the models run, reports). */
interface SchemaError {
  instancePath: string;
  message?: string;
  params: { allowedValues?: unknown[] };
}

/** The JSON schema's verdict (types, enums, formats, required fields), each problem named by its path from `data`. */
function jsonSchemaProblems(schema: ObjectSchema, inputs: Record<string, any>): string[] {
  const Model = modelOf(schema);
  try {
    // The model puts its apiVersion and kind under the inputs, which carry their own: the schema judges those.
    new Model(inputs).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!errors) throw error;
    return errors.map(({ instancePath, message, params }) => {
      const allowed = params.allowedValues ? `: ${params.allowedValues.join(", ")}` : "";
      return `data${instancePath} ${message}${allowed}`;
    });
  }
}

/**
 * The type checker over the models' declarations of these schemas' kinds (`IDeployment`...).
 * A generated file names each kind's interface; absolute module paths let it live outside the project.
 */
function declarationsOf(schemas: ObjectSchema[]): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-models-"));
  const file = path.join(dir, "kinds.ts");
  // `.../apps/v1/Deployment.js` without its extension: TypeScript reads the `Deployment.d.ts` beside it.
  const declarations = (s: ObjectSchema) =>
    JSON.stringify(require.resolve(`${s.module}/${s.kind}`).replace(/\.js$/, ""));
  const source = schemas.map((s, i) => `export type Kind${i} = import(${declarations(s)}).I${s.kind};`);
  fs.writeFileSync(file, source.join("\n"));
  // Arrays are all the declarations need of the standard library; the whole of it takes seconds to load.
  const options = { strict: true, noEmit: true, types: [], skipLibCheck: true, lib: ["lib.es5.d.ts"] };
  const program = ts.createProgram([file], options);
  fs.rmSync(dir, { recursive: true });
  const checker = program.getTypeChecker();
  const aliases = program.getSourceFile(file)!.statements.filter(ts.isTypeAliasDeclaration);
  const types = new Map<string, ts.Type>();
  aliases.forEach((alias, i) => {
    const type = checker.getTypeFromTypeNode(alias.type);
    if (type.flags & ts.TypeFlags.Any)
      throw new Error(`${schemas[i].module} declares no interface I${schemas[i].kind}`);
    types.set(kindOf(schemas[i]), type);
  });
  return { checker, types };
}

/** The object types a field's type allows (optional fields add `undefined`; free-form `any` has none). */
function objectShapes(checker: ts.TypeChecker, type: ts.Type): ts.Type[] {
  const members = type.isUnion() ? type.types : [type];
  return members.filter((t) => t.flags & ts.TypeFlags.Object && !checker.isArrayType(t));
}

/** The element type of an array field. */
function elementType(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  const array = (type.isUnion() ? type.types : [type]).find((t) => checker.isArrayType(t));
  return array && checker.getTypeArguments(array as ts.TypeReference)[0];
}

/** The declared type of `key` in one of the shapes, or of its map values; undefined when no shape has it. */
function fieldType(checker: ts.TypeChecker, shapes: ts.Type[], key: string): ts.Type | undefined {
  for (const shape of shapes) {
    const property = shape.getProperty(key);
    if (property) return checker.getTypeOfSymbol(property);
    const mapValue = shape.getStringIndexType();
    if (mapValue) return mapValue;
  }
  return undefined;
}

/** `is not a field of IContainer`; an anonymous type (the CRDs' nested fields) has no name to give. */
function notAField(shapes: ts.Type[]): string {
  const names = shapes.map((shape) => (shape.aliasSymbol ?? shape.getSymbol())?.getName() ?? "__type");
  return names.includes("__type") ? "is not a declared field" : `is not a field of ${names.join(" | ")}`;
}

/** Paths (from `data`, as the schema's messages) of the fields the declarations do not have. */
function unknownFields(checker: ts.TypeChecker, value: unknown, type: ts.Type, at: string): string[] {
  if (Array.isArray(value)) {
    const element = elementType(checker, type);
    return element ? value.flatMap((item, i) => unknownFields(checker, item, element, `${at}/${i}`)) : [];
  }
  if (value === null || typeof value !== "object") return [];
  const shapes = objectShapes(checker, type);
  // Free-form (`any`) or not an object at all: the schema's type check speaks for those.
  if (shapes.length === 0) return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const declared = fieldType(checker, shapes, key);
    if (declared) return unknownFields(checker, field, declared, `${at}/${key}`);
    return [`${at}/${key} ${notAField(shapes)}`];
  });
}

/** `Deployment bookings/auth-service`; an object Pulumi names itself shows its resource name. */
function objectLabel(schema: ObjectSchema, inputs: Record<string, any>, resourceName: string): string {
  const { name, namespace } = inputs.metadata ?? {};
  return `${schema.kind} ${namespace ? `${namespace}/` : ""}${name ?? `(auto-named from ${resourceName})`}`;
}

/**
 * Every schema problem of these objects, as `Kind namespace/name: path message`.
 *
 * kubernetes-models' JSON schemas check types, enums and required fields but let unknown fields
 * through (its schemas do not set additionalProperties), while the API server drops them or, under
 * strict field validation, refuses them. Its declarations list every field, so a walk along them
 * finds a misspelled optional field the schema would pass.
 */
export function kubernetesSchemaProblems(all: KubernetesObject[]): string[] {
  // The RabbitMQ operators' kinds have no model package: their CRDs' fields are written down instead.
  const rabbitmq = all.filter((object) => schemaOf(object.type).apiVersion.startsWith("rabbitmq.com/"));
  const objects = all.filter((object) => !rabbitmq.includes(object));
  const crdProblems = rabbitmq.flatMap((object) => {
    const schema = schemaOf(object.type);
    return rabbitmqObjectProblems(schema.kind, object.inputs).map(
      (problem) => `${objectLabel(schema, object.inputs, object.name)}: ${problem}`,
    );
  });
  const unmodelled: string[] = [];
  const schemas = new Map<string, ObjectSchema>();
  for (const object of objects) {
    try {
      const schema = schemaOf(object.type);
      modelOf(schema);
      schemas.set(kindOf(schema), schema);
    } catch (error) {
      unmodelled.push(`${object.type} ${object.name}: ${(error as Error).message}`);
    }
  }
  if (unmodelled.length > 0 || objects.length === 0) return [...crdProblems, ...unmodelled];
  const { checker, types } = declarationsOf([...schemas.values()]);
  return [
    ...crdProblems,
    ...objects.flatMap((object) => {
      const schema = schemaOf(object.type);
      const found = [
        ...jsonSchemaProblems(schema, object.inputs),
        ...unknownFields(checker, object.inputs, types.get(kindOf(schema))!, "data"),
      ];
      return found.map((problem) => `${objectLabel(schema, object.inputs, object.name)}: ${problem}`);
    }),
  ];
}
