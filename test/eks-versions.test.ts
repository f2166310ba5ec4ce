import { strict as assert } from "assert";
import { DEFAULT_EKS_VERSION, EKS_VERSIONS, eksVersionProblems } from "../components/aws/eksVersions";

const FIELD = "platform:aws.eks.version";
const day = (date: string) => new Date(`${date}T00:00:00Z`);
/** `date` plus whole calendar months, as the calendar counts support periods. */
const plusMonths = (date: string, months: number) => {
  const d = day(date);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
};
const severities = (version: string, extendedSupport: boolean, today: string) =>
  eksVersionProblems(version, extendedSupport, day(today), FIELD).map((p) => p.severity);

describe("EKS versions: the release calendar table against its own dates", () => {
  for (const [version, dates] of Object.entries(EKS_VERSIONS)) {
    it(`${version}: 14 months of standard support from its EKS release, then 12 of extended support`, () => {
      assert.equal(dates.endOfStandardSupport, plusMonths(dates.eksRelease, 14));
      assert.equal(dates.endOfExtendedSupport, plusMonths(dates.endOfStandardSupport, 12));
    });

    it(`${version}: accepted in standard support, refused after it without opt-in, refused after extended support`, () => {
      const dayBefore = new Date(day(dates.endOfStandardSupport).getTime() - 24 * 3600 * 1000)
        .toISOString()
        .slice(0, 10);
      assert.deepEqual(severities(version, false, dates.eksRelease), [], "fine on its release day");
      assert.deepEqual(severities(version, false, dayBefore), ["warning"], "a warning on its last standard day");
      assert.deepEqual(
        severities(version, false, dates.endOfStandardSupport),
        ["error"],
        "refused in extended support",
      );
      assert.deepEqual(severities(version, true, dates.endOfStandardSupport), ["warning"], "a warning with opt-in");
      assert.deepEqual(
        severities(version, true, dates.endOfExtendedSupport),
        ["error"],
        "refused past extended support",
      );
    });
  }

  it("defaults to the newest version, in standard support on the day this table was last checked", () => {
    const newest = Object.keys(EKS_VERSIONS)
      .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))
      .pop();
    assert.equal(DEFAULT_EKS_VERSION, newest);
    assert.deepEqual(eksVersionProblems(DEFAULT_EKS_VERSION, false, day("2026-11-30"), FIELD), []);
  });

  it("refuses 1.31 on 2026-11-30, past its extended support, naming the versions still available", () => {
    const [problem] = eksVersionProblems("1.31", true, day("2026-11-30"), FIELD);
    assert.equal(problem.severity, "error");
    assert.equal(problem.path, FIELD);
    assert.match(problem.message, /ended extended support of 1\.31 on 2026-11-26/);
    assert.match(problem.message, /1\.35 \(standard support until 2027-03-27\)/);
    assert.doesNotMatch(problem.message, /1\.31 \(/, "1.31 is not offered");
  });

  it("warns about 1.34 on 2026-11-30: its standard support ends in 2 days", () => {
    const [problem] = eksVersionProblems("1.34", false, day("2026-11-30"), FIELD);
    assert.equal(problem.severity, "warning");
    assert.match(problem.message, /ends on 2026-12-02 \(in 2 days\)/);
  });

  it("refuses a version the table does not know", () => {
    const [problem] = eksVersionProblems("1.28", false, day("2026-11-30"), FIELD);
    assert.equal(problem.severity, "error");
    assert.match(problem.message, /'1\.28' is not in the EKS release calendar/);
  });
});
