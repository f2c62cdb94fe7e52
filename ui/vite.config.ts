import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Tauri loads the built UI from dist/ and, in development, from the dev server on 1420.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  // tauri.conf.json loads http://localhost:1420 in development.
  server: { port: 1420, strictPort: true, host: "localhost" },
  build: {
    outDir: mode === "e2e" ? "dist-e2e" : "dist",
    target: "es2021",
    // Strict CSP in the shell: no inline scripts, so keep module preload polyfill out.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
}));
