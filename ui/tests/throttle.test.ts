import { expect, test } from "vitest";
import { throttle } from "../src/lib/throttle";

test("touch is throttled to one call per interval", () => {
  let now = 0;
  let calls = 0;
  const f = throttle(() => calls++, 15_000, () => now);
  f(); f();
  now = 14_999; f();
  expect(calls).toBe(1);
  now = 15_000; f();
  expect(calls).toBe(2);
});
