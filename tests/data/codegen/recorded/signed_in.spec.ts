import { test, expect } from '@playwright/test';

test.use({
  storageState: 'lumen.json'
});

test('test', async ({ page }) => {
  await page.goto('http://127.0.0.1:46621/reports.html');
  const page1Promise = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Help' }).click();
  const page1 = await page1Promise;
  await page1.getByRole('button', { name: 'Yes' }).click();
  page.once('dialog', dialog => {
    console.log(`Dialog message: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.getByRole('button', { name: 'Delete report' }).click();
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const download = await downloadPromise;
  await page.locator('iframe[name="trend"]').contentFrame().getByRole('button', { name: 'Highlight this week' }).click();
});
