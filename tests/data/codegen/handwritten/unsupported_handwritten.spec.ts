// A hand-written test with shapes codegen never emits: each is reported with its line and column.
import { test, expect } from '@playwright/test';

async function logIn(page) {
  await page.getByLabel('Email').fill('alex@example.com');
}

test('projects', async ({ page }) => {
  await page.goto('https://app.example.com/');
  await logIn(page);
  for (const name of ['One', 'Two']) {
    await page.getByLabel('Project name').fill(name);
  }
  await page.mouse.click(100, 200);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('link', { name: `Project ${1}` }).click();
  await expect(page).toHaveTitle('Projects');
});
