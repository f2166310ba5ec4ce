import { strict as assert } from "assert";
import { AUTONAME_SUFFIX, fitName, logicalName } from "../components/naming";

describe("fitName", () => {
  const long = (end: string) => `orders-${"x".repeat(60)}-${end}`;

  it("keeps a name that fits, up to exactly the limit", () => {
    assert.equal(fitName("booking-service", 63), "booking-service");
    assert.equal(fitName("a".repeat(63), 63), "a".repeat(63));
  });

  it("cuts a longer name to exactly the limit: its head, the separator and eight hex digits of a hash", () => {
    const name = long("app");
    const fitted = fitName(name, 40);
    assert.equal(fitted.length, 40);
    assert.match(fitted, /^orders-x{24}-[0-9a-f]{8}$/);
    assert.ok(name.startsWith(fitted.slice(0, 31)));
  });

  it("gives the same name every time, and names that differ only past the cut different ones", () => {
    assert.equal(fitName(long("app"), 40), fitName(long("app"), 40));
    assert.notEqual(fitName(long("app"), 40), fitName(long("apq"), 40));
    assert.notEqual(fitName(long("1"), 63), fitName(long("2"), 63));
  });

  it("joins with the given separator and leaves no doubled one where the cut falls on a separator", () => {
    assert.match(fitName(`orders_${"x".repeat(70)}`, 63, "_"), /^orders_x+_[0-9a-f]{8}$/);
    // The head would end on the hyphen after `orders`.
    assert.match(fitName(`orders-${"y".repeat(70)}`, 16), /^orders-[0-9a-f]{8}$/);
  });

  it("counts bytes, not characters", () => {
    const fitted = fitName(`${"é".repeat(40)}`, 63);
    assert.ok(Buffer.byteLength(fitted) <= 63, fitted);
    assert.match(fitted, /^é+-[0-9a-f]{8}$/);
  });

  it("refuses a limit that leaves no room for any of the name", () => {
    assert.throws(() => fitName("a-long-name", 9), /no room for 'a-long-name' in 9 bytes/);
  });
});

describe("logicalName", () => {
  it("leaves room for the suffix the provider adds when it names the resource itself", () => {
    const name = `shop-${"s".repeat(63)}-irsa`;
    assert.equal(logicalName(name, 64, "aws").length, 64 - AUTONAME_SUFFIX.aws);
    assert.equal(logicalName("shop-orders-irsa", 64, "aws"), "shop-orders-irsa");
    assert.equal(logicalName(name, 63, "kubernetes").length, 63 - AUTONAME_SUFFIX.kubernetes);
  });
});
