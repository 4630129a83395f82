import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Header, HttpCode, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { isPurposekitError, requirePrivacyContext } from '@purposekit/core';
import { Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, UUID, appError, bodyObject, visitorCookie, visitorOf } from './http';
import type { AppReply, AppRequest, AppServices } from './http';

const PAGE_PATH = /^\/[\x21-\x7e]{0,199}$/;

/** The transparent 1×1 GIF of the web beacon (43 bytes). */
export const BEACON_GIF: Buffer = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/**
 * Log information, the analytics cookie and the web beacon: "We use this information for
 * analytic and product improvement purposes." Both purposes are implied consent in the
 * preset (consent by use, a US-only policy): allowed until the visitor opts out.
 */
@Controller()
export class AnalyticsController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  // "We log information about your use of the Services, including ... access times, IP
  // address, pages viewed": one event per page view, keyed by a pseudonymous visitor id
  // kept in a cookie ("Cookies are small data files stored on your hard drive").
  // The cookie is set only after the engine allowed the access, so it follows the core's
  // decision exactly: never after an opt-out, and never under Sec-GPC: 1 when the policy
  // makes `analytics` GPC-applicable (the coreos preset does not: `gpc` is false there).
  @Purpose('analytics')
  @Post('analytics/events')
  @HttpCode(204)
  async event(@Req() req: AppRequest, @Body() body: unknown, @Res({ passthrough: true }) reply: AppReply): Promise<void> {
    const page = bodyObject(body)['page'];
    if (typeof page !== 'string' || !PAGE_PATH.test(page)) {
      throw appError(400, 'APP_INVALID_PAGE', 'page must be a site path such as /docs/.');
    }
    const known = visitorOf(req);
    const visitor = known ?? randomUUID();
    const p = requirePrivacyContext();
    p.setSubject(visitor);
    await p.access({ data: ['cookie-id', 'ip-address', 'usage-data'], action: 'collect' });
    if (known === undefined) reply.header('Set-Cookie', visitorCookie(visitor));
    await this.services.store.addEvent({ visitor, page, at: new Date().toISOString(), ip: p.clientIp });
  }

  // The opt-out ("you can usually choose to set your browser to remove or reject browser
  // cookies", and here a button): withdraws the implied consent to analytics for this
  // visitor id, so every later event is denied (consent-withdrawn) and the cookie is never
  // set again. The id stays in the browser only to carry that choice. A visitor without an
  // id gets one, recorded as `refused`, for the same reason; nothing else is ever stored under it.
  @Purpose('analytics')
  @Post('analytics/opt-out')
  @HttpCode(200)
  async optOut(@Req() req: AppRequest, @Res({ passthrough: true }) reply: AppReply): Promise<unknown> {
    const known = visitorOf(req);
    const visitor = known ?? randomUUID();
    const p = requirePrivacyContext();
    p.setSubject(visitor);
    const record = await this.services.consent.change(visitor, 'analytics', known === undefined ? 'refused' : 'withdrawn', { source: 'form', context: p });
    if (known === undefined) reply.header('Set-Cookie', visitorCookie(visitor));
    return { purpose: 'analytics', state: record.state };
  }

  // "Web beacons ... are used for analytic and product improvement purposes, such as ...
  // determining whether an email has been opened": the beacon of each sent email. The
  // image is always served (a broken image would help no one); the open is recorded only
  // when the engine allows it, and a deny stays on the trail. The message id in the query
  // string never reaches the log (the log line carries the path only).
  @Purpose('product-improvement')
  @Get('beacon.gif')
  @Header('Content-Type', 'image/gif')
  @Header('Cache-Control', 'no-store')
  async beacon(@Query('m') m: unknown): Promise<Buffer> {
    const id = typeof m === 'string' ? m.toLowerCase() : '';
    const message = UUID.test(id) ? await this.services.store.message(id) : undefined;
    if (message !== undefined) {
      const p = requirePrivacyContext();
      p.setSubject(message.subject);
      try {
        await p.access({ data: ['usage-data'], action: 'collect' });
        await this.services.store.addOpen({ message: message.id, subject: message.subject, at: new Date().toISOString() });
      } catch (err) {
        if (!(isPurposekitError(err) && err.code === 'PURPOSEKIT_ERR_ACCESS_DENIED')) throw err;
      }
    }
    return BEACON_GIF;
  }
}
