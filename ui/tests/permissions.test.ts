import { describe, expect, test } from "vitest";
import { canAsk, fromPlugin } from "../src/lib/permissions";

describe("permission states", () => {
  test("the barcode scanner's states read as Rust's", () => {
    expect(["granted", "denied", "prompt", "prompt-with-rationale"].map(fromPlugin))
      .toEqual(["granted", "denied", "prompt", "promptWithRationale"]);
  });
  test("the OS prompt can show only before a refusal for good", () => {
    expect(canAsk("prompt")).toBe(true);
    expect(canAsk("promptWithRationale")).toBe(true);
    expect(canAsk("granted")).toBe(false);
    expect(canAsk("denied")).toBe(false);
  });
});
