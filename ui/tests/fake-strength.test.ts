import { describe, expect, test } from "vitest";
import { entropyBits, passwordScore, MIN_SCORE } from "../src/testing/fake-strength";

describe("the fake shell's password strength", () => {
  test("empty is 0", () => {
    expect(entropyBits("")).toBe(0);
    expect(passwordScore("")).toBe(0);
  });
  test.each(["password", "123456", "qwerty", "Password1", "lösenord", "abc123"])("common password %s is very weak", (pw) => {
    expect(passwordScore(pw)).toBe(0);
  });
  test("runs and sequences count for little", () => {
    expect(passwordScore("aaaaaaaaaaaa")).toBeLessThan(MIN_SCORE);
    expect(passwordScore("abcdefghijkl")).toBeLessThan(MIN_SCORE);
    expect(entropyBits("abcdefgh")).toBeLessThan(entropyBits("qmzrwtxb"));
  });
  test("length and variety raise the score", () => {
    expect(passwordScore("correct horse battery staple")).toBe(4);
    expect(passwordScore("Tr0ub4dor&3")).toBeGreaterThanOrEqual(MIN_SCORE);
    expect(passwordScore("kx9!Lm2#pQ")).toBeGreaterThanOrEqual(3);
  });
  test("monotone as random characters are added", () => {
    let last = 0;
    for (const pw of ["k", "kx", "kx9", "kx9L", "kx9Lm2", "kx9Lm2#p", "kx9Lm2#pQr7", "kx9Lm2#pQr7vB4"]) {
      const s = passwordScore(pw);
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
    }
    expect(last).toBe(4);
  });
});
