import { describe, expect, test } from "vitest";
import { errorKey, showsDetails, toAppError } from "../src/lib/errors";
import { en } from "../src/lib/i18n/en";
import { sv } from "../src/lib/i18n/sv";
import { ERROR_KINDS } from "../src/lib/types";

describe("error kinds to messages", () => {
  test("every kind maps to a plain-words message in both languages", () => {
    for (const kind of ERROR_KINDS) {
      const key = errorKey(kind);
      expect(en[key]).toBeTruthy();
      expect(sv[key]).toBeTruthy();
      expect(en[key]).not.toBe(sv[key]);
    }
  });
  test("specific wording", () => {
    expect(en[errorKey("WrongPassword")]).toMatch(/Wrong password/);
    expect(en[errorKey("Corrupt")]).toMatch(/\.bak/);
    expect(sv[errorKey("WrongPassword")]).toMatch(/Fel lösenord/);
  });
  test("an AppError from the shell passes through", () => {
    expect(toAppError({ kind: "Io", message: "cannot write /x" })).toEqual({ kind: "Io", message: "cannot write /x" });
  });
  test("unknown kinds, Error objects and strings become Internal, keeping the text", () => {
    expect(toAppError({ kind: "Martian", message: "hi" })).toEqual({ kind: "Internal", message: "Martian: hi" });
    expect(toAppError(new Error("boom"))).toEqual({ kind: "Internal", message: "boom" });
    expect(toAppError("command x not found")).toEqual({ kind: "Internal", message: "command x not found" });
  });
  test("details shown where they carry information", () => {
    expect(showsDetails("Io")).toBe(true);
    expect(showsDetails("WrongPassword")).toBe(false);
  });
});
