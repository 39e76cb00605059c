import { test, expect } from '@playwright/test';

test('test', async ({ page }) => {
  await page.goto('http://127.0.0.1:46053/index.html');
  await page.getByTestId('hero-cta').click();
  await page.getByRole('textbox', { name: 'Email' }).click();
  await page.getByRole('textbox', { name: 'Email' }).fill('alex@northwind.test');
  await page.getByRole('textbox', { name: 'Password' }).click();
  await page.getByRole('textbox', { name: 'Password' }).fill('correct-horse');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByRole('textbox', { name: 'Project name' }).click();
  await page.getByRole('textbox', { name: 'Project name' }).fill('Spring launch');
  await page.getByLabel('Template').selectOption('launch');
  await page.getByRole('checkbox', { name: 'Invite my team Jordan, Priya' }).check();
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('project-grid').getByRole('link', { name: 'Spring launch' }).click();
  await page.getByTestId('new-task').click();
  await page.getByTestId('new-task').fill('Draft the announcement');
  await page.getByTestId('new-task').press('Enter');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('dark');
  await page.getByRole('button', { name: 'Save changes' }).click();
});
