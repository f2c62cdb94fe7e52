import { expect, test } from "vitest";
import { base32Decode } from "../src/testing/fake-rust";

// The flow tests' fake must compute real codes; its Base32 decoder is checked against RFC 4648.
test("base32 decoding (RFC 4648 test vectors)", () => {
  const dec = (s: string) => new TextDecoder().decode(base32Decode(s)!);
  expect(dec("MZXW6YTBOI======")).toBe("foobar");
  expect(dec("mzxw 6ytb oi")).toBe("foobar");
  expect(dec("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).toBe("12345678901234567890");
  expect(base32Decode("not base32!")).toBeNull();
});
