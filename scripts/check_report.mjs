// Headless-Chromium check of a static report page (see scripts/check-report, which checks the prerequisites).
// Exit 0: the page loaded cleanly; 1: it is broken (reasons on stderr and in the JSON summary); 2: it could not be checked.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [reportArg] = process.argv.slice(2);
const prefix = process.env.MINDANIM_NODE_PREFIX;
const executablePath = process.env.MINDANIM_CHROMIUM || '/usr/bin/chromium';
if (!reportArg || !prefix) {
  console.error('usage: scripts/check-report REPORT.html');
  process.exit(2);
}
const report = path.resolve(reportArg);
if (!existsSync(report)) {
  console.error(`check-report: ${report}: file not found`);
  process.exit(2);
}
const puppeteer = createRequire(path.join(prefix, 'package.json'))('puppeteer-core');
const reportUrl = pathToFileURL(report).href;
const errors = [];
const localSchemes = new Set(['file:', 'data:', 'about:', 'blob:']);

// No sandbox: Chromium refuses to start as root with it, and containers often lack the user namespaces it needs;
// the page is a local static file without scripts.
const args = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--mute-audio'];

let browser;
let summary;
let checked = false;
try {
  browser = await puppeteer.launch({ executablePath, headless: true, args, timeout: 60000 });
  const page = await browser.newPage();
  page.on('pageerror', e => errors.push(`page error: ${e.message}`));
  page.on('console', m => { if (m.type() === 'error') errors.push(`console error: ${m.text()}${m.location()?.url ? ` (${m.location().url})` : ''}`); });
  page.on('requestfailed', r => { if (!r.url().startsWith('data:')) errors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? 'unknown'})`); });
  page.on('response', r => { if (!r.url().startsWith('file:') && r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  // The report must be self-contained: external requests are errors, and are stopped so the check never goes online.
  await page.setRequestInterception(true);
  page.on('request', r => {
    if (localSchemes.has(new URL(r.url()).protocol)) return r.continue();
    errors.push(`external request: ${r.url()}`);
    return r.abort('blockedbyclient');
  });
  const response = await page.goto(reportUrl, { waitUntil: 'load', timeout: 60000 });
  if (!response) errors.push('no response for the report');
  const page_ = await page.evaluate(async () => {
    const images = [...document.images];
    // 'load' waits for images already; wait anyway for any still pending (e.g. added late).
    await Promise.all(images.filter(i => !i.complete).map(i => new Promise(done => { i.onload = i.onerror = done; })));
    return {
      title: document.title,
      bodyText: document.body ? document.body.innerText.trim().length : -1,
      bodyElements: document.body ? document.body.querySelectorAll('*').length : 0,
      images: images.map(i => ({ src: i.getAttribute('src') ?? '', url: i.currentSrc || i.src, width: i.naturalWidth, height: i.naturalHeight })),
    };
  });
  if (page_.bodyText < 0) errors.push('the page has no <body>');
  else if (page_.bodyText === 0 && page_.bodyElements === 0) errors.push('the page body is empty');
  for (const img of page_.images) {
    if (img.width === 0 || img.height === 0) errors.push(`image did not load or decode: ${img.src} (${img.url})`);
  }
  checked = true;
  summary = { report, ok: errors.length === 0, title: page_.title, images: page_.images.length, errors };
} catch (e) {
  errors.push(`could not check the page: ${e.message}`);
  summary = { report, ok: false, images: 0, errors };
} finally {
  await browser?.close().catch(() => {});
}
console.log(JSON.stringify(summary));
for (const e of summary.errors) console.error(`check-report: ${e}`);
process.exit(summary.ok ? 0 : checked ? 1 : 2);
