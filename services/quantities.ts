import { CPU_QUANTITY, MEMORY_QUANTITY } from "./schema";

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** Bytes in a Kubernetes-style memory quantity ("512Mi", "1G", "1048576"). */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]i?)?$/.exec(quantity);
  if (!match || !MEMORY_QUANTITY.test(quantity)) throw new Error(`invalid memory quantity '${quantity}'`);
  return Math.round(Number(match[1]) * MEMORY_UNITS[match[2] ?? ""]);
}

/** Docker takes memory limits in whole MiB; never round a real limit down to zero. */
export function memoryMiB(quantity: string): number {
  return Math.max(1, Math.ceil(memoryBytes(quantity) / 1024 ** 2));
}

/** CPU cores in a quantity ("500m" is 0.5, "2" is 2). */
export function cpuCores(quantity: string): number {
  if (!CPU_QUANTITY.test(quantity)) throw new Error(`invalid cpu quantity '${quantity}'`);
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
