/** The record of processing as one self-contained HTML page. */
import { NOT_STATED } from '../policy/art30';
import { html, page } from '../render/html';
import type { Raw } from '../render/html';
import type { Ropa, RopaActivity } from './build-ropa';

const notStated = (what = NOT_STATED): Raw => html`<span class="empty">${what}</span>`;
const listOr = (xs: readonly string[]): Raw | string => (xs.length === 0 ? notStated() : xs.join('; '));

function activity(a: RopaActivity, n: number, routesGiven: boolean): Raw {
  const flagged = (a.routes ?? []).filter((r) => r.outside.length > 0).length;
  const rows: Array<[string, Raw | string]> = [
    ['Purpose', html`${a.description}${a.iri === undefined ? '' : html` <span class="note mono">${a.iri}</span>`}`],
    ['Legal basis', html`${a.basis}${a.basisArticle === undefined ? '' : ` (GDPR ${a.basisArticle})`}${a.consentType === undefined ? '' : `, ${a.consentType} consent`}`],
    ['Categories of data subjects', listOr(a.subjects)],
    ['Categories of personal data', a.categories.map((c) => c.id).join(', ')],
    ['Where the data comes from', listOr(a.sources)],
    ['Recipients', a.recipients.length === 0 ? 'none' : a.recipients.map((r) => `${r.name}${r.role === undefined ? '' : ` (${r.role}${r.country === undefined ? '' : `, ${r.country}`})`}`).join('; ')],
    ['Transfers to third countries', a.transfers.length === 0 ? 'none stated' : a.transfers.map((t) => `${t.to} in ${t.country}: ${t.safeguard}`).join('; ')],
    ['Retention', a.retention ?? notStated()],
    ['Age gate', a.ageGate === undefined ? 'none' : `${a.ageGate.name}: at least ${a.ageGate.minimumAge} years old`],
    ['Rights', `${a.rights.applies.length === 0 ? 'none' : a.rights.applies.join(', ')}${a.rights.perPurpose ? '' : ' (the policy’s list for all purposes)'}${a.rights.notApplying.length > 0 ? `; not applying: ${a.rights.notApplying.join(', ')}` : ''}`],
    ['Opt-outs honoured', a.optOuts.length === 0 ? 'none' : a.optOuts.join(', ')],
    ...a.rights.exceptions.map((e): [string, Raw] => [`Exception to ${e.right}`, html`${e.reason} <q>${e.source}</q>`]),
    ...(a.source === undefined ? [] : [['Policy text', html`<q>${a.source}</q>`] as [string, Raw]]),
  ];
  if (routesGiven) {
    rows.push([
      'Routes declaring it',
      a.routes === undefined || a.routes.length === 0
        ? 'none'
        : html`<ul class="routes">${a.routes.map((r) => html`<li><code>${r.method} ${r.path}</code> ${r.categories.length === 0 ? 'no categories declared' : r.categories.join(', ')}${r.outside.length > 0 ? html` <span class="badge flag">FLAGGED</span> touches ${r.outside.join(', ')}, not allowed for this purpose` : ''}</li>`)}</ul>`,
    ]);
  }
  return html`<section class="activity" aria-labelledby="a${n}">
<h3 id="a${n}">${n}. <code>${a.purpose}</code>${flagged > 0 ? html` <span class="badge flag">${flagged} flagged route${flagged === 1 ? '' : 's'}</span>` : ''}</h3>
<table><tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
</section>`;
}

/** The record as a page (`when`: the generation date shown in the footer; omitted for reproducible output). */
export function ropaHtml(r: Ropa): string {
  const c = r.controller;
  const body = html`
<dl class="facts">
  <dt>Policy</dt><dd><code>${r.policy.id}</code> version <code>${r.policy.version}</code>${r.policy.source === undefined ? '' : html` (<span class="mono">${r.policy.source}</span>)`}</dd>
  <dt>Jurisdictions</dt><dd>${r.policy.jurisdictions.join(', ')}</dd>
  <dt>Requests answered within</dt><dd>${r.rightsAnswerWithin}</dd>
  <dt>Routes</dt><dd>${r.routes.given ? html`${r.routes.total} declared by the application, <span data-metric="routes.flagged">${r.routes.flagged}</span> flagged` : 'not given (run with --routes to list them)'}</dd>
</dl>
<section aria-labelledby="controller-h">
<h2 id="controller-h">Controller</h2>
${c === undefined
    ? html`<p>Controller and contact: ${notStated()}.</p>`
    : html`<table><tbody>
<tr><th scope="row">Name</th><td>${c.name}</td></tr>
<tr><th scope="row">Contact</th><td>${c.contact}</td></tr>
<tr><th scope="row">Address</th><td>${c.address ?? notStated()}</td></tr>
<tr><th scope="row">Data protection officer</th><td>${c.dpo ?? notStated()}</td></tr>
<tr><th scope="row">Representative</th><td>${c.representative ?? notStated()}</td></tr>
</tbody></table>`}
</section>
<section aria-labelledby="activities-h">
<h2 id="activities-h">Processing activities (<span data-metric="activities">${r.activities.length}</span>)</h2>
<table>
<thead><tr><th scope="col">#</th><th scope="col">Purpose</th><th scope="col">Legal basis</th><th scope="col">Personal data</th><th scope="col">Retention</th></tr></thead>
<tbody>${r.activities.map((a, i) => html`<tr><td>${i + 1}</td><th scope="row"><a href="#a${i + 1}"><code>${a.purpose}</code></a></th><td>${a.basis}</td><td>${a.categories.map((x) => x.id).join(', ')}</td><td>${a.retention ?? notStated()}</td></tr>`)}</tbody>
</table>
${r.activities.map((a, i) => activity(a, i + 1, r.routes.given))}
</section>
<section aria-labelledby="recipients-h">
<h2 id="recipients-h">Recipients</h2>
${r.recipients.length === 0
    ? html`<p>Named recipients: ${notStated()}.</p>`
    : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Country</th></tr></thead><tbody>${r.recipients.map((x) => html`<tr><th scope="row">${x.name}</th><td>${x.role}</td><td>${x.country ?? '-'}</td></tr>`)}</tbody></table>`}
</section>
<section aria-labelledby="security-h">
<h2 id="security-h">Security measures</h2>
${r.security.length === 0 ? html`<p>The policy’s description of its security measures: ${notStated()}.</p>` : html`<ul>${r.security.map((s) => html`<li>${s}</li>`)}</ul>`}
<h3>Enforced in the code by purposekit</h3>
<ul>${r.enforced.map((s) => html`<li>${s}</li>`)}</ul>
</section>
${r.routes.unknownPurpose.length === 0
    ? ''
    : html`<section aria-labelledby="unknown-h"><h2 id="unknown-h">Routes whose purpose is not in the policy</h2><ul>${r.routes.unknownPurpose.map((x) => html`<li><span class="badge flag">FLAGGED</span> <code>${x.method} ${x.path}</code> declares <code>${x.purpose}</code></li>`)}</ul></section>`}`;
  return page({
    title: `Record of processing activities`,
    eyebrow: `GDPR Art. 30(1) · ${r.policy.title ?? r.policy.id}`,
    lead: `What ${c?.name ?? 'the organisation'} processes, why, on what basis, for how long and with whom: ${r.activities.length} processing activities.`,
    body,
    footer: html`Generated by <code>purposekit ropa</code> from the policy <code>${r.policy.id}</code> version <code>${r.policy.version}</code>${r.routes.given ? ' and the application’s declared routes' : ''}. Fields the policy does not state are marked “${NOT_STATED}”.`,
  });
}
