// The NestJS app of the OpenTelemetry scenario on the Fastify platform (see otel-app.ts).
import type { Purposekit } from '@purposekit/core';
import { buildOn } from './otel-app';

export const build = (kit: Purposekit) => buildOn('fastify', kit);
