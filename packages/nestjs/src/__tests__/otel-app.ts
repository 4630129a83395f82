// The NestJS (Express platform) app of the OpenTelemetry scenario (tools/test-support/otel-driver.ts).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Purposekit } from '@purposekit/core';
import { PrivacyModule, PrivacyService, Purpose } from '../index';

export async function build(kit: Purposekit): Promise<{ baseUrl: string; close(): Promise<void> }> {
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

  const app: INestApplication = await NestFactory.create(OtelModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}
