import { Problem, error, warning } from "../../services/problems";

/** When EKS released a Kubernetes minor version, and when its standard and extended support end (UTC days). */
export interface EksVersionLifecycle {
  eksRelease: string;
  endOfStandardSupport: string;
  endOfExtendedSupport: string;
}

/**
 * Amazon EKS Kubernetes release calendar, "Amazon EKS release", "End of standard support" and "End of
 * extended support" columns:
 * https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar
 * (dates in UTC+0; extended-support billing starts at the beginning of the end-of-standard-support day).
 * Rows 1.29 to 1.34 are copied from that table. 1.35 is available on EKS (release notes:
 * https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-standard.html), but its calendar row
 * could not be read when this table was written: its EKS release date (January 27, 2026) comes from
 * endoflife.date, not from AWS, and its end dates follow the page's rule of 14 months of standard support
 * and 12 more of extended support. Check that row against the calendar before relying on its dates.
 */
export const EKS_VERSIONS: Record<string, EksVersionLifecycle> = {
  "1.35": { eksRelease: "2026-01-27", endOfStandardSupport: "2027-03-27", endOfExtendedSupport: "2028-03-27" },
  "1.34": { eksRelease: "2025-10-02", endOfStandardSupport: "2026-12-02", endOfExtendedSupport: "2027-12-02" },
  "1.33": { eksRelease: "2025-05-29", endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
  "1.32": { eksRelease: "2025-01-23", endOfStandardSupport: "2026-03-23", endOfExtendedSupport: "2027-03-23" },
  "1.31": { eksRelease: "2024-09-26", endOfStandardSupport: "2025-11-26", endOfExtendedSupport: "2026-11-26" },
  "1.30": { eksRelease: "2024-05-23", endOfStandardSupport: "2025-07-23", endOfExtendedSupport: "2026-07-23" },
  "1.29": { eksRelease: "2024-01-23", endOfStandardSupport: "2025-03-23", endOfExtendedSupport: "2026-03-23" },
};

/** The newest version of the table: new stacks start on it. */
export const DEFAULT_EKS_VERSION = "1.35";

/**
 * AWS announces the end of standard support at least 60 days ahead (same page, "Amazon EKS version
 * FAQs"); from then on a plan shows a warning.
 */
const STANDARD_SUPPORT_NOTICE_DAYS = 60;
const DAY_MS = 24 * 3600 * 1000;

const utcDay = (date: string) => new Date(`${date}T00:00:00Z`);
const daysBetween = (from: Date, to: Date) => Math.ceil((to.getTime() - from.getTime()) / DAY_MS);

/** The versions a cluster can be created on at `today`, newest first, each with the end of its standard support. */
function creatableVersions(today: Date): string {
  return Object.entries(EKS_VERSIONS)
    .filter(([, dates]) => today < utcDay(dates.endOfExtendedSupport))
    .map(([version, dates]) => `${version} (standard support until ${dates.endOfStandardSupport})`)
    .join(", ");
}

/**
 * The configured EKS version against the calendar at `today`: refused once extended support has ended
 * (AWS creates no cluster on it and upgrades existing ones, so every update would try to go back),
 * refused past standard support unless `extendedSupport` accepts its extra cost, a warning when
 * standard support ends within the notice period.
 */
export function eksVersionProblems(version: string, extendedSupport: boolean, today: Date, field: string): Problem[] {
  const dates = EKS_VERSIONS[version];
  if (!dates) {
    return [
      error(
        field,
        `'${version}' is not in the EKS release calendar of components/aws/eksVersions.ts: use one of ${creatableVersions(today)}, or add its row from the calendar`,
      ),
    ];
  }
  const upgrade = `upgrade one minor version per update (README, "Upgrades"); versions still available: ${creatableVersions(today)}`;
  if (today >= utcDay(dates.endOfExtendedSupport)) {
    return [
      error(
        field,
        `EKS ended extended support of ${version} on ${dates.endOfExtendedSupport}: it creates no cluster on it and upgrades existing ones; ${upgrade}`,
      ),
    ];
  }
  if (today >= utcDay(dates.endOfStandardSupport)) {
    const message = `standard support of ${version} ended on ${dates.endOfStandardSupport}; extended support costs extra per cluster hour and ends on ${dates.endOfExtendedSupport}`;
    return extendedSupport
      ? [warning(field, `${message}: ${upgrade}`)]
      : [error(field, `${message}: ${upgrade}, or set eks.extendedSupport to true to stay on it meanwhile`)];
  }
  const daysLeft = daysBetween(today, utcDay(dates.endOfStandardSupport));
  if (daysLeft <= STANDARD_SUPPORT_NOTICE_DAYS) {
    return [
      warning(
        field,
        `standard support of ${version} ends on ${dates.endOfStandardSupport} (in ${daysLeft} days): ${upgrade}`,
      ),
    ];
  }
  return [];
}
