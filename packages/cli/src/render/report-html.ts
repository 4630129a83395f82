/**
 * The two HTML reports: the trail report for a privacy officer (what happened, in
 * counts), and one person's timeline in plain language, fit to hand to that person.
 * Both are rendered from the same objects the `--json` output prints.
 */
import type { SubjectReport, SubjectReportEntry } from '@purposekit/core';
import type { TrailSummary } from '../summary/trail-summary';
import { decisionsChart } from './decisions-chart';
import { html, page, raw } from './html';
import type { Raw } from './html';
import { shortId } from './text-table';
import { actionText, ageOutcomeText, basisText, categoryText, consentText, day, purposeDescription, purposeText, reasonText, reasonTextForYou, rightText, when, yourData } from './words';

const num = (metric: string, n: number): Raw => html`<td class="num" data-metric="${metric}">${n}</td>`;

function card(label: string, metric: string, value: number, sub: string, alert = false): Raw {
  return html`<div class="card${alert ? ' alert' : ''}"><div class="label">${label}</div><div class="value" data-metric="${metric}">${value}</div><div class="sub">${sub}</div></div>`;
}

/** The trail report as one self-contained HTML page. */
export function trailReportHtml(trail: string, s: TrailSummary): string {
  const total = s.decisions.allow + s.decisions.deny;
  const chart = decisionsChart(s);
  const consentStates = [...new Set(s.consent.byPurpose.flatMap((p) => Object.keys(p.states)))].sort();
  const body = html`
<dl class="facts">
  <dt>Trail</dt><dd class="mono">${trail}</dd>
  <dt>Records from</dt><dd>${s.from === undefined ? 'no records' : `${when(s.from)} to ${when(s.to!)} (UTC)`}</dd>
  <dt>Policies</dt><dd>${s.policies.length === 0 ? 'none recorded' : s.policies.join(', ')}</dd>
  <dt>Due dates checked on</dt><dd>${when(s.at)} (UTC)</dd>
</dl>
<section aria-labelledby="summary-h">
<h2 id="summary-h">At a glance</h2>
<div class="cards">
${card('Records', 'records', s.records, 'events in the trail')}
${card('Allowed', 'decisions.allow', s.decisions.allow, `of ${total} access decisions`)}
${card('Denied', 'decisions.deny', s.decisions.deny, `of ${total} access decisions`)}
${card('Consent changes', 'consent.changes', s.consent.changes, 'given, refused, withdrawn')}
${card('Age-gate refusals', 'ageGate.refusals', s.ageGate.refusals, 'counts only, no birthdates')}
${card('Rights requests', 'rights.requests', s.rights.requests, `${s.rights.open} open`)}
${card('Overdue requests', 'rights.overdue', s.rights.overdue, s.rights.overdue === 0 ? 'none past their due date' : 'past their due date', s.rights.overdue > 0)}
</div>
</section>
<section aria-labelledby="decisions-h">
<h2 id="decisions-h">Decisions per purpose over time</h2>
${chart === undefined
    ? html`<p class="empty">No access decision in this trail.</p>`
    : html`<p class="note">Each row is a purpose; each bar one ${s.by} (UTC). Bars share one scale.</p>
<div class="legend" aria-hidden="true"><span style="--c:#2563eb">allowed</span><span style="--c:#c2410c">denied</span></div>
<figure>${raw(chart)}</figure>
<table>
<caption>Decisions by purpose</caption>
<thead><tr><th scope="col">Purpose</th><th scope="col" class="num">Allowed</th><th scope="col" class="num">Denied</th></tr></thead>
<tbody>${s.byPurpose.map((p) => html`<tr><th scope="row">${p.purpose}</th>${num(`purpose.allow:${p.purpose}`, p.allow)}${num(`purpose.deny:${p.purpose}`, p.deny)}</tr>`)}</tbody>
</table>`}
</section>
<section aria-labelledby="denials-h">
<h2 id="denials-h">Denials by reason</h2>
${s.denialsByReason.length === 0
    ? html`<p class="empty">No access was denied.</p>`
    : html`<table>
<thead><tr><th scope="col">Reason</th><th scope="col">What it means</th><th scope="col" class="num">Denials</th></tr></thead>
<tbody>${s.denialsByReason.map((r) => html`<tr><th scope="row"><code>${r.reason}</code></th><td>${reasonText(r.reason)}</td>${num(`reason:${r.reason}`, r.count)}</tr>`)}</tbody>
</table>`}
</section>
<section aria-labelledby="consent-h">
<h2 id="consent-h">Consent changes</h2>
${s.consent.byPurpose.length === 0
    ? html`<p class="empty">No consent change was recorded.</p>`
    : html`<table>
<thead><tr><th scope="col">Purpose</th>${consentStates.map((st) => html`<th scope="col" class="num">${st}</th>`)}</tr></thead>
<tbody>${s.consent.byPurpose.map((p) => html`<tr><th scope="row">${p.purpose}</th>${consentStates.map((st) => num(`consent:${p.purpose}:${st}`, p.states[st] ?? 0))}</tr>`)}</tbody>
</table>`}
</section>
<section aria-labelledby="age-h">
<h2 id="age-h">Age-gate refusals</h2>
<p class="note">Counts only: the trail never holds a date of birth.</p>
${s.ageGate.refusals === 0
    ? html`<p class="empty">No one was refused by an age gate.</p>`
    : html`<table>
<thead><tr><th scope="col">Age gate</th><th scope="col" class="num">Refusals</th></tr></thead>
<tbody>${s.ageGate.byGate.map((g) => html`<tr><th scope="row">${g.gate}</th>${num(`gate:${g.gate}`, g.count)}</tr>`)}</tbody>
</table>
<table>
<thead><tr><th scope="col">Outcome</th><th scope="col">What it means</th><th scope="col" class="num">Refusals</th></tr></thead>
<tbody>${s.ageGate.byOutcome.map((o) => html`<tr><th scope="row"><code>${o.outcome}</code></th><td>${ageOutcomeText(o.outcome)}</td>${num(`gate-outcome:${o.outcome}`, o.count)}</tr>`)}</tbody>
</table>`}
</section>
<section aria-labelledby="rights-h">
<h2 id="rights-h">Rights requests</h2>
${s.rights.items.length === 0
    ? html`<p class="empty">No data-subject request was recorded.</p>`
    : html`<p class="note">${s.rights.requests} request${s.rights.requests === 1 ? '' : 's'}, ${s.rights.open} open, ${s.rights.overdue} overdue as of ${when(s.at)} UTC. Soonest due first.</p>
<table>
<thead><tr><th scope="col">Right</th><th scope="col">Person (pseudonym)</th><th scope="col">Received</th><th scope="col">Due</th><th scope="col">Status</th></tr></thead>
<tbody>${s.rights.items.map((r) => html`<tr><th scope="row">${r.right}</th><td class="mono" title="${r.subject ?? ''}">${r.subject === undefined ? '-' : shortId(r.subject)}</td><td>${when(r.receivedAt)}</td><td>${day(r.due)}</td><td>${rightsStatus(r)}</td></tr>`)}</tbody>
</table>`}
</section>`;
  return page({
    title: 'Audit trail report',
    eyebrow: 'purposekit · record of what happened',
    lead: `What the service did with personal data, as its tamper-evident audit trail records it: ${s.records} records.`,
    body,
    footer: html`Generated by <code>purposekit audit report --html</code>; due dates checked as of ${when(s.at)} UTC. This page does not check the trail’s integrity: run <code>purposekit audit verify</code> on the same trail. The numbers equal those of <code>purposekit audit report --json</code>.`,
  });
}

function rightsStatus(r: TrailSummary['rights']['items'][number]): Raw {
  if (r.overdue) return html`<span class="badge overdue">OVERDUE</span> open`;
  if (r.status === 'open') return html`<span class="badge open">open</span>`;
  if (r.late) return html`<span class="badge late">${r.status} late</span> ${r.closedAt === undefined ? '' : day(r.closedAt)}`;
  return html`<span class="badge done">${r.status}</span> ${r.closedAt === undefined ? '' : day(r.closedAt)}`;
}

/** One trail entry about a person, as a sentence. */
export function timelineSentence(e: SubjectReportEntry): { text: string; outcome: string | undefined } {
  const a = e.attributes ?? {};
  const purpose = purposeText(e.purpose);
  switch (e.kind) {
    case 'access': {
      const who = e.actor === 'data-subject' ? 'at your request, the organisation' : 'the organisation';
      const verb = e.recipient === 'public' && e.action === 'share' ? 'published' : actionText(e.action);
      const to = e.recipient === undefined || e.recipient === 'public' ? '' : ` with ${e.recipient}`;
      const text = `${who} ${verb} ${yourData(e.data)}${to} for ${purpose} (${basisText(e.basis)})`;
      return { text, outcome: e.decision === 'allow' ? 'allowed' : e.decision === 'deny' ? `not allowed, because ${reasonTextForYou(e.reason ?? 'denied')}` : undefined };
    }
    case 'consent': {
      const state = typeof a['state'] === 'string' ? a['state'] : 'changed';
      return { text: `you ${consentText(state)} for ${purpose}`, outcome: undefined };
    }
    case 'rights': {
      const right = typeof a['right'] === 'string' ? rightText(a['right']) : 'a privacy request';
      const status = a['status'];
      if (status === 'received') return { text: `you asked for ${right}`, outcome: typeof a['due'] === 'string' ? `answer due by ${day(a['due'])}` : undefined };
      if (status === 'completed') return { text: `the organisation completed your request for ${right}`, outcome: undefined };
      if (status === 'extended') return { text: `the organisation extended the deadline of your request for ${right}`, outcome: typeof a['due'] === 'string' ? `now due by ${day(a['due'])}` : undefined };
      return { text: `your request for ${right}: ${typeof status === 'string' ? status : 'updated'}`, outcome: undefined };
    }
    case 'age-gate':
      return { text: `an age check for ${purpose}`, outcome: `not passed (${ageOutcomeText(e.reason ?? 'refused')})` };
    default:
      return { text: `${String(e.kind)} for ${purpose}`, outcome: undefined };
  }
}

/** One person's timeline as a page for that person. */
export function subjectTimelineHtml(report: SubjectReport, options: { at: number }): string {
  const purposes = [...new Set(report.entries.map((e) => e.purpose).filter((p): p is string => p !== undefined))].sort();
  const categories = [...new Set(report.entries.flatMap((e) => e.data))].sort();
  const denied = report.entries.filter((e) => e.decision === 'deny').length;
  const body = html`
<section aria-labelledby="about-h">
<h2 id="about-h">About this record</h2>
<p>This is every entry about you in the organisation’s audit trail: each time your personal data was collected, read, used or shared, each consent you gave or withdrew, and each privacy request you made. Times are in UTC. You are identified in the trail only by a code (a pseudonym), never by your name.</p>
<div class="cards">
${card('Entries', 'entries', report.entries.length, 'about you')}
${card('Refused uses', 'denied', denied, 'the rules stopped them')}
${card('Purposes', 'purposes', purposes.length, 'reasons your data was used')}
</div>
${categories.length === 0 ? '' : html`<p><strong>Data involved:</strong> ${categories.map(categoryText).join(', ')}.</p>`}
${purposes.length === 0 ? '' : html`<table><caption>Why your data was used</caption><thead><tr><th scope="col">Purpose</th><th scope="col">Meaning</th></tr></thead><tbody>${purposes.map((p) => html`<tr><th scope="row">${purposeText(p)}</th><td>${purposeDescription(p) ?? p}</td></tr>`)}</tbody></table>`}
</section>
<section aria-labelledby="timeline-h">
<h2 id="timeline-h">Your timeline</h2>
${report.entries.length === 0
    ? html`<p class="empty">The trail holds no entry about you.</p>`
    : html`<ol class="timeline">${report.entries.map((e) => {
        const s = timelineSentence(e);
        const cls = e.decision ?? e.kind;
        const outcome = s.outcome === undefined ? '' : html`: <span class="${e.decision === 'deny' || e.kind === 'age-gate' ? 'outcome-deny' : e.decision === 'allow' ? 'outcome-allow' : ''}">${s.outcome}</span>`;
        return html`<li class="${cls}"><time datetime="${e.ts}">${when(e.ts)}</time> — ${s.text}${outcome}</li>`;
      })}</ol>`}
</section>`;
  return page({
    title: 'Your personal data: what happened',
    eyebrow: 'Subject access report',
    lead: `${report.entries.length} entr${report.entries.length === 1 ? 'y' : 'ies'} about you, read from the organisation’s audit trail.`,
    body,
    footer: html`Prepared on ${when(new Date(options.at).toISOString())} UTC with <code>purposekit audit report --subject --html</code>. Pseudonym${report.pseudonyms.length === 1 ? '' : 's'}: <span class="mono">${report.pseudonyms.join(', ')}</span>.`,
  });
}
