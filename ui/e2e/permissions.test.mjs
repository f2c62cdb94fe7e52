// Browser flows of the permission step after Accept and of Settings → Permissions (issue 11),
// English and Swedish, with axe: the fake shell plays the OS (its prompts and their answers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { audit, GITHUB, shot, unlockedWith, useApp } from "./harness.mjs";

const { withApp } = useApp();

const fakeState = (page) => page.evaluate(() => JSON.parse(JSON.stringify({
  prompted: window.__twofoldFake.state.prompted, permissions: window.__twofoldFake.state.permissions,
  locale: window.__twofoldFake.state.locale, calls: window.__twofoldFake.state.calls,
})));

const WORDS = {
  en: {
    accept: "Accept", title: "Permissions", next: "Set up your account", cont: "Continue",
    camera: "Twofold uses the camera only to scan the QR code of an account you add.",
    notifications: "Twofold notifies you when a sign-in waits for your approval",
    location: "It stays on this device, in the encrypted activity log, and is never sent.",
    skipLocation: "Ask for the location", blocked: "Blocked", allowed: "Allowed",
    how: "To allow it, open the system settings: Settings → Apps → Twofold → Permissions.",
    settings: "Settings", section: "Permissions", again: "Ask again: Location",
  },
  sv: {
    accept: "Godkänn", title: "Behörigheter", next: "Konfigurera ditt konto", cont: "Fortsätt",
    camera: "Twofold använder kameran bara för att skanna QR-koden för ett konto du lägger till.",
    notifications: "Twofold meddelar dig när en inloggning väntar på ditt godkännande",
    location: "Platsen stannar på enheten, i den krypterade aktivitetsloggen, och skickas aldrig.",
    skipLocation: "Be om platsen", blocked: "Blockerad", allowed: "Tillåten",
    how: "Öppna systeminställningarna för att tillåta den: Inställningar → Appar → Twofold → Behörigheter.",
    settings: "Inställningar", section: "Behörigheter", again: "Fråga igen: Plats",
  },
};

for (const language of ["en", "sv"]) {
  const w = WORDS[language];
  test(`first run on a phone (${language}): Accept → each permission with its reason, one skipped → the OS asks for the others`, async () => {
    await withApp({ platform: "android", language }, {}, async ({ page }) => {
      await page.getByRole("button", { name: w.accept }).click();
      await page.getByRole("heading", { name: w.title, level: 1 }).waitFor();
      // The guide's order: camera, notifications, location; each with its reason.
      const cards = page.getByTestId("permissions").locator("li");
      assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.dataset.testid)),
        ["perm-camera", "perm-notifications", "perm-location"]);
      await page.getByTestId("perm-camera").getByText(w.camera).waitFor();
      await page.getByTestId("perm-notifications").getByText(w.notifications).waitFor();
      await page.getByTestId("perm-location").getByText(w.location).waitFor();
      await audit(page, `permission step (${language})`);
      await shot(page, `50-permissions-step-${language}`);
      // Nothing is asked before Continue.
      assert.deepEqual((await fakeState(page)).prompted, []);
      // Skip the location; the OS prompts for the camera and the notifications, in that order.
      await page.getByLabel(w.skipLocation).uncheck();
      await page.getByRole("button", { name: w.cont }).click();
      await page.getByRole("heading", { name: w.next }).waitFor();
      const s = await fakeState(page);
      assert.deepEqual(s.prompted, ["camera", "notifications"]);
      assert.deepEqual(s.permissions, { camera: "granted", notifications: "granted", location: "prompt" });
      // Rust writes the notifications in the UI's language.
      assert.equal(s.locale, language);
    });
  });

  test(`Settings → Permissions on a phone (${language}): each state, ask again, or how to allow it in the system settings`, async () => {
    const fake = unlockedWith([GITHUB], {
      platform: "android", language,
      permissions: { camera: "granted", notifications: "denied", location: "promptWithRationale" },
    });
    await withApp(fake, {}, async ({ page }) => {
      await page.getByRole("button", { name: w.settings }).click();
      const section = page.getByTestId("settings-permissions");
      await section.getByRole("heading", { name: w.section }).waitFor();
      await section.getByTestId("perm-camera").getByTestId("perm-state").filter({ hasText: w.allowed }).waitFor();
      // Refused for good: no prompt can be shown, the way to the system settings is.
      const notes = section.getByTestId("perm-notifications");
      await notes.getByTestId("perm-state").filter({ hasText: w.blocked }).waitFor();
      assert.equal(await notes.getByTestId("perm-how").textContent(), w.how);
      assert.equal(await notes.getByRole("button").count(), 0);
      await section.scrollIntoViewIfNeeded();
      await audit(page, `Settings → Permissions (${language})`);
      await shot(page, `51-settings-permissions-${language}`);
      // Refused once: ask again shows the OS prompt; allowed now.
      await section.getByRole("button", { name: w.again }).click();
      await section.getByTestId("perm-location").getByTestId("perm-state").filter({ hasText: w.allowed }).waitFor();
      assert.deepEqual((await fakeState(page)).prompted, ["location"]);
    });
  });
}

test("desktop: no permission step; Settings → Permissions shows only notifications, as the system allows them", async () => {
  await withApp({}, {}, async ({ page }) => {
    await page.getByRole("button", { name: "Accept" }).click();
    await page.getByRole("heading", { name: "Set up your account" }).waitFor();
    assert.deepEqual((await fakeState(page)).prompted, []);
  });
  await withApp(unlockedWith([GITHUB]), {}, async ({ page }) => {
    await page.getByRole("button", { name: "Settings" }).click();
    const section = page.getByTestId("settings-permissions");
    await section.getByTestId("perm-notifications").getByTestId("perm-state").filter({ hasText: "Allowed" }).waitFor();
    assert.deepEqual(await section.locator("li").evaluateAll((els) => els.map((e) => e.dataset.testid)), ["perm-notifications"]);
    assert.equal(await section.getByRole("button").count(), 0);
  });
});

test("a phone that allowed everything skips the step", async () => {
  const fake = { platform: "ios", permissions: { camera: "granted", notifications: "granted", location: "granted" } };
  await withApp(fake, {}, async ({ page }) => {
    await page.getByRole("button", { name: "Accept" }).click();
    await page.getByRole("heading", { name: "Set up your account" }).waitFor();
  });
});
