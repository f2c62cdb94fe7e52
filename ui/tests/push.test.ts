import { describe, expect, test } from "vitest";
import {
  countText, formatAge, formatLocation, isExpired, locationLine, mergeChallenges, pendingNewestFirst, shuffled, type Translate,
} from "../src/lib/push";
import { errorKey, toAppError } from "../src/lib/errors";
import { en } from "../src/lib/i18n/en";
import { sv } from "../src/lib/i18n/sv";
import { format } from "../src/lib/i18n/index.svelte";
import type { PushChallengeView } from "../src/lib/push-types";
import { ERROR_KINDS } from "../src/lib/types";

/** The kinds docs/ipc-push.md adds: all of them must be in Rust's generated list. */
const PUSH_ERROR_KINDS = ["Network", "Server", "Expired", "AlreadyAnswered", "Verification", "LocationUnavailable", "AuthRequired"] as const;

const ch = (nonce: string, receivedAt: number, extra: Partial<PushChallengeView> = {}): PushChallengeView => ({
  nonce, serial: "PIPU1", issuer: "pi", label: "alice", title: "t", question: "q", options: null,
  declineReasons: true, receivedAt, expiresAt: receivedAt + 120, count: 1, requiresUnlock: false, ...extra,
});

describe("age of a request", () => {
  const at = 1_700_000_000;
  test("seconds under a minute, live", () => {
    expect(formatAge(at, at * 1000)).toEqual({ key: "push.ageSecs", n: 0 });
    expect(formatAge(at, at * 1000 + 12_400)).toEqual({ key: "push.ageSecs", n: 12 });
    expect(format(en["push.ageSecs"], { n: 12 })).toBe("12 s ago");
    expect(formatAge(at, at * 1000 + 59_999)).toEqual({ key: "push.ageSecs", n: 59 });
  });
  test("minutes from 60 s", () => {
    expect(formatAge(at, at * 1000 + 60_000)).toEqual({ key: "push.ageMins", n: 1 });
    expect(formatAge(at, at * 1000 + 119_000)).toEqual({ key: "push.ageMins", n: 1 });
  });
  test("a clock behind the server's time never shows a negative age", () => {
    expect(formatAge(at, at * 1000 - 5_000)).toEqual({ key: "push.ageSecs", n: 0 });
  });
});

describe("number matching order", () => {
  const options = ["17", "42", "93"];
  test("keeps every option exactly once and leaves the input alone", () => {
    for (let i = 0; i < 200; i++) {
      const s = shuffled(options);
      expect([...s].sort()).toEqual([...options].sort());
    }
    expect(options).toEqual(["17", "42", "93"]);
  });
  test("every option comes first sometimes (the server's order gives no hint)", () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 300; i++) firsts.add(shuffled(options)[0]);
    expect([...firsts].sort()).toEqual(options);
  });
  test("uses the given randomness (Fisher–Yates)", () => {
    expect(shuffled(["a", "b", "c"], () => 0)).toEqual(["b", "c", "a"]);
    expect(shuffled(["a", "b", "c"], (n) => n - 1)).toEqual(["a", "b", "c"]);
  });
  test("returns only an order: nothing is marked chosen", () => {
    expect(shuffled(["1"])).toEqual(["1"]);
    expect(shuffled([])).toEqual([]);
  });
});

describe("collapsed prompts and pending list", () => {
  test("a count only when prompts were collapsed", () => {
    expect(countText(1)).toBeNull();
    expect(countText(0)).toBeNull();
    expect(countText(3)).toEqual({ key: "push.count", n: 3 });
    expect(format(en["push.count"], { n: 3 })).toBe("3 requests");
    expect(format(sv["push.count"], { n: 3 })).toBe("3 förfrågningar");
  });
  test("newest first, expired ones left out", () => {
    const now = 1_000_000 * 1000;
    const list = [ch("old", 1_000_000 - 130), ch("a", 1_000_000 - 50), ch("b", 1_000_000 - 5)];
    expect(pendingNewestFirst(list, now).map((c) => c.nonce)).toEqual(["b", "a"]);
    expect(isExpired(ch("x", 1_000_000 - 120), now)).toBe(true);
    expect(isExpired(ch("x", 1_000_000 - 119), now)).toBe(false);
  });
  test("merging keeps known ones and takes the newer copy of a nonce", () => {
    const merged = mergeChallenges([ch("a", 1), ch("b", 2)], [ch("b", 2, { count: 3 }), ch("c", 3)]);
    expect(merged.map((c) => [c.nonce, c.count])).toEqual([["a", 1], ["b", 3], ["c", 1]]);
  });
});

describe("location", () => {
  test("two decimals and a readable accuracy", () => {
    expect(formatLocation({ latitude: 59.3293, longitude: 18.0686, accuracyM: 1000, place: null })).toEqual({ coords: "59.33, 18.07", accuracy: "±1 km" });
    expect(formatLocation({ latitude: -33.8688, longitude: 151.2093, accuracyM: 25.4, place: null })).toEqual({ coords: "-33.87, 151.21", accuracy: "±25 m" });
    expect(formatLocation({ latitude: 0.5, longitude: 0.5, accuracyM: null, place: null }).accuracy).toBeNull();
  });
  test("the line names the town beside the coordinates, and says so when there is none", () => {
    const tr: Translate = (key, params) => format(en[key], params);
    const trSv: Translate = (key, params) => format(sv[key], params);
    const place = { name: "Goeteborg", region: "Vaestra Goetaland", country: "SE", distanceKm: 0.6 };
    const gbg = { latitude: 57.7089, longitude: 11.9746, accuracyM: 1000, place };
    const line = locationLine(gbg, tr);
    expect(format(en[line.key], line.params)).toBe("Location: near Goeteborg, SE (57.71, 11.97, ±1 km)");
    const sv1 = locationLine(gbg, trSv);
    expect(format(sv[sv1.key], sv1.params)).toBe("Plats: nära Goeteborg, SE (57.71, 11.97, ±1 km)");
    // At sea: no town, the coordinates only.
    const sea = locationLine({ latitude: 40, longitude: -40, accuracyM: 1000, place: null }, tr);
    expect(format(en[sea.key], sea.params)).toBe("Location: 40.00, -40.00 (±1 km)");
    expect(format(en[locationLine(null, tr).key], {})).toBe("Location unavailable");
  });
});

describe("push error kinds", () => {
  test("are kept as they are and have plain words in both languages", () => {
    for (const kind of PUSH_ERROR_KINDS) {
      expect(ERROR_KINDS).toContain(kind);
      expect(toAppError({ kind, message: "m" }).kind).toBe(kind);
      const key = errorKey(kind);
      expect(en[key]).toBeTruthy();
      expect(sv[key]).toBeTruthy();
      expect(en[key]).not.toBe(sv[key]);
    }
    expect(en[errorKey("Network")]).toMatch(/cannot be reached/);
    expect(en[errorKey("Expired")]).toMatch(/expired/);
  });
  test("an unknown kind is still Internal", () => {
    expect(toAppError({ kind: "Nope", message: "x" }).kind).toBe("Internal");
  });
});
