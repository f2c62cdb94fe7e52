import type { AccountView } from "./types";

function norm(s: string): string {
  return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** Favourites first, then the user's order, then issuer and name. */
export function sortAccounts(list: AccountView[]): AccountView[] {
  return [...list].sort(
    (a, b) =>
      Number(b.favorite) - Number(a.favorite) ||
      a.order - b.order ||
      a.issuer.localeCompare(b.issuer) ||
      a.name.localeCompare(b.name),
  );
}

/** Filters by a search text (issuer or name, case and accent insensitive) and a group. */
export function filterAccounts(list: AccountView[], query: string, group: string | null): AccountView[] {
  const q = norm(query.trim());
  return list.filter(
    (a) =>
      (group === null || a.groups.includes(group)) &&
      (q === "" || norm(a.issuer).includes(q) || norm(a.name).includes(q)),
  );
}

/** Every group used by any account, sorted. */
export function allGroups(list: AccountView[]): string[] {
  return [...new Set(list.flatMap((a) => a.groups))].sort((a, b) => a.localeCompare(b));
}

/** Parses a comma separated group list typed by the user. */
export function parseGroups(text: string): string[] {
  return [...new Set(text.split(",").map((g) => g.trim()).filter(Boolean))];
}
