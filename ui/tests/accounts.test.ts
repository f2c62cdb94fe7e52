import { describe, expect, test } from "vitest";
import { allGroups, filterAccounts, parseGroups, sortAccounts } from "../src/lib/accounts";
import type { AccountView } from "../src/lib/types";

let n = 0;
const acc = (issuer: string, name: string, extra: Partial<AccountView> = {}): AccountView => ({
  id: `a${++n}`, issuer, name, kind: "totp", algorithm: "SHA1", digits: 6, period: 30, counter: null,
  favorite: false, groups: [], note: "", order: n, createdAt: 0, usedAt: null,
  container: null, managedBy: null, deletable: true, ...extra,
});

const list = [
  acc("GitHub", "octo@example.com", { groups: ["Work"] }),
  acc("Bank", "me", { favorite: true }),
  acc("Ström & Co", "anna", { groups: ["Work", "Home"] }),
  acc("", "lonely"),
  acc("Steam", "gamer", { favorite: true, order: 0 }),
];

describe("sortAccounts", () => {
  test("favourites first, then order", () => {
    expect(sortAccounts(list).map((a) => a.issuer || a.name)).toEqual(["Steam", "Bank", "GitHub", "Ström & Co", "lonely"]);
  });
  test("does not change its input", () => {
    const copy = [...list];
    sortAccounts(list);
    expect(list).toEqual(copy);
  });
});

describe("filterAccounts", () => {
  test("matches issuer or name, any case", () => {
    expect(filterAccounts(list, "OCTO", null).map((a) => a.issuer)).toEqual(["GitHub"]);
    expect(filterAccounts(list, "gam", null).map((a) => a.issuer)).toEqual(["Steam"]);
  });
  test("ignores accents and surrounding space", () => {
    expect(filterAccounts(list, "  strom ", null).map((a) => a.name)).toEqual(["anna"]);
  });
  test("empty query keeps all", () => expect(filterAccounts(list, "", null)).toHaveLength(list.length));
  test("group filter combines with search", () => {
    expect(filterAccounts(list, "", "Work")).toHaveLength(2);
    expect(filterAccounts(list, "git", "Home")).toHaveLength(0);
  });
  test("groups listed once, sorted", () => expect(allGroups(list)).toEqual(["Home", "Work"]));
  test("group text parsed", () => expect(parseGroups(" Work, ,Home,Work ")).toEqual(["Work", "Home"]));
});
