// The NestJS apps of the OpenTelemetry scenario (tools/test-support/otel-driver.ts): this
// module's `build` runs on the Express platform; otel-app-fastify.ts runs the same app on
// the Fastify platform through `buildOn('fastify', kit)`.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Purposekit } from '@purposekit/core';
import { PrivacyModule, PrivacyService, Purpose } from '../index';

export async function buildOn(platform: 'express' | 'fastify', kit: Purposekit): Promise<{ baseUrl: string; close(): Promise<void> }> {
  @Controller()
  class OtelController {
    constructor(private readonly privacy: PrivacyService) {}

    @Get('ip')
    @Purpose('diagnostics')
    ip() {
      return this.privacy.access({ data: ['ip-address'], action: 'read' });
    }

    @Get('email')
    @Purpose('diagnostics')
    email() {
      return this.privacy.access({ data: ['email'], action: 'read', subject: 'u1' });
    }
  }

  @Module({ imports: [PrivacyModule.forRoot({ kit })], controllers: [OtelController] })
  class OtelModule {}

  let app: INestApplication;
  if (platform === 'fastify') {
    // Loaded only here: the Express run never loads Fastify.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(OtelModule, new FastifyAdapter(), { logger: false });
  } else {
    app = await NestFactory.create(OtelModule, { logger: false });
  }
  // The scenario is about this platform: fail loudly if Nest picked another one.
  if (app.getHttpAdapter().getType() !== platform) throw new Error(`expected the ${platform} platform, got ${app.getHttpAdapter().getType()}`);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export const build = (kit: Purposekit) => buildOn('express', kit);
