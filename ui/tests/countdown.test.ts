import { describe, expect, test } from "vitest";
import { countdown, currentCode, nextRollover, ringDash, NEXT_PREVIEW_SECS } from "../src/lib/countdown";

const view = (validUntilMs: number, period = 30, nextCode: string | null = "654321") => ({ validUntilMs, period, nextCode });

describe("countdown", () => {
  test("full period at the start", () => {
    const c = countdown(view(30_000), 0);
    expect(c).toEqual({ secondsLeft: 30, fraction: 1, expired: false, showNext: false });
  });
  test("seconds round up, fraction is exact", () => {
    const c = countdown(view(30_000), 14_500);
    expect(c.secondsLeft).toBe(16);
    expect(c.fraction).toBeCloseTo(15.5 / 30);
  });
  test("next code shown in the last five seconds only", () => {
    expect(countdown(view(30_000), 30_000 - NEXT_PREVIEW_SECS * 1000 - 1).showNext).toBe(false);
    expect(countdown(view(30_000), 30_000 - NEXT_PREVIEW_SECS * 1000).showNext).toBe(true);
    expect(countdown(view(30_000), 29_999).secondsLeft).toBe(1);
  });
  test("no preview without a next code", () => expect(countdown(view(30_000, 30, null), 29_000).showNext).toBe(false));
  test("expired at and after validUntil", () => {
    expect(countdown(view(30_000), 30_000).expired).toBe(true);
    expect(countdown(view(30_000), 31_000)).toMatchObject({ expired: true, secondsLeft: 0, fraction: 0 });
  });
  test("clock behind the shell: clamped to one period", () => {
    expect(countdown(view(60_000), 0)).toMatchObject({ secondsLeft: 30, fraction: 1 });
  });
  test("HOTP (validUntilMs 0) never expires and has no ring", () => {
    expect(countdown(view(0, 0, null), 123_456)).toEqual({ secondsLeft: 0, fraction: 1, expired: false, showNext: false });
  });
  test("60-second periods", () => expect(countdown(view(60_000, 60), 30_000).fraction).toBeCloseTo(0.5));
});

describe("nextRollover", () => {
  test("earliest expiry, ignoring HOTP", () => expect(nextRollover([{ validUntilMs: 0 }, { validUntilMs: 90 }, { validUntilMs: 60 }])).toBe(60));
  test("0 when nothing expires", () => expect(nextRollover([{ validUntilMs: 0 }])).toBe(0));
});

describe("ringDash", () => {
  test("dash + gap is the circumference", () => {
    const d = ringDash(0.25, 16);
    expect(d.dash + d.gap).toBeCloseTo(2 * Math.PI * 16);
    expect(d.dash).toBeCloseTo(0.25 * 2 * Math.PI * 16);
  });
  test("clamps", () => {
    expect(ringDash(2, 10).gap).toBe(0);
    expect(ringDash(-1, 10).dash).toBe(0);
  });
});

describe("currentCode", () => {
  const v = { id: "a", code: "111111", nextCode: "222222", period: 30, validFromMs: 0, validUntilMs: 30_000 };
  test("the code while it is valid", () => expect(currentCode(v, 29_999)?.code).toBe("111111"));
  test("the next code right after the rollover, counting down its own period", () => {
    const c = currentCode(v, 30_500)!;
    expect(c.code).toBe("222222");
    expect(countdown(c.view, 30_500)).toMatchObject({ secondsLeft: 30, expired: false, showNext: false });
  });
  test("nothing when the view is more than a period old", () => expect(currentCode(v, 60_000)).toBeNull());
  test("HOTP codes are always current", () => {
    expect(currentCode({ ...v, nextCode: null, period: 0, validUntilMs: 0 }, 1e12)?.code).toBe("111111");
  });
});
