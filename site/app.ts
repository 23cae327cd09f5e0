/**
 * Entry of the transparency page (bundled by `npm run build:site`): read `/site/config.json`,
 * import the signing key, then check every region's files in this browser. Everything is
 * fetched from the page's own origin, through the edge, as a phone would.
 */
import { checkRegion, type RegionCheck } from './check-files';
import { byId, h, pageDocument } from './dom';
import { regionView, renderKey, renderSummary, totalsOf } from './render';
import { parseSiteConfig } from './site-config';
import { importPageKey } from './signing-key';

async function main(): Promise<void> {
  const summary = byId('summary');
  const regions = byId('files');
  const keyDetails = byId('key-details');
  let config;
  let key;
  try {
    const response = await fetch('/site/config.json');
    if (!response.ok) throw new Error(`the server answered ${response.status} for /site/config.json`);
    config = parseSiteConfig(await response.text());
    key = await importPageKey(config.signingKey);
  } catch (error) {
    summary.className = 'summary is-failed';
    summary.replaceChildren(h('p', {}, `This page cannot check anything: ${(error as Error).message}.`));
    keyDetails.replaceChildren(h('p', {}, 'No signing key.'));
    pageDocument().documentElement.dataset.state = 'done';
    return;
  }
  keyDetails.replaceChildren(renderKey(key, config.signingKey.algorithm));

  const checks = new Map<string, RegionCheck>();
  const views = config.regions.map((region) => {
    const view = regionView(region);
    regions.append(view.element);
    return { region, view };
  });
  const refresh = (done: boolean) => renderSummary(summary, totalsOf([...checks.values()]), done);
  refresh(false);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  await Promise.all(
    views.map(({ region, view }) =>
      checkRegion(region, key, {
        fetch: (input, init) => fetch(input, init),
        nowSeconds,
        onUpdate: (check) => {
          checks.set(region, check);
          view.update(check);
          refresh(false);
        },
      }),
    ),
  );
  refresh(true);
  if (!key.fingerprintMatchesConfig) {
    // Whatever the files say, a server that misstates its own key's fingerprint is not to be trusted.
    summary.className = 'summary is-failed';
    summary.replaceChildren(h('p', {}, 'config.json announces another fingerprint than the key it serves: do not trust this page.'));
  }
  pageDocument().documentElement.dataset.state = 'done';
}

void main();
