import { describe, expect, test } from "vitest";
import { groupCode, plainCode } from "../src/lib/format";

describe("groupCode", () => {
  test("6 digits in two groups of three", () => expect(groupCode("123456")).toBe("123 456"));
  test("8 digits in threes from the right", () => expect(groupCode("12345678")).toBe("12 345 678"));
  test("7 digits", () => expect(groupCode("1234567")).toBe("1 234 567"));
  test("Steam codes as they are", () => expect(groupCode("B4K9Q", "steam")).toBe("B4K9Q"));
  test("short codes untouched", () => expect(groupCode("1234")).toBe("1234"));
  test("HOTP groups like TOTP", () => expect(groupCode("755224", "hotp")).toBe("755 224"));
  test("plainCode strips the grouping", () => expect(plainCode("12 345 678")).toBe("12345678"));
});
