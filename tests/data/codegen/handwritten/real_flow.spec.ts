// Hand-written in codegen's @playwright/test shape (codegen --target=playwright-test
// --load-storage=auth.json): the real_flow_sync.py flow.
import { test, expect } from '@playwright/test';

test.use({
  storageState: 'auth.json'
});

test('reports', async ({ page, context }) => {
  await page.goto('http://localhost:8000/reports.html');
  const page1Promise = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Help' }).click();
  const page1 = await page1Promise;
  await expect(page1.getByRole('heading', { name: 'Help' })).toBeVisible();
  await page1.getByRole('link', { name: 'Keyboard shortcuts' }).click();
  page.once('dialog', dialog => {
    console.log(`Dialog message: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  await page.getByRole('button', { name: 'Delete report' }).click();
  await page1.bringToFront();
  await page1.close();
  page.once('dialog', dialog => dialog.accept('Q3 numbers'));
  await page.getByRole('button', { name: 'Rename' }).click();
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const download = await downloadPromise;
  await download.saveAs('report.csv');
  const page2 = await context.newPage();
  await page2.goto('http://localhost:8000/help.html');
  await page2.frameLocator('#outer').frameLocator('iframe[name="inner"]').getByRole('button', { name: 'Play' }).click();
  await page2.locator('#embed').contentFrame().getByText('Chart').click();
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page2.close();
});
