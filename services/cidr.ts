import { IPV4_CIDR } from "./schema";

/** An IPv4 range as numbers: the address as written and its prefix length. */
export interface Ipv4Range {
  address: number;
  prefix: number;
}

const ADDRESSES = 2 ** 32;

/** `203.0.113.0/24` as numbers, or undefined when an octet is above 255 or the prefix above 32. */
export function parseIpv4Cidr(cidr: string): Ipv4Range | undefined {
  if (!IPV4_CIDR.test(cidr)) return undefined;
  const [address, prefix] = cidr.split("/");
  const octets = address.split(".").map(Number);
  if (octets.some((octet) => octet > 255) || Number(prefix) > 32) return undefined;
  // Arithmetic rather than bit operators, which would turn addresses above 127.x negative.
  return { address: octets.reduce((sum, octet) => sum * 256 + octet, 0), prefix: Number(prefix) };
}

function blockSize(range: Ipv4Range): number {
  return ADDRESSES / 2 ** range.prefix;
}

/** The range written with its host bits cleared (`203.0.113.7/24` is `203.0.113.0/24`). */
export function canonicalCidr(range: Ipv4Range): string {
  const network = Math.floor(range.address / blockSize(range)) * blockSize(range);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join(".")}/${range.prefix}`;
}

/** Whether the range holds the address (dotted quad). */
export function rangeContains(range: Ipv4Range, address: string): boolean {
  const target = parseIpv4Cidr(`${address}/32`);
  return (
    target !== undefined &&
    Math.floor(target.address / blockSize(range)) === Math.floor(range.address / blockSize(range))
  );
}
