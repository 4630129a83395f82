import type { SubjectReportEntry } from '@purposekit/core';
import { timelineSentence } from './report-html';

const base = { seq: 1, ts: '2026-03-12T10:04:00.000Z', subject: 'hmac-sha256:k:' + 'a'.repeat(64), policy: { id: 'p', version: '1' }, file: 'f', line: 1 };
const entry = (e: Partial<SubjectReportEntry>): SubjectReportEntry => ({ ...base, kind: 'access', data: [], ...e }) as SubjectReportEntry;

describe('timelineSentence', () => {
  it.each<[string, Partial<SubjectReportEntry>, string, string | undefined]>([
    ['an allowed read', { action: 'read', data: ['email'], purpose: 'marketing.email', basis: 'consent', decision: 'allow' }, 'the organisation read your email address for the newsletter (consent)', 'allowed'],
    ['a denied collection', { action: 'collect', data: ['usage-data', 'ip-address'], purpose: 'analytics', basis: 'consent', decision: 'deny', reason: 'consent-withdrawn' }, 'the organisation collected your usage of the site and IP address for statistics on how the site is used (consent)', 'not allowed, because you withdrew consent'],
    ['a share with a recipient', { action: 'share', data: ['name', 'email'], purpose: 'marketing.email', basis: 'consent', recipient: 'email-service-provider', decision: 'allow' }, 'the organisation shared your name and email address with email-service-provider for the newsletter (consent)', 'allowed'],
    ['a publication', { action: 'share', data: ['name'], purpose: 'public-record', basis: 'legitimate-interests', recipient: 'public', decision: 'allow' }, 'the organisation published your name for the public record of contributions (legitimate interests)', 'allowed'],
    ['a consent change', { kind: 'consent', purpose: 'marketing.email', attributes: { state: 'withdrawn' } }, 'you withdrew consent for the newsletter', undefined],
    ['a rights request', { kind: 'rights', purpose: 'rights-fulfilment', attributes: { right: 'erasure', status: 'received', due: '2026-04-12T10:04:00.000Z' } }, 'you asked for the deletion of your data', 'answer due by 12 Apr 2026'],
    ['an unknown purpose and category, as their codes', { action: 'read', data: ['shoe-size'], purpose: 'fitting', basis: 'contract', decision: 'allow' }, 'the organisation read your shoe size for fitting (contract)', 'allowed'],
  ])('%s', (_name, e, text, outcome) => {
    expect(timelineSentence(entry(e))).toEqual({ text, outcome });
  });
});
