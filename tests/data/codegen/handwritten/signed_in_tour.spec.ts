// The signed_in_tour_sync.py flow in codegen's @playwright/test shape (codegen
// --target=playwright-test --load-storage=lumen.json).
import { test, expect } from '@playwright/test';

test.use({
  storageState: 'lumen.json'
});

test('test', async ({ page }) => {
  await page.goto('http://127.0.0.1:8000/reports.html');
  const page1Promise = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Help' }).click();
  const page1 = await page1Promise;
  await page1.getByRole('button', { name: 'Yes' }).click();
  await page1.close();
  page.once('dialog', dialog => {
    console.log(`Dialog message: ${dialog.message()}`);
    dialog.accept().catch(() => {});
  });
  await page.getByRole('button', { name: 'Delete report' }).click();
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const download = await downloadPromise;
});
