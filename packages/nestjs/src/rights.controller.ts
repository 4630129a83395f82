import { Body, Controller, Delete, Get, Inject, NotFoundException, Post, Req, Res } from '@nestjs/common';
import type { Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { getPrivacyContext } from '@purposekit/core';
import type { PrivacyContext, RightsHandler, RightsResponse } from '@purposekit/core';
import type { PrivacyGuardRequest } from './types';

/** @internal Injection token of the core rights handler the controller serves. */
export const RIGHTS_HANDLER = Symbol('purposekit.nestjs.rights-handler');

/**
 * Builds the controller serving the core rights handler's endpoints under `prefix`.
 * One explicit route per endpoint (not a wildcard), so that the app's own routes under
 * the same prefix (e.g. `GET /privacy/dnt`) are never shadowed, and the path handed to
 * the core is rebuilt from the route (a global prefix of the app does not disturb it).
 * Platform-neutral: it reads only `@Req()` / `@Body()` and answers through Nest's HTTP
 * adapter (Express `res` or Fastify `reply`).
 * @internal
 */
export function createRightsController(prefix: string): Type<unknown> {
  @Controller(prefix)
  class PrivacyRightsController {
    constructor(
      @Inject(RIGHTS_HANDLER) private readonly handler: RightsHandler<unknown>,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get('access-log')
    accessLog(@Req() req: PrivacyGuardRequest, @Res() res: unknown): Promise<void> {
      return this.serve('GET', 'access-log', req, undefined, res);
    }

    @Get('export')
    export(@Req() req: PrivacyGuardRequest, @Res() res: unknown): Promise<void> {
      return this.serve('GET', 'export', req, undefined, res);
    }

    @Post('erasure')
    erasure(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('POST', 'erasure', req, body, res);
    }

    @Post('restriction')
    restrict(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('POST', 'restriction', req, body, res);
    }

    @Delete('restriction')
    liftRestriction(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('DELETE', 'restriction', req, body, res);
    }

    @Post('objection')
    object(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('POST', 'objection', req, body, res);
    }

    @Delete('objection')
    withdrawObjection(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('DELETE', 'objection', req, body, res);
    }

    @Post('consent')
    consent(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('POST', 'consent', req, body, res);
    }

    @Post('rectification')
    rectification(@Req() req: PrivacyGuardRequest, @Body() body: unknown, @Res() res: unknown): Promise<void> {
      return this.serve('POST', 'rectification', req, body, res);
    }

    private async serve(method: string, endpoint: string, req: PrivacyGuardRequest, body: unknown, res: unknown): Promise<void> {
      const context: PrivacyContext | undefined = req.privacy ?? req.raw?.privacy ?? getPrivacyContext();
      const out: RightsResponse | undefined = await this.handler.handle({
        method,
        path: `${this.handler.prefix}/${endpoint}`,
        body,
        request: req,
        ...(context !== undefined ? { context } : {}),
      });
      // Every route above is an endpoint of the handler; undefined would mean they disagree.
      if (out === undefined) throw new NotFoundException();
      const adapter = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(out.headers)) adapter.setHeader(res, name, value);
      adapter.reply(res, out.body, out.status);
    }
  }
  return PrivacyRightsController;
}
