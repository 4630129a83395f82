import express from 'express';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing'; // createFileAuditSink(...) in production
import { createPrivacy, privacyOf } from '@purposekit/express';

const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: process.env.SUBJECT_KEY! } });
const privacy = createPrivacy(kit);
const app = express().use(privacy.middleware());
app.get('/status', privacy.purpose('diagnostics'), async (req, res) => {
  await privacyOf(req).access({ data: ['ip-address'], action: 'read' }); // checked + recorded, or 403
  res.json(privacyOf(req).logFields()); // { requestId, purpose: 'diagnostics', basis: 'legitimate-interests', ip: <truncated>, … }
});
export const server = app.use(privacy.errorHandler()).listen(Number(process.env.PORT ?? 3000));
