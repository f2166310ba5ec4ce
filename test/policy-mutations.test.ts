import { strict as assert } from "assert";
import { RULES } from "../policies/rules";
import { runStack } from "../tools/stackRun";
import { stackLayers } from "../tools/stackConfig";
import { asPolicyResources, CheckedRecord, evaluate, secretPathsOf, Violation } from "../tools/policyCheck";
import { BENIGN, INSECURE, Mutation, Program, StackName } from "./helpers/policyMutations";

/**
 * The pack against what a reviewer would try: every insecure change in the table, applied to the
 * resources the stack files' programs record, must be reported by the policy it names; every benign
 * change must leave the stack clean. The programs run once; each mutation edits a copy.
 */
describe("policy mutations", function () {
  this.timeout(120_000);
  const recorded = {} as Record<StackName, CheckedRecord[]>;
  const caught: string[] = [];
  const mandatory = () => "mandatory" as const;

  before(async () => {
    const dev = await runStack(stackLayers("dev"));
    const prod = await runStack(stackLayers("prod"));
    // Secret paths come from the wire once; the mutations then edit inputs and paths, not the wire.
    const checked = (records: typeof dev.resources) =>
      records.map((r): CheckedRecord => ({ ...r, secretPaths: secretPathsOf(r.wire), wire: {} }));
    recorded.dev = checked(dev.resources);
    recorded["prod-infra"] = checked(prod.all.filter((r) => r.stack === "prod-infra"));
    recorded.prod = checked(prod.resources);
  });

  after(() => {
    const rate = ((100 * caught.length) / INSECURE.length).toFixed(1);
    console.log(`      policy mutations: ${caught.length} of ${INSECURE.length} insecure changes caught (${rate} %)`);
  });

  const violationsAfter = async (mutation: Mutation): Promise<Violation[]> => {
    const program = new Program(structuredClone(recorded[mutation.stack]));
    mutation.apply(program);
    return evaluate(asPolicyResources(program.records), mandatory);
  };

  it("starts from clean stacks", async () => {
    for (const stack of Object.keys(recorded) as StackName[])
      assert.deepEqual(await evaluate(asPolicyResources(recorded[stack]), mandatory), [], stack);
  });

  it("has at least 60 insecure changes, each naming a policy of the pack", () => {
    assert.ok(INSECURE.length >= 60, `${INSECURE.length} mutations`);
    const names = new Set(RULES.map((r) => r.name));
    for (const m of INSECURE) assert.ok(names.has(m.rule ?? ""), `${m.change}: no policy ${m.rule}`);
  });

  it("has an insecure change for every policy that judges resources a program can declare", () => {
    const covered = new Set(INSECURE.map((m) => m.rule));
    assert.deepEqual(
      RULES.map((r) => r.name).filter((name) => !covered.has(name)),
      [],
    );
  });

  for (const mutation of INSECURE) {
    it(`catches: ${mutation.change} (${mutation.rule}, ${mutation.stack})`, async () => {
      const found = (await violationsAfter(mutation)).filter((v) => v.policy === mutation.rule);
      assert.ok(found.length > 0, `${mutation.rule} did not report it`);
      caught.push(mutation.change);
    });
  }

  for (const mutation of BENIGN) {
    it(`lets through: ${mutation.change} (${mutation.stack})`, async () => {
      assert.deepEqual(
        (await violationsAfter(mutation)).map((v) => `${v.policy}: ${v.message}`),
        [],
      );
    });
  }
});
