import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";

async function start(): Promise<void> {
  // The e2e build (vite --mode e2e) installs the fake Rust side before the app starts; in every
  // other build this branch and the fake are removed at compile time.
  if (import.meta.env.MODE === "e2e") {
    const { installFake } = await import("./testing/fake-rust");
    installFake();
  }
  mount(App, { target: document.getElementById("app")! });
}

void start();
