/**
 * A purpose across services, with two real services in two processes: A (Fastify) calls B,
 * a NestJS app on the Express or the Fastify platform. PrivacyModule's middleware checks
 * the signed purpose before the guard applies the route's `@Purpose`; B records what it
 * accepts and what it refuses (docs/cross-service.md). The same scenario as the Express,
 * Koa and Fastify B services (packages/fastify/src/cross-service.test.ts).
 */
import { crossServiceScenario } from '../../../tools/test-support/cross-service/scenario';

crossServiceScenario('fastify', 'nestjs-express');
crossServiceScenario('fastify', 'nestjs-fastify');
