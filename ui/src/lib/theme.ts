import type { Theme } from "./types";

/** Applies a theme: "system" leaves it to prefers-color-scheme, the others force it. */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}
